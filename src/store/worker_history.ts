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

/** One worker in the list: last-hour figures only, so listing thousands of workers stays cheap. */
export interface WorkerSummary {
  name: string;
  pools: string[];
  /** ISO 8601; the last share of any verdict. */
  lastShareAt: string;
  /** Highest difficulty an accepted share reached, over the log's retention. */
  bestDifficulty: number;
  hashrate1h: number;
  accepted1h: number;
  rejected1h: number;
  /** Last hour, 1-minute buckets, oldest first (what the dashboard chart draws). */
  buckets: HashrateBucket[];
}

export interface WorkerDetail extends Omit<WorkerSummary, "buckets"> {
  /** ISO 8601; the first share still in the log's retention. */
  firstShareAt: string;
  hashrate24h: number;
  accepted24h: number;
  rejected24h: number;
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

/** Counts over rows from `from` on: accepted, rejected, rejects by reason, pools seen. */
function counts(rows: MinuteRow[], from: number) {
  let accepted = 0, rejected = 0;
  const byReason: Record<string, number> = {};
  const pools = new Set<string>();
  for (const r of rows) {
    if (r.minute < from) continue;
    pools.add(r.pool);
    if (r.reason === "") accepted += r.shares;
    else {
      rejected += r.shares;
      byReason[r.reason] = (byReason[r.reason] ?? 0) + r.shares;
    }
  }
  return { accepted, rejected, byReason, pools };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function createWorkerHistory(db: SqliteDb, hpd: HashesPerDifficulty): WorkerHistory {
  const cols = "pool, worker, minute, reason, shares, difficulty";
  // The minute index for the list, the primary key's (worker, minute) prefix for one worker.
  const since = db.prepare(`SELECT ${cols} FROM worker_minutes WHERE minute >= ?`);
  const ofWorker = db.prepare(`SELECT ${cols} FROM worker_minutes WHERE worker = ? AND minute >= ?`);
  const all = db.prepare("SELECT worker, pool, first_at, last_at, best FROM workers ORDER BY worker");
  const one = db.prepare("SELECT worker, pool, first_at, last_at, best FROM workers WHERE worker = ?");
  /** First minute of the window of `span` ms that ends with the running minute. */
  const startOf = (now: number, span: number) => Math.floor(now / MINUTE_MS) * MINUTE_MS - span + MINUTE_MS;

  return {
    list(now) {
      const hourFrom = startOf(now, HOUR_MS);
      const byWorker = new Map<string, MinuteRow[]>();
      for (const r of rowsOf(since.all(hourFrom))) {
        let l = byWorker.get(r.worker);
        if (l === undefined) byWorker.set(r.worker, (l = []));
        l.push(r);
      }
      // Workers quiet for the last hour are listed too (last share, best difficulty), with empty buckets.
      return all.all().map((t) => {
        const name = String(t.worker);
        const rows = byWorker.get(name) ?? [];
        const c = counts(rows, hourFrom);
        c.pools.add(String(t.pool));
        return {
          name,
          pools: [...c.pools].sort(),
          lastShareAt: iso(Number(t.last_at)),
          bestDifficulty: Number(t.best),
          hashrate1h: meanRate(rows, now, HOUR_MS, hpd),
          accepted1h: c.accepted,
          rejected1h: c.rejected,
          buckets: bucketsOf(rows, now, HOUR_MS, MINUTE_MS, hpd),
        };
      });
    },
    worker(name, now) {
      const t = one.all(name)[0];
      if (t === undefined) return undefined;
      const rows = rowsOf(ofWorker.all(name, startOf(now, DAY_MS)));
      const hour = counts(rows, startOf(now, HOUR_MS));
      const day = counts(rows, startOf(now, DAY_MS));
      day.pools.add(String(t.pool));
      return {
        name,
        pools: [...day.pools].sort(),
        firstShareAt: iso(Number(t.first_at)),
        lastShareAt: iso(Number(t.last_at)),
        bestDifficulty: Number(t.best),
        hashrate1h: meanRate(rows, now, HOUR_MS, hpd),
        hashrate24h: meanRate(rows, now, DAY_MS, hpd),
        accepted1h: hour.accepted,
        rejected1h: hour.rejected,
        accepted24h: day.accepted,
        rejected24h: day.rejected,
        rejectsByReason: day.byReason,
        buckets1h: bucketsOf(rows, now, HOUR_MS, MINUTE_MS, hpd),
        buckets24h: bucketsOf(rows, now, DAY_MS, DAY_BUCKET_MS, hpd),
      };
    },
  };
}
