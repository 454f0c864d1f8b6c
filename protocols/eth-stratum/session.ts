// EthereumStratum/1.0.0 (NiceHash) session reducer: subscribe/authorize/notify/submit; hashimoto runs off-loop via "verify" actions.
import type { JsonRpcId, RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import type { Reason } from "../errors/reasons.ts";
import type { Action, VerifyRequest, VerifyResult } from "../core/actions.ts";
import type { Dialect, JobEvent, OpenInfo } from "../core/dialect.ts";
import type { EthJob } from "../eth/work.ts";
import type { EthEnv } from "../eth/env.ts";
import type { VardiffState } from "../core/vardiff.ts";
import { passwordDifficulty } from "../core/difficulty.ts";
import { closeSession, effectiveEthDifficulty, ethAccepted, ethForward, ethForwarded, ethTick, mustForward } from "../eth/session_common.ts";
import { difficultyToTarget } from "../pow/target.ts";
import { bytesToHex, hexToBytes } from "../pow/hex.ts";
import { parseEthStratumMessage, type EthStratumMessage } from "./client_to_server.ts";
import { encodeEthStratumNotify, encodeEthStratumSubscribeResult, encodeSetDifficulty, encodeTrue, ETH_STRATUM_PROTOCOL } from "./server_to_client.ts";
import { encodeEthStratumReason } from "./errors.ts";
import { fullNonce, minerNonceDigits } from "./nonce.ts";
import { encodeResult } from "../jsonrpc/envelope.ts";

interface SentJob {
  id: string;
  difficulty: number;
  seen: Set<string> | undefined;
}

export interface EthStratumState extends VardiffState {
  /** At most 3 bytes (hex); the miner owns the other 8 − len nonce bytes. */
  extranonce: string;
  subscribed: boolean;
  worker: string | undefined;
  moreWorkers: Set<string> | undefined;
  difficulty: number;
  fixed: number | undefined;
  announced: number;
  sentJobs: SentJob[];
  needsWork: boolean;
  workSent: boolean;
  hashrate: bigint | undefined;
  openedAt: number;
  lastMessageAt: number;
  malformed: number;
  closing: boolean;
}

interface StratumVerifyCtx {
  id: JsonRpcId;
  worker: string;
  job: EthJob;
  difficulty: number;
  nonce: string;
}

const close = closeSession;

function reject(s: EthStratumState, id: JsonRpcId, reason: Reason, env: EthEnv, out: Action[], detail?: string): void {
  out.push({ kind: "write", data: encodeEthStratumReason(id, reason, detail) });
  if (reason === "malformed") out.push({ kind: "abuse", what: "malformed" });
  if (reason === "malformed" && ++s.malformed >= env.policy.maxMalformed) close(s, "malformed", out);
}

function shareRejected(s: EthStratumState, id: JsonRpcId, worker: string, reason: Reason, job: EthJob | undefined, difficulty: number, env: EthEnv, out: Action[]): void {
  reject(s, id, reason, env, out);
  out.push({ kind: "share", share: { worker, accepted: false, reason, difficulty, shareDifficulty: 0, jobId: job?.id ?? "", height: job?.blockNumber ?? 0, at: env.now } });
}

const effectiveDifficulty = effectiveEthDifficulty;

function findSent(s: EthStratumState, id: string): SentJob | undefined {
  for (let i = s.sentJobs.length - 1; i >= 0; i--) if (s.sentJobs[i]!.id === id) return s.sentJobs[i];
  return undefined;
}

function announce(s: EthStratumState, d: number, out: Action[]): void {
  if (d !== s.announced) {
    s.announced = d;
    out.push({ kind: "write", data: encodeSetDifficulty(d) });
  }
}

/**
 * The current job to this connection alone. The notify carries no target, so after a difficulty
 * change the same job id would be ambiguous: shares already mined at the old difficulty may arrive
 * under it. The job keeps its id and is judged and credited at the LOWER of the two difficulties
 * until the next job (ETH blocks come every ~13 s, so the under-credit after a raise is brief).
 */
function sendWork(s: EthStratumState, env: EthEnv, out: Action[]): void {
  s.needsWork = false;
  const job = env.jobs.current();
  if (job === undefined) return;
  const d = effectiveDifficulty(s, env);
  announce(s, d, out);
  const sent = findSent(s, job.id);
  if (sent === undefined) s.sentJobs.push({ id: job.id, difficulty: d, seen: undefined });
  else if (d < sent.difficulty) sent.difficulty = d;
  out.push({ kind: "write", data: encodeEthStratumNotify(job.id, job.seedHash, job.headerHash, true) });
  s.workSent = true;
}

function authorized(s: EthStratumState, worker: string): boolean {
  return worker === s.worker || s.moreWorkers?.has(worker) === true;
}

function onSubmit(s: EthStratumState, m: Extract<EthStratumMessage, { type: "submit" }>, env: EthEnv, out: Action[]): void {
  if (!s.subscribed) return reject(s, m.id, "not_subscribed", env, out);
  if (!authorized(s, m.worker)) return reject(s, m.id, "unauthorized", env, out);
  const sent = findSent(s, m.jobId);
  const job = sent === undefined ? undefined : env.jobs.byId(m.jobId);
  if (sent === undefined || job === undefined) return shareRejected(s, m.id, m.worker, "stale", undefined, 0, env, out);
  const nonce = fullNonce(s.extranonce, m.minerNonce);
  if (nonce === undefined) {
    return reject(s, m.id, "malformed", env, out, `miner nonce must be ${minerNonceDigits(s.extranonce)} hex digits`);
  }
  const seen = sent.seen ?? (sent.seen = new Set());
  if (seen.has(nonce)) return shareRejected(s, m.id, m.worker, "duplicate", job, sent.difficulty, env, out);
  seen.add(nonce);
  const ctx: StratumVerifyCtx = { id: m.id, worker: m.worker, job, difficulty: sent.difficulty, nonce };
  const request: VerifyRequest = {
    algo: job.algo,
    epoch: job.epoch,
    seed: job.seedBytes,
    cacheSize: job.cacheSize,
    fullSize: job.fullSize,
    headerHash: job.headerBytes,
    nonce: hexToBytes(nonce.slice(2))!,
    ctx,
  };
  out.push({ kind: "verify", request });
}

function onMessage(s: EthStratumState, m: EthStratumMessage, env: EthEnv, out: Action[]): void {
  switch (m.type) {
    case "submit":
      return onSubmit(s, m, env, out);
    case "subscribe":
      if (m.protocol !== ETH_STRATUM_PROTOCOL) return reject(s, m.id, "unsupported_method", env, out, `protocol ${m.protocol.slice(0, 40)}`);
      s.subscribed = true;
      out.push({ kind: "write", data: encodeEthStratumSubscribeResult(m.id, s.extranonce, s.extranonce) });
      if (s.worker !== undefined && !s.workSent) s.needsWork = true;
      return;
    case "authorize": {
      const user = m.user.trim();
      if (user.length === 0 || user.length > 256) {
        out.push({ kind: "abuse", what: "login_failed" });
        return reject(s, m.id, "unauthorized", env, out);
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
    case "extranonce_subscribe":
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    case "submit_hashrate":
      s.hashrate = m.hashrate;
      out.push({ kind: "write", data: encodeResult(m.id, true) });
      return;
    case "response":
      return;
    case "unknown":
      return reject(s, m.id, "unsupported_method", env, out, m.method.slice(0, 64));
    case "invalid":
      return reject(s, m.id, "malformed", env, out, m.detail);
  }
}

export const ethStratum: Dialect<EthStratumState, EthEnv, EthJob> = {
  name: "eth-stratum",

  detect(first) {
    if (first.kind !== "request" || first.method !== "mining.subscribe") return false;
    const p = first.params;
    return Array.isArray(p) && p[1] === ETH_STRATUM_PROTOCOL;
  },

  open(info: OpenInfo, env) {
    return {
      extranonce: info.extranonce1,
      subscribed: false,
      worker: undefined,
      moreWorkers: undefined,
      difficulty: env.policy.initialDifficulty,
      fixed: undefined,
      announced: Number.NaN,
      sentJobs: [],
      needsWork: false,
      workSent: false,
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
    onMessage(s, parseEthStratumMessage(msg), env, out);
  },

  flush(s, env, out) {
    if (s.needsWork && !s.closing && s.subscribed && s.worker !== undefined) sendWork(s, env, out);
  },

  job(s, ev: JobEvent<EthJob>, env, out) {
    if (s.closing) return;
    if (!s.workSent) {
      // Authorized before the pool had any job: this broadcast is its first work.
      if (s.subscribed && s.worker !== undefined) sendWork(s, env, out);
      return;
    }
    s.sentJobs = ev.clean ? [] : s.sentJobs.filter((j) => env.jobs.byId(j.id) !== undefined);
    const d = effectiveDifficulty(s, env);
    announce(s, d, out);
    s.sentJobs.push({ id: ev.job.id, difficulty: d, seen: undefined });
    s.needsWork = false;
    let bytes = ev.memo.get("eth-stratum");
    if (bytes === undefined) {
      bytes = new TextEncoder().encode(encodeEthStratumNotify(ev.job.id, ev.job.seedHash, ev.job.headerHash, ev.clean));
      ev.memo.set("eth-stratum", bytes);
    }
    out.push({ kind: "write", data: bytes });
  },

  verified(s, req, res: VerifyResult, env, out) {
    if (s.closing) return;
    const c = req.ctx as StratumVerifyCtx;
    if (!res.ok || res.result === undefined || res.mixDigest === undefined) return shareRejected(s, c.id, c.worker, "internal", c.job, c.difficulty, env, out);
    const value = BigInt("0x" + bytesToHex(res.result));
    if (value > difficultyToTarget(c.difficulty)) return shareRejected(s, c.id, c.worker, "low_difficulty", c.job, c.difficulty, env, out);
    const mixDigest = "0x" + bytesToHex(res.mixDigest);
    const facts = { worker: c.worker, job: c.job, credit: c.difficulty, value, nonce: c.nonce, mixDigest, result: res.result };
    if (mustForward(facts)) return ethForward(c.id, facts, out);
    out.push({ kind: "write", data: encodeTrue(c.id) });
    ethAccepted(s, facts, env, out, () => sendWork(s, env, out));
  },

  forwarded(s, req, res, env, out) {
    if (s.closing || req.kind !== "eth") return;
    ethForwarded(s, req, res, env, out,
      (id) => out.push({ kind: "write", data: encodeTrue(id) }),
      (id, reason, detail) => out.push({ kind: "write", data: encodeEthStratumReason(id, reason, detail) }),
      () => sendWork(s, env, out));
  },

  tick(s, env, out) {
    ethTick(s, s.worker !== undefined, s.workSent, env, out, () => sendWork(s, env, out));
  },


  shutdown(s, _env, out) {
    close(s, "shutdown", out);
  },

  closed(s, env) {
    env.extranonce.release(s.extranonce);
  },
};
