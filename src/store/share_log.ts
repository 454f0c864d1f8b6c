// Append-only SQLite share log with group commit: put() queues, a timer commits each batch in one transaction and only then releases the replies waiting on it; retention pruning. Reads live in worker_history.ts.
import type { ShareRecord } from "../../protocols/core/actions.ts";
import type { Clock, SqliteDb, SqliteStatement, TimerId } from "../runtime/types.ts";
import type { ShareSink } from "./share_sink.ts";
import { INSERT_SHARE, UPSERT_MINUTE, setupShareDb } from "./share_db.ts";

export const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Rows deleted per statement while pruning, so one prune never holds the write lock for long. */
const PRUNE_CHUNK = 20_000;

export interface ShareLogOptions {
  db: SqliteDb;
  clock: Clock;
  /** A batch is committed this long after its first share (the longest a reply waits for the log). */
  commitIntervalMs: number;
  /** Shares and history older than this are deleted; 0 = kept forever. */
  retentionDays: number;
  /** synchronous=FULL (fsync every commit) instead of NORMAL. */
  fsync: boolean;
  /** Whether this handle prunes old rows (one writer per file does; session threads leave it to the main thread). */
  prune: boolean;
  /** A commit or prune failed (disk full, ...): the batch's waiters are rejected as well. */
  onError?: (e: unknown, rows: number) => void;
}

export interface ShareLogFigures {
  committedShares: number;
  batches: number;
  failedBatches: number;
  /** Shares waiting for the next commit. */
  queued: number;
  /** Wall time spent in commits (ms): what the log costs the event loop. */
  commitMs: number;
}

export interface ShareLog extends ShareSink {
  readonly db: SqliteDb;
  figures(): ShareLogFigures;
  /** Commit what is queued now (tests, shutdown). */
  flush(): void;
  /** Delete rows older than the retention; returns the number of share rows deleted. */
  pruneNow(now: number): number;
}

interface Batch {
  shares: ShareRecord[];
  pools: string[];
  addresses: string[];
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every waiter attaches its own handler; this one only keeps a batch nobody waits on from being an unhandled rejection.
  promise.catch(() => {});
  return { shares: [], pools: [], addresses: [], promise, resolve, reject };
}

interface MinuteSum {
  pool: string;
  worker: string;
  minute: number;
  reason: string;
  shares: number;
  difficulty: number;
  best: number;
  lastAt: number;
}

/** Sums a batch per pool, worker, minute and verdict: a few upserts per batch instead of one per share. */
function rollup(b: Batch): Map<string, MinuteSum> {
  const sums = new Map<string, MinuteSum>();
  for (let i = 0; i < b.shares.length; i++) {
    const s = b.shares[i]!;
    const pool = b.pools[i]!;
    const minute = Math.floor(s.at / MINUTE_MS) * MINUTE_MS;
    const reason = s.accepted ? "" : (s.reason ?? "internal");
    const key = `${pool}\u0000${s.worker}\u0000${minute}\u0000${reason}`;
    let m = sums.get(key);
    if (m === undefined) {
      m = { pool, worker: s.worker, minute, reason, shares: 0, difficulty: 0, best: 0, lastAt: 0 };
      sums.set(key, m);
    }
    m.shares++;
    m.difficulty += s.difficulty;
    if (s.shareDifficulty > m.best) m.best = s.shareDifficulty;
    if (s.at > m.lastAt) m.lastAt = s.at;
  }
  return sums;
}

export function createShareLog(opts: ShareLogOptions): ShareLog {
  const { db, clock } = opts;
  if (!(opts.commitIntervalMs >= 0)) throw new RangeError(`commitIntervalMs must be >= 0, got ${opts.commitIntervalMs}`);
  setupShareDb(db, opts.fsync);
  const insert: SqliteStatement = db.prepare(INSERT_SHARE);
  const upsert: SqliteStatement = db.prepare(UPSERT_MINUTE);
  const deleteShares = db.prepare(`DELETE FROM shares WHERE id IN (SELECT id FROM shares WHERE id < (SELECT min(id) FROM shares) + ${PRUNE_CHUNK} AND at < ?)`);
  const deleteMinutes = db.prepare("DELETE FROM worker_minutes WHERE minute < ?");
  const fig: ShareLogFigures = { committedShares: 0, batches: 0, failedBatches: 0, queued: 0, commitMs: 0 };
  let current: Batch | undefined;
  let timer: TimerId | undefined;
  let closed = false;

  function write(b: Batch): void {
    db.exec("BEGIN IMMEDIATE");
    try {
      for (let i = 0; i < b.shares.length; i++) {
        const s = b.shares[i]!;
        insert.run(s.at, s.worker, b.addresses[i]!, b.pools[i]!, s.jobId, s.height, s.difficulty, s.shareDifficulty, s.accepted ? 1 : 0,
          s.reason ?? null, s.upstream ?? null, s.block === true ? 1 : 0);
      }
      for (const m of rollup(b).values()) upsert.run(m.pool, m.worker, m.minute, m.reason, m.shares, m.difficulty, m.best, m.lastAt);
      db.exec("COMMIT");
    } catch (e) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // The failed statement may already have ended the transaction.
      }
      throw e;
    }
  }

  function flush(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    const b = current;
    current = undefined;
    fig.queued = 0;
    if (b === undefined || b.shares.length === 0) return;
    const t0 = performance.now();
    try {
      write(b);
      fig.committedShares += b.shares.length;
      fig.batches++;
      b.resolve();
    } catch (e) {
      fig.failedBatches++;
      opts.onError?.(e, b.shares.length);
      b.reject(e);
    } finally {
      fig.commitMs += performance.now() - t0;
    }
  }

  function pruneNow(now: number): number {
    if (opts.retentionDays <= 0) return 0;
    const cutoff = now - opts.retentionDays * DAY_MS;
    let deleted = 0;
    // Rows are appended in (nearly) time order, so old rows sit at the low ids: delete chunk by chunk
    // from the start until a chunk holds nothing old. No index on `at` needed (it would slow every insert).
    for (;;) {
      const n = Number(deleteShares.run(cutoff).changes);
      deleted += n;
      if (n === 0) break;
    }
    deleteMinutes.run(cutoff);
    return deleted;
  }

  const pruneTimer = opts.prune && opts.retentionDays > 0 ? clock.setInterval(() => {
    try {
      pruneNow(clock.now());
    } catch (e) {
      opts.onError?.(e, 0);
    }
  }, 10 * MINUTE_MS) : undefined;
  if (opts.prune) pruneNow(clock.now());

  return {
    db,
    put(share, pool, address) {
      if (closed) return Promise.reject(new Error("share log is closed"));
      let b = current;
      if (b === undefined) {
        b = current = newBatch();
        timer = clock.setTimeout(flush, opts.commitIntervalMs);
      }
      b.shares.push(share);
      b.pools.push(pool);
      b.addresses.push(address);
      fig.queued++;
      return b.promise;
    },
    flush,
    pruneNow,
    figures: () => ({ ...fig }),
    async close() {
      if (closed) return;
      flush();
      closed = true;
      if (pruneTimer !== undefined) clock.clearInterval(pruneTimer);
      db.close();
    },
  };
}
