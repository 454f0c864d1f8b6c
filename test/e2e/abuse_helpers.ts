// Abuse/ban end-to-end helpers: relays with a TOML config or a kept dataDir, raw sockets from chosen loopback addresses, PROXY headers, an honest miner, RSS and admin calls; no assertions.
import { createConnection, type Socket } from "node:net";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeProxyV1, encodeProxyV2 } from "../../protocols/proxy/proxy_protocol.ts";
import { scratchDir } from "../support/scratch_dir.ts";
import {
  byId,
  byMethod,
  ensureBinary,
  findShare,
  handshake,
  HOST,
  httpGet,
  metricValue,
  notifyJob,
  shareTarget,
  startRelay,
  submitParams,
  zeroExtranonce2,
  type Job,
  type Msg,
  type RelayProcess,
} from "./helpers.ts";

// --- relays ----------------------------------------------------------------------------------

export interface AbuseRelay extends RelayProcess {
  /** The main stratum port (the "stratum listening" line without a dialect list). */
  readonly mainPort: number;
  /** Extra [[listeners]] ports, in config order. */
  readonly extraPorts: number[];
  readonly pid: number;
}

/**
 * startRelay with bans ON by default, an optional TOML file (arrays such as bans.allowlist and
 * [[listeners]] cannot be given with --set) and an optional dataDir the caller keeps (startRelay's
 * stop() removes only its own temp dir, so a restart on the same dir sees the saved bans).
 */
export async function startAbuseRelay(o: { sets?: Record<string, string>; toml?: string; dataDir?: string } = {}): Promise<AbuseRelay> {
  const sets: Record<string, string> = { "bans.enabled": "true", ...(o.dataDir !== undefined ? { dataDir: o.dataDir } : {}), ...o.sets };
  let command: string[] | undefined;
  if (o.toml !== undefined) {
    const dir = scratchDir("stratum-edge-abuse-cfg-");
    const file = join(dir, "config.toml");
    writeFileSync(file, o.toml);
    command = [await ensureBinary(), "--config", file];
  }
  const r = await startRelay({ sets, ...(command !== undefined ? { command } : {}) });
  // Extra listeners log before the main port; startRelay resolved after "http listening", so all lines are in.
  const lines = r.logs().filter((l) => l.msg === "stratum listening" && typeof l.port === "number");
  const main = lines.find((l) => l.dialects === undefined);
  const extra = lines.filter((l) => l.dialects !== undefined).map((l) => l.port as number);
  return Object.assign(r, { mainPort: (main?.port as number | undefined) ?? r.stratumPort, extraPorts: extra, pid: r.child.pid ?? -1 });
}

export function keptDataDir(): string {
  return scratchDir("stratum-edge-bans-data-");
}

/** VmRSS of a process in MB (Linux /proc), or NaN when unreadable. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function metrics(httpPort: number): Promise<string> {
  return (await httpGet(httpPort, "/metrics")).text;
}

export async function metric(httpPort: number, name: string, labels = ""): Promise<number> {
  return metricValue(await metrics(httpPort), name, labels) ?? 0;
}

/** Admin API call; `token` undefined sends no Authorization header. */
export async function admin(httpPort: number, method: string, path: string, token: string | undefined, body?: unknown): Promise<{ status: number; json: unknown }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(`http://${HOST}:${httpPort}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (e.g. hono's plain 404 body): keep the text
  }
  return { status: r.status, json };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// --- PROXY headers ---------------------------------------------------------------------------

export function proxyV1(src: string, srcPort = 40000): Uint8Array {
  const v6 = src.includes(":");
  const r = encodeProxyV1({
    source: { address: src, port: srcPort, family: v6 ? "ipv6" : "ipv4" },
    destination: { address: v6 ? "2001:db8::1" : "192.0.2.1", port: 3333, family: v6 ? "ipv6" : "ipv4" },
  });
  if (r.kind !== "ok") throw new Error(`encodeProxyV1: ${r.detail}`);
  return r.bytes;
}

export function proxyV2(src: string, srcPort = 40000): Uint8Array {
  const v6 = src.includes(":");
  const r = encodeProxyV2({
    source: { address: src, port: srcPort, family: v6 ? "ipv6" : "ipv4" },
    destination: { address: v6 ? "2001:db8::1" : "192.0.2.1", port: 3333, family: v6 ? "ipv6" : "ipv4" },
  });
  if (r.kind !== "ok") throw new Error(`encodeProxyV2: ${r.detail}`);
  return r.bytes;
}

// --- raw connections -------------------------------------------------------------------------

export interface RawConn {
  readonly received: Msg[];
  /** Bytes received in total (a refused-at-accept connection gets 0). */
  bytes(): number;
  write(data: string | Uint8Array): void;
  next(pred: (m: Msg) => boolean, timeoutMs?: number, what?: string): Promise<Msg>;
  isClosed(): boolean;
  /** Resolves with ms from connect to close; rejects on timeout. */
  waitClosed(timeoutMs?: number): Promise<number>;
  close(): void;
}

/**
 * TCP connection from `localAddress` (any 127.x.y.z is a real loopback source on Linux), optionally
 * writing `first` (e.g. a PROXY header) in the same segment as nothing else. Resolves on connect.
 */
export function rawConnect(port: number, o: { localAddress?: string; first?: Uint8Array | string } = {}): Promise<RawConn> {
  return new Promise((resolve, reject) => {
    const sock: Socket = createConnection({ host: HOST, port, ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}) });
    const received: Msg[] = [];
    const taken = new Set<number>();
    const listeners = new Set<() => void>();
    let partial = "";
    let nbytes = 0;
    let closed = false;
    let openedAt = 0;
    let closedAfter = 0;
    const notify = () => {
      for (const l of [...listeners]) l();
    };
    sock.setNoDelay(true);
    sock.on("data", (chunk: Buffer) => {
      nbytes += chunk.length;
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (line.trim() === "") continue;
        try {
          received.push(JSON.parse(line) as Msg);
        } catch {
          received.push({ unparsable: line });
        }
      }
      notify();
    });
    sock.on("close", () => {
      closed = true;
      closedAfter = Date.now() - openedAt;
      notify();
    });
    sock.on("error", () => {
      // ECONNRESET etc.: "close" follows and is what the tests look at.
    });
    const context = () => `received: ${received.slice(-6).map((m) => JSON.stringify(m).slice(0, 200)).join(" | ")} closed=${closed}`;
    const conn: RawConn = {
      received,
      bytes: () => nbytes,
      write(data) {
        if (!sock.destroyed) sock.write(data);
      },
      next(pred, timeoutMs = 5000, what = "a matching message") {
        return new Promise((res, rej) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const check = () => {
            for (let i = 0; i < received.length; i++) {
              if (taken.has(i) || !pred(received[i]!)) continue;
              taken.add(i);
              done();
              return res(received[i]!);
            }
            if (closed) {
              done();
              rej(new Error(`connection closed while waiting for ${what}; ${context()}`));
            }
          };
          const done = () => {
            listeners.delete(check);
            if (timer) clearTimeout(timer);
          };
          listeners.add(check);
          timer = setTimeout(() => {
            done();
            rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${context()}`));
          }, timeoutMs);
          check();
        });
      },
      isClosed: () => closed,
      waitClosed(timeoutMs = 5000) {
        return new Promise((res, rej) => {
          if (closed) return res(closedAfter);
          const check = () => {
            if (!closed) return;
            listeners.delete(check);
            clearTimeout(timer);
            res(closedAfter);
          };
          const timer = setTimeout(() => {
            listeners.delete(check);
            rej(new Error(`timed out after ${timeoutMs} ms waiting for the server to close; ${context()}`));
          }, timeoutMs);
          listeners.add(check);
        });
      },
      close() {
        sock.destroy();
      },
    };
    let connected = false;
    sock.once("connect", () => {
      connected = true;
      openedAt = Date.now();
      if (o.first !== undefined) sock.write(o.first);
      resolve(conn);
    });
    sock.once("error", (e) => {
      if (!connected) reject(new Error(`connect ${HOST}:${port} from ${o.localAddress ?? "default"}: ${e.message}`));
    });
  });
}

/**
 * Connects, writes `data`, and reports whether the server closed the connection without sending a
 * byte (what a ban at accept looks like) within `ms`.
 */
export async function refusedAtAccept(port: number, o: { localAddress?: string; first?: Uint8Array | string; data?: string; ms?: number } = {}): Promise<{ refused: boolean; bytes: number; closed: boolean }> {
  let c: RawConn;
  try {
    c = await rawConnect(port, o);
  } catch {
    return { refused: true, bytes: 0, closed: true };
  }
  c.write(o.data ?? line({ id: 1, method: "mining.subscribe", params: [] }));
  try {
    await c.waitClosed(o.ms ?? 2000);
  } catch {
    // still open
  }
  const r = { refused: c.isClosed() && c.bytes() === 0, bytes: c.bytes(), closed: c.isClosed() };
  c.close();
  return r;
}

export const line = (o: unknown) => JSON.stringify(o) + "\n";

// --- an honest Stratum v1 miner --------------------------------------------------------------

export interface HonestMiner {
  readonly conn: RawConn;
  /** mining.notify messages received so far. */
  jobs(): number;
  /** Submits a fresh valid share against the latest job; resolves with the submit's result. */
  submitValid(): Promise<unknown>;
  close(): void;
}

/**
 * Subscribes and authorizes with d=1e-12 (the relay must run with difficulty.suggestFloor ≤ 1e-12),
 * so every well-formed share is valid and a share costs one hash.
 */
export async function honestMiner(port: number, o: { localAddress?: string; first?: Uint8Array; worker?: string } = {}): Promise<HonestMiner> {
  const c = await rawConnect(port, o);
  c.write(line({ id: 1, method: "mining.subscribe", params: ["honest/1.0"] }) + line({ id: 2, method: "mining.authorize", params: [o.worker ?? "honest.w1", "d=1e-12"] }));
  const sub = await c.next(byId(1), 5000, "subscribe result");
  const auth = await c.next(byId(2), 5000, "authorize result");
  if (auth.result !== true) throw new Error(`honest authorize refused: ${JSON.stringify(auth)}`);
  const [, en1, en2Size] = sub.result as [unknown, string, number];
  await c.next(byMethod("mining.notify"), 5000, "first job");
  let counter = 0;
  let id = 100;
  const latest = (): Job => {
    for (let i = c.received.length - 1; i >= 0; i--) if (c.received[i]!.method === "mining.notify") return notifyJob(c.received[i]!);
    throw new Error("no job");
  };
  return {
    conn: c,
    jobs: () => c.received.filter((m) => m.method === "mining.notify").length,
    async submitValid() {
      const job = latest();
      const en2 = zeroExtranonce2(en2Size, ++counter);
      const s = findShare(job, en1, en2, { target: shareTarget(1e-12), meets: true });
      const myId = ++id;
      c.write(line({ id: myId, method: "mining.submit", params: submitParams(o.worker ?? "honest.w1", job, s) }));
      const r = await c.next(byId(myId), 5000, "honest submit result");
      if (r.result !== true) throw new Error(`honest share refused: ${JSON.stringify(r)}`);
      return r.result;
    },
    close: () => c.close(),
  };
}

/** Opening used by abusers that need a session: subscribe + authorize with the default (hard) difficulty. */
export async function authorizedConn(port: number, o: { localAddress?: string; first?: Uint8Array; worker?: string } = {}): Promise<{ conn: RawConn; en1: string; en2Size: number; job: Job; difficulty: number }> {
  const c = await rawConnect(port, o);
  c.write(line({ id: 1, method: "mining.subscribe", params: [] }) + line({ id: 2, method: "mining.authorize", params: [o.worker ?? "abuser.w1", "x"] }));
  const sub = await c.next(byId(1), 5000, "subscribe result");
  const auth = await c.next(byId(2), 5000, "authorize result");
  if (auth.result !== true) throw new Error(`authorize refused: ${JSON.stringify(auth)}`);
  const [, en1, en2Size] = sub.result as [unknown, string, number];
  const diff = await c.next(byMethod("mining.set_difficulty"), 5000, "set_difficulty");
  const job = notifyJob(await c.next(byMethod("mining.notify"), 5000, "first job"));
  return { conn: c, en1, en2Size, job, difficulty: (diff.params as number[])[0]! };
}

/** `n` distinct shares that miss the share target (low difficulty) as submit lines. */
export function lowDifficultySubmits(a: { en1: string; en2Size: number; job: Job; difficulty: number }, n: number, worker = "abuser.w1", firstId = 10): string {
  let text = "";
  let nonce = 0;
  for (let i = 0; i < n; i++) {
    const s = findShare(a.job, a.en1, zeroExtranonce2(a.en2Size, 1), { target: shareTarget(a.difficulty), meets: false, startNonce: nonce });
    nonce = s.nonce + 1;
    text += line({ id: firstId + i, method: "mining.submit", params: submitParams(worker, a.job, s) });
  }
  return text;
}

export { handshake, httpGet };
