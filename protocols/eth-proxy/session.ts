// eth-proxy session reducer (eth_submitLogin / eth_getWork / eth_submitWork / eth_submitHashrate); performs no I/O or hashing beyond the µs pre-check.
import type { JsonRpcId, RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import type { Reason } from "../errors/reasons.ts";
import type { Action, VerifyRequest, VerifyResult } from "../core/actions.ts";
import type { Dialect, JobEvent, OpenInfo } from "../core/dialect.ts";
import type { EthJob } from "../eth/work.ts";
import type { DifficultyPolicy, VardiffState } from "../core/vardiff.ts";
import { passwordDifficulty } from "../core/difficulty.ts";
import { closeSession, effectiveEthDifficulty, ethAccepted, ethForward, ethForwarded, ethTick, mustForward } from "../eth/session_common.ts";
import { difficultyToTarget } from "../pow/target.ts";
import { bytesToHex, hexToBytes } from "../pow/hex.ts";
import { quickCheck } from "../pow/ethash.ts";
import { parseEthProxyMessage, type EthProxyMessage } from "./client_to_server.ts";
import { encodeEthResult, encodeWork, encodeWorkPush, encodeQuantity } from "./server_to_client.ts";
import { encodeEthReason } from "./errors.ts";

export type { EthEnv, EthJobLookup, EthPolicy } from "../eth/env.ts";
import type { EthEnv } from "../eth/env.ts";

interface SentHeader {
  header: string;
  /** Lowest and highest difficulty this header went out with to this connection (vardiff may re-send it). */
  lo: number;
  hi: number;
  seen: Set<string> | undefined;
}

export interface EthProxyState extends VardiffState {
  /** Allocated by the core at open; unused by eth-proxy (the miner rolls the whole nonce) but held until close. */
  extranonce: string;
  loggedIn: boolean;
  worker: string;
  /** Starting difficulty, suggestion floor and vardiff bounds: the listening port's, else the pool's (env.policy). */
  diffPolicy: DifficultyPolicy;
  difficulty: number;
  fixed: number | undefined;
  /** Difficulty of the last work this connection got (NaN = none yet). */
  announced: number;
  sent: SentHeader[];
  /** The miner asked for work: from now on new work is pushed (id 0). */
  wantsPush: boolean;
  hashrate: bigint | undefined;
  openedAt: number;
  lastMessageAt: number;
  malformed: number;
  closing: boolean;
}

interface ProxyVerifyCtx {
  id: JsonRpcId;
  worker: string;
  job: EthJob;
  entry: SentHeader;
  nonce: string;
  mixDigest: string;
}

const close = closeSession;

function reject(s: EthProxyState, id: JsonRpcId, reason: Reason, env: EthEnv, out: Action[], detail?: string): void {
  out.push({ kind: "write", data: encodeEthReason(id, reason, detail) });
  if (reason === "malformed") out.push({ kind: "abuse", what: "malformed" });
  if (reason === "unauthorized") out.push({ kind: "abuse", what: "login_failed" });
  if (reason === "malformed" && ++s.malformed >= env.policy.maxMalformed) close(s, "malformed", out);
  else if (env.policy.disconnectOnError) close(s, "malformed", out);
}

function shareRejected(s: EthProxyState, id: JsonRpcId, reason: Reason, job: EthJob | undefined, difficulty: number, env: EthEnv, out: Action[]): void {
  reject(s, id, reason, env, out);
  out.push({
    kind: "share",
    share: { worker: s.worker, accepted: false, reason, difficulty, shareDifficulty: 0, jobId: job?.id ?? "", height: job?.blockNumber ?? 0, at: env.now },
  });
}

const effectiveDifficulty = effectiveEthDifficulty;

function record(s: EthProxyState, job: EthJob, d: number): void {
  let e: SentHeader | undefined;
  for (const x of s.sent) if (x.header === job.headerHash) e = x;
  if (e === undefined) {
    s.sent.push({ header: job.headerHash, lo: d, hi: d, seen: undefined });
  } else {
    if (d < e.lo) e.lo = d;
    if (d > e.hi) e.hi = d;
  }
}

function work(job: EthJob, d: number) {
  return { headerHash: job.headerHash, seedHash: job.seedHash, target: difficultyToTarget(d), blockNumber: job.blockNumber };
}

/** Push the current job with this connection's (new) difficulty. */
function pushWork(s: EthProxyState, env: EthEnv, out: Action[]): void {
  const job = env.jobs.current();
  if (job === undefined || !s.wantsPush) return;
  const d = effectiveDifficulty(s, env);
  s.announced = d;
  record(s, job, d);
  out.push({ kind: "write", data: encodeWorkPush(work(job, d)) });
}

function onSubmit(s: EthProxyState, m: Extract<EthProxyMessage, { type: "submit_work" }>, env: EthEnv, out: Action[]): void {
  if (!s.loggedIn) return reject(s, m.id, "not_subscribed", env, out);
  const job = env.jobs.byHeader(m.headerHash);
  let entry: SentHeader | undefined;
  for (const x of s.sent) if (x.header === m.headerHash) entry = x;
  if (job === undefined) return shareRejected(s, m.id, "stale", undefined, entry?.lo ?? 0, env, out);
  if (entry === undefined) {
    // Work fetched on another connection (or over HTTP): judge it at this connection's difficulty.
    const d = effectiveDifficulty(s, env);
    entry = { header: job.headerHash, lo: d, hi: d, seen: undefined };
    s.sent.push(entry);
  }
  const seen = entry.seen ?? (entry.seen = new Set());
  if (seen.has(m.nonce)) return shareRejected(s, m.id, "duplicate", job, entry.lo, env, out);
  seen.add(m.nonce);
  const nonce = hexToBytes(m.nonce.slice(2))!;
  const mix = hexToBytes(m.mixDigest.slice(2))!;
  // µs pre-check: keccak256(keccak512(header‖nonce)‖mix) is the final hash if the mix is right;
  // above the target the share is refused without the millisecond hashimoto.
  const q = quickCheck(job.headerBytes, nonce, mix);
  if (BigInt("0x" + bytesToHex(q)) > difficultyToTarget(entry.lo)) return shareRejected(s, m.id, "low_difficulty", job, entry.lo, env, out);
  const ctx: ProxyVerifyCtx = { id: m.id, worker: s.worker, job, entry, nonce: m.nonce, mixDigest: m.mixDigest };
  const request: VerifyRequest = { algo: job.algo, epoch: job.epoch, seed: job.seedBytes, cacheSize: job.cacheSize, fullSize: job.fullSize, headerHash: job.headerBytes, nonce, mixDigest: mix, ctx };
  out.push({ kind: "verify", request });
}

function onMessage(s: EthProxyState, m: EthProxyMessage, env: EthEnv, out: Action[]): void {
  switch (m.type) {
    case "submit_work":
      return onSubmit(s, m, env, out);
    case "login": {
      s.loggedIn = true;
      s.worker = m.worker ? `${m.address}.${m.worker}` : m.address;
      out.push({ kind: "write", data: encodeEthResult(m.id, true) });
      return;
    }
    case "invalid_login":
      return reject(s, m.id, "unauthorized", env, out, m.detail);
    case "get_work": {
      if (!s.loggedIn) return reject(s, m.id, "not_subscribed", env, out);
      // It asked for work: pushed from now on, also when there is none yet (ethminer asks once after
      // login and then waits for pushes, so a miner told "not ready" still gets the first job).
      s.wantsPush = true;
      const job = env.jobs.current();
      if (job === undefined) return reject(s, m.id, "work_not_ready", env, out);
      const d = effectiveDifficulty(s, env);
      s.announced = d;
      record(s, job, d);
      out.push({ kind: "write", data: encodeWork(m.id, work(job, d)) });
      return;
    }
    case "submit_hashrate":
      // Kept per connection and only ever forwarded re-encoded as a canonical quantity.
      s.hashrate = m.hashrate;
      out.push({ kind: "write", data: encodeEthResult(m.id, true) });
      return;
    case "response":
      return;
    case "unknown":
      return reject(s, m.id, "unsupported_method", env, out, m.method.slice(0, 64));
    case "invalid":
      return reject(s, m.id, "malformed", env, out, m.detail);
  }
}

/** Hashrate a miner reported (eth_submitHashrate), as a canonical hex quantity, for forwarding upstream. */
export function reportedHashrate(s: EthProxyState): string | undefined {
  return s.hashrate === undefined ? undefined : encodeQuantity(s.hashrate);
}

export const ethProxy: Dialect<EthProxyState, EthEnv, EthJob> = {
  name: "eth-proxy",

  detect(first) {
    return first.kind === "request" &&
      (first.method === "eth_submitLogin" || first.method === "eth_getWork" || first.method === "eth_submitWork" ||
        first.method === "eth_submitHashrate");
  },

  open(info: OpenInfo, env) {
    const diffPolicy = info.difficulty ?? env.policy;
    return {
      extranonce: info.extranonce1,
      loggedIn: false,
      worker: "",
      diffPolicy,
      difficulty: diffPolicy.initialDifficulty,
      fixed: undefined,
      announced: Number.NaN,
      sent: [],
      wantsPush: false,
      hashrate: undefined,
      windowStartMs: env.now,
      shares: 0,
      openedAt: env.now,
      lastMessageAt: env.now,
      malformed: 0,
      closing: false,
    };
  },

  receive(s, msg: RpcMessage | RpcParseError, env, out) {
    if (s.closing) return;
    s.lastMessageAt = env.now;
    if (msg.kind === "invalid") return reject(s, msg.id, "malformed", env, out, msg.detail);
    // ethminer sends the password-less "worker" field; a d=NUMBER can ride in the login's email slot or worker.
    const parsed = parseEthProxyMessage(msg);
    if (parsed.type === "login") {
      const d = passwordDifficulty(parsed.email ?? "") ?? passwordDifficulty(parsed.worker ?? "");
      if (d !== undefined) s.fixed = d;
    }
    onMessage(s, parsed, env, out);
  },

  flush() {},

  job(s, ev: JobEvent<EthJob>, env, out) {
    if (s.closing || !s.wantsPush) return;
    if (ev.clean) s.sent = s.sent.filter((x) => env.jobs.byHeader(x.header) !== undefined);
    const d = effectiveDifficulty(s, env);
    s.announced = d;
    record(s, ev.job, d);
    // Sessions at the same difficulty share one encoding.
    const key = "eth-proxy:" + d;
    let bytes = ev.memo.get(key);
    if (bytes === undefined) {
      bytes = encodeWorkPush(work(ev.job, d));
      ev.memo.set(key, bytes);
    }
    out.push({ kind: "write", data: bytes });
  },

  verified(s, req, res: VerifyResult, env, out) {
    if (s.closing) return;
    const c = req.ctx as ProxyVerifyCtx;
    if (!res.ok || res.result === undefined || res.mixDigest === undefined) {
      return shareRejected(s, c.id, "internal", c.job, c.entry.lo, env, out);
    }
    if (bytesToHex(res.mixDigest) !== c.mixDigest.slice(2)) return shareRejected(s, c.id, "invalid_solution", c.job, c.entry.lo, env, out);
    const value = BigInt("0x" + bytesToHex(res.result));
    // Credit the highest difficulty this header went out with that the share meets.
    const credit = value <= difficultyToTarget(c.entry.hi) ? c.entry.hi : value <= difficultyToTarget(c.entry.lo) ? c.entry.lo : 0;
    if (credit === 0) return shareRejected(s, c.id, "low_difficulty", c.job, c.entry.lo, env, out);
    const facts = { worker: c.worker, job: c.job, credit, value, nonce: c.nonce, mixDigest: c.mixDigest, result: res.result };
    if (mustForward(facts)) return ethForward(c.id, facts, out);
    out.push({ kind: "write", data: encodeEthResult(c.id, true) });
    ethAccepted(s, facts, env, out, () => pushWork(s, env, out));
  },

  forwarded(s, req, res, env, out) {
    if (s.closing || req.kind !== "eth") return;
    ethForwarded(s, req, res, env, out,
      (id) => out.push({ kind: "write", data: encodeEthResult(id, true) }),
      (id, reason, detail) => out.push({ kind: "write", data: encodeEthReason(id, reason, detail) }),
      () => pushWork(s, env, out));
  },

  tick(s, env, out) {
    ethTick(s, s.loggedIn, s.wantsPush, env, out, () => pushWork(s, env, out));
  },


  shutdown(s, _env, out) {
    // eth-proxy has no reconnect message: closing is the signal (miners reconnect or fail over).
    close(s, "shutdown", out);
  },

  closed(s, env) {
    env.extranonce.release(s.extranonce);
  },
};
