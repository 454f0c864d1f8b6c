// Packs a batch of shares into columns (typed arrays + string arrays) to post to the share log worker, and unpacks them there; no I/O.
import type { ShareRecord } from "../../protocols/core/actions.ts";
import type { ShareRows } from "./share_batch.ts";

/**
 * Measured: structured-cloning the share objects themselves cost the main thread ~0.7–1.9 µs a
 * share (they come in several shapes); numbers in transferred typed arrays and plain string arrays
 * cost ~0.3 µs.
 */
export interface ShareColumns {
  n: number;
  at: Float64Array;
  height: Float64Array;
  difficulty: Float64Array;
  shareDifficulty: Float64Array;
  /** bit 0 accepted, bit 1 block, bits 2–3 upstream verdict (0 none, 1 accepted, 2 rejected, 3 unconfirmed). */
  flags: Uint8Array;
  worker: string[];
  job: string[];
  reason: (string | null)[];
  pool: string[];
  address: string[];
}

const UPSTREAM = [undefined, "accepted", "rejected", "unconfirmed"] as const;
const upstreamCode = (u: ShareRecord["upstream"]) => (u === undefined ? 0 : u === "accepted" ? 1 : u === "rejected" ? 2 : 3);

export function packShares(rows: ShareRows): { cols: ShareColumns; transfer: ArrayBuffer[] } {
  const n = rows.shares.length;
  const cols: ShareColumns = {
    n,
    at: new Float64Array(n),
    height: new Float64Array(n),
    difficulty: new Float64Array(n),
    shareDifficulty: new Float64Array(n),
    flags: new Uint8Array(n),
    worker: new Array<string>(n),
    job: new Array<string>(n),
    reason: new Array<string | null>(n),
    pool: rows.pools,
    address: rows.addresses,
  };
  for (let i = 0; i < n; i++) {
    const s = rows.shares[i]!;
    cols.at[i] = s.at;
    cols.height[i] = s.height;
    cols.difficulty[i] = s.difficulty;
    cols.shareDifficulty[i] = s.shareDifficulty;
    cols.flags[i] = (s.accepted ? 1 : 0) | (s.block === true ? 2 : 0) | (upstreamCode(s.upstream) << 2);
    cols.worker[i] = s.worker;
    cols.job[i] = s.jobId;
    cols.reason[i] = s.reason ?? null;
  }
  const transfer = [cols.at, cols.height, cols.difficulty, cols.shareDifficulty, cols.flags].map((a) => a.buffer as ArrayBuffer);
  return { cols, transfer };
}

export function unpackShares(c: ShareColumns): ShareRows {
  const shares: ShareRecord[] = new Array(c.n);
  for (let i = 0; i < c.n; i++) {
    const f = c.flags[i]!;
    const s: ShareRecord = {
      worker: c.worker[i]!,
      accepted: (f & 1) !== 0,
      difficulty: c.difficulty[i]!,
      shareDifficulty: c.shareDifficulty[i]!,
      jobId: c.job[i]!,
      height: c.height[i]!,
      at: c.at[i]!,
    };
    const r = c.reason[i];
    if (r !== null && r !== undefined) s.reason = r as ShareRecord["reason"];
    const u = UPSTREAM[(f >> 2) & 3];
    if (u !== undefined) s.upstream = u;
    if ((f & 2) !== 0) s.block = true;
    shares[i] = s;
  }
  return { shares, pools: c.pool, addresses: c.address };
}
