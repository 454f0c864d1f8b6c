// State and steps both Ethereum-style session reducers share (closing, difficulty cap, timeouts and vardiff on ticks); pure.
import type { Action, CloseReason } from "../core/actions.ts";
import { type VardiffState, clampDifficulty, vardiffOnShare, vardiffOnTick } from "../core/vardiff.ts";
import { bytesToHex } from "../pow/hex.ts";
import type { EthJob } from "./work.ts";
import { targetToDifficulty } from "../pow/target.ts";
import type { EthEnv } from "../eth-proxy/session.ts";

export interface EthSessionCommon extends VardiffState {
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
  const p = env.policy;
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
    const next = vardiffOnTick(s, effectiveEthDifficulty(s, env), env.now, p.vardiff, p.vardiff.min);
    if (next !== undefined && next !== s.difficulty) {
      s.difficulty = next;
      if (effectiveEthDifficulty(s, env) !== s.announced) resend();
    }
  }
}

/**
 * An accepted ethash share after the verifier answered (the caller already wrote `true`): record it,
 * emit a block when the result meets the job's boundary, and let vardiff move the difficulty;
 * `resend` delivers the current job at the new difficulty.
 */
export function ethAccepted(
  s: EthSessionCommon,
  a: { worker: string; job: EthJob; credit: number; value: bigint; nonce: string; mixDigest: string; result: Uint8Array },
  env: EthEnv,
  out: Action[],
  resend: () => void,
): void {
  const { job } = a;
  const shareDifficulty = a.value === 0n ? Number.MAX_VALUE : targetToDifficulty(a.value);
  out.push({ kind: "share", share: { worker: a.worker, accepted: true, difficulty: a.credit, shareDifficulty, jobId: job.id, height: job.blockNumber, at: env.now } });
  if (a.value <= job.target) {
    out.push({
      kind: "block",
      block: { algo: job.algo, worker: a.worker, height: job.blockNumber, nonce: a.nonce, headerHash: job.headerHash, mixDigest: a.mixDigest, hash: "0x" + bytesToHex(a.result), at: env.now },
    });
  }
  if (s.fixed === undefined) {
    const next = vardiffOnShare(s, a.credit, env.now, env.policy.vardiff, env.policy.vardiff.min);
    if (next !== undefined && next !== s.difficulty) {
      s.difficulty = next;
      if (effectiveEthDifficulty(s, env) !== s.announced) resend();
    }
  }
}
