// Stratum v1 share handling: mining.submit checks, the verdict at the miner's difficulty, block candidates, and (relay mode) forwarding to the upstream pool and relaying its verdict; performs no I/O.
import type { Reason } from "../errors/reasons.ts";
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import type { Action, ShareRecord, ForwardRequest, ForwardResult, StratumForward, VerifyRequest, VerifyResult } from "../core/actions.ts";
import { vardiffOnShare } from "../core/vardiff.ts";
import { dupAdd, dupHas, newDupSet } from "../core/dup_set.ts";
import type { StratumJob } from "./job_types.ts";
import type { ClientMessage } from "./client_to_server.ts";
import { encodeTrue } from "./server_to_client.ts";
import { buildHeader, hashShare, validateSubmit, type SubmitFields } from "./share.ts";
import { hashMeetsTarget, hashToDifficulty } from "../pow/target.ts";
import { bytesToHex, bytesToHexReversed, hexToBytes } from "../pow/hex.ts";
import { close, findSent, reject, setDifficulty, type ScryptCtx, type SentJob, type StratumV1Env, type StratumV1State } from "./session_state.ts";

const hashOut = new Uint8Array(32);

export function onSubmit(
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
  // 52 bits of the hash as a number (exact in a double): two different shares of one job collide with odds ~2^-52.
  const key = hashOut[0]! + hashOut[1]! * 0x100 + hashOut[2]! * 0x10000 + hashOut[3]! * 0x1000000 +
    (hashOut[4]! + hashOut[5]! * 0x100 + (hashOut[6]! & 0x0f) * 0x10000) * 0x100000000;
  let seen = sent.seen;
  if (seen === undefined) seen = sent.seen = newDupSet();
  if (dupHas(seen, key)) return shareResult(s, m.worker, m.jobId, job.height, sent.difficulty, "duplicate", now, out, m.id);
  // A share under its target is not kept: sent again it is just as low (same hash), so remembering it
  // would only grow memory under a flood of bad shares (bench BENCH_REJECT=1). scrypt's PoW is judged off-loop.
  if (env.policy.algo === "scrypt" || hashMeetsTarget(hashOut, sent.targetLE)) dupAdd(seen, key);
  if (env.policy.algo === "scrypt") {
    // The header's sha256d (just computed) is the block id; the proof of work is scrypt, done off-loop.
    const blockHash = new Uint8Array(32);
    for (let i = 0; i < 32; i++) blockHash[i] = hashOut[31 - i]!;
    const ctx: ScryptCtx = { id: m.id, worker: m.worker, jobId: m.jobId, job, sent, fields: { ...v }, en1, blockHash };
    out.push({ kind: "verify", request: { algo: "scrypt", header: buildHeader(job, en1, v, env.sha), ctx } });
    return;
  }
  judge(s, m.id, m.worker, m.jobId, job, sent, v, en1, hashOut, undefined, env, out);
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
  /** The block id in display order when it is not the PoW hash reversed (scrypt); undefined: reverse powLE, only for a block. */
  blockHashDisplay: Uint8Array | undefined,
  env: StratumV1Env,
  out: Action[],
): void {
  const now = env.now;
  if (!hashMeetsTarget(powLE, sent.targetLE)) {
    return shareResult(s, worker, jobId, job.height, sent.difficulty, "low_difficulty", now, out, id);
  }
  const shareDiff = hashToDifficulty(powLE, env.policy.diff1);
  const isBlock = hashMeetsTarget(powLE, job.networkTargetLE);
  const up = job.upstream;
  if (up !== undefined && (isBlock || hashMeetsTarget(powLE, up.targetLE))) {
    // Relay mode: the upstream pool judges this one; the miner's answer waits for its verdict.
    const ctx: ForwardCtx = { id, worker, jobId, height: job.height, difficulty: sent.difficulty, shareDifficulty: shareDiff, block: isBlock };
    const request: StratumForward = {
      kind: "stratum-v1",
      link: up.link,
      worker,
      jobId: up.jobId,
      extranonce2: up.pad + s.extranonce1 + v.extranonce2,
      ntime: u32Hex(v.ntime),
      nonce: u32Hex(v.nonce),
      ctx,
    };
    if (s.versionMask !== 0) request.versionBits = u32Hex((v.version & env.policy.versionMask) >>> 0);
    out.push({ kind: "forward", request });
  } else {
    out.push({ kind: "write", data: encodeTrue(id) });
    // One object per share, no spread: the share path allocates as little as it can (issue: memory under load).
    const share: ShareRecord = { worker, accepted: true, difficulty: sent.difficulty, shareDifficulty: shareDiff, jobId, height: job.height, at: now };
    if (isBlock) share.block = true;
    out.push({ kind: "share", share });
    if (isBlock) {
      const hash = blockHashDisplay !== undefined ? bytesToHex(blockHashDisplay) : bytesToHexReversed(powLE);
      out.push({
        kind: "block",
        block: { algo: env.policy.algo, worker, height: job.height, hash, job, extranonce1: en1, fields: { ...v }, at: now },
      });
    }
  }
  // The miner did the work either way: vardiff counts the share now, not when the upstream answers.
  if (s.fixed === undefined) {
    const next = vardiffOnShare(s, sent.difficulty, now, s.diffPolicy.vardiff, Math.max(s.floor, s.diffPolicy.suggestFloor));
    if (next !== undefined) setDifficulty(s, next, env);
  }
}

/** What a forwarded share needs for its answer once the upstream has spoken. */
interface ForwardCtx {
  id: JsonRpcId;
  worker: string;
  jobId: string;
  height: number;
  difficulty: number;
  shareDifficulty: number;
  block: boolean;
}

function u32Hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/** The upstream's verdict reaches the miner in its own dialect, and the share is counted as the upstream judged it. */
export function onForwarded(s: StratumV1State, req: ForwardRequest, res: ForwardResult, env: StratumV1Env, out: Action[]): void {
  const c = req.ctx as ForwardCtx;
  const base = { worker: c.worker, difficulty: c.difficulty, shareDifficulty: c.shareDifficulty, jobId: c.jobId, height: c.height, at: env.now, ...(c.block ? { block: true } : {}) };
  if (res.verdict === "accepted") {
    out.push({ kind: "write", data: encodeTrue(c.id) });
    out.push({ kind: "share", share: { ...base, accepted: true, upstream: "accepted" } });
    return;
  }
  reject(s, c.id, res.reason, out, res.message || undefined);
  out.push({ kind: "share", share: { ...base, accepted: false, reason: res.reason, upstream: res.verdict === "rejected" ? "rejected" : "unconfirmed" } });
}

/** The scrypt verifier's answer for a share this session sent off-loop. */
export function onVerified(s: StratumV1State, req: VerifyRequest, res: VerifyResult, env: StratumV1Env, out: Action[]): void {
  const c = req.ctx as ScryptCtx;
  if (!res.ok || res.result === undefined) {
    return shareResult(s, c.worker, c.jobId, c.job.height, c.sent.difficulty, "internal", env.now, out, c.id, res.error);
  }
  judge(s, c.id, c.worker, c.jobId, c.job, c.sent, c.fields, c.en1, res.result, c.blockHash, env, out);
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

