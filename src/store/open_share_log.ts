// Opens the configured share log (dataDir/shares.sqlite) through the runtime's SQLite, or nothing when store.shareLog is off; no share handling here.
import type { Config } from "../config/schema.ts";
import type { Runtime, SqliteDb } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import { createShareLog, type ShareLogFigures } from "./share_log.ts";
import { openWorkerShareLog } from "./share_log_client.ts";
import type { ShareSink } from "./share_sink.ts";

/** What the relay needs of a share log, whichever thread commits it. */
export interface OpenShareLog extends ShareSink {
  /** Resolves once the file is open (shares may be put before); rejects when it cannot be. */
  readonly ready: Promise<void>;
  /** For reads (worker history), once ready. */
  readonly db: SqliteDb;
  figures(): ShareLogFigures;
  /** Commit (or hand over for commit) what is queued now. */
  flush(): void;
}

export function shareLogPath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "") || "."}/shares.sqlite`;
}

/**
 * `main`: the main thread's log commits on a worker thread of its own, which also sums the history
 * and prunes. Session threads (main = false) are already off the main thread: each opens its own
 * connection to the same file (SQLite serialises the writers) and commits there.
 */
export async function openShareLog(config: Config, runtime: Runtime, log: Logger, main: boolean): Promise<OpenShareLog | undefined> {
  if (!config.store.shareLog) return undefined;
  runtime.files.mkdirp(config.dataDir);
  const path = shareLogPath(config.dataDir);
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
  return Object.assign(direct, { ready: Promise.resolve() });
}
