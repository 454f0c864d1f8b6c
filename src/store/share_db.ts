// The share log's SQLite schema (shares + per-worker minute rollup) and its pragmas; opens nothing, queries nothing beyond setup.
import type { SqliteDb } from "../runtime/types.ts";

/** Bumped when the tables change incompatibly; stored in PRAGMA user_version. */
export const SHARE_LOG_VERSION = 1;

/**
 * `shares` is the append-only log, one row per judged share (rowid order = commit order; no index
 * beyond the rowid, so an insert costs one B-tree append). `worker_minutes` is the per-worker history
 * the API reads: one row per worker, minute, pool and verdict ('' = accepted, else the reject reason),
 * summed from `shares` by SQL in rowid ranges, and `workers` one row per worker (first and last share,
 * best accepted difficulty, last pool) so listing workers never scans the history; `rollup_state.upto` is the last share id summed,
 * written in the same transaction, so a crash neither loses nor double-counts a share in it.
 */
const DDL = `
CREATE TABLE IF NOT EXISTS shares (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  worker TEXT NOT NULL,
  address TEXT NOT NULL,
  pool TEXT NOT NULL,
  job TEXT NOT NULL,
  height INTEGER NOT NULL,
  difficulty REAL NOT NULL,
  share_difficulty REAL NOT NULL,
  accepted INTEGER NOT NULL,
  reason TEXT,
  upstream TEXT,
  block INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS worker_minutes (
  pool TEXT NOT NULL,
  worker TEXT NOT NULL,
  minute INTEGER NOT NULL,
  reason TEXT NOT NULL,
  shares INTEGER NOT NULL,
  difficulty REAL NOT NULL,
  best REAL NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  PRIMARY KEY (worker, minute, pool, reason)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS worker_minutes_minute ON worker_minutes(minute);
CREATE TABLE IF NOT EXISTS workers (
  worker TEXT PRIMARY KEY,
  pool TEXT NOT NULL,
  first_at INTEGER NOT NULL,
  last_at INTEGER NOT NULL,
  best REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_state (one INTEGER PRIMARY KEY CHECK (one = 1), upto INTEGER NOT NULL);
INSERT OR IGNORE INTO rollup_state (one, upto) VALUES (1, 0);
`;

export const INSERT_SHARE =
  "INSERT INTO shares (at, worker, address, pool, job, height, difficulty, share_difficulty, accepted, reason, upstream, block) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

/**
 * Folds the history minutes from `minute` on (param) into `workers`: a few rows per worker rather
 * than every share again. Idempotent (min/max), so re-folding a minute is harmless.
 */
export const ROLL_UP_WORKERS = `INSERT INTO workers (worker, pool, first_at, last_at, best)
SELECT worker, max(pool), min(first_at), max(last_at), max(CASE WHEN reason = '' THEN best ELSE 0 END)
FROM worker_minutes WHERE minute >= ? GROUP BY worker
ON CONFLICT (worker) DO UPDATE SET pool = excluded.pool, first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at), best = max(best, excluded.best)`;

/** The first minute a range of shares touches (params: from, to). */
export const FIRST_MINUTE = "SELECT CAST(min(at) / 60000 AS INTEGER) * 60000 AS minute FROM shares WHERE id > ? AND id <= ?";

/** Sums shares with from < id <= to into worker_minutes (params: from, to). */
export const ROLL_UP = `INSERT INTO worker_minutes (pool, worker, minute, reason, shares, difficulty, best, first_at, last_at)
SELECT pool, worker, CAST(at / 60000 AS INTEGER) * 60000, CASE WHEN accepted = 1 THEN '' ELSE coalesce(reason, 'internal') END, count(*), sum(difficulty), max(share_difficulty), min(at), max(at)
FROM shares WHERE id > ? AND id <= ? GROUP BY 1, 2, 3, 4
ON CONFLICT (worker, minute, pool, reason) DO UPDATE SET shares = shares + excluded.shares, difficulty = difficulty + excluded.difficulty,
best = max(best, excluded.best), first_at = min(first_at, excluded.first_at), last_at = max(last_at, excluded.last_at)`;

/**
 * WAL: readers (the API) never block the writer. synchronous=NORMAL: a commit is in the WAL file
 * (the OS page cache) when COMMIT returns, which survives the process being killed; FULL also fsyncs
 * it, which survives power loss and costs a disk flush per batch. busy_timeout: session threads
 * write the same file through their own connections and wait their turn for the write lock.
 */
export function setupShareDb(db: SqliteDb, fsync: boolean): void {
  // First: switching a file to WAL takes an exclusive lock, which another process or connection may
  // hold for a moment; without the timeout that failed at once ("database is locked"). Connections
  // setting up a fresh file at the same moment can still deadlock, so the relay lets the main thread's
  // writer set it up before session threads open it (relay.ts).
  db.exec("PRAGMA busy_timeout = 10000");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec(`PRAGMA synchronous = ${fsync ? "FULL" : "NORMAL"}`);
  const v = Number(db.prepare("PRAGMA user_version").all()[0]?.user_version ?? 0);
  if (v !== 0 && v !== SHARE_LOG_VERSION) throw new Error(`share log has schema version ${v}, this build knows ${SHARE_LOG_VERSION}`);
  db.exec(DDL);
  if (v === 0) db.exec(`PRAGMA user_version = ${SHARE_LOG_VERSION}`);
}
