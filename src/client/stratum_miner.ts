// A real Stratum v1 CPU miner (sha256d or Litecoin scrypt) over a Runtime socket (demo, load generator, end-to-end tests); hashes in slices and yields, no pool logic.
import type { SocketHandle } from "../runtime/types.ts";
import type { JsonRpcId } from "../../protocols/jsonrpc/envelope.ts";
import { encodeRequest, encodeResult, parseLine } from "../../protocols/jsonrpc/envelope.ts";
import { createLineFramer } from "../../protocols/jsonrpc/framer.ts";
import { parseServerMessage, parseSubscribeResult } from "../../protocols/stratum-v1/server_messages.ts";
import { hexToBytes, hexToU32, u32ToHex } from "../../protocols/pow/hex.ts";
import { sha256d } from "../../protocols/pow/sha256d.ts";
import { difficultyToTarget, hashMeetsTarget, hashToDifficulty, targetToLE } from "../../protocols/pow/target.ts";
import { writeU32LE } from "../../protocols/bitcoin/script.ts";
import { type NotifyJob, type MinerEvent, type StratumMinerOptions, type MinerStats, type StratumMiner, type PowAlgo } from "./miner_types.ts";
import { BIP320_MASK, DEFAULT_SLICE, DEFAULT_SCRYPT_SLICE, diff1Of, powHash, type Work, prepareWork, en2Hex, fillHeader, depositBits } from "./miner_work.ts";

export type { NotifyJob, MinerEvent, StratumMinerOptions, MinerStats, StratumMiner, PowAlgo } from "./miner_types.ts";
export { computeShareHash } from "./miner_work.ts";

const yieldToLoop: (fn: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === "function"
    ? (fn) => {
        (globalThis as unknown as { setImmediate: (f: () => void) => void }).setImmediate(fn);
      }
    : (fn) => {
        setTimeout(fn, 0);
      };

function rejectKey(error: unknown, result: unknown): string {
  if (Array.isArray(error)) {
    if (typeof error[1] === "string") return error[1];
    if (error[0] !== undefined && error[0] !== null) return String(error[0]);
  }
  if (error && typeof error === "object" && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message;
  }
  if (typeof error === "string") return error;
  return String(result);
}

type Pending =
  | { kind: "configure" | "subscribe" | "authorize" | "suggest" }
  | {
      kind: "submit";
      jobId: string;
      extranonce2: string;
      ntime: string;
      nonce: string;
      versionBits?: string;
      difficulty: number;
      hashDifficulty: number;
      block: boolean;
    };

/**
 * One connection's state machine. Kept as one closure (~400 lines, over the house limit on purpose): its
 * small functions share the socket, the pending-request map, the job and the hashing slice, and the
 * pure parts already live apart (miner_work.ts: share hashes and targets; miner_types.ts: shapes).
 */
export function createStratumMiner(opts: StratumMinerOptions): StratumMiner {
  const sha = opts.sha;
  const agent = opts.agent ?? "stratum-edge-miner/0.1";
  const algo: PowAlgo = opts.algo ?? "sha256d";
  const diff1 = diff1Of(algo);
  const slice = Math.max(1, Math.floor(opts.hashesPerSlice ?? (algo === "scrypt" ? DEFAULT_SCRYPT_SLICE : DEFAULT_SLICE)));
  const rate = opts.maxHashesPerSecond !== undefined && opts.maxHashesPerSecond > 0 ? opts.maxHashesPerSecond : undefined;
  // With a rate limit, slices of ~0.1 s worth of hashes, paced against a running budget.
  const sliceHashes = rate !== undefined ? Math.max(1, Math.min(slice, Math.floor(rate / 10))) : slice;
  let budgetStart = 0;
  let budgetHashes = 0;
  const emit = (e: MinerEvent) => opts.onEvent?.(e);
  const encoder = new TextEncoder();

  const stats: MinerStats = { accepted: 0, rejected: 0, rejectReasons: {}, hashes: 0, blocksFound: 0, difficulty: 1 };
  let host = opts.host;
  let port = opts.port;
  let sock: SocketHandle | undefined;
  let stopped = false;
  let nextId = 1;
  const pending = new Map<JsonRpcId, Pending>();

  // Session state, reset on every (re)connection.
  let en1 = "";
  let en2Size = 0;
  /** set_extranonce takes effect with the next notify (NiceHash extranonce spec). */
  let nextExtranonce: { en1: string; size: number } | undefined;
  let versionMask = 0;
  let subscribed = false;
  let authorized = false;
  let work: Work | undefined;
  let en2Counter = 0;
  let nonce = 0;
  let rolledVersion = 0;
  /** Version-rolling step within the current job; bumped every slice, so (version, nonce) pairs never repeat. */
  let rollCounter = 0;
  let mining = false;
  const header = new Uint8Array(80);
  const hash = new Uint8Array(32);
  let shareTargetLE = targetToLE(difficultyToTarget(1, diff1));
  let shareTargetDiff = 1;

  let generation = 0;
  let ready: { resolve: () => void; reject: (e: Error) => void } | undefined;

  function send(method: string, params: unknown[], p: Pending): string {
    const id = nextId++;
    pending.set(id, p);
    return encodeRequest(id, method, params);
  }

  function write(text: string): void {
    sock?.write(encoder.encode(text));
  }

  function fail(message: string): void {
    emit({ type: "error", message });
    if (ready) {
      ready.reject(new Error(message));
      ready = undefined;
    }
  }

  /** Share target = the stricter of the job's difficulty and the current one, so a raise mid-job never yields low-difficulty rejects. */
  function refreshTarget(): void {
    const d = Math.max(work?.difficulty ?? stats.difficulty, stats.difficulty);
    if (d !== shareTargetDiff) {
      shareTargetDiff = d;
      shareTargetLE = targetToLE(difficultyToTarget(d, diff1));
    }
  }

  /** New extranonce2 (or new job): rebuild coinbase → root → header, and roll the version when negotiated. */
  function loadEn2(): boolean {
    if (!work) return false;
    if (work.en2Size < 7 && en2Counter >= 2 ** (8 * work.en2Size)) return false; // space exhausted: wait for a new job
    const en2 = hexToBytes(en2Hex(en2Counter, work.en2Size)) as Uint8Array;
    fillHeader(work, en2, work.version, work.ntime, sha, header);
    rollVersion();
    nonce = 0;
    return true;
  }

  /**
   * With BIP310 negotiated, each slice hashes under a new version (like ASICs rolling versions instead of
   * extranonce2): only the header's first word changes, the merkle root stays. Nonces continue, so no
   * (version, nonce) pair repeats within an extranonce2.
   */
  function rollVersion(): void {
    if (!work) return;
    rollCounter++;
    rolledVersion = versionMask !== 0 ? ((work.version & ~versionMask) | depositBits(rollCounter, versionMask)) >>> 0 : work.version;
    writeU32LE(header, 0, rolledVersion);
  }

  function submit(): void {
    const w = work;
    if (!w) return;
    const en2 = en2Hex(en2Counter, w.en2Size);
    const ntime = u32ToHex(w.ntime);
    const nonceHex = u32ToHex(nonce);
    const params: unknown[] = [opts.user, w.job.jobId, en2, ntime, nonceHex];
    let versionBits: string | undefined;
    if (versionMask !== 0) {
      // BIP310: the pool rebuilds version = (job.version & ~mask) | (version_bits & mask).
      versionBits = u32ToHex(rolledVersion & versionMask);
      params.push(versionBits);
    }
    const p: Pending = {
      kind: "submit",
      jobId: w.job.jobId,
      extranonce2: en2,
      ntime,
      nonce: nonceHex,
      difficulty: shareTargetDiff,
      hashDifficulty: hashToDifficulty(hash, diff1),
      block: hashMeetsTarget(hash, w.networkTargetLE),
    };
    if (versionBits !== undefined) p.versionBits = versionBits;
    write(send("mining.submit", params, p));
  }

  function mineSlice(): void {
    mining = false;
    if (stopped || !authorized || !subscribed || !work || !sock) return;
    const w = work;
    if (versionMask !== 0) rollVersion();
    budgetHashes += sliceHashes;
    for (let i = 0; i < sliceHashes; i++) {
      writeU32LE(header, 76, nonce);
      powHash(algo, sha, header, hash);
      stats.hashes++;
      if (hashMeetsTarget(hash, shareTargetLE)) submit();
      if (nonce === 0xffffffff) {
        en2Counter++;
        if (!loadEn2()) {
          work = undefined;
          return;
        }
      } else {
        nonce++;
      }
    }
    if (work === w) schedule();
  }

  function schedule(): void {
    if (mining || stopped || !authorized || !subscribed || !work) return;
    mining = true;
    if (rate !== undefined) {
      const now = Date.now();
      const due = budgetStart + (budgetHashes * 1000) / rate;
      // After an idle spell (no work, stopped), start a fresh budget instead of bursting to catch up.
      if (budgetHashes === 0 || due < now - 1000) {
        budgetStart = now;
        budgetHashes = 0;
      } else if (due > now) {
        setTimeout(mineSlice, due - now);
        return;
      }
    }
    yieldToLoop(mineSlice);
  }

  function onNotify(m: NotifyJob): void {
    emit({ type: "job", jobId: m.jobId, clean: m.clean });
    if (nextExtranonce) {
      en1 = nextExtranonce.en1;
      en2Size = nextExtranonce.size;
      nextExtranonce = undefined;
    }
    // A non-clean notify is also a fresher job (e.g. a new ntime or more txs); a CPU miner simply switches.
    const w = prepareWork(m, en1, en2Size, stats.difficulty);
    if (!w) {
      emit({ type: "error", message: `notify ${m.jobId}: malformed fields` });
      return;
    }
    work = w;
    en2Counter = 0;
    rollCounter = 0;
    loadEn2();
    refreshTarget();
    schedule();
  }

  /** Ready once both answers are in, whichever order the server sent them in. */
  function maybeReady(): void {
    if (!subscribed || !authorized) return;
    if (ready) {
      ready.resolve();
      ready = undefined;
    }
    schedule();
  }

  function onResult(id: JsonRpcId, result: unknown, error: unknown): void {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    const ok = error === null && result !== false && result !== null;
    switch (p.kind) {
      case "configure": {
        const r = result as Record<string, unknown> | null;
        if (r && r["version-rolling"] === true && typeof r["version-rolling.mask"] === "string") {
          versionMask = (hexToU32(r["version-rolling.mask"]) >>> 0) & BIP320_MASK;
          if (work) loadEn2();
        }
        emit(versionMask ? { type: "configured", versionMask } : { type: "configured" });
        return;
      }
      case "subscribe": {
        const s = ok ? parseSubscribeResult(result) : undefined;
        if (!s) {
          fail(`subscribe refused: ${JSON.stringify(error ?? result)}`);
          return;
        }
        en1 = s.extranonce1;
        en2Size = s.extranonce2Size;
        subscribed = true;
        emit({ type: "subscribed", extranonce1: en1, extranonce2Size: en2Size });
        maybeReady();
        return;
      }
      case "authorize": {
        authorized = result === true && error === null;
        emit(authorized ? { type: "authorized", ok: true } : { type: "authorized", ok: false, error });
        if (!authorized) {
          fail(`authorize refused: ${JSON.stringify(error ?? result)}`);
          return;
        }
        maybeReady();
        return;
      }
      case "suggest":
        return;
      case "submit": {
        const accepted = result === true && error === null;
        if (accepted) {
          stats.accepted++;
          if (p.block) stats.blocksFound++;
        } else {
          stats.rejected++;
          const key = rejectKey(error, result);
          stats.rejectReasons[key] = (stats.rejectReasons[key] ?? 0) + 1;
        }
        const { kind: _k, ...fields } = p;
        emit({ type: "share", accepted, error: accepted ? null : error, ...fields });
        return;
      }
    }
  }

  function onLine(line: string): void {
    const rpc = parseLine(line);
    if (rpc.kind === "invalid") {
      emit({ type: "error", message: `unparsable line from server: ${rpc.detail}` });
      return;
    }
    const m = parseServerMessage(rpc);
    switch (m.type) {
      case "result":
        onResult(m.id, m.result, m.error);
        return;
      case "notify":
        onNotify(m);
        return;
      case "set_difficulty":
        stats.difficulty = m.difficulty;
        emit({ type: "difficulty", difficulty: m.difficulty });
        refreshTarget();
        return;
      case "set_extranonce":
        nextExtranonce = { en1: m.extranonce1, size: m.extranonce2Size };
        emit({ type: "extranonce", extranonce1: m.extranonce1, extranonce2Size: m.extranonce2Size });
        return;
      case "set_version_mask":
        // Only bits we asked for (BIP320 range) and only when rolling was negotiated.
        if (versionMask !== 0 || opts.configure?.versionRolling) versionMask = m.mask & BIP320_MASK;
        if (work) loadEn2();
        return;
      case "ping":
        write(encodeResult(m.id, "pong"));
        return;
      case "get_version":
        write(encodeResult(m.id, agent));
        return;
      case "show_message":
        emit({ type: "message", text: m.text });
        return;
      case "reconnect":
        reconnect(m.host ?? host, m.port ?? port, m.waitSeconds ?? 0);
        return;
      case "unknown":
      case "invalid":
        if (m.id !== null) write(`{"id":${JSON.stringify(m.id)},"result":null,"error":[20,"Unsupported method",null]}\n`);
        return;
    }
  }

  function resetSession(): void {
    pending.clear();
    en1 = "";
    en2Size = 0;
    nextExtranonce = undefined;
    versionMask = 0;
    subscribed = false;
    authorized = false;
    work = undefined;
  }

  async function connect(): Promise<void> {
    resetSession();
    const framer = createLineFramer({ maxLineBytes: 1 << 20 });
    // Events from a socket of an earlier generation (replaced by reconnect, or stopped) are ignored.
    const myGen = ++generation;
    let s: SocketHandle;
    const started = new Promise<void>((resolve, reject) => {
      ready = { resolve, reject };
    });
    try {
      s = await opts.runtime.connect(host, port, {
        open() {},
        data(from, chunk) {
          if (myGen !== generation) return;
          const out = framer.push(chunk);
          for (const line of out.lines) onLine(line);
          if (out.overflow) {
            fail("server line over 1 MiB");
            from.destroy();
          }
        },
        close() {
          if (myGen !== generation) return;
          sock = undefined;
          authorized = false;
          emit({ type: "closed" });
          if (ready) fail("connection closed before subscribe/authorize completed");
        },
      });
    } catch (e) {
      ready = undefined;
      throw e instanceof Error ? e : new Error(String(e));
    }
    if (stopped || myGen !== generation) {
      s.destroy();
      throw new Error("stopped");
    }
    sock = s;
    emit({ type: "connected", host, port });
    // Pipelined like cgminer/ESP-Miner do: the whole handshake in one write, no waiting for replies.
    let hello = "";
    if (opts.configure?.versionRolling) {
      hello += send(
        "mining.configure",
        [["version-rolling"], { "version-rolling.mask": u32ToHex(BIP320_MASK), "version-rolling.min-bit-count": 2 }],
        { kind: "configure" },
      );
    }
    hello += send("mining.subscribe", [agent], { kind: "subscribe" });
    hello += send("mining.authorize", [opts.user, opts.password ?? "x"], { kind: "authorize" });
    if (opts.suggestDifficulty !== undefined) {
      hello += send("mining.suggest_difficulty", [opts.suggestDifficulty], { kind: "suggest" });
    }
    write(hello);
    return started;
  }

  function reconnect(h: string, p: number, waitSeconds: number): void {
    emit({ type: "reconnect", host: h, port: p, waitSeconds });
    const old = sock;
    sock = undefined;
    generation++;
    old?.destroy();
    host = h;
    port = p;
    setTimeout(() => {
      if (stopped) return;
      connect().catch((e: unknown) => emit({ type: "error", message: `reconnect failed: ${(e as Error).message}` }));
    }, waitSeconds * 1000);
  }

  return {
    start: () => connect(),
    stop() {
      stopped = true;
      generation++;
      authorized = false;
      work = undefined;
      const s = sock;
      sock = undefined;
      s?.destroy();
      if (ready) {
        ready.reject(new Error("stopped"));
        ready = undefined;
      }
    },
    stats: () => ({ ...stats, rejectReasons: { ...stats.rejectReasons } }),
  };
}
