// Pool and per-worker share statistics and hashrate estimates for /api/stats; in memory, time injected.
import type { ShareRecord } from "../../protocols/core/actions.ts";

const BUCKET_MS = 30_000;
const BUCKETS = 20; // 10-minute window

interface Window {
  /** Sum of accepted difficulty per bucket, ring indexed by bucket number. */
  sums: Float64Array;
  stamps: Float64Array;
}

function newWindow(): Window {
  return { sums: new Float64Array(BUCKETS), stamps: new Float64Array(BUCKETS).fill(-1) };
}

function addTo(w: Window, now: number, d: number): void {
  const b = Math.floor(now / BUCKET_MS);
  const i = b % BUCKETS;
  if (w.stamps[i] !== b) {
    w.stamps[i] = b;
    w.sums[i] = 0;
  }
  w.sums[i]! += d;
}

/**
 * Hashes per second over the window: each accepted share of difficulty d stands for d·2^32
 * hashes on average (sha256d, diff1 = 0xffff·2^208 ≈ 2^224). Before a full window has passed
 * the rate is taken over the time actually observed, so a new worker is not under-reported.
 */
function rate(w: Window, now: number, since: number, hashesPerDiff: number): number {
  const b = Math.floor(now / BUCKET_MS);
  let sum = 0;
  for (let i = 0; i < BUCKETS; i++) {
    const s = w.stamps[i]!;
    if (s >= 0 && b - s < BUCKETS) sum += w.sums[i]!;
  }
  const span = Math.min(BUCKETS * BUCKET_MS, Math.max(now - since, BUCKET_MS)) / 1000;
  return (sum * hashesPerDiff) / span;
}

export interface WorkerStats {
  name: string;
  accepted: number;
  rejected: number;
  acceptedDifficulty: number;
  bestShareDifficulty: number;
  lastShareAt: number;
  firstSeenAt: number;
  window: Window;
}

export interface ShareStats {
  record(share: ShareRecord, remoteAddress: string): void;
  snapshot(now: number): {
    accepted: number;
    rejected: number;
    rejectedByReason: Record<string, number>;
    hashrate: number;
    workers: { name: string; accepted: number; rejected: number; hashrate: number; bestShareDifficulty: number; lastShareAt: string }[];
    lastShares: { worker: string; accepted: boolean; reason?: string; difficulty: number; shareDifficulty: number; height: number; at: string; address: string }[];
  };
}

export function createShareStats(opts: { startedAt: number; hashesPerDifficulty?: number; keepLast?: number; maxWorkers?: number }): ShareStats {
  const hpd = opts.hashesPerDifficulty ?? 2 ** 32;
  const keepLast = opts.keepLast ?? 50;
  const maxWorkers = opts.maxWorkers ?? 10_000;
  const workers = new Map<string, WorkerStats>();
  const pool = newWindow();
  // The newest keepLast shares as a ring of references (share objects are not changed after they are
  // judged): one slot write per share instead of a copied object and a periodic splice.
  const lastShares: (ShareRecord | undefined)[] = new Array(keepLast).fill(undefined);
  const lastAddresses: string[] = new Array(keepLast).fill("");
  let lastCount = 0;
  const byReason: Record<string, number> = {};
  let accepted = 0;
  let rejected = 0;

  const newestFirst = (): [ShareRecord, string][] => {
    const out: [ShareRecord, string][] = [];
    const n = Math.min(lastCount, keepLast);
    for (let i = 1; i <= n; i++) {
      const slot = (lastCount - i) % keepLast;
      out.push([lastShares[slot]!, lastAddresses[slot]!]);
    }
    return out;
  };

  return {
    record(share, remoteAddress) {
      let w = workers.get(share.worker);
      if (w === undefined) {
        if (workers.size >= maxWorkers) {
          // Bounded memory under abuse: forget the longest-idle worker.
          let oldest: WorkerStats | undefined;
          for (const x of workers.values()) if (!oldest || x.lastShareAt < oldest.lastShareAt) oldest = x;
          if (oldest) workers.delete(oldest.name);
        }
        w = { name: share.worker, accepted: 0, rejected: 0, acceptedDifficulty: 0, bestShareDifficulty: 0, lastShareAt: share.at, firstSeenAt: share.at, window: newWindow() };
        workers.set(share.worker, w);
      }
      w.lastShareAt = share.at;
      if (share.accepted) {
        accepted++;
        w.accepted++;
        w.acceptedDifficulty += share.difficulty;
        if (share.shareDifficulty > w.bestShareDifficulty) w.bestShareDifficulty = share.shareDifficulty;
        addTo(w.window, share.at, share.difficulty);
        addTo(pool, share.at, share.difficulty);
      } else {
        rejected++;
        w.rejected++;
        const r = share.reason ?? "internal";
        byReason[r] = (byReason[r] ?? 0) + 1;
      }
      if (keepLast > 0) {
        const slot = lastCount % keepLast;
        lastShares[slot] = share;
        lastAddresses[slot] = remoteAddress;
        lastCount++;
      }
    },
    snapshot(now) {
      return {
        accepted,
        rejected,
        rejectedByReason: { ...byReason },
        hashrate: rate(pool, now, opts.startedAt, hpd),
        workers: [...workers.values()].map((w) => ({
          name: w.name,
          accepted: w.accepted,
          rejected: w.rejected,
          hashrate: rate(w.window, now, w.firstSeenAt, hpd),
          bestShareDifficulty: w.bestShareDifficulty,
          lastShareAt: new Date(w.lastShareAt).toISOString(),
        })),
        lastShares: newestFirst().map(([s, address]) => ({
          worker: s.worker,
          accepted: s.accepted,
          ...(s.reason ? { reason: s.reason } : {}),
          difficulty: s.difficulty,
          shareDifficulty: s.shareDifficulty,
          height: s.height,
          at: new Date(s.at).toISOString(),
          address,
        })),
      };
    },
  };
}
