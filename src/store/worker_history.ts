// Per-worker history read from the share log's minute rollup: hashrate buckets over 1 h and 24 h, last share, best difficulty, rejects by reason; read-only, no HTTP.
import type { SqliteDb, SqliteValue } from "../runtime/types.ts";
import { MINUTE_MS } from "./share_log.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** 24 h in 15-minute buckets (96 points), 1 h in 1-minute buckets (60 points). */
const DAY_BUCKET_MS = 15 * MINUTE_MS;

export interface HashrateBucket {
  /** Bucket start, ISO 8601. */
  at: string;
  /** Hashes per second over the bucket (the running bucket: over its elapsed part). */
  hashrate: number;
  /** Accepted shares in the bucket. */
  shares: number;
}

export interface WorkerSummary {
  name: string;
  pools: string[];
  /** ISO 8601; the last share of any verdict. */
  lastShareAt: string;
  /** Highest difficulty an accepted share reached, over the log's retention. */
  bestDifficulty: number;
  hashrate1h: number;
  hashrate24h: number;
  accepted24h: number;
  rejected24h: number;
  /** Last hour, 1-minute buckets, oldest first (what the dashboard chart draws). */
  buckets: HashrateBucket[];
}

export interface WorkerDetail extends Omit<WorkerSummary, "buckets"> {
  accepted1h: number;
  rejected1h: number;
  /** Rejected shares of the last 24 h by reason. */
  rejectsByReason: Record<string, number>;
  buckets1h: HashrateBucket[];
  buckets24h: HashrateBucket[];
}

export interface WorkerHistory {
  list(now: number): WorkerSummary[];
  /** undefined: no share of this worker in the log. */
  worker(name: string, now: number): WorkerDetail | undefined;
}

/** Hashes one share of difficulty 1 stands for in `pool` (2^32 for sha256d-style difficulty). */
export type HashesPerDifficulty = (pool: string) => number;

interface MinuteRow {
  pool: string;
  worker: string;
  minute: number;
  reason: string;
  shares: number;
  difficulty: number;
}

function rowsOf(raw: Record<string, SqliteValue>[]): MinuteRow[] {
  return raw.map((r) => ({
    pool: String(r.pool),
    worker: String(r.worker),
    minute: Number(r.minute),
    reason: String(r.reason),
    shares: Number(r.shares),
    difficulty: Number(r.difficulty),
  }));
}

/** Buckets of `size` ms covering [now - span, now], oldest first, from accepted minute rows. */
function bucketsOf(rows: MinuteRow[], now: number, span: number, size: number, hpd: HashesPerDifficulty): HashrateBucket[] {
  const last = Math.floor(now / size) * size;
  const first = last - span + size;
  const n = span / size;
  const hashes = new Float64Array(n);
  const shares = new Float64Array(n);
  for (const r of rows) {
    if (r.reason !== "" || r.minute < first) continue;
    const i = Math.floor((r.minute - first) / size);
    if (i < 0 || i >= n) continue;
    hashes[i]! += r.difficulty * hpd(r.pool);
    shares[i]! += r.shares;
  }
  const out: HashrateBucket[] = [];
  for (let i = 0; i < n; i++) {
    const start = first + i * size;
    // The running bucket is divided by its elapsed part (at least a minute, the rollup's grain) so it is not under-reported.
    const seconds = i === n - 1 ? Math.max(MINUTE_MS, now - start) / 1000 : size / 1000;
    out.push({ at: new Date(start).toISOString(), hashrate: hashes[i]! / seconds, shares: shares[i]! });
  }
  return out;
}

/** Mean hashrate over the last `span` ms: the minutes that started within it (the running one included), over `span`. */
function meanRate(rows: MinuteRow[], now: number, span: number, hpd: HashesPerDifficulty): number {
  const from = Math.floor(now / MINUTE_MS) * MINUTE_MS - span + MINUTE_MS;
  let h = 0;
  for (const r of rows) if (r.reason === "" && r.minute >= from) h += r.difficulty * hpd(r.pool);
  return h / (span / 1000);
}

export function createWorkerHistory(db: SqliteDb, hpd: HashesPerDifficulty): WorkerHistory {
  const since = db.prepare("SELECT pool, worker, minute, reason, shares, difficulty FROM worker_minutes WHERE minute >= ? ORDER BY worker");
  const ofWorker = db.prepare("SELECT pool, worker, minute, reason, shares, difficulty FROM worker_minutes WHERE worker = ? AND minute >= ?");
  const totals = db.prepare("SELECT worker, max(last_at) AS last_at, max(CASE WHEN reason = '' THEN best ELSE 0 END) AS best FROM worker_minutes GROUP BY worker");
  const totalsOf = db.prepare("SELECT max(last_at) AS last_at, max(CASE WHEN reason = '' THEN best ELSE 0 END) AS best, count(*) AS n FROM worker_minutes WHERE worker = ?");

  const dayStart = (now: number) => Math.floor(now / MINUTE_MS) * MINUTE_MS - DAY_MS + MINUTE_MS;

  function summary(name: string, rows: MinuteRow[], lastAt: number, best: number, now: number) {
    const hourFrom = Math.floor(now / MINUTE_MS) * MINUTE_MS - HOUR_MS + MINUTE_MS;
    let accepted24h = 0, rejected24h = 0, accepted1h = 0, rejected1h = 0;
    const rejectsByReason: Record<string, number> = {};
    const pools = new Set<string>();
    for (const r of rows) {
      pools.add(r.pool);
      if (r.reason === "") {
        accepted24h += r.shares;
        if (r.minute >= hourFrom) accepted1h += r.shares;
      } else {
        rejected24h += r.shares;
        if (r.minute >= hourFrom) rejected1h += r.shares;
        rejectsByReason[r.reason] = (rejectsByReason[r.reason] ?? 0) + r.shares;
      }
    }
    return {
      base: {
        name,
        pools: [...pools].sort(),
        lastShareAt: new Date(lastAt).toISOString(),
        bestDifficulty: best,
        hashrate1h: meanRate(rows, now, HOUR_MS, hpd),
        hashrate24h: meanRate(rows, now, DAY_MS, hpd),
        accepted24h,
        rejected24h,
      },
      accepted1h,
      rejected1h,
      rejectsByReason,
    };
  }

  return {
    list(now) {
      const byWorker = new Map<string, MinuteRow[]>();
      for (const r of rowsOf(since.all(dayStart(now)))) {
        let l = byWorker.get(r.worker);
        if (l === undefined) byWorker.set(r.worker, (l = []));
        l.push(r);
      }
      const out: WorkerSummary[] = [];
      // Workers with no share in 24 h are listed too (last share, best difficulty), with empty buckets.
      for (const t of totals.all()) {
        const name = String(t.worker);
        const rows = byWorker.get(name) ?? [];
        const s = summary(name, rows, Number(t.last_at), Number(t.best), now);
        out.push({ ...s.base, buckets: bucketsOf(rows, now, HOUR_MS, MINUTE_MS, hpd) });
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    worker(name, now) {
      const t = totalsOf.all(name)[0];
      if (t === undefined || Number(t.n) === 0) return undefined;
      const rows = rowsOf(ofWorker.all(name, dayStart(now)));
      const s = summary(name, rows, Number(t.last_at), Number(t.best), now);
      return {
        ...s.base,
        accepted1h: s.accepted1h,
        rejected1h: s.rejected1h,
        rejectsByReason: s.rejectsByReason,
        buckets1h: bucketsOf(rows, now, HOUR_MS, MINUTE_MS, hpd),
        buckets24h: bucketsOf(rows, now, DAY_MS, DAY_BUCKET_MS, hpd),
      };
    },
  };
}
