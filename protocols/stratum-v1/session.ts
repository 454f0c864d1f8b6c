// Stratum v1 session reducer: subscribe/authorize/configure/submit state machine and share checks; performs no I/O.
import type { Sha256Into } from "../pow/types.ts";
import type { Reason } from "../errors/reasons.ts";
import type { RpcMessage, RpcParseError, JsonRpcId } from "../jsonrpc/envelope.ts";
import type { Action, CloseReason } from "../core/actions.ts";
import type { Dialect, JobEvent, OpenInfo } from "../core/dialect.ts";
import { type SessionPolicy, type VardiffState, clampDifficulty, vardiffOnShare, vardiffOnTick } from "../core/vardiff.ts";
import type { StratumJob } from "./job_types.ts";
import { parseClientMessage, parseConfigure, type ClientMessage } from "./client_to_server.ts";
import {
  encodeConfigureResult,
  encodeNotify,
  encodeNotifyBytes,
  encodePong,
  encodeReconnect,
  encodeResult,
  encodeSetDifficulty,
  encodeSubscribeResult,
  encodeTrue,
} from "./server_to_client.ts";
import { encodeReason } from "./errors.ts";
import { buildHeader, hashShare, validateSubmit, type SubmitFields } from "./share.ts";
import { DIFF1_SHA256, difficultyToTarget, hashMeetsTarget, hashToDifficulty, targetToDifficulty, targetToLE } from "../pow/target.ts";
import { bytesToHex, hexToBytes } from "../pow/hex.ts";
import { passwordDifficulty } from "../core/difficulty.ts";

export { passwordDifficulty };

export interface StratumV1Policy extends SessionPolicy {
  /** Proof of work of the chain: sha256d is checked inline (µs); scrypt goes to the pool's verifier. */
  algo: "sha256d" | "scrypt";
  /** Target of difficulty 1 in the miners' convention: 0xffff·2^208 (sha256d), 0xffff·2^224 (scrypt: cpuminer/cgminer). */
  diff1: bigint;
  /** Pool's BIP320 mask; the session's mask is this ∩ the miner's. */
  versionMask: number;
  extranonce2Size: number;
  /** Sent in client.reconnect on shutdown (empty = same host). */
  reconnectHost: string;
  reconnectPort: number;
}

/** The pool's job book as a session sees it. */
export interface JobLookup {
  current(): StratumJob | undefined;
  get(id: string): StratumJob | undefined;
  /** Same work under a fresh id (used to re-send the current job after a difficulty change). */
  alias(job: StratumJob): StratumJob;
}

export interface ExtranonceClaim {
  /** Take `en1` for this connection if no one holds it (resume after reconnect). */
  claim(en1: string): boolean;
  release(en1: string): void;
}

export interface StratumV1Env {
  now: number;
  sha: Sha256Into;
  jobs: JobLookup;
  extranonce: ExtranonceClaim;
  policy: StratumV1Policy;
}

interface ScryptCtx {
  id: JsonRpcId;
  worker: string;
  jobId: string;
  job: StratumJob;
  sent: SentJob;
  fields: SubmitFields;
  en1: Uint8Array;
  blockHash: Uint8Array;
}

interface SentJob {
  id: string;
  difficulty: number;
  targetLE: Uint8Array;
  /** Duplicate detection: 48 low bits of each share hash seen for this job (collision odds ~2^-48 per pair). */
  seen: Set<number> | undefined;
}

export interface StratumV1State extends VardiffState {
  extranonce1: string;
  /** Decoded on first use (an idle miner never needs it): memory per connection is a benchmark target. */
  extranonce1Bytes: Uint8Array | undefined;
  subscribed: boolean;
  subscribeExtranonce: boolean;
  /** First authorized worker; further ones (rare: one connection, many workers) in `moreWorkers`. */
  worker: string | undefined;
  moreWorkers: Set<string> | undefined;
  /** Negotiated version-rolling mask (0 = none). */
  versionMask: number;
  /** Difficulty the next job goes out with. */
  difficulty: number;
  /** Difficulty last announced with mining.set_difficulty (NaN = never). */
  announced: number;
  /** From a d=NUMBER password: vardiff off. */
  fixed: number | undefined;
  /** Lower bound from suggest_difficulty or BIP310 minimum-difficulty. */
  floor: number;
  /** Jobs sent to this connection, newest last; a short array (≤ keepJobs + re-issues) beats a Map in memory. */
  sentJobs: SentJob[];
  /** Set when work must go out at the end of this read (first job, or a difficulty change). */
  needsWork: boolean;
  workSent: boolean;
  /** Vardiff window (this object is its own VardiffState). */
  windowStartMs: number;
  shares: number;
  openedAt: number;
  lastMessageAt: number;
  malformed: number;
  closing: boolean;
}

const hashOut = new Uint8Array(32);
const targetCaches = new Map<bigint, Map<number, Uint8Array>>();

/** Share target bytes for a difficulty, memoised (vardiff values are rounded, so the map stays small). */
export function shareTargetLE(difficulty: number, diff1: bigint = DIFF1_SHA256): Uint8Array {
  let cache = targetCaches.get(diff1);
  if (cache === undefined) targetCaches.set(diff1, (cache = new Map()));
  let t = cache.get(difficulty);
  if (t === undefined) {
    t = targetToLE(difficultyToTarget(difficulty, diff1));
    if (cache.size > 4096) cache.clear();
    cache.set(difficulty, t);
  }
  return t;
}

function reject(s: StratumV1State, id: JsonRpcId, reason: Reason, out: Action[], detail?: string): void {
  out.push({ kind: "write", data: encodeReason(id, reason, detail) });
}

function close(s: StratumV1State, reason: CloseReason, out: Action[]): void {
  if (s.closing) return;
  s.closing = true;
  out.push({ kind: "close", reason });
}

function malformed(s: StratumV1State, id: JsonRpcId, env: StratumV1Env, out: Action[], detail: string): void {
  s.malformed++;
  reject(s, id, "malformed", out, detail);
  out.push({ kind: "abuse", what: "malformed" });
  if (s.malformed >= env.policy.maxMalformed) close(s, "malformed", out);
}

const networkDifficulty = new WeakMap<StratumJob, number>();

/** Share difficulty never exceeds the network's: a miner only submits hashes that meet its share target, so a higher one would hide blocks. */
function ceiling(env: StratumV1Env): number {
  const job = env.jobs.current();
  if (job === undefined) return env.policy.vardiff.max;
  let n = networkDifficulty.get(job);
  if (n === undefined) {
    n = targetToDifficulty(job.networkTarget, env.policy.diff1);
    networkDifficulty.set(job, n);
  }
  return Math.min(env.policy.vardiff.max, n);
}

function effectiveDifficulty(s: StratumV1State, env: StratumV1Env): number {
  const p = env.policy;
  const hi = ceiling(env);
  if (s.fixed !== undefined) return clampDifficulty(s.fixed, Math.min(p.suggestFloor, hi), hi);
  return clampDifficulty(s.difficulty, Math.min(Math.max(s.floor, p.suggestFloor), hi), hi);
}

function pruneSentJobs(s: StratumV1State, env: StratumV1Env): void {
  s.sentJobs = s.sentJobs.filter((j) => env.jobs.get(j.id) !== undefined);
}

function findSent(s: StratumV1State, id: string): SentJob | undefined {
  const list = s.sentJobs;
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.id === id) return list[i];
  return undefined;
}

function recordSent(s: StratumV1State, job: StratumJob, difficulty: number, env: StratumV1Env): void {
  // A re-issue shares its original's duplicate set: a miner rolling ntime on the old job can
  // reach exactly the header of the new one.
  const base = job.aliasOf === undefined ? undefined : findSent(s, job.aliasOf);
  if (base !== undefined && base.seen === undefined) base.seen = new Set();
  s.sentJobs.push({ id: job.id, difficulty, targetLE: shareTargetLE(difficulty, env.policy.diff1), seen: base?.seen });
}

function announceDifficulty(s: StratumV1State, d: number, out: Action[]): void {
  if (d !== s.announced) {
    s.announced = d;
    out.push({ kind: "write", data: encodeSetDifficulty(d) });
  }
}

/** Send the current job to this session alone (first work, or re-issue after a difficulty change). */
function sendWork(s: StratumV1State, env: StratumV1Env, out: Action[]): void {
  s.needsWork = false;
  let job = env.jobs.current();
  if (job === undefined) return; // sent by the first broadcast instead
  const d = effectiveDifficulty(s, env);
  announceDifficulty(s, d, out);
  // A job id already sent at another difficulty gets a fresh alias, so shares of the old one
  // are still judged at the difficulty that was in force when it was sent.
  if (findSent(s, job.id) !== undefined) job = env.jobs.alias(job);
  recordSent(s, job, d, env);
  out.push({ kind: "write", data: encodeNotify(job, true, job.id) });
  s.workSent = true;
}

function setDifficulty(s: StratumV1State, d: number, env: StratumV1Env): void {
  if (d === s.difficulty) return;
  s.difficulty = d;
  if (s.workSent && effectiveDifficulty(s, env) !== s.announced) s.needsWork = true;
}

function onSubmit(
  s: StratumV1State,
  m: Extract<ClientMessage, { type: "submit" }>,
  env: StratumV1Env,
  out: Action[],
): void {
  const now = env.now;
  if (!s.subscribed) return reject(s, m.id, "not_subscribed", out);
  if (m.worker !== s.worker && s.moreWorkers?.has(m.worker) !== true) return reject(s, m.id, "unauthorized", out);
  const sent = findSent(s, m.jobId);
  const job = sent === undefined ? undefined : env.jobs.get(m.jobId);
  if (sent === undefined || job === undefined) {
    return shareResult(s, m.worker, m.jobId, 0, 0, "stale", now, out, m.id);
  }
  const v = validateSubmit(job, m, s.versionMask);
  if (!v.ok) {
    shareResult(s, m.worker, m.jobId, job.height, sent.difficulty, v.reason, now, out, m.id, v.message);
    if (v.reason === "malformed") {
      out.push({ kind: "abuse", what: "malformed" });
      if (++s.malformed >= env.policy.maxMalformed) close(s, "malformed", out);
    }
    return;
  }
  const en1 = s.extranonce1Bytes ?? (s.extranonce1Bytes = hexToBytes(s.extranonce1)!);
  hashShare(job, en1, v, env.sha, hashOut);
  // 48 bits of the hash as a number: two different shares of one job collide with odds ~2^-48.
  const key = hashOut[0]! + hashOut[1]! * 0x100 + hashOut[2]! * 0x10000 + hashOut[3]! * 0x1000000 +
    (hashOut[4]! + hashOut[5]! * 0x100) * 0x100000000;
  let seen = sent.seen;
  if (seen === undefined) seen = sent.seen = new Set();
  if (seen.has(key)) return shareResult(s, m.worker, m.jobId, job.height, sent.difficulty, "duplicate", now, out, m.id);
  seen.add(key);
  if (env.policy.algo === "scrypt") {
    // The header's sha256d (just computed) is the block id; the proof of work is scrypt, done off-loop.
    const blockHash = new Uint8Array(32);
    for (let i = 0; i < 32; i++) blockHash[i] = hashOut[31 - i]!;
    const ctx: ScryptCtx = { id: m.id, worker: m.worker, jobId: m.jobId, job, sent, fields: { ...v }, en1, blockHash };
    out.push({ kind: "verify", request: { algo: "scrypt", header: buildHeader(job, en1, v, env.sha), ctx } });
    return;
  }
  const display = new Uint8Array(32);
  for (let i = 0; i < 32; i++) display[i] = hashOut[31 - i]!;
  judge(s, m.id, m.worker, m.jobId, job, sent, v, en1, hashOut, display, env, out);
}

/** Compare a share's PoW hash (raw, little-endian) with its share and network targets; answer and account. */
function judge(
  s: StratumV1State,
  id: JsonRpcId,
  worker: string,
  jobId: string,
  job: StratumJob,
  sent: SentJob,
  v: SubmitFields,
  en1: Uint8Array,
  powLE: Uint8Array,
  blockHashDisplay: Uint8Array,
  env: StratumV1Env,
  out: Action[],
): void {
  const now = env.now;
  if (!hashMeetsTarget(powLE, sent.targetLE)) {
    return shareResult(s, worker, jobId, job.height, sent.difficulty, "low_difficulty", now, out, id);
  }
  const shareDiff = hashToDifficulty(powLE, env.policy.diff1);
  out.push({ kind: "write", data: encodeTrue(id) });
  out.push({
    kind: "share",
    share: { worker, accepted: true, difficulty: sent.difficulty, shareDifficulty: shareDiff, jobId, height: job.height, at: now },
  });
  if (hashMeetsTarget(powLE, job.networkTargetLE)) {
    out.push({
      kind: "block",
      block: { algo: env.policy.algo, worker, height: job.height, hash: bytesToHex(blockHashDisplay), job, extranonce1: en1, fields: { ...v }, at: now },
    });
  }
  if (s.fixed === undefined) {
    const next = vardiffOnShare(s, sent.difficulty, now, env.policy.vardiff, Math.max(s.floor, env.policy.suggestFloor));
    if (next !== undefined) setDifficulty(s, next, env);
  }
}

function shareResult(
  s: StratumV1State,
  worker: string,
  jobId: string,
  height: number,
  difficulty: number,
  reason: Reason,
  now: number,
  out: Action[],
  id: JsonRpcId,
  detail?: string,
): void {
  reject(s, id, reason, out, detail);
  out.push({ kind: "share", share: { worker, accepted: false, reason, difficulty, shareDifficulty: 0, jobId, height, at: now } });
}

function onMessage(s: StratumV1State, m: ClientMessage, env: StratumV1Env, out: Action[]): void {
  switch (m.type) {
    case "submit":
      return onSubmit(s, m, env, out);
    case "subscribe": {
      if (m.resume !== undefined && m.resume !== s.extranonce1 && /^[0-9a-f]+$/i.test(m.resume) &&
        m.resume.length === s.extranonce1.length && env.extranonce.claim(m.resume.toLowerCase())) {
        env.extranonce.release(s.extranonce1);
        s.extranonce1 = m.resume.toLowerCase();
        s.extranonce1Bytes = undefined;
      }
      s.subscribed = true;
      out.push({ kind: "write", data: encodeSubscribeResult(m.id, s.extranonce1, s.extranonce1, env.policy.extranonce2Size) });
      if (s.worker !== undefined && !s.workSent) s.needsWork = true;
      return;
    }
    case "authorize": {
      const user = m.user.trim();
      if (user.length === 0 || user.length > 256) {
        out.push({ kind: "abuse", what: "login_failed" });
        return reject(s, m.id, "unauthorized", out);
      }
      if (s.worker === undefined) s.worker = m.user;
      else if (m.user !== s.worker) (s.moreWorkers ??= new Set()).add(m.user);
      const d = passwordDifficulty(m.password);
      if (d !== undefined) {
        s.fixed = d;
        if (s.workSent && effectiveDifficulty(s, env) !== s.announced) s.needsWork = true;
      }
      out.push({ kind: "write", data: encodeTrue(m.id) });
      if (s.subscribed && !s.workSent) s.needsWork = true;
      return;
    }
    case "configure": {
      const c = parseConfigure(m);
      const result: Record<string, unknown> = {};
      if (c.versionRolling !== undefined) {
        s.versionMask = (c.versionRolling.mask & env.policy.versionMask) >>> 0;
        result["version-rolling"] = s.versionMask !== 0;
        result["version-rolling.mask"] = s.versionMask.toString(16).padStart(8, "0");
      }
      if (c.minimumDifficulty !== undefined) {
        const d = c.minimumDifficulty;
        const ok = Number.isFinite(d) && d > 0;
        if (ok) {
          s.floor = clampDifficulty(d, env.policy.suggestFloor, env.policy.vardiff.max);
          if (s.difficulty < s.floor) setDifficulty(s, s.floor, env);
        }
        result["minimum-difficulty"] = ok;
      }
      if (c.subscribeExtranonce) {
        s.subscribeExtranonce = true;
        result["subscribe-extranonce"] = true;
      }
      out.push({ kind: "write", data: encodeConfigureResult(m.id, result) });
      return;
    }
    case "suggest_difficulty": {
      const d = clampDifficulty(m.difficulty, env.policy.suggestFloor, env.policy.vardiff.max);
      s.floor = d;
      setDifficulty(s, d, env);
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    }
    case "suggest_target":
      // Honoured like suggest_difficulty would be, but the conversion needs a target parse; answer plainly.
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    case "extranonce_subscribe":
      s.subscribeExtranonce = true;
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    case "ping":
      out.push({ kind: "write", data: encodePong(m.id) });
      return;
    case "pong":
    case "response":
      // Replies to our mining.ping / client.get_version (ESP-Miner sends pong request-shaped): no answer.
      return;
    case "multi_version":
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    case "get_transactions":
      out.push({ kind: "write", data: encodeResult(m.id, []) });
      return;
    case "unknown":
      return reject(s, m.id, "unsupported_method", out, m.method.slice(0, 64));
    case "invalid":
      return malformed(s, m.id, env, out, m.detail);
  }
}

export const stratumV1: Dialect<StratumV1State, StratumV1Env, StratumJob> = {
  name: "stratum-v1",

  detect(first) {
    if (first.kind !== "request") return false;
    const m = first.method;
    if (m === "mining.subscribe") {
      const p = first.params;
      // EthereumStratum/1.0.0 subscribes name their protocol in params[1]; those belong to another dialect.
      return !(Array.isArray(p) && typeof p[1] === "string" && p[1].startsWith("EthereumStratum"));
    }
    // Any other mining.* opening is ours too (a submit first gets a proper 25 "Not subscribed"),
    // except EIP-1571's mining.hello (EthereumStratum/2.0.0), which must fail fast so the miner
    // falls back to a protocol we speak.
    return m.startsWith("mining.") && m !== "mining.hello" && m !== "mining.noop";
  },

  open(info: OpenInfo, env) {
    const now = env.now;
    return {
      extranonce1: info.extranonce1,
      extranonce1Bytes: undefined,
      subscribed: false,
      subscribeExtranonce: false,
      worker: undefined,
      moreWorkers: undefined,
      versionMask: 0,
      difficulty: env.policy.initialDifficulty,
      announced: Number.NaN,
      fixed: undefined,
      floor: 0,
      sentJobs: [],
      needsWork: false,
      workSent: false,
      windowStartMs: now,
      shares: 0,
      openedAt: now,
      lastMessageAt: now,
      malformed: 0,
      closing: false,
    };
  },

  receive(s, msg: RpcMessage | RpcParseError, env, out) {
    if (s.closing) return;
    s.lastMessageAt = env.now;
    if (msg.kind === "invalid") return malformed(s, msg.id, env, out, msg.detail);
    onMessage(s, parseClientMessage(msg), env, out);
  },

  flush(s, env, out) {
    if (s.needsWork && !s.closing && s.subscribed && s.worker !== undefined) sendWork(s, env, out);
  },

  job(s, ev: JobEvent<StratumJob>, env, out) {
    if (s.closing) return;
    if (!s.workSent) {
      // Authorized before the pool had any job (relay just started, or an upstream outage): this
      // broadcast is its first work.
      if (s.subscribed && s.worker !== undefined) sendWork(s, env, out);
      return;
    }
    if (ev.clean) s.sentJobs = [];
    else pruneSentJobs(s, env);
    const d = effectiveDifficulty(s, env);
    announceDifficulty(s, d, out);
    recordSent(s, ev.job, d, env);
    s.needsWork = false;
    let bytes = ev.memo.get("stratum-v1");
    if (bytes === undefined) {
      bytes = encodeNotifyBytes(ev.job, ev.clean, ev.job.id);
      ev.memo.set("stratum-v1", bytes);
    }
    out.push({ kind: "write", data: bytes });
  },

  verified(s, req, res, env, out) {
    if (s.closing || req.algo !== "scrypt") return;
    const c = req.ctx as ScryptCtx;
    if (!res.ok || res.result === undefined) {
      return shareResult(s, c.worker, c.jobId, c.job.height, c.sent.difficulty, "internal", env.now, out, c.id, res.error);
    }
    judge(s, c.id, c.worker, c.jobId, c.job, c.sent, c.fields, c.en1, res.result, c.blockHash, env, out);
    // A difficulty change from vardiff goes out with the next read's flush; send it now instead.
    if (s.needsWork && s.subscribed && s.worker !== undefined) sendWork(s, env, out);
  },

  tick(s, env, out) {
    if (s.closing) return;
    const now = env.now;
    const p = env.policy;
    if (s.worker === undefined && now - s.openedAt >= p.loginTimeoutMs) return close(s, "login_timeout", out);
    if (now - s.lastMessageAt >= p.idleTimeoutMs) return close(s, "idle_timeout", out);
    if (s.workSent && s.fixed === undefined) {
      const next = vardiffOnTick(s, effectiveDifficulty(s, env), now, p.vardiff, Math.max(s.floor, p.suggestFloor));
      if (next !== undefined) {
        setDifficulty(s, next, env);
        if (s.needsWork) sendWork(s, env, out);
      }
    }
  },

  shutdown(s, env, out) {
    if (s.closing) return;
    const p = env.policy;
    out.push({
      kind: "write",
      data: p.reconnectHost ? encodeReconnect(p.reconnectHost, p.reconnectPort || undefined, 0) : encodeReconnect(),
    });
    close(s, "shutdown", out);
  },

  closed(s, env) {
    env.extranonce.release(s.extranonce1);
  },
};
