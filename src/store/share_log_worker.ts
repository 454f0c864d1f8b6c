// Worker thread of the share log: owns the writing SQLite connection to the share log file, commits the batches the main thread posts, sums the history and prunes; no sockets, no batching of its own.
import { normalJitPolicy } from "../runtime/jit_policy.ts";
import { loadRuntime } from "../runtime/select.ts";
import { createShareLog, type ShareLog, type ShareLogFigures } from "./share_log.ts";
import { unpackShares, type ShareColumns } from "./share_columns.ts";

export type ToShareLogWorker =
  | { t: "open"; path: string; retentionDays: number; fsync: boolean }
  | { t: "batch"; seq: number; cols: ShareColumns }
  | { t: "close" };

export type FromShareLogWorker =
  | { t: "ready" }
  | { t: "failed_open"; error: string }
  | { t: "done"; seq: number; error?: string; figures: ShareLogFigures }
  | { t: "warn"; error: string }
  | { t: "closed" };

const post = (m: FromShareLogWorker) => (self as unknown as { postMessage(m: FromShareLogWorker): void }).postMessage(m);

let log: ShareLog | undefined;

async function open(m: Extract<ToShareLogWorker, { t: "open" }>): Promise<void> {
  const runtime = await loadRuntime();
  const db = await runtime.openSqlite(m.path);
  log = createShareLog({
    db,
    clock: runtime.clock,
    // Batching is the main thread's: each posted batch is committed as it arrives.
    commitIntervalMs: 0,
    retentionDays: m.retentionDays,
    fsync: m.fsync,
    maintain: true,
    onError: (e) => post({ t: "warn", error: String(e instanceof Error ? e.message : e) }),
  });
}

// A worker thread is ready once loaded: its hot code (hashing, commits, sessions) compiles as usual.
normalJitPolicy();

function handle(m: ToShareLogWorker): void {
  if (log === undefined) return; // the open failed: the main thread has failed every share already
  if (m.t === "batch") {
    let error: string | undefined;
    try {
      log.append(unpackShares(m.cols));
    } catch (err) {
      error = String(err instanceof Error ? err.message : err);
    }
    post({ t: "done", seq: m.seq, ...(error !== undefined ? { error } : {}), figures: log.figures() });
    return;
  }
  if (m.t === "close") void log.close().then(() => post({ t: "closed" }));
}

/** Batches (and a close) that arrive while the file is being opened: the main thread posts its first batch right after "open". */
let waiting: ToShareLogWorker[] | undefined;

self.onmessage = (e: MessageEvent<ToShareLogWorker>) => {
  const m = e.data;
  if (m.t === "open") {
    waiting = [];
    open(m).then(
      () => {
        post({ t: "ready" });
        const queued = waiting ?? [];
        waiting = undefined;
        for (const q of queued) handle(q);
      },
      (err) => {
        // Nothing queued can be stored; the main thread fails those shares on "failed_open".
        waiting = undefined;
        post({ t: "failed_open", error: String(err instanceof Error ? err.message : err) });
      },
    );
    return;
  }
  if (waiting !== undefined) waiting.push(m);
  else handle(m);
};
