// Share log on a real SQLite file in a temp dir: group commit (nothing durable before the batch's promise resolves), rows as written, rollup history, retention, reopen.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createShareLog } from "../../../src/store/share_log.ts";
import { createWorkerHistory } from "../../../src/store/worker_history.ts";
import { combineSinks, type ShareSink } from "../../../src/store/share_sink.ts";
import { createManualClock } from "../../../src/runtime/manual_clock.ts";
import { createBunRuntime } from "../../../src/runtime/bun.ts";
import type { ShareRecord } from "../../../protocols/core/actions.ts";

const dirs: string[] = [];
function tempFile(): string {
  const d = mkdtempSync(join(tmpdir(), "se-sharelog-"));
  dirs.push(d);
  return join(d, "shares.sqlite");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const share = (over: Partial<ShareRecord> = {}): ShareRecord => ({
  worker: "alice.rig1",
  accepted: true,
  difficulty: 8,
  shareDifficulty: 20,
  jobId: "j1",
  height: 100,
  at: T0,
  ...over,
});

/** Rows as another connection sees them: only what was committed. */
function committed(path: string): Record<string, unknown>[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare("SELECT * FROM shares ORDER BY id").all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}

async function open(path: string, clock = createManualClock(T0), retentionDays = 7) {
  const db = await createBunRuntime().openSqlite(path);
  return { clock, log: createShareLog({ db, clock, commitIntervalMs: 5, retentionDays, fsync: false, maintain: true }) };
}

describe("share log", () => {
  test("a batch is invisible to other connections until its timer commits it, and then its promise resolves", async () => {
    const path = tempFile();
    const { clock, log } = await open(path);
    let done = 0;
    const p1 = log.put(share(), "btc", "10.0.0.1")!;
    const p2 = log.put(share({ accepted: false, reason: "duplicate", jobId: "j2" }), "btc", "10.0.0.2")!;
    expect(p1).toBe(p2); // one batch, one promise
    void p1.then(() => done++);
    await Promise.resolve();
    expect(done).toBe(0);
    expect(committed(path)).toHaveLength(0);
    clock.advance(5);
    await p1;
    expect(done).toBe(1);
    const rows = committed(path);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ at: T0, worker: "alice.rig1", address: "10.0.0.1", pool: "btc", job: "j1", height: 100, difficulty: 8, share_difficulty: 20, accepted: 1, reason: null, upstream: null, block: 0 });
    expect(rows[1]).toMatchObject({ accepted: 0, reason: "duplicate", job: "j2", address: "10.0.0.2" });
    // The next share starts a new batch with its own promise.
    const p3 = log.put(share({ upstream: "accepted", block: true }), "btc", "10.0.0.1")!;
    expect(p3).not.toBe(p1);
    log.flush();
    await p3;
    expect(committed(path)[2]).toMatchObject({ upstream: "accepted", block: 1 });
    expect(log.figures()).toMatchObject({ committedShares: 3, batches: 2, failedBatches: 0, queued: 0 });
    await log.close();
  });

  test("a failed commit rejects the batch's promise (the caller must not acknowledge those shares)", async () => {
    const path = tempFile();
    const { clock, log } = await open(path);
    // Sabotage: another connection drops the table under the log.
    const other = new Database(path);
    other.exec("DROP TABLE shares");
    other.close();
    const p = log.put(share(), "btc", "10.0.0.1")!;
    clock.advance(5);
    await expect(p).rejects.toThrow();
    expect(log.figures().failedBatches).toBe(1);
  });

  test("history: summed from the log (after a reopen too), hashrate buckets, best difficulty, rejects by reason", async () => {
    const path = tempFile();
    const { log } = await open(path);
    const clock = createManualClock(T0);
    // Two accepted shares of difficulty 8 in the minute starting at T0, one rejected, another worker.
    log.put(share({ at: T0 + 1000 }), "btc", "a");
    log.put(share({ at: T0 + 2000, shareDifficulty: 50 }), "btc", "a");
    log.put(share({ at: T0 + 3000, accepted: false, reason: "low_difficulty", shareDifficulty: 1 }), "btc", "a");
    log.put(share({ at: T0 + 4000, accepted: false, reason: "duplicate" }), "btc", "a");
    log.put(share({ worker: "bob", at: T0 + 5000, difficulty: 1 }), "eth", "b");
    log.flush();
    // "Killed" before its rollup ran (its clock never moves again, it is never closed): no history yet;
    // the reopened log sums the shares at open.
    expect(createWorkerHistory(log.db, () => 1).list(T0)).toEqual([]);

    const db = await createBunRuntime().openSqlite(path);
    const reopened = createShareLog({ db, clock, commitIntervalMs: 5, retentionDays: 7, fsync: false, maintain: true });
    const h = createWorkerHistory(reopened.db, () => 2 ** 32);
    const now = T0 + 10 * 60_000; // ten minutes later
    clock.advance(now - clock.now());
    const list = h.list(now);
    expect(list.map((w) => w.name)).toEqual(["alice.rig1", "bob"]);
    const a = list[0]!;
    expect(a.pools).toEqual(["btc"]);
    expect(a.bestDifficulty).toBe(50); // rejected shares do not count as best
    expect(a.lastShareAt).toBe(new Date(T0 + 4000).toISOString());
    expect(a.accepted1h).toBe(2);
    expect(a.rejected1h).toBe(2);
    expect(a.buckets).toHaveLength(60);
    const b = a.buckets.find((x) => x.at === new Date(T0).toISOString())!;
    expect(b.shares).toBe(2);
    expect(b.hashrate).toBeCloseTo((16 * 2 ** 32) / 60, 3);
    expect(a.buckets.reduce((n, x) => n + x.shares, 0)).toBe(2);
    // Mean over the hour: 16 difficulty over the 60 minutes ending with the running one.
    expect(a.hashrate1h).toBeCloseTo((16 * 2 ** 32) / 3600, 3);

    const d = h.worker("alice.rig1", now)!;
    expect(d.rejectsByReason).toEqual({ low_difficulty: 1, duplicate: 1 });
    expect(d.firstShareAt).toBe(new Date(T0 + 1000).toISOString());
    expect(d.lastShareAt).toBe(new Date(T0 + 4000).toISOString());
    expect(d.bestDifficulty).toBe(50);
    expect([d.accepted24h, d.rejected24h]).toEqual([2, 2]);
    expect(d.accepted1h).toBe(2);
    expect(d.buckets1h).toHaveLength(60);
    expect(d.buckets24h).toHaveLength(96);
    expect(d.buckets24h.reduce((n, x) => n + x.shares, 0)).toBe(2);
    expect(h.worker("nobody", now)).toBeUndefined();

    // An hour later the shares fall out of the 1 h figures but stay in the 24 h ones.
    const later = T0 + 2 * 3_600_000;
    const d2 = h.worker("alice.rig1", later)!;
    expect(d2.accepted1h).toBe(0);
    expect(d2.hashrate1h).toBe(0);
    expect(d2.accepted24h).toBe(2);
    await reopened.close();
  });

  test("retention deletes shares and history older than retentionDays, by pruneNow and every 10 minutes, keeps the rest", async () => {
    const path = tempFile();
    // Ten minutes before one day and 15 s after the first share.
    const clock = createManualClock(T0 + 86_400_000 + 15_000 - 600_000);
    const { log } = await open(path, clock, 1);
    for (let i = 0; i < 30_000; i++) log.put(share({ at: T0 + i }), "btc", "a"); // more than one prune chunk
    log.put(share({ at: T0 + 2 * 86_400_000, worker: "new" }), "btc", "a");
    log.flush();
    expect(committed(path)).toHaveLength(30_001);
    expect(log.pruneNow(T0 + 86_400_000 + 10_000)).toBe(10_000); // older than one day at that time
    expect(committed(path)).toHaveLength(20_001);
    // The periodic prune (every 10 minutes) takes the next 5 s of shares.
    clock.advance(600_000);
    const rows = committed(path);
    expect(rows).toHaveLength(15_001);
    expect(rows[0]!.at).toBe(T0 + 15_000);
    expect(rows[rows.length - 1]!.worker).toBe("new");
    // History minutes go by whole minutes (the one minute of old shares started before the cutoff);
    // a worker stays listed until its last share is past the retention.
    const h = createWorkerHistory(log.db, () => 1);
    expect(h.list(clock.now()).map((w) => w.name)).toEqual(["alice.rig1", "new"]);
    expect(log.db.prepare("SELECT count(*) AS n FROM worker_minutes WHERE worker = 'alice.rig1'").all()[0]!.n).toBe(0);
    log.pruneNow(T0 + 86_400_000 + 30_000);
    expect(h.list(clock.now()).map((w) => w.name)).toEqual(["new"]);
    expect(committed(path)).toHaveLength(1);
    await log.close();
  });

  test("combineSinks: the reply waits for every sink that returns a promise", async () => {
    let release!: () => void;
    const slow: ShareSink = { put: () => new Promise<void>((r) => (release = r)), close: async () => {} };
    const seen: string[] = [];
    const quick: ShareSink = { put: (_s, pool) => void seen.push(pool) as undefined, close: async () => {} };
    const both = combineSinks([slow, quick])!;
    let done = false;
    void both.put(share(), "btc", "a")!.then(() => (done = true));
    expect(seen).toEqual(["btc"]);
    await Promise.resolve();
    expect(done).toBe(false);
    release();
    await new Promise((r) => setTimeout(r, 0));
    expect(done).toBe(true);
    expect(combineSinks([quick])!.put(share(), "eth", "a")).toBeUndefined();
    expect(combineSinks([])).toBeUndefined();
  });
});
