// Stratum v1 session state, its environment and the helpers every part of the session shares (difficulty in force, jobs sent, replies); performs no I/O.
import { newDupSet, type DupSet } from "../core/dup_set.ts";
import type { Sha256Into } from "../pow/types.ts";
import type { Reason } from "../errors/reasons.ts";
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import type { Action, CloseReason } from "../core/actions.ts";
import { type DifficultyPolicy, type SessionPolicy, type VardiffState, clampDifficulty } from "../core/vardiff.ts";
import type { StratumJob } from "./job_types.ts";
import type { SubmitFields } from "./share.ts";
import { encodeNotify, encodeSetDifficulty } from "./server_to_client.ts";
import { encodeReason } from "./errors.ts";
import { DIFF1_SHA256, difficultyToTarget, targetToDifficulty, targetToLE } from "../pow/target.ts";

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

/** Solo mode: the output script a miner's blocks pay, and a short key naming it (memo / cache key). */
export interface PayoutRef {
  script: Uint8Array;
  key: string;
}

/** The pool's job book as a session sees it. */
export interface JobLookup {
  current(): StratumJob | undefined;
  get(id: string): StratumJob | undefined;
  /** Same work under a fresh id (used to re-send the current job after a difficulty change). */
  alias(job: StratumJob): StratumJob;
  /** Solo mode: the same work with a coinbase paying `payout` (kept, under its own id, as long as `job`). */
  forPayout?(job: StratumJob, payout: PayoutRef): StratumJob;
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
  /** Solo mode: the payout of a worker name that is an address of the chain; absent = every block pays the pool. */
  payoutFor?(worker: string): PayoutRef | undefined;
}

export interface ScryptCtx {
  id: JsonRpcId;
  worker: string;
  jobId: string;
  job: StratumJob;
  sent: SentJob;
  fields: SubmitFields;
  en1: Uint8Array;
  blockHash: Uint8Array;
}

export interface SentJob {
  id: string;
  difficulty: number;
  targetLE: Uint8Array;
  /** Duplicate detection: 52 low bits of each share hash seen for this job (collision odds ~2^-52 per pair). */
  seen: DupSet | undefined;
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
  /** Solo mode: what this connection's blocks pay (from its first worker's name). */
  payout: PayoutRef | undefined;
  /** Negotiated version-rolling mask (0 = none). */
  versionMask: number;
  /** Starting difficulty, suggestion floor and vardiff bounds: the listening port's, else the pool's (env.policy). */
  diffPolicy: DifficultyPolicy;
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

export function reject(s: StratumV1State, id: JsonRpcId, reason: Reason, out: Action[], detail?: string): void {
  out.push({ kind: "write", data: encodeReason(id, reason, detail) });
}

export function close(s: StratumV1State, reason: CloseReason, out: Action[]): void {
  if (s.closing) return;
  s.closing = true;
  out.push({ kind: "close", reason });
}

export function malformed(s: StratumV1State, id: JsonRpcId, env: StratumV1Env, out: Action[], detail: string): void {
  s.malformed++;
  reject(s, id, "malformed", out, detail);
  out.push({ kind: "abuse", what: "malformed" });
  if (s.malformed >= env.policy.maxMalformed) close(s, "malformed", out);
}

const networkDifficulty = new WeakMap<StratumJob, number>();

/**
 * Share difficulty never exceeds the network's: a miner only submits hashes that meet its share
 * target, so a higher one would hide blocks. In relay mode not the upstream pool's either, or the
 * miner would hide shares the upstream pays for.
 */
export function ceiling(s: StratumV1State, env: StratumV1Env): number {
  const max = s.diffPolicy.vardiff.max;
  const job = env.jobs.current();
  if (job === undefined) return max;
  let n = networkDifficulty.get(job);
  if (n === undefined) {
    n = targetToDifficulty(job.networkTarget, env.policy.diff1);
    if (job.upstream !== undefined) n = Math.min(n, job.upstream.difficulty);
    networkDifficulty.set(job, n);
  }
  return Math.min(max, n);
}

export function effectiveDifficulty(s: StratumV1State, env: StratumV1Env): number {
  const p = s.diffPolicy;
  const hi = ceiling(s, env);
  if (s.fixed !== undefined) return clampDifficulty(s.fixed, Math.min(p.suggestFloor, hi), hi);
  return clampDifficulty(s.difficulty, Math.min(Math.max(s.floor, p.suggestFloor), hi), hi);
}

export function pruneSentJobs(s: StratumV1State, env: StratumV1Env): void {
  s.sentJobs = s.sentJobs.filter((j) => env.jobs.get(j.id) !== undefined);
}

export function findSent(s: StratumV1State, id: string): SentJob | undefined {
  const list = s.sentJobs;
  for (let i = list.length - 1; i >= 0; i--) if (list[i]!.id === id) return list[i];
  return undefined;
}

export function recordSent(s: StratumV1State, job: StratumJob, difficulty: number, env: StratumV1Env): void {
  // A re-issue shares its original's duplicate set: a miner rolling ntime on the old job can
  // reach exactly the header of the new one.
  const base = job.aliasOf === undefined ? undefined : findSent(s, job.aliasOf);
  if (base !== undefined && base.seen === undefined) base.seen = newDupSet();
  s.sentJobs.push({ id: job.id, difficulty, targetLE: shareTargetLE(difficulty, env.policy.diff1), seen: base?.seen });
}

export function announceDifficulty(s: StratumV1State, d: number, out: Action[]): void {
  if (d !== s.announced) {
    s.announced = d;
    out.push({ kind: "write", data: encodeSetDifficulty(d) });
  }
}

/** Send the current job to this session alone (first work, or re-issue after a difficulty change). */
/** The job this session mines for a pool job: the pool's, or in solo mode its variant paying the miner. */
export function ownJob(s: StratumV1State, job: StratumJob, env: StratumV1Env): StratumJob {
  return s.payout !== undefined && env.jobs.forPayout !== undefined ? env.jobs.forPayout(job, s.payout) : job;
}

export function sendWork(s: StratumV1State, env: StratumV1Env, out: Action[]): void {
  s.needsWork = false;
  const cur = env.jobs.current();
  if (cur === undefined) return; // sent by the first broadcast instead
  let job = ownJob(s, cur, env);
  const d = effectiveDifficulty(s, env);
  announceDifficulty(s, d, out);
  // A job id already sent at another difficulty gets a fresh alias, so shares of the old one
  // are still judged at the difficulty that was in force when it was sent.
  if (findSent(s, job.id) !== undefined) job = env.jobs.alias(job);
  recordSent(s, job, d, env);
  out.push({ kind: "write", data: encodeNotify(job, true, job.id) });
  s.workSent = true;
}

export function setDifficulty(s: StratumV1State, d: number, env: StratumV1Env): void {
  if (d === s.difficulty) return;
  s.difficulty = d;
  if (s.workSent && effectiveDifficulty(s, env) !== s.announced) s.needsWork = true;
}

