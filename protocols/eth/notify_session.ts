// Steps the two mining.notify Ethereum dialects (EthereumStratum/1.0.0, EIP-1571) share: sent jobs, work delivery, share check, verdicts; pure, the wire forms stay with each dialect.
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import type { Reason } from "../errors/reasons.ts";
import type { Action, ForwardRequest, ForwardResult, VerifyRequest, VerifyResult } from "../core/actions.ts";
import type { JobEvent } from "../core/dialect.ts";
import type { EthJob } from "./work.ts";
import type { EthEnv } from "./env.ts";
import { type EthSessionCommon, effectiveEthDifficulty, ethAccepted, ethForward, ethForwarded, mustForward } from "./session_common.ts";
import { difficultyToTarget } from "../pow/target.ts";
import { bytesToHex, hexToBytes } from "../pow/hex.ts";

/** A job this connection was sent and the difficulty it is judged at (the nonces seen, for duplicates). */
export interface SentJob {
  id: string;
  difficulty: number;
  seen: Set<string> | undefined;
}

export interface NotifySessionState extends EthSessionCommon {
  sentJobs: SentJob[];
  needsWork: boolean;
  workSent: boolean;
}

/** What a submitted share carries through the off-loop hashimoto to `notifyVerified`. */
interface VerifyCtx {
  id: JsonRpcId;
  worker: string;
  job: EthJob;
  difficulty: number;
  nonce: string;
}

/** The parts that differ between the two dialects: encodings, the difficulty announcement, who may get work. */
export interface NotifyWire<S extends NotifySessionState> {
  /** Key of the per-broadcast memo (one encoding of a job for every socket of this dialect). */
  memoKey: string;
  /** A job's mining.notify line. */
  notify(job: EthJob, clean: boolean): string;
  /** Tell the miner the difficulty `d` before a notify of `job` (mining.set_difficulty or mining.set). */
  announce(s: S, job: EthJob, d: number, out: Action[]): void;
  /** The dialect's positive answer to a submit. */
  ok(id: JsonRpcId): string;
  /** The dialect's error answer. */
  error(id: JsonRpcId, reason: Reason, detail: string | undefined): string;
  /** The dialect's refusal (answer, malformed counting, close past the limit). */
  reject(s: S, id: JsonRpcId, reason: Reason, env: EthEnv, out: Action[]): void;
  /** Has this connection authorized a worker (it gets work then)? */
  loggedIn(s: S): boolean;
}

export function findSent(s: NotifySessionState, id: string): SentJob | undefined {
  for (let i = s.sentJobs.length - 1; i >= 0; i--) if (s.sentJobs[i]!.id === id) return s.sentJobs[i];
  return undefined;
}

export function shareRejected<S extends NotifySessionState>(
  s: S, id: JsonRpcId, worker: string, reason: Reason, job: EthJob | undefined, difficulty: number, env: EthEnv, out: Action[], w: NotifyWire<S>,
): void {
  w.reject(s, id, reason, env, out);
  out.push({ kind: "share", share: { worker, accepted: false, reason, difficulty, shareDifficulty: 0, jobId: job?.id ?? "", height: job?.blockNumber ?? 0, at: env.now } });
}

/**
 * The current job to this connection alone. The notify carries no target, so after a difficulty
 * change the same job id would be ambiguous: shares already mined at the old difficulty may arrive
 * under it. The job keeps its id and is judged and credited at the LOWER of the two difficulties
 * until the next job (ETH blocks come every ~13 s, so the under-credit after a raise is brief).
 */
export function sendNotifyWork<S extends NotifySessionState>(s: S, env: EthEnv, out: Action[], w: NotifyWire<S>): void {
  s.needsWork = false;
  const job = env.jobs.current();
  if (job === undefined) return;
  const d = effectiveEthDifficulty(s, env);
  w.announce(s, job, d, out);
  const sent = findSent(s, job.id);
  if (sent === undefined) s.sentJobs.push({ id: job.id, difficulty: d, seen: undefined });
  else if (d < sent.difficulty) sent.difficulty = d;
  out.push({ kind: "write", data: w.notify(job, true) });
  s.workSent = true;
}

/** A submit whose job and full nonce the dialect has resolved: duplicate check, then hashimoto off-loop. */
export function checkNotifyShare<S extends NotifySessionState>(
  s: S, id: JsonRpcId, worker: string, sent: SentJob, job: EthJob, nonce: string, env: EthEnv, out: Action[], w: NotifyWire<S>,
): void {
  const seen = sent.seen ?? (sent.seen = new Set());
  if (seen.has(nonce)) return shareRejected(s, id, worker, "duplicate", job, sent.difficulty, env, out, w);
  seen.add(nonce);
  const ctx: VerifyCtx = { id, worker, job, difficulty: sent.difficulty, nonce };
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

/** Dialect.job: a new job broadcast to every session (encoded once per dialect through the memo). */
export function notifyJob<S extends NotifySessionState>(s: S, ev: JobEvent<EthJob>, env: EthEnv, out: Action[], w: NotifyWire<S>): void {
  if (s.closing) return;
  if (!s.workSent) {
    // Authorized before the pool had any job: this broadcast is its first work.
    if (w.loggedIn(s)) sendNotifyWork(s, env, out, w);
    return;
  }
  s.sentJobs = ev.clean ? [] : s.sentJobs.filter((j) => env.jobs.byId(j.id) !== undefined);
  const d = effectiveEthDifficulty(s, env);
  w.announce(s, ev.job, d, out);
  s.sentJobs.push({ id: ev.job.id, difficulty: d, seen: undefined });
  s.needsWork = false;
  let bytes = ev.memo.get(w.memoKey);
  if (bytes === undefined) {
    bytes = new TextEncoder().encode(w.notify(ev.job, ev.clean));
    ev.memo.set(w.memoKey, bytes);
  }
  out.push({ kind: "write", data: bytes });
}

/** Dialect.verified: the hashimoto answer judged at the job's difficulty, then accepted, forwarded or refused. */
export function notifyVerified<S extends NotifySessionState>(s: S, req: VerifyRequest, res: VerifyResult, env: EthEnv, out: Action[], w: NotifyWire<S>): void {
  if (s.closing) return;
  const c = req.ctx as VerifyCtx;
  if (!res.ok || res.result === undefined || res.mixDigest === undefined) return shareRejected(s, c.id, c.worker, "internal", c.job, c.difficulty, env, out, w);
  const value = BigInt("0x" + bytesToHex(res.result));
  if (value > difficultyToTarget(c.difficulty)) return shareRejected(s, c.id, c.worker, "low_difficulty", c.job, c.difficulty, env, out, w);
  const mixDigest = "0x" + bytesToHex(res.mixDigest);
  const facts = { worker: c.worker, job: c.job, credit: c.difficulty, value, nonce: c.nonce, mixDigest, result: res.result };
  if (mustForward(facts)) return ethForward(c.id, facts, out);
  out.push({ kind: "write", data: w.ok(c.id) });
  ethAccepted(s, facts, env, out, () => sendNotifyWork(s, env, out, w));
}

/** Dialect.forwarded: the upstream pool's verdict answers the miner in the dialect's form. */
export function notifyForwarded<S extends NotifySessionState>(s: S, req: ForwardRequest, res: ForwardResult, env: EthEnv, out: Action[], w: NotifyWire<S>): void {
  if (s.closing || req.kind !== "eth") return;
  ethForwarded(s, req, res, env, out,
    (id) => out.push({ kind: "write", data: w.ok(id) }),
    (id, reason, detail) => out.push({ kind: "write", data: w.error(id, reason, detail) }),
    () => sendNotifyWork(s, env, out, w));
}
