// Opens the configured share log (dataDir/shares.sqlite) through the runtime's SQLite, or nothing when store.shareLog is off; no share handling here.
import type { Config } from "../config/schema.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import { createShareLog, type ShareLog } from "./share_log.ts";

export function shareLogPath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, "") || "."}/shares.sqlite`;
}

/**
 * `maintain`: the main thread sums the history and prunes; session threads open their own connection
 * to the same file (SQLite serialises the writers) and only append.
 */
export async function openShareLog(config: Config, runtime: Runtime, log: Logger, maintain: boolean): Promise<ShareLog | undefined> {
  if (!config.store.shareLog) return undefined;
  runtime.files.mkdirp(config.dataDir);
  const path = shareLogPath(config.dataDir);
  const db = await runtime.openSqlite(path);
  return createShareLog({
    db,
    clock: runtime.clock,
    commitIntervalMs: config.store.commitIntervalMs,
    retentionDays: config.store.retentionDays,
    fsync: config.store.fsync,
    maintain,
    onError: (e, rows) => log.error("share log write failed", { path, rows, error: String(e instanceof Error ? e.message : e) }),
  });
}
