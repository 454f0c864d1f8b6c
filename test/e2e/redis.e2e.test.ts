// Two compiled relays sharing one real redis-server: distinct extranonce1 prefixes, a ban from one enforced by the other within a second (and its lift), each share in the stream exactly once, nothing acknowledged lost across a Redis SIGKILL and restart, cluster stats.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { admin, honestMiner, metric, rawConnect, refusedAtAccept, startAbuseRelay, type AbuseRelay, type HonestMiner } from "./abuse_helpers.ts";
import { httpGet, until } from "./helpers.ts";
import { fieldsToObject } from "../../src/store/redis_entries.ts";
import { findRedisServer, MISSING_REDIS, startRedis, type RedisServer } from "../support/redis.ts";
import { freePort } from "../support/litecoind.ts";

const TOKEN = "cluster-admin-token";
const hasRedis = findRedisServer() !== null;
let redis: RedisServer;
let A: AbuseRelay;
let B: AbuseRelay;
const miners: HonestMiner[] = [];

const sets = (url: string) => ({
  "store.redis.url": url,
  "store.redis.banPollMs": "500",
  "store.redis.statsIntervalMs": "300",
  "http.adminToken": TOKEN,
  "difficulty.suggestFloor": "1e-12",
  "upstream.devnet.blockIntervalSeconds": "3600",
});

/** Every share entry in the stream, as objects. */
async function entries(): Promise<Record<string, string>[]> {
  const c = redis.client();
  try {
    const rows = (await c.xrange("stratum-edge:shares", "-", "+")) as [string, string[]][];
    return rows.map(([, f]) => fieldsToObject(f));
  } finally {
    c.disconnect();
  }
}

async function refusedBy(r: AbuseRelay, address: string): Promise<boolean> {
  return (await refusedAtAccept(r.mainPort, { localAddress: address, ms: 150 })).refused;
}

beforeAll(async () => {
  if (!hasRedis) return;
  redis = await startRedis();
  [A, B] = await Promise.all([startAbuseRelay({ sets: sets(redis.url) }), startAbuseRelay({ sets: sets(redis.url) })]);
}, 40_000);

afterAll(async () => {
  for (const m of miners) m.close();
  await Promise.all([A?.stop(), B?.stop()]);
  await redis?.stop();
});

async function miner(r: AbuseRelay, worker: string): Promise<HonestMiner> {
  const m = await honestMiner(r.mainPort, { worker });
  miners.push(m);
  return m;
}

describe.skipIf(!hasRedis)("two relays, one Redis (compiled binary)", () => {
  test("each instance leased its own extranonce1 prefix: their miners' extranonce1 values (and EthereumStratum extranonces) differ in it", async () => {
    const pa = A.logs().find((l) => l.msg === "redis connected")!;
    const pb = B.logs().find((l) => l.msg === "redis connected")!;
    expect(pa.leased).toBe(true);
    expect(pb.leased).toBe(true);
    expect(pa.prefix).not.toBe(pb.prefix);
    const [ma, mb] = [await rawConnect(A.mainPort), await rawConnect(B.mainPort)];
    for (const c of [ma, mb]) c.write(JSON.stringify({ id: 1, method: "mining.subscribe", params: [] }) + "\n");
    const en1 = async (c: typeof ma) => ((await c.next((m) => m.id === 1, 5000, "subscribe")).result as [unknown, string])[1];
    const [ea, eb] = [await en1(ma), await en1(mb)];
    ma.close();
    mb.close();
    expect(ea.startsWith(pa.prefix as string)).toBe(true);
    expect(eb.startsWith(pb.prefix as string)).toBe(true);
    // EthereumStratum/1.0.0 (NiceHash) miners: the extranonce (their nonce prefix) leads with it too.
    const [xa, xb] = [await rawConnect(A.mainPort), await rawConnect(B.mainPort)];
    for (const c of [xa, xb]) c.write(JSON.stringify({ id: 1, method: "mining.subscribe", params: ["ethminer-0.19.0", "EthereumStratum/1.0.0"] }) + "\n");
    const xn = async (c: typeof xa) => ((await c.next((m) => m.id === 1, 5000, "EthereumStratum subscribe")).result as [unknown, string])[1];
    const [na, nb] = [await xn(xa), await xn(xb)];
    xa.close();
    xb.close();
    expect(na).toMatch(/^[0-9a-f]{6}$/);
    expect(na.startsWith(pa.prefix as string)).toBe(true);
    expect(nb.startsWith(pb.prefix as string)).toBe(true);
  });

  test("an abuse ban decided by A is enforced by B within a second", async () => {
    const bad = "127.0.31.1";
    expect(await refusedBy(B, bad)).toBe(false);
    const c = await rawConnect(A.mainPort, { localAddress: bad });
    c.write("x".repeat(20_000) + "\n"); // over stratum.maxLineBytes: one oversize line bans
    await c.waitClosed(3000);
    c.close();
    const t0 = Date.now();
    await A.waitForLog((l) => l.msg === "banned" && l.key === bad, 3000, "A bans");
    await until(async () => ((await refusedBy(B, bad)) ? true : undefined), 1000, "B refuses the address A banned", B.tail);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(B.logs().some((l) => l.msg === "banned elsewhere in the cluster" && l.key === bad)).toBe(true);
    expect(await metric(B.httpPort, "stratum_edge_redis_bans_received_total", 'op="ban"')).toBeGreaterThanOrEqual(1);
  });

  test("a ban added through B's admin API and lifted through A's reaches the other within a second each", async () => {
    const who = "127.0.31.2";
    const add = await admin(B.httpPort, "POST", "/api/bans", TOKEN, { address: who, seconds: 600 });
    expect(add.status).toBe(201);
    const t0 = Date.now();
    await until(async () => ((await refusedBy(A, who)) ? true : undefined), 1000, "A refuses B's manual ban", A.tail);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect((await admin(A.httpPort, "DELETE", `/api/bans/${who}`, TOKEN)).status).toBe(200);
    const t1 = Date.now();
    await until(async () => ((await refusedBy(B, who)) ? undefined : true), 1000, "B admits after A's lift", B.tail);
    expect(Date.now() - t1).toBeLessThan(1000);
  });

  test("shares from both relays appear in the stream once each, with their instance", async () => {
    const [ma, mb] = [await miner(A, "once.a"), await miner(B, "once.b")];
    for (let i = 0; i < 8; i++) {
      expect(await ma.submitValid()).toBe(true);
      expect(await mb.submitValid()).toBe(true);
    }
    await until(async () => ((await entries()).filter((e) => (e.worker ?? "").startsWith("once.")).length >= 16 ? true : undefined), 5000, "16 entries");
    await Bun.sleep(300); // a duplicate, if any, would come right behind
    const mine = (await entries()).filter((e) => (e.worker ?? "").startsWith("once."));
    expect(mine.length).toBe(16);
    expect(new Set(mine.map((e) => e.id)).size).toBe(16);
    const byWorker = (w: string) => mine.filter((e) => e.worker === w);
    expect(byWorker("once.a").length).toBe(8);
    expect(byWorker("once.b").length).toBe(8);
    expect(new Set(byWorker("once.a").map((e) => e.instance)).size).toBe(1);
    expect(byWorker("once.a")[0]!.instance).not.toBe(byWorker("once.b")[0]!.instance);
    for (const e of mine) expect(e).toMatchObject({ pool: "btc", accepted: "1", reason: "", addr: "127.0.0.1", block: "0" });
  });

  test("Redis SIGKILLed and restarted mid-run: miners are served throughout and every accepted share ends up in the stream once", async () => {
    const [ma, mb] = [await miner(A, "kill.a"), await miner(B, "kill.b")];
    let accepted = 0;
    const round = async () => {
      if ((await ma.submitValid()) === true) accepted++;
      if ((await mb.submitValid()) === true) accepted++;
    };
    for (let i = 0; i < 5; i++) await round();
    await redis.kill();
    await A.waitForLog((l) => l.msg?.startsWith("redis: connection lost") === true, 3000, "A notices Redis is gone");
    for (let i = 0; i < 10; i++) await round(); // answered while Redis is down
    expect(await metric(A.httpPort, "stratum_edge_redis_up")).toBe(0);
    expect(await metric(A.httpPort, "stratum_edge_redis_buffered")).toBeGreaterThanOrEqual(10);
    await redis.restart();
    for (let i = 0; i < 5; i++) await round();
    expect(accepted).toBe(40);
    await until(async () => ((await entries()).filter((e) => (e.worker ?? "").startsWith("kill.")).length >= 40 ? true : undefined), 10_000, "40 entries after the restart", A.tail);
    await Bun.sleep(300);
    const mine = (await entries()).filter((e) => (e.worker ?? "").startsWith("kill."));
    expect(mine.length).toBe(40);
    expect(new Set(mine.map((e) => e.id)).size).toBe(40);
    expect(mine.filter((e) => e.worker === "kill.a").length).toBe(20);
    await until(async () => ((await metric(A.httpPort, "stratum_edge_redis_up")) === 1 ? true : undefined), 5000, "redis_up back to 1");
    expect(await metric(A.httpPort, "stratum_edge_redis_buffered")).toBe(0);
    expect(await metric(A.httpPort, "stratum_edge_redis_dropped_total", 'kind="share"')).toBe(0);
  }, 30_000);

  test("/api/stats?scope=cluster sums both instances; plain /api/stats stays this instance's", async () => {
    const local = (await httpGet(A.httpPort, "/api/stats")).json() as { pool: { accepted: number } };
    const [sa, sb] = [local.pool.accepted, ((await httpGet(B.httpPort, "/api/stats")).json() as { pool: { accepted: number } }).pool.accepted];
    type Cluster = { scope: string; instances: { instance: string }[]; totals: { instances: number; pools: { name: string; accepted: number }[] } };
    const c = await until(async () => {
      const j = (await httpGet(A.httpPort, "/api/stats?scope=cluster")).json() as Cluster;
      return j.totals.instances === 2 && j.totals.pools[0]!.accepted === sa + sb ? j : undefined;
    }, 3000, "cluster totals = A + B");
    expect(c.scope).toBe("cluster");
    expect(c.instances.length).toBe(2);
    expect(sa).toBeGreaterThan(0);
    expect(sb).toBeGreaterThan(0);
  });
});

describe.skipIf(!hasRedis)("Redis unreachable at start (compiled binary)", () => {
  test("without instancePrefix the relay refuses to start and says why", async () => {
    const port = await freePort(); // nothing listens there
    await expect(startAbuseRelay({ sets: { "store.redis.url": `redis://127.0.0.1:${port}`, "store.redis.connectTimeoutMs": "300" } })).rejects.toThrow(/no extranonce1 prefix could be leased; set store.redis.instancePrefix/);
  });

  test("with instancePrefix it serves miners at once, buffers, and writes everything once Redis appears", async () => {
    const port = await freePort();
    const r = await startAbuseRelay({ sets: { ...sets(`redis://127.0.0.1:${port}`), "store.redis.instancePrefix": "7f", "store.redis.connectTimeoutMs": "300" } });
    let late: RedisServer | undefined;
    try {
      expect(r.logs().some((l) => l.msg?.startsWith("redis unreachable") === true)).toBe(true);
      const m = await honestMiner(r.mainPort, { worker: "late.w" });
      miners.push(m);
      for (let i = 0; i < 6; i++) expect(await m.submitValid()).toBe(true);
      expect(await metric(r.httpPort, "stratum_edge_redis_up")).toBe(0);
      expect(await metric(r.httpPort, "stratum_edge_redis_buffered")).toBe(6);
      late = await startRedis(port);
      const c = late.client();
      const rows = await until(async () => {
        const x = ((await c.xrange("stratum-edge:shares", "-", "+")) as [string, string[]][]).map(([, f]) => fieldsToObject(f));
        return x.length >= 6 ? x : undefined;
      }, 5000, "6 entries once Redis is up", r.tail);
      c.disconnect();
      expect(rows.map((e) => [e.worker, e.instance])).toEqual(Array(6).fill(["late.w", "7f"]));
      expect(new Set(rows.map((e) => e.id)).size).toBe(6);
      // Its ban channel subscription was made after Redis appeared: a ban published there now is enforced.
      const who = "127.0.41.1";
      expect(await refusedBy(r, who)).toBe(false);
      const p = late.client();
      await p.publish("stratum-edge:bans", JSON.stringify({ op: "ban", origin: "elsewhere", entry: { key: who, until: Date.now() + 60_000, reason: "manual", offence: 0 } }));
      p.disconnect();
      await until(async () => ((await refusedBy(r, who)) ? true : undefined), 1000, "the late relay enforces a ban from the channel", r.tail);
    } finally {
      await r.stop();
      await late?.stop();
    }
  }, 30_000);
});

test.skipIf(hasRedis)("redis-server is installed", () => {
  throw new Error(MISSING_REDIS);
});
