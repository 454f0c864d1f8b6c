// State and steps both Ethereum-style session reducers share (closing, difficulty cap, timeouts and vardiff on ticks); pure.
import type { Action, CloseReason, EthForward, ForwardResult } from "../core/actions.ts";
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import type { Reason } from "../errors/reasons.ts";
import { type DifficultyPolicy, type VardiffState, clampDifficulty, vardiffOnShare, vardiffOnTick } from "../core/vardiff.ts";
import { bytesToHex } from "../pow/hex.ts";
import type { EthJob } from "./work.ts";
import { targetToDifficulty } from "../pow/target.ts";
import type { EthEnv } from "../eth/env.ts";

export interface EthSessionCommon extends VardiffState {
  /** Starting difficulty, suggestion floor and vardiff bounds: the listening port's, else the pool's (env.policy). */
  diffPolicy: DifficultyPolicy;
  difficulty: number;
  /** From a d=NUMBER password: vardiff off. */
  fixed: number | undefined;
  /** Difficulty of the last work this connection got (NaN = none yet). */
  announced: number;
  openedAt: number;
  lastMessageAt: number;
  malformed: number;
  closing: boolean;
}

export function closeSession(s: EthSessionCommon, reason: CloseReason, out: Action[]): void {
  if (s.closing) return;
  s.closing = true;
  out.push({ kind: "close", reason });
}

/** Share difficulty never exceeds the block's (else block-grade hashes would not be submitted). */
export function effectiveEthDifficulty(s: EthSessionCommon, env: EthEnv): number {
  const p = s.diffPolicy;
  const job = env.jobs.current();
  const hi = job === undefined ? p.vardiff.max : Math.min(p.vardiff.max, targetToDifficulty(job.target));
  if (s.fixed !== undefined) return clampDifficulty(s.fixed, Math.min(p.suggestFloor, hi), hi);
  return clampDifficulty(s.difficulty, Math.min(p.vardiff.min, hi), hi);
}

/**
 * The periodic step: login and idle timeouts, then vardiff for a connection that has work but is
 * quiet; `resend` delivers the current job at the new difficulty (a push or a notify).
 */
export function ethTick(
  s: EthSessionCommon,
  loggedIn: boolean,
  hasWork: boolean,
  env: EthEnv,
  out: Action[],
  resend: () => void,
): void {
  if (s.closing) return;
  const p = env.policy;
  if (!loggedIn && env.now - s.openedAt >= p.loginTimeoutMs) return closeSession(s, "login_timeout", out);
  if (env.now - s.lastMessageAt >= p.idleTimeoutMs) return closeSession(s, "idle_timeout", out);
  if (hasWork && s.fixed === undefined) {
    const d = s.diffPolicy;
    const next = vardiffOnTick(s, effectiveEthDifficulty(s, env), env.now, d.vardiff, d.vardiff.min);
    if (next !== undefined && next !== s.difficulty) {
      s.difficulty = next;
      if (effectiveEthDifficulty(s, env) !== s.announced) resend();
    }
  }
}

/** A verified ethash share: who, which job, the difficulty credited and the hash. */
export interface EthShareFacts {
  worker: string;
  job: EthJob;
  credit: number;
  value: bigint;
  nonce: string;
  mixDigest: string;
  result: Uint8Array;
}

/** Relay mode: does this verified share go to the upstream pool (its verdict answers the miner)? */
export function mustForward(a: EthShareFacts): boolean {
  return a.job.upstream !== undefined && a.value <= a.job.target;
}

/** The forward action for a share that must go upstream; the reply waits for ethForwarded. */
export function ethForward(id: JsonRpcId, a: EthShareFacts, out: Action[]): void {
  const up = a.job.upstream!;
  const request: EthForward = { kind: "eth", link: up.link, worker: a.worker, jobId: up.jobId, nonce: a.nonce, headerHash: a.job.headerHash, mixDigest: a.mixDigest, ctx: { id, facts: a } };
  out.push({ kind: "forward", request });
}

/**
 * The upstream's verdict on a forwarded share: accepted → `accept()` writes the dialect's true and
 * the share is counted (ethAccepted); otherwise `refuse(reason, detail)` answers in the dialect's
 * form and the share is counted rejected (upstream rejected) or unconfirmed (no verdict).
 */
export function ethForwarded(
  s: EthSessionCommon,
  req: EthForward,
  res: ForwardResult,
  env: EthEnv,
  out: Action[],
  accept: (id: JsonRpcId) => void,
  refuse: (id: JsonRpcId, reason: Reason, detail: string | undefined) => void,
  resend: () => void,
): void {
  const { id, facts } = req.ctx as { id: JsonRpcId; facts: EthShareFacts };
  if (res.verdict === "accepted") {
    accept(id);
    return ethAccepted(s, facts, env, out, resend);
  }
  refuse(id, res.reason, res.message || undefined);
  out.push({
    kind: "share",
    share: {
      worker: facts.worker,
      accepted: false,
      reason: res.reason,
      difficulty: facts.credit,
      shareDifficulty: facts.value === 0n ? Number.MAX_VALUE : targetToDifficulty(facts.value),
      jobId: facts.job.id,
      height: facts.job.blockNumber,
      at: env.now,
      upstream: res.verdict === "rejected" ? "rejected" : "unconfirmed",
    },
  });
}

/**
 * An accepted ethash share after the verifier answered (the caller already wrote `true`): record it,
 * emit a block when the result meets the job's boundary, and let vardiff move the difficulty;
 * `resend` delivers the current job at the new difficulty.
 */
export function ethAccepted(
  s: EthSessionCommon,
  a: EthShareFacts,
  env: EthEnv,
  out: Action[],
  resend: () => void,
): void {
  const { job } = a;
  const shareDifficulty = a.value === 0n ? Number.MAX_VALUE : targetToDifficulty(a.value);
  // Relay mode: the upstream pool submits blocks; a share reaching its boundary was forwarded there.
  const isBlock = job.upstream === undefined && a.value <= job.target;
  out.push({
    kind: "share",
    share: { worker: a.worker, accepted: true, difficulty: a.credit, shareDifficulty, jobId: job.id, height: job.blockNumber, at: env.now, ...(job.upstream !== undefined ? { upstream: "accepted" as const } : {}), ...(isBlock ? { block: true } : {}) },
  });
  if (isBlock) {
    out.push({
      kind: "block",
      block: { algo: job.algo, worker: a.worker, height: job.blockNumber, nonce: a.nonce, headerHash: job.headerHash, mixDigest: a.mixDigest, hash: "0x" + bytesToHex(a.result), at: env.now },
    });
  }
  if (s.fixed === undefined) {
    const next = vardiffOnShare(s, a.credit, env.now, s.diffPolicy.vardiff, s.diffPolicy.vardiff.min);
    if (next !== undefined && next !== s.difficulty) {
      s.difficulty = next;
      if (effectiveEthDifficulty(s, env) !== s.announced) resend();
    }
  }
}
