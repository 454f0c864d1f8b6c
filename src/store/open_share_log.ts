// Opens the configured share log (dataDir/shares.sqlite) through the runtime's SQLite, or nothing when store.shareLog is off; no share handling here.
import type { Config } from "../config/schema.ts";
import type { Files, Runtime, SqliteDb } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import { createShareLog, type ShareLogFigures } from "./share_log.ts";
import { openWorkerShareLog } from "./share_log_client.ts";
import type { ShareSink } from "./share_sink.ts";

/** What the relay needs of a share log, whichever thread commits it. */
export interface OpenShareLog extends ShareSink {
  /**
   * A connection for reads (worker history) once the file is open; the main thread's log opens it
   * here unless the first share already did. Rejects when it cannot be opened.
   */
  open(): Promise<SqliteDb>;
  figures(): ShareLogFigures;
  /** Commit (or hand over for commit) what is queued now. */
  flush(): void;
}

export function shareLogPath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "") || "."}/shares.sqlite`;
}

const SQLITE_HEADER = "SQLite format 3\0";

/**
 * Why the share log file could not be used, found at start-up without opening it (the main thread's
 * writer opens it at the first share): a data directory or file this process may not write, or a
 * file that is not an SQLite database. undefined: it looks usable (an empty or absent file is a new log).
 */
export function shareLogProblem(files: Files, dataDir: string, path: string): string | undefined {
  if (!files.writable(dataDir)) return `data directory ${dataDir} is not writable (the share log keeps ${path} and its -wal/-shm files there)`;
  const head = files.readHead(path, SQLITE_HEADER.length);
  if (head === undefined || head.length === 0) return undefined;
  if (String.fromCharCode(...head) !== SQLITE_HEADER) return `${path} is not an SQLite database (set store.shareLog = false, or move the file away)`;
  if (!files.writable(path)) return `${path} is not writable`;
  return undefined;
}

/**
 * `main`: the main thread's log commits on a worker thread of its own (started by the first share or
 * open()), which also sums the history and prunes. Session threads (main = false) are already off
 * the main thread: each opens its own connection to the same file (SQLite serialises the writers)
 * and commits there.
 */
export async function openShareLog(config: Config, runtime: Runtime, log: Logger, main: boolean): Promise<OpenShareLog | undefined> {
  if (!config.store.shareLog) return undefined;
  runtime.files.mkdirp(config.dataDir);
  const path = shareLogPath(config.dataDir);
  const problem = shareLogProblem(runtime.files, config.dataDir, path);
  if (problem !== undefined) throw new Error(`share log: ${problem}`);
  const s = config.store;
  const onError = (e: unknown, rows: number) => log.error("share log write failed", { path, rows, error: String(e instanceof Error ? e.message : e) });
  if (main) {
    return openWorkerShareLog({
      path,
      clock: runtime.clock,
      commitIntervalMs: s.commitIntervalMs,
      retentionDays: s.retentionDays,
      fsync: s.fsync,
      openSqlite: (p) => runtime.openSqlite(p),
      onError,
    });
  }
  const db = await runtime.openSqlite(path);
  const direct = createShareLog({ db, clock: runtime.clock, commitIntervalMs: s.commitIntervalMs, retentionDays: s.retentionDays, fsync: s.fsync, maintain: false, onError });
  return Object.assign(direct, { open: () => Promise.resolve(db) });
}
