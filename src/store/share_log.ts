// Append-only SQLite share log with group commit: put() queues, a timer commits each batch in one transaction and only then releases the replies waiting on it; the worker-history rollup and retention pruning. Reads live in worker_history.ts.
import type { Clock, SqliteDb, SqliteStatement, TimerId } from "../runtime/types.ts";
import type { ShareSink } from "./share_sink.ts";
import { FIRST_MINUTE, INSERT_SHARE, ROLL_UP, ROLL_UP_WORKERS, setupShareDb } from "./share_db.ts";
import { afterIo } from "./after_io.ts";
import { addShare, newBatch, type PendingBatch, type ShareRows } from "./share_batch.ts";

export type { ShareRows } from "./share_batch.ts";

export const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Rows deleted per statement while pruning, so one prune never holds the write lock for long. */
const PRUNE_CHUNK = 20_000;
/**
 * Shares summed into the history per rollup step (~0.6 µs a share in SQLite, so ~12 ms at most on
 * the event loop), and how often steps run. A step also costs one upsert per worker and minute it
 * touches (~5 µs each, measured): every 50 ms that was most of the log's cost under a 1,000-worker
 * flood, hence once a second, with further steps at once while behind.
 */
const ROLLUP_CHUNK = 20_000;
const ROLLUP_EVERY_MS = 1000;

export interface ShareLogOptions {
  db: SqliteDb;
  clock: Clock;
  /**
   * A batch is committed this long after its first share (the longest a reply waits for the log);
   * 0 = as soon as this event-loop turn's I/O callbacks are done (adaptive group commit).
   */
  commitIntervalMs: number;
  /** Shares and history older than this are deleted; 0 = kept forever. */
  retentionDays: number;
  /** synchronous=FULL (fsync every commit) instead of NORMAL. */
  fsync: boolean;
  /**
   * Whether this handle keeps the file: sums new shares into the worker history and prunes old rows.
   * One handle per file does (the main thread's); session threads only append.
   */
  maintain: boolean;
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
  /** Sum every committed share not yet in the worker history into it; returns how many. */
  rollUp(): number;
  /** Commit these rows now, in one transaction; throws when they were not stored (the share log worker's path). */
  append(rows: ShareRows): void;
}

export function createShareLog(opts: ShareLogOptions): ShareLog {
  const { db, clock } = opts;
  if (!(opts.commitIntervalMs >= 0)) throw new RangeError(`commitIntervalMs must be >= 0, got ${opts.commitIntervalMs}`);
  setupShareDb(db, opts.fsync);
  const insert: SqliteStatement = db.prepare(INSERT_SHARE);
  const rollStep = db.prepare(ROLL_UP);
  const rollWorkers = db.prepare(ROLL_UP_WORKERS);
  const firstMinute = db.prepare(FIRST_MINUTE);
  const rollFrom = db.prepare("SELECT upto FROM rollup_state WHERE one = 1");
  const rollTo = db.prepare("SELECT max(id) AS id FROM shares");
  const rollMark = db.prepare("UPDATE rollup_state SET upto = ? WHERE one = 1");
  const deleteShares = db.prepare(`DELETE FROM shares WHERE id IN (SELECT id FROM shares WHERE id < (SELECT min(id) FROM shares) + ${PRUNE_CHUNK} AND at < ?)`);
  const deleteMinutes = db.prepare("DELETE FROM worker_minutes WHERE minute < ?");
  const deleteWorkers = db.prepare("DELETE FROM workers WHERE last_at < ?");
  const fig: ShareLogFigures = { committedShares: 0, batches: 0, failedBatches: 0, queued: 0, commitMs: 0 };
  let current: PendingBatch | undefined;
  let timer: TimerId | undefined;
  let closed = false;

  function write(b: ShareRows): void {
    db.exec("BEGIN IMMEDIATE");
    try {
      for (let i = 0; i < b.shares.length; i++) {
        const s = b.shares[i]!;
        insert.run(s.at, s.worker, b.addresses[i]!, b.pools[i]!, s.jobId, s.height, s.difficulty, s.shareDifficulty, s.accepted ? 1 : 0,
          s.reason ?? null, s.upstream ?? null, s.block === true ? 1 : 0);
      }
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
    deleteWorkers.run(cutoff);
    return deleted;
  }

  /**
   * Sums up to `max` shares past the mark into worker_minutes and moves the mark, in one transaction.
   * Rowids grow in commit order across every connection (SQLite runs one write transaction at a time),
   * so a share committed after the step gets an id above the mark and is summed by a later step.
   */
  function rollUpStep(max: number): number {
    db.exec("BEGIN IMMEDIATE");
    try {
      const from = Number(rollFrom.all()[0]?.upto ?? 0);
      const last = Number(rollTo.all()[0]?.id ?? 0);
      const to = Math.min(last, from + max);
      if (to > from) {
        const minute = Number(firstMinute.all(from, to)[0]?.minute ?? 0);
        rollStep.run(from, to);
        rollWorkers.run(minute);
        rollMark.run(to);
      }
      db.exec("COMMIT");
      return to - from;
    } catch (e) {
      try {
        db.exec("ROLLBACK");
      } catch {
        // Already ended by the failure.
      }
      throw e;
    }
  }

  function rollUp(): number {
    let n = 0;
    for (let k; (k = rollUpStep(ROLLUP_CHUNK)) > 0; ) n += k;
    return n;
  }

  const guarded = (fn: () => unknown) => () => {
    try {
      fn();
    } catch (e) {
      opts.onError?.(e, 0);
    }
  };
  const pruneTimer = opts.maintain && opts.retentionDays > 0 ? clock.setInterval(guarded(() => pruneNow(clock.now())), 10 * MINUTE_MS) : undefined;
  // The history trails the log by about a second and catches up at once after a restart.
  let behind: TimerId | undefined;
  const stepAndCatchUp = () => {
    behind = undefined;
    if (rollUpStep(ROLLUP_CHUNK) === ROLLUP_CHUNK && !closed) behind = clock.setTimeout(guarded(stepAndCatchUp), 0);
  };
  const rollTimer = opts.maintain ? clock.setInterval(guarded(() => behind === undefined && stepAndCatchUp()), ROLLUP_EVERY_MS) : undefined;
  if (opts.maintain) {
    pruneNow(clock.now());
    rollUp();
  }

  return {
    db,
    put(share, pool, address) {
      if (closed) return Promise.reject(new Error("share log is closed"));
      let b = current;
      if (b === undefined) {
        b = current = newBatch();
        // 0: the batch is committed after this event-loop turn's I/O callbacks (see share_log_client.ts).
        if (opts.commitIntervalMs > 0) timer = clock.setTimeout(flush, opts.commitIntervalMs);
        else afterIo(flush);
      }
      fig.queued++;
      return addShare(b, share, pool, address);
    },
    flush,
    pruneNow,
    rollUp,
    append(rows) {
      const t0 = performance.now();
      try {
        write(rows);
        fig.committedShares += rows.shares.length;
        fig.batches++;
      } catch (e) {
        fig.failedBatches++;
        throw e;
      } finally {
        fig.commitMs += performance.now() - t0;
      }
    },
    figures: () => ({ ...fig }),
    async close() {
      if (closed) return;
      flush();
      closed = true;
      if (pruneTimer !== undefined) clock.clearInterval(pruneTimer);
      if (rollTimer !== undefined) clock.clearInterval(rollTimer);
      if (behind !== undefined) clock.clearTimeout(behind);
      if (opts.maintain) rollUp();
      db.close();
    },
  };
}
