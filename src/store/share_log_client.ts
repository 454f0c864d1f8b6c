// The main thread's share log: batches shares like share_log.ts but commits them on a worker thread (share_log_worker.ts), started by the first share or read, so SQLite costs the event loop only a postMessage per batch; reads go through a connection of its own.
import type { Clock, SqliteDb, TimerId } from "../runtime/types.ts";
import type { ShareLogFigures } from "./share_log.ts";
import type { ShareSink } from "./share_sink.ts";
import type { FromShareLogWorker, ToShareLogWorker } from "./share_log_worker.ts";
import { packShares } from "./share_columns.ts";
import { afterIo } from "./after_io.ts";
import { addShare, newBatch, type PendingBatch } from "./share_batch.ts";

export interface WorkerShareLog extends ShareSink {
  /**
   * Starts the writer thread unless it runs (the first put() starts it too) and resolves with a
   * connection for reads (worker history) once the worker has opened (and created) the file, summed
   * what a previous run left un-summed, and the read connection is open (WAL lets it read while the
   * worker writes); rejects when it could not. Shares put meanwhile wait in the worker's queue.
   */
  open(): Promise<SqliteDb>;
  /** Whether the writer thread has been started. */
  readonly started: boolean;
  figures(): ShareLogFigures;
  /** Post what is queued now (its promise resolves once the worker committed it). */
  flush(): void;
}

/**
 * Nothing runs until the first share or read: the writer thread (a second JavaScript VM with SQLite)
 * is 8.5 MB of resident memory (measured, idle relay 52.1 → 43.6 MB), which an edge waiting for its
 * first miner does not need. The first reply then waits for the thread to open the file (~26 ms measured, later ones ~1 ms).
 */
export function openWorkerShareLog(opts: {
  path: string;
  clock: Clock;
  commitIntervalMs: number;
  retentionDays: number;
  fsync: boolean;
  /** Opens the read connection (the runtime's SQLite), once the worker has created the file. */
  openSqlite: (path: string) => Promise<SqliteDb>;
  onError?: (e: unknown, rows: number) => void;
  workerUrl?: string | URL;
}): WorkerShareLog {
  const { clock } = opts;
  const inFlight = new Map<number, PendingBatch>();
  let workerFigures: ShareLogFigures = { committedShares: 0, batches: 0, failedBatches: 0, queued: 0, commitMs: 0 };
  let current: PendingBatch | undefined;
  let timer: TimerId | undefined;
  let seq = 0;
  let closed = false;
  /** Set when the worker died: nothing put afterwards can be stored, so every put fails at once. */
  let dead: Error | undefined;
  let onReady: ((error?: string) => void) | undefined;
  let onClosed: (() => void) | undefined;
  let worker: Worker | undefined;
  let opened: Promise<SqliteDb> | undefined;
  const send = (m: ToShareLogWorker, transfer: Transferable[] = []) => worker!.postMessage(m, transfer);

  function onMessage(e: MessageEvent<FromShareLogWorker>): void {
    const m = e.data;
    if (m.t === "ready") return onReady?.();
    if (m.t === "failed_open") return onReady?.(m.error);
    if (m.t === "warn") return opts.onError?.(new Error(m.error), 0);
    if (m.t === "closed") return onClosed?.();
    const b = inFlight.get(m.seq);
    inFlight.delete(m.seq);
    workerFigures = m.figures;
    // Adaptive: what gathered while the worker was busy goes now.
    if (opts.commitIntervalMs === 0 && inFlight.size === 0 && current !== undefined) flush();
    if (b === undefined) return;
    if (m.error === undefined) b.resolve();
    else {
      const err = new Error(m.error);
      opts.onError?.(err, b.shares.length);
      b.reject(err);
    }
  }

  /** Nothing in flight or queued will be committed, so nothing of it is acknowledged; later puts fail at once. */
  function fail(err: Error): void {
    if (dead !== undefined) return;
    dead = err;
    opts.onError?.(err, 0);
    for (const b of inFlight.values()) b.reject(err);
    inFlight.clear();
    current?.reject(err);
    current = undefined;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  }

  function onWorkerError(e: ErrorEvent): void {
    const err = new Error(`share log worker: ${e.message}`);
    onReady?.(err.message);
    fail(err);
  }

  function open(): Promise<SqliteDb> {
    if (opened !== undefined) return opened;
    const url = opts.workerUrl ?? new URL("./share_log_worker.ts", import.meta.url).href;
    worker = new Worker(url, { type: "module", smol: true } as WorkerOptions);
    worker.onmessage = onMessage;
    worker.onerror = onWorkerError;
    opened = new Promise<void>((resolve, reject) => {
      onReady = (error) => {
        onReady = undefined;
        if (error === undefined) return resolve();
        // The worker could not open the file: it would drop every batch, so none may wait on it.
        const err = new Error(`share log ${opts.path}: ${error}`);
        fail(err);
        reject(err);
      };
      send({ t: "open", path: opts.path, retentionDays: opts.retentionDays, fsync: opts.fsync });
    }).then(async () => {
      const r = await opts.openSqlite(opts.path);
      // A WAL reader can still meet a lock for a moment (the writer checkpointing, recovery at open):
      // wait for it rather than failing an API request.
      r.exec("PRAGMA busy_timeout = 2000");
      return r;
    });
    opened.catch(() => {});
    return opened;
  }

  let immediate = false;
  function scheduleImmediate(): void {
    if (immediate) return;
    immediate = true;
    afterIo(() => {
      immediate = false;
      if (inFlight.size === 0) flush();
    });
  }

  function flush(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    const b = current;
    current = undefined;
    if (b === undefined || b.shares.length === 0) return;
    const n = ++seq;
    inFlight.set(n, b);
    const { cols, transfer } = packShares(b);
    send({ t: "batch", seq: n, cols }, transfer);
  }

  return {
    open,
    get started() {
      return worker !== undefined;
    },
    put(share, pool, address) {
      if (closed) return Promise.reject(new Error("share log is closed"));
      if (dead !== undefined) return Promise.reject(dead);
      if (worker === undefined) void open();
      let b = current;
      if (b === undefined) {
        b = current = newBatch();
        // 0: adaptive group commit. While the worker is committing, shares gather and go the moment it
        // answers; while it is idle, the batch goes after this event-loop turn's I/O callbacks (setImmediate:
        // 3 µs on Bun, where setTimeout(0) is 1.1 ms), so one read's pipelined submits share a commit.
        if (opts.commitIntervalMs > 0) timer = clock.setTimeout(flush, opts.commitIntervalMs);
        else if (inFlight.size === 0) scheduleImmediate();
      }
      return addShare(b, share, pool, address);
    },
    flush,
    figures: () => ({ ...workerFigures, queued: (current?.shares.length ?? 0) + [...inFlight.values()].reduce((n, b) => n + b.shares.length, 0) }),
    async close() {
      if (closed) return;
      flush();
      closed = true;
      if (worker === undefined) return;
      const db = await opened!.catch(() => undefined);
      if (dead !== undefined || db === undefined) {
        worker.terminate();
        return void db?.close();
      }
      // The worker answers batches in order, so "closed" comes after every batch posted before it.
      await new Promise<void>((resolve) => {
        onClosed = resolve;
        send({ t: "close" });
      });
      worker.terminate();
      db?.close();
    },
  };
}
