// The main thread's share log over a real worker thread and a temp SQLite file: a share's promise resolves only once another connection can read it; the worker sums the history; close commits the rest.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { scratchDir } from "../../support/scratch_dir.ts";
import { join } from "node:path";
import { openWorkerShareLog } from "../../../src/store/share_log_client.ts";
import { createWorkerHistory } from "../../../src/store/worker_history.ts";
import { createBunRuntime } from "../../../src/runtime/bun.ts";
import type { ShareRecord } from "../../../protocols/core/actions.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A scratch directory (removed after the test), the share log path in it, and a Bun runtime. */
function fresh(): { d: string; path: string; rt: ReturnType<typeof createBunRuntime> } {
  const d = scratchDir("se-sharelog-worker-");
  dirs.push(d);
  return { d, path: join(d, "shares.sqlite"), rt: createBunRuntime() };
}

const share = (i: number): ShareRecord => ({ worker: `w${i % 3}`, accepted: true, difficulty: 2, shareDifficulty: 3 + i, jobId: `j${i}`, height: 7, at: Date.now() });
const count = (path: string) => {
  if (!existsSync(path)) return 0; // the worker may not have created it yet
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM shares").get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe("share log on a worker thread", () => {
  test("put → the batch's promise resolves after the worker committed it; history summed there; close commits the rest", async () => {
    const { path, rt } = fresh();
    const log = openWorkerShareLog({ path, clock: rt.clock, commitIntervalMs: 20, retentionDays: 1, fsync: false, openSqlite: (p) => rt.openSqlite(p) });
    // Nothing runs before the first share: no thread, no file.
    await new Promise((r) => setTimeout(r, 50));
    expect(log.started).toBe(false);
    expect(existsSync(path)).toBe(false);
    // The first share starts the writer; shares put before it is ready wait in its queue.
    const p = log.put(share(0), "btc", "10.0.0.1")!;
    expect(log.started).toBe(true);
    for (let i = 1; i < 100; i++) expect(log.put(share(i), "btc", "10.0.0.1")).toBe(p);
    expect(count(path)).toBe(0); // queued on this thread, not yet posted
    await p;
    const db = await log.open();
    expect(count(path)).toBe(100);
    expect(log.figures()).toMatchObject({ committedShares: 100, batches: 1, failedBatches: 0 });
    // The worker rolls up about once a second.
    const h = createWorkerHistory(db, () => 1);
    const deadline = Date.now() + 5000;
    while (h.list(Date.now()).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const list = h.list(Date.now());
    expect(list.map((w) => w.name)).toEqual(["w0", "w1", "w2"]);
    expect(list.reduce((n, w) => n + w.accepted1h, 0)).toBe(100);
    // Queued but not yet due: close() commits it before the worker ends.
    void log.put(share(100), "btc", "10.0.0.2");
    await log.close();
    expect(count(path)).toBe(101);
    await expect(log.put(share(101), "btc", "x")!).rejects.toThrow("closed");
  });

  test("a writer thread that dies fails open() and every share put, so none is ever acknowledged", async () => {
    const { d, rt } = fresh();
    const broken = join(d, "broken_worker.ts");
    writeFileSync(broken, 'self.onmessage = () => { throw new Error("writer crashed"); };\n');
    const errors: string[] = [];
    const log = openWorkerShareLog({ path: join(d, "s.sqlite"), clock: rt.clock, commitIntervalMs: 5, retentionDays: 1, fsync: false, openSqlite: (p) => rt.openSqlite(p), onError: (e) => void errors.push(String(e)), workerUrl: broken });
    const first = log.put(share(0), "btc", "a")!;
    await expect(log.open()).rejects.toThrow();
    await expect(first).rejects.toThrow("share log worker");
    await expect(log.put(share(1), "btc", "a")!).rejects.toThrow("share log worker");
    expect(errors.length).toBeGreaterThan(0);
    await log.close();
  });

  test("a first read starts the writer, which sums what an earlier run left un-summed before the read sees it", async () => {
    const { path, rt } = fresh();
    const first = openWorkerShareLog({ path, clock: rt.clock, commitIntervalMs: 0, retentionDays: 1, fsync: false, openSqlite: (p) => rt.openSqlite(p) });
    await Promise.all(Array.from({ length: 10 }, (_, i) => first.put(share(i), "btc", "10.0.0.1")));
    // Killed before its rollup ran: the shares are in the file, not yet in the history.
    await first.close();
    const raw = new Database(path);
    // The closing connections may checkpoint the WAL for a moment after close() returns.
    raw.exec("PRAGMA busy_timeout = 3000");
    raw.exec("DELETE FROM worker_minutes; DELETE FROM workers; UPDATE rollup_state SET upto = 0");
    raw.close();
    const again = openWorkerShareLog({ path, clock: rt.clock, commitIntervalMs: 0, retentionDays: 1, fsync: false, openSqlite: (p) => rt.openSqlite(p) });
    expect(again.started).toBe(false);
    const list = createWorkerHistory(await again.open(), () => 1).list(Date.now());
    expect(again.started).toBe(true);
    expect(list.reduce((n, w) => n + w.accepted1h, 0)).toBe(10);
    await again.close();
  });

  test("a file the writer cannot open fails open() and every share at once, never a wait; close returns", async () => {
    const { path, rt } = fresh();
    writeFileSync(path, "this is not a database, but long enough to have a header ".repeat(100));
    const errors: string[] = [];
    const log = openWorkerShareLog({ path, clock: rt.clock, commitIntervalMs: 0, retentionDays: 1, fsync: false, openSqlite: (p) => rt.openSqlite(p), onError: (e) => void errors.push(String(e)) });
    const p = log.put(share(0), "btc", "a")!;
    await expect(p).rejects.toThrow("share log");
    await expect(log.open()).rejects.toThrow("share log");
    await expect(log.put(share(1), "btc", "a")!).rejects.toThrow("share log");
    expect(errors.length).toBeGreaterThan(0);
    await log.close();
  });
});
