// The Redis side against a real redis-server: stream outbox (once each, replay without duplicates, buffering across a Redis kill, bound and drop count), shared bans between two guards, prefix leases.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { realClock } from "../../../src/runtime/shared.ts";
import { createLogger } from "../../../src/observe/log.ts";
import { connectIoredis, type RedisLink } from "../../../src/store/redis_client.ts";
import { createOutbox, OUTBOX_SCRIPT, type EntryKind } from "../../../src/store/redis_outbox.ts";
import { blockValues, fieldsToObject, shareValues } from "../../../src/store/redis_entries.ts";
import { startBanSync } from "../../../src/store/redis_bans.ts";
import { leasePrefix } from "../../../src/store/redis_prefix.ts";
import { createGuard } from "../../../src/server/guard.ts";
import { findRedisServer, MISSING_REDIS, startRedis, type RedisServer } from "../../support/redis.ts";
import type { ShareRecord } from "../../../protocols/core/actions.ts";

const log = createLogger({ format: "json", level: "error", write: () => {} });
const hasRedis = findRedisServer() !== null;
let redis: RedisServer;
const links: RedisLink[] = [];

function link(): RedisLink {
  const l = connectIoredis(redis.url, log);
  links.push(l);
  return l;
}

async function until(fn: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms: ${what}`);
    await Bun.sleep(10);
  }
}

const share = (i: number): ShareRecord => ({ worker: `w.${i % 3}`, accepted: true, difficulty: 1, shareDifficulty: 2, jobId: "j1", height: 7, at: 1_700_000_000_000 + i });

function counts() {
  const c = { published: { share: 0, block: 0 } as Record<EntryKind, number>, dropped: 0, buffered: 0 };
  return { c, hooks: { published: (k: EntryKind, n: number) => void (c.published[k] += n), dropped: () => void c.dropped++, buffered: (n: number) => void (c.buffered = n) } };
}

async function streamIds(key: string): Promise<string[]> {
  const cl = redis.client();
  const rows = (await cl.xrange(key, "-", "+")) as [string, string[]][];
  cl.disconnect();
  return rows.map(([, f]) => fieldsToObject(f).id!);
}

beforeAll(async () => {
  if (hasRedis) redis = await startRedis();
}, 20_000);

afterAll(async () => {
  for (const l of links) await l.close();
  await redis?.stop();
});

describe.skipIf(!hasRedis)("redis outbox", () => {
  test("every pushed share lands once, in order, with its fields", async () => {
    const l = link();
    const { c, hooks } = counts();
    const box = createOutbox({ link: l, clock: realClock, log, hooks, hwKey: "t1:hw:run", streams: { share: "t1:shares", block: "t1:blocks" }, maxLen: 100_000, maxEntries: 10_000, batchSize: 100, run: "run", instance: "00" });
    for (let i = 0; i < 1000; i++) box.push("share", shareValues("btc", share(i), "127.0.0.1"));
    expect(await box.drain(10_000)).toBe(true);
    const ids = await streamIds("t1:shares");
    expect(ids).toEqual(Array.from({ length: 1000 }, (_, i) => `run-${i + 1}`));
    expect(c.published.share).toBe(1000);
    const cl = redis.client();
    const [, first] = ((await cl.xrange("t1:shares", "-", "+", "COUNT", 1)) as [string, string[]][])[0]!;
    cl.disconnect();
    expect(fieldsToObject(first)).toEqual({ id: "run-1", instance: "00", pool: "btc", worker: "w.0", addr: "127.0.0.1", accepted: "1", reason: "", difficulty: "1", shareDifficulty: "2", job: "j1", height: "7", at: "1700000000000", block: "0", upstream: "" });
    box.stop();
  }, 20_000);

  test("a batch sent again (reply lost) adds nothing: the run's high-water mark skips it", async () => {
    const l = link();
    const mk = () => createOutbox({ link: l, clock: realClock, log, hooks: counts().hooks, hwKey: "t2:hw:run", streams: { share: "t2:shares", block: "t2:blocks" }, maxLen: 1000, maxEntries: 1000, batchSize: 7, run: "run", instance: "00" });
    const a = mk();
    for (let i = 0; i < 20; i++) a.push("share", shareValues("btc", share(i), "a"));
    expect(await a.drain(5000)).toBe(true);
    // Same run key, same sequence numbers 1..25: only 21..25 are new.
    const b = mk();
    for (let i = 0; i < 25; i++) b.push("share", shareValues("btc", share(i), "a"));
    expect(await b.drain(5000)).toBe(true);
    expect(await streamIds("t2:shares")).toEqual(Array.from({ length: 25 }, (_, i) => `run-${i + 1}`));
    a.stop();
    b.stop();
  }, 20_000);

  test("Redis killed: entries wait in the bounded outbox (overflow dropped and counted) and are written once it is back", async () => {
    const l = link();
    await until(() => l.ready, 5000, "link ready");
    const { c, hooks } = counts();
    const box = createOutbox({ link: l, clock: realClock, log, hooks, hwKey: "t3:hw:run", streams: { share: "t3:shares", block: "t3:blocks" }, maxLen: 1000, maxEntries: 50, batchSize: 10, run: "run", instance: "00" });
    for (let i = 0; i < 5; i++) box.push("share", shareValues("btc", share(i), "a"));
    expect(await box.drain(5000)).toBe(true);
    await redis.kill();
    await until(() => !l.ready, 5000, "link down");
    let accepted = 0;
    for (let i = 0; i < 60; i++) if (i % 10 === 0 ? box.push("block", blockValues("btc", { height: 7, hash: `h${i}`, worker: "w", at: i }, "a")) : box.push("share", shareValues("btc", share(i), "a"))) accepted++;
    expect(accepted).toBe(50);
    expect(c.dropped).toBe(10);
    expect(box.pending).toBe(50);
    expect(c.buffered).toBe(50);
    await redis.restart();
    expect(await box.drain(10_000)).toBe(true);
    // The 5 written before the kill survived it (append-only file), the 50 buffered came after.
    expect(await streamIds("t3:shares")).toEqual([1, 2, 3, 4, 5, ...Array.from({ length: 50 }, (_, i) => i + 6).filter((s) => (s - 6) % 10 !== 0)].map((s) => `run-${s}`));
    expect(await streamIds("t3:blocks")).toEqual([6, 16, 26, 36, 46].map((s) => `run-${s}`));
    expect(c.buffered).toBe(0);
    box.stop();
  }, 30_000);
});

describe.skipIf(!hasRedis)("outbox script", () => {
  const call = async (argv: (string | number)[]) => {
    const cl = redis.client();
    try {
      return await cl.eval(OUTBOX_SCRIPT, 3, "t7:hw", "t7:s", "t7:b", 1000, 60, "run", "00", ...argv);
    } finally {
      cl.disconnect();
    }
  };
  const v = shareValues("btc", share(0), "a");

  test("an entry past a gap is refused (an earlier batch that failed goes first); what is before the gap is kept", async () => {
    expect(await call(["s", 1, ...v, "s", 2, ...v])).toBe(2);
    await expect(call(["s", 3, ...v, "s", 5, ...v])).rejects.toThrow("GAP after 3");
    expect(await call(["s", 3, ...v, "s", 4, ...v, "s", 5, ...v])).toBe(2);
    expect(await streamIds("t7:s")).toEqual([1, 2, 3, 4, 5].map((s) => `run-${s}`));
  });

  test("a Redis that lost the mark (and the stream) takes the next batch as the start of the run", async () => {
    const cl = redis.client();
    await cl.del("t7:hw", "t7:s");
    cl.disconnect();
    expect(await call(["s", 9, ...v, "s", 10, ...v])).toBe(2);
    expect(await streamIds("t7:s")).toEqual(["run-9", "run-10"]);
  });
});

describe.skipIf(!hasRedis)("shared bans", () => {
  const mkGuard = () => createGuard({ enabled: true, policy: { maxMalformed: 2 }, rate: { perSecond: 100, burst: 100 }, log, hooks: { banned() {}, active() {} }, now: Date.now() });

  test("a ban issued by one guard is enforced by the other within a second, and so is its lift", async () => {
    const [ga, gb] = [mkGuard(), mkGuard()];
    const kickedB: string[] = [];
    gb.onKick((key) => kickedB.push(key));
    const [la, lb] = [link(), link()];
    startBanSync({ link: la, guard: ga, clock: realClock, log, ns: "t4", origin: "A", pollMs: 60_000, received() {} });
    startBanSync({ link: lb, guard: gb, clock: realClock, log, ns: "t4", origin: "B", pollMs: 60_000, received() {} });
    await until(() => la.ready && lb.ready, 5000, "links ready");
    await Bun.sleep(200); // subscriptions in place
    const t0 = Date.now();
    ga.malformed("10.1.2.3", Date.now());
    ga.malformed("10.1.2.3", Date.now());
    expect(ga.admit("10.1.2.3", Date.now())).toBe(false);
    await until(() => !gb.admit("10.1.2.3", Date.now()), 1000, "B enforces A's ban");
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(kickedB).toEqual(["10.1.2.3"]);
    expect(gb.policy.list(Date.now())[0]!.reason).toBe("malformed");
    expect(gb.lift("10.1.2.3")).toBe(true);
    await until(() => ga.admit("10.1.2.3", Date.now()), 1000, "A lifts after B's lift");
  }, 20_000);

  test("a message missed while disconnected is repaired by the next read of the ban keys", async () => {
    const [ga, gb] = [mkGuard(), mkGuard()];
    const [la, lb] = [link(), link()];
    startBanSync({ link: la, guard: ga, clock: realClock, log, ns: "t5", origin: "A", pollMs: 60_000, received() {} });
    await until(() => la.ready, 5000, "link ready");
    ga.banManually("10.9.9.9", 60, Date.now());
    await Bun.sleep(200);
    // B joins after the PUBLISH: only the keys tell it.
    const sb = startBanSync({ link: lb, guard: gb, clock: realClock, log, ns: "t5", origin: "B", pollMs: 60_000, received() {} });
    await until(() => !gb.admit("10.9.9.9", Date.now()), 3000, "B reads the ban key");
    // A lift whose message B does not get (B is not subscribed to it here: it is deleted directly).
    const cl = redis.client();
    await cl.del("t5:ban:10.9.9.9");
    cl.disconnect();
    await sb.poll();
    expect(gb.admit("10.9.9.9", Date.now())).toBe(true);
  }, 20_000);
});

describe.skipIf(!hasRedis)("extranonce1 prefix lease", () => {
  test("instances get distinct prefixes; a stopped one frees its own", async () => {
    const l = link();
    await until(() => l.ready, 5000, "link ready");
    const got = [];
    for (let i = 0; i < 3; i++) got.push(await leasePrefix({ link: l, ns: "t6", bytes: 1, run: `run${i}`, leaseMs: 10_000, clock: realClock, log }));
    const prefixes = got.map((g) => g.prefix);
    expect(new Set(prefixes).size).toBe(3);
    for (const p of prefixes) expect(p).toMatch(/^[0-9a-f]{2}$/);
    const cl = redis.client();
    expect(await cl.get(`t6:en1:${prefixes[0]}`)).toBe("run0");
    await got[0]!.stop();
    expect(await cl.get(`t6:en1:${prefixes[0]}`)).toBe(null);
    cl.disconnect();
    for (const g of got.slice(1)) await g.stop();
  }, 20_000);
});

test.skipIf(hasRedis)("redis-server is installed", () => {
  throw new Error(MISSING_REDIS);
});
