// A scripted upstream Stratum v1 pool for relay-mode tests: real jobs, every submit re-hashed with its own extranonce1, verdicts by policy (accept, reject, silence), and on-demand set_difficulty / set_extranonce / client.reconnect / show_message / death; no assertions.
import { createServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer } from "node:tls";
import { buildJob } from "../../protocols/stratum-v1/job.ts";
import type { StratumJob } from "../../protocols/stratum-v1/job_types.ts";
import { computeShareHash } from "../../src/client/stratum_miner.ts";
import { difficultyToTarget, hashMeetsTarget, targetToLE } from "../../protocols/pow/target.ts";
import { bytesToHexReversed, hexToU32 } from "../../protocols/pow/hex.ts";
import { sha, HOST } from "./helpers.ts";

export type Policy = "accept" | { error: unknown } | "false" | "silent";

export interface ScriptedSubmit {
  conn: number;
  params: unknown[];
  /** Our own check: the share's hash (display hex) and whether it meets the difficulty of its job. */
  hash: string;
  meets: boolean;
  /** The extranonce1 the share was hashed with (the connection's at the time of its job). */
  extranonce1: string;
  answered: "accepted" | "rejected" | "silent";
}

interface Conn {
  id: number;
  sock: Socket;
  extranonce1: string;
  authorized: boolean;
  partial: string;
}

export interface ScriptedPool {
  readonly port: number;
  readonly submits: ScriptedSubmit[];
  /** mining.subscribe params of every connection, in order (the resume id is params[1]). */
  readonly subscribes: unknown[][];
  /** Connections accepted so far (ever), and open now. */
  readonly accepted: number;
  readonly open: number;
  policy: Policy;
  difficulty: number;
  /** Sends a fresh job (clean) to every authorized connection; returns its id. */
  newJob(clean?: boolean): string;
  setDifficulty(d: number): void;
  setExtranonce(extranonce1For: (connId: number) => string, size: number): void;
  reconnect(params?: unknown[]): void;
  showMessage(text: string): void;
  /** The last job (for its id / coinb1). */
  job(): StratumJob;
  /** Connections' extranonce1 values, by connection id. */
  extranonces(): Map<number, string>;
  /** Stop listening and drop every connection (a dead pool). */
  kill(): Promise<void>;
}

const TEMPLATE_TIME = 1_700_000_000;

/** `tls`: serve stratum+ssl:// (node:tls; a connection counts as accepted only once its handshake completed). */
export async function startScriptedPool(o: { port?: number; extranonce2Size?: number; difficulty?: number; tag?: string; refuseLogin?: boolean; tls?: { cert: string; key: string } } = {}): Promise<ScriptedPool> {
  const en2Size = o.extranonce2Size ?? 8;
  const conns = new Map<number, Conn>();
  const submits: ScriptedSubmit[] = [];
  const subscribes: unknown[][] = [];
  let seq = 0;
  let accepted = 0;
  let jobSeq = 0;
  let height = 800_000 + Math.floor(Math.random() * 1000);
  /** Jobs by id, each with the difficulty it was issued at and the extranonce1 of each connection then. */
  const jobs = new Map<string, { job: StratumJob; difficulty: number; en1: Map<number, string> }>();
  let last: StratumJob;

  const build = (): StratumJob => {
    const id = `${o.tag ?? "s"}${(++jobSeq).toString(16)}`;
    const prev = Array.from({ length: 64 }, () => "0123456789abcdef"[Math.floor(Math.random() * 16)]).join("");
    return buildJob(id, {
      height: height++,
      version: 0x20000000,
      previousBlockHash: prev,
      bits: "1d00ffff",
      curtime: TEMPLATE_TIME + jobSeq,
      coinbaseValue: 312_500_000n,
      transactions: [],
    }, { payoutScript: new Uint8Array([0x51]), poolTag: `/scripted-${o.tag ?? "s"}/`, extranonce1Size: 4, extranonce2Size: en2Size }, sha);
  };

  const write = (c: Conn, obj: unknown) => {
    if (!c.sock.destroyed) c.sock.write(JSON.stringify(obj) + "\n");
  };
  const notifyOf = (j: StratumJob, clean: boolean) => ({
    id: null,
    method: "mining.notify",
    params: [j.id, j.prevhashNotify, j.coinb1, j.coinb2, j.merkleBranch, j.versionHex, j.nbitsHex, j.ntimeHex, clean],
  });

  const pool: ScriptedPool = {
    port: 0,
    submits,
    subscribes,
    get accepted() {
      return accepted;
    },
    get open() {
      return [...conns.values()].filter((c) => !c.sock.destroyed).length;
    },
    policy: "accept",
    difficulty: o.difficulty ?? 1e-6,
    newJob(clean = true) {
      last = build();
      const en1 = new Map<number, string>();
      for (const c of conns.values()) en1.set(c.id, c.extranonce1);
      jobs.set(last.id, { job: last, difficulty: pool.difficulty, en1 });
      for (const c of conns.values()) if (c.authorized) write(c, notifyOf(last, clean));
      return last.id;
    },
    setDifficulty(d) {
      pool.difficulty = d;
      for (const c of conns.values()) if (c.authorized) write(c, { id: null, method: "mining.set_difficulty", params: [d] });
    },
    setExtranonce(f, size) {
      for (const c of conns.values()) {
        c.extranonce1 = f(c.id);
        write(c, { id: null, method: "mining.set_extranonce", params: [c.extranonce1, size] });
      }
    },
    reconnect(params = []) {
      for (const c of conns.values()) write(c, { id: null, method: "client.reconnect", params });
    },
    showMessage(text) {
      for (const c of conns.values()) write(c, { id: null, method: "client.show_message", params: [text] });
    },
    job: () => last,
    extranonces: () => new Map([...conns.values()].map((c) => [c.id, c.extranonce1])),
    async kill() {
      // close() waits for open connections to end: destroy them first.
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const c of conns.values()) c.sock.destroy();
      await closed;
    },
  };
  last = build();
  jobs.set(last.id, { job: last, difficulty: pool.difficulty, en1: new Map() });

  const onLine = (c: Conn, line: string) => {
    let m: { id?: unknown; method?: string; params?: unknown[] };
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    switch (m.method) {
      case "mining.configure":
        return write(c, { id: m.id, result: { "version-rolling": true, "version-rolling.mask": "1fffe000" }, error: null });
      case "mining.subscribe":
        subscribes.push(m.params ?? []);
        return write(c, { id: m.id, result: [[["mining.set_difficulty", `d${c.id}`], ["mining.notify", `n${c.id}`]], c.extranonce1, en2Size], error: null });
      case "mining.authorize":
        if (o.refuseLogin) return write(c, { id: m.id, result: false, error: [24, "Unauthorized worker", null] });
        c.authorized = true;
        write(c, { id: m.id, result: true, error: null });
        write(c, { id: null, method: "mining.set_difficulty", params: [pool.difficulty] });
        jobs.get(last.id)!.en1.set(c.id, c.extranonce1);
        return write(c, notifyOf(last, true));
      case "mining.suggest_difficulty":
        return write(c, { id: m.id, result: true, error: null });
      case "mining.submit": {
        const p = m.params ?? [];
        const entry = jobs.get(String(p[1]));
        let hash = "";
        let meets = false;
        const en1 = entry?.en1.get(c.id) ?? c.extranonce1;
        if (entry !== undefined) {
          const version = p[5] !== undefined ? ((entry.job.version & ~0x1fffe000) | (hexToU32(String(p[5])) & 0x1fffe000)) >>> 0 : entry.job.version;
          const h = computeShareHash(
            { prevhash: entry.job.prevhashNotify, coinb1: entry.job.coinb1, coinb2: entry.job.coinb2, branch: entry.job.merkleBranch, version: entry.job.versionHex, nbits: entry.job.nbitsHex, ntime: entry.job.ntimeHex },
            en1, String(p[2]), hexToU32(String(p[3])), hexToU32(String(p[4])), version, sha,
          );
          hash = bytesToHexReversed(h);
          meets = hashMeetsTarget(h, targetToLE(difficultyToTarget(entry.difficulty)));
        }
        const policy = pool.policy;
        const answered = policy === "silent" ? "silent" : policy === "accept" && meets ? "accepted" : "rejected";
        submits.push({ conn: c.id, params: p, hash, meets, extranonce1: en1, answered });
        if (policy === "silent") return;
        if (policy === "accept") {
          if (meets) return write(c, { id: m.id, result: true, error: null });
          return write(c, { id: m.id, result: null, error: entry === undefined ? [21, "Job not found", null] : [23, "Low difficulty share", null] });
        }
        if (policy === "false") return write(c, { id: m.id, result: false, error: null });
        return write(c, { id: m.id, result: null, error: policy.error });
      }
      default:
        if (m.id !== undefined && m.id !== null) write(c, { id: m.id, result: null, error: [20, "Unknown method", null] });
    }
  };

  const onConnection = (sock: Socket) => {
    const id = ++seq;
    accepted++;
    const c: Conn = { id, sock, extranonce1: (0x10000000 + id * 0x01010101).toString(16).slice(-8), authorized: false, partial: "" };
    conns.set(id, c);
    sock.setEncoding("utf8");
    sock.setNoDelay(true);
    sock.on("data", (chunk: string) => {
      const parts = (c.partial + chunk).split("\n");
      c.partial = parts.pop() ?? "";
      for (const l of parts) if (l.trim() !== "") onLine(c, l);
    });
    sock.on("error", () => {});
    sock.on("close", () => conns.delete(id));
  };
  const server: Server = o.tls !== undefined ? createTlsServer({ cert: o.tls.cert, key: o.tls.key }, onConnection) : createServer(onConnection);
  // A client that refuses our certificate ends the handshake: not an error of the pool's.
  server.on("tlsClientError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port ?? 0, HOST, () => resolve());
  });
  (pool as { port: number }).port = (server.address() as { port: number }).port;
  return pool;
}
