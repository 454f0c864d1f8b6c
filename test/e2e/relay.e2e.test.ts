// End-to-end relay mode against the compiled binary: in front of another stratum-edge and of scripted upstream pools that reject, change difficulty and extranonce, reconnect, stall and die; verdicts, failover, fail-back and aggregation; no unit logic.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  byId,
  ensureBinary,
  tempDir,
  byMethod,
  connectStratum,
  findShare,
  handshake,
  httpGet,
  metricValue,
  notifyJob,
  shareTarget,
  startRelay,
  submitParams,
  until,
  zeroExtranonce2,
  type Job,
  type RelayProcess,
  type StratumClient,
} from "./helpers.ts";
import { startScriptedPool, type ScriptedPool } from "./scripted_pool.ts";

const T = 30_000;
const procs: RelayProcess[] = [];
const pools: ScriptedPool[] = [];
const clients: StratumClient[] = [];

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await Promise.all(pools.map((p) => p.kill().catch(() => {})));
});

async function relayTo(urls: { url: string; priority?: number; user?: string }[], sets: Record<string, string> = {}): Promise<RelayProcess> {
  // The pool list is an array of tables: written as TOML (--set takes scalars).
  const dir = tempDir("stratum-edge-relay-cfg-");
  const file = join(dir, "relay.toml");
  writeFileSync(file, `[upstream]\ntype = "pool"\n` + urls.map((u) => `[[upstream.pool.pools]]\nurl = "${u.url}"\nuser = "${u.user ?? "farm.relay"}"\npriority = ${u.priority ?? 0}\n`).join(""));
  const r = await startRelay({
    command: [await ensureBinary(), "--config", file],
    sets: {
      "ethash.enabled": "false",
      "difficulty.initial": "1e-9",
      "difficulty.min": "1e-12",
      "difficulty.suggestFloor": "1e-12",
      "upstream.pool.submitTimeoutMs": "800",
      "upstream.pool.failbackSeconds": "1",
      "upstream.pool.retryMinMs": "200",
      "upstream.pool.retryMaxMs": "1000",
      ...sets,
    },
  });
  procs.push(r);
  return r;
}

async function miner(relay: RelayProcess, user = "rig1"): Promise<StratumClient & { en1: string; en2Size: number; job: Job; difficulty: number }> {
  const c = await connectStratum(relay.stratumPort, relay);
  clients.push(c);
  const h = await handshake(c, { user });
  return Object.assign(c, { en1: h.extranonce1, en2Size: h.extranonce2Size, job: h.job, difficulty: h.difficulty });
}

type Stats = { pool: { accepted: number; rejected: number; rejectedByReason: Record<string, number> }; upstreams: { url: string; state: string; accepted: number; rejected: number; unconfirmed: number; connections: number; difficulty: number }[] };
const stats = async (r: RelayProcess) => (await httpGet(r.httpPort, "/api/stats")).json() as Stats;

let en2Counter = 1;
/** A share of `job` meeting `difficulty`; with `below`, one that also misses that (higher) difficulty. */
function share(m: { en1: string; en2Size: number }, job: Job, difficulty: number, below?: number) {
  const en2 = zeroExtranonce2(m.en2Size, en2Counter++);
  const hi = below === undefined ? undefined : shareTarget(below);
  let n = 0;
  for (;;) {
    const t = findShare(job, m.en1, en2, { target: shareTarget(difficulty), meets: true, startNonce: n });
    if (hi === undefined || BigInt("0x" + t.hashHex) > hi) return t;
    n = (t.nonce + 1) >>> 0;
  }
}

let nextId = 100;
async function submit(m: StratumClient, job: Job, s: ReturnType<typeof share>, worker = "rig1") {
  const id = nextId++;
  m.send({ id, method: "mining.submit", params: submitParams(worker, job, s) });
  return m.next(byId(id), 5000, `answer to submit ${id}`);
}

describe("relay in front of another stratum-edge (devnet pool)", () => {
  test("shares meeting the upstream difficulty are forwarded and the pool's verdict relayed; others stay local", async () => {
    const upstream = await startRelay({ sets: { "ethash.enabled": "false", "difficulty.initial": "1e-6", "difficulty.min": "1e-12", "difficulty.suggestFloor": "1e-12", "upstream.devnet.blockIntervalSeconds": "3600" } });
    procs.push(upstream);
    const relay = await relayTo([{ url: `stratum+tcp://127.0.0.1:${upstream.stratumPort}`, user: "farm.edge1" }]);
    const m = await miner(relay);
    // stratum-edge's defaults: extranonce1 4 bytes, extranonce2 4 → miners get a 2-byte prefix and 2 bytes to roll.
    expect(m.en1).toMatch(/^[0-9a-f]{4}$/);
    expect(m.en2Size).toBe(2);
    expect(m.difficulty).toBeLessThanOrEqual(1e-6);
    const up = (await stats(relay)).upstreams;
    expect(up[0]).toMatchObject({ state: "active", connections: 1, difficulty: 1e-6 });

    const s1 = share(m, m.job, 1e-6);
    expect(await submit(m, m.job, s1)).toMatchObject({ result: true, error: null });
    const upStats = await until(async () => {
      const s = (await httpGet(upstream.httpPort, "/api/stats")).json() as { pool: { accepted: number }; workers: { name: string; accepted: number }[] };
      return s.pool.accepted >= 1 ? s : undefined;
    }, 5000, "upstream accepted the share");
    expect(upStats.workers.map((w) => w.name)).toEqual(["farm.edge1"]);

    // A share good for the miner's difficulty but not the pool's: answered here, never forwarded.
    const s2 = share(m, m.job, 1e-9, 1e-6);
    expect(await submit(m, m.job, s2)).toMatchObject({ result: true, error: null });
    // The same share again: refused locally as a duplicate.
    expect(await submit(m, m.job, s1)).toMatchObject({ result: null, error: [22, "Duplicate share", null] });

    const r = await stats(relay);
    expect(r.upstreams[0]).toMatchObject({ accepted: 1, rejected: 0, unconfirmed: 0 });
    expect(r.pool.accepted).toBe(2);
    const u = (await httpGet(upstream.httpPort, "/api/stats")).json() as { pool: { accepted: number; rejected: number } };
    expect(u.pool).toMatchObject({ accepted: 1, rejected: 0 });
    const text = (await httpGet(relay.httpPort, "/metrics")).text;
    const url = `stratum+tcp://127.0.0.1:${upstream.stratumPort}`;
    expect(metricValue(text, "stratum_edge_upstream_shares", `pool="${url}",verdict="accepted"`)).toBe(1);
    expect(metricValue(text, "stratum_edge_upstream_up", `pool="${url}"`)).toBe(1);
    expect(metricValue(text, "stratum_edge_upstream_difficulty", `pool="${url}"`)).toBe(1e-6);
  }, T);
});

describe("relay in front of a scripted upstream", () => {
  test("the pool's rejections, false results and silence reach the miner as such and are never counted accepted", async () => {
    const p = await startScriptedPool({ difficulty: 1e-6 });
    pools.push(p);
    const relay = await relayTo([{ url: `stratum+tcp://127.0.0.1:${p.port}` }]);
    const m = await miner(relay);
    expect(m.en2Size).toBe(4); // 8-byte upstream extranonce2: 2 prefix + 4 for the miner + 2 padding

    p.policy = { error: [23, "Low difficulty share", null] };
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ result: null, error: [23, "Low difficulty share: upstream: 23 Low difficulty share", null] });
    p.policy = { error: [20, "Bad coinbase", null] };
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ error: [20, "Rejected by upstream pool: upstream: 20 Bad coinbase", null] });
    p.policy = { error: { code: -7, message: "weird" } };
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ error: [20, "Rejected by upstream pool: upstream: -7 weird", null] });
    p.policy = "false";
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ error: [20, "Rejected by upstream pool: upstream: result false", null] });
    p.policy = "silent";
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ error: [20, "Upstream pool did not answer in time", null] });
    p.policy = "accept";
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ result: true, error: null });

    // The pool re-hashed every forwarded share with its own extranonce1: all six reconstruct exactly.
    expect(p.submits.length).toBe(6);
    expect(p.submits.every((s) => s.meets)).toBe(true);
    expect(p.submits.every((s) => String(s.params[0]) === "farm.relay")).toBe(true);
    const r = await stats(relay);
    expect(r.upstreams[0]).toMatchObject({ accepted: 1, rejected: 4, unconfirmed: 1 });
    expect(r.pool.accepted).toBe(1);
    expect(r.pool.rejectedByReason).toEqual({ low_difficulty: 1, upstream_rejected: 3, upstream_timeout: 1 });
  }, T);

  test("difficulty changes bound the miners' difficulty and what is forwarded; set_extranonce is followed", async () => {
    const p = await startScriptedPool({ difficulty: 1e-6 });
    pools.push(p);
    const relay = await relayTo([{ url: `stratum+tcp://127.0.0.1:${p.port}` }], { "difficulty.initial": "1e-3" });
    const m = await miner(relay);
    // Asked for 1e-3, but never above the upstream's 1e-6 (the miner would hide the pool's shares).
    expect(m.difficulty).toBe(1e-6);

    p.setDifficulty(1e-5);
    const newJobId = p.newJob(true);
    const d = await m.next((x) => x.method === "mining.set_difficulty" && (x.params as number[])[0] === 1e-5, 5000, "the miner's difficulty following the pool's");
    const n = notifyJob(await m.next((x) => x.method === "mining.notify" && (x.params as unknown[])[8] === true && (x.params as string[])[2] !== m.job.coinb1, 5000, "clean job after the difficulty change"));
    expect(m.received.indexOf(d)).toBeLessThan(m.received.findIndex((x) => x.method === "mining.notify" && (x.params as string[])[0] === n.jobId));
    expect(newJobId).toBe(p.job().id);
    const before = p.submits.length;
    // Meets the old difficulty only: refused here (the miner's difficulty is the pool's now), not forwarded.
    expect(await submit(m, n, share(m, n, 1e-6, 1e-5))).toMatchObject({ error: [23, "Low difficulty share", null] });
    expect(p.submits.length).toBe(before);
    expect(await submit(m, n, share(m, n, 1e-5))).toMatchObject({ result: true });
    expect(p.submits.length).toBe(before + 1);
    expect(p.submits.at(-1)!.meets).toBe(true);

    // New extranonce1 for the relay's connection, same size: applies from the next job.
    p.setExtranonce(() => "cafef00d", 8);
    p.newJob(true);
    const j = notifyJob(await m.next((x) => x.method === "mining.notify" && (x.params as string[])[2]!.includes("cafef00d"), 5000, "job carrying the new extranonce1"));
    expect(await submit(m, j, share(m, j, 1e-5))).toMatchObject({ result: true });
    const last = p.submits.at(-1)!;
    expect(last.extranonce1).toBe("cafef00d");
    expect(last.meets).toBe(true);
  }, T);

  test("client.reconnect from the pool: the relay reconnects, miners stay connected and get a clean job", async () => {
    const p = await startScriptedPool({ difficulty: 1e-6 });
    pools.push(p);
    const relay = await relayTo([{ url: `stratum+tcp://127.0.0.1:${p.port}` }]);
    const m = await miner(relay);
    p.reconnect([]);
    await until(() => (p.accepted >= 2 ? true : undefined), 5000, "second upstream connection");
    // The second subscribe asks to resume the first subscription (the pool may keep our extranonce1).
    await until(() => (p.subscribes.length >= 2 ? true : undefined), 5000, "second subscribe");
    expect(p.subscribes[0]).toHaveLength(1);
    expect(p.subscribes[1]![1]).toBe("n1");
    const j = notifyJob(await m.next((x) => x.method === "mining.notify" && (x.params as unknown[])[8] === true, 5000, "clean job after the reconnect"));
    expect(m.isClosed()).toBe(false);
    expect(await submit(m, j, share(m, j, 1e-6))).toMatchObject({ result: true });
    expect(p.submits.at(-1)!.meets).toBe(true);
  }, T);

  test("a refused login or a dead primary: the backup serves within seconds, then the primary is taken back; no share counted twice", async () => {
    const primary = await startScriptedPool({ difficulty: 1e-6, tag: "p" });
    const backup = await startScriptedPool({ difficulty: 1e-6, tag: "b" });
    const refusing = await startScriptedPool({ difficulty: 1e-6, tag: "r", refuseLogin: true });
    pools.push(primary, backup, refusing);
    const relay = await relayTo([
      { url: `stratum+tcp://127.0.0.1:${refusing.port}`, priority: 0 },
      { url: `stratum+tcp://127.0.0.1:${primary.port}`, priority: 1 },
      { url: `stratum+tcp://127.0.0.1:${backup.port}`, priority: 2 },
    ]);
    const m = await miner(relay);
    // The refusing pool was left for the next one by priority.
    expect(m.job.coinb1).toContain(primary.extranonces().values().next().value!);
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ result: true });

    const port = primary.port;
    const t0 = performance.now();
    await primary.kill();
    const j = notifyJob(await m.next((x) => x.method === "mining.notify" && (x.params as string[])[2]!.includes(backup.extranonces().values().next().value ?? "none"), 5000, "clean job from the backup"));
    const failover = performance.now() - t0;
    expect(failover).toBeLessThan(2000);
    // Told why its work stopped for a moment, and still connected.
    const msg = await m.next(byMethod("client.show_message"), 1000, "show_message about the lost upstream");
    expect(String((msg.params as string[])[0])).toContain("upstream pool unavailable");
    expect(j.clean).toBe(true);
    expect(m.isClosed()).toBe(false);
    expect(await submit(m, j, share(m, j, 1e-6))).toMatchObject({ result: true });
    // A share for the dead pool's job is stale now (its jobs were withdrawn).
    expect(await submit(m, m.job, share(m, m.job, 1e-9))).toMatchObject({ error: [21, "Job not found", null] });

    const again = await startScriptedPool({ port, difficulty: 1e-6, tag: "q" });
    pools.push(again);
    const k = notifyJob(await m.next((x) => x.method === "mining.notify" && (x.params as string[])[2]!.includes(again.extranonces().values().next().value ?? "none"), 8000, "clean job from the returned primary"));
    expect(await submit(m, k, share(m, k, 1e-6))).toMatchObject({ result: true });

    const st = await stats(relay);
    expect(st.upstreams.map((u) => u.state)).toEqual(["backoff", "active", "standby"]);
    // Every forwarded share reached exactly one pool, once.
    const seen = [...primary.submits, ...backup.submits, ...again.submits];
    expect(seen.length).toBe(3);
    expect(new Set(seen.map((s) => s.hash)).size).toBe(3);
    expect(st.upstreams.reduce((n, u) => n + u.accepted, 0)).toBe(3);
    expect(refusing.submits.length).toBe(0);
  }, T);

  test("a stalled pool (no verdicts) is left for the backup", async () => {
    const stalled = await startScriptedPool({ difficulty: 1e-6, tag: "st" });
    const backup = await startScriptedPool({ difficulty: 1e-6, tag: "bk" });
    pools.push(stalled, backup);
    const relay = await relayTo([
      { url: `stratum+tcp://127.0.0.1:${stalled.port}`, priority: 0 },
      { url: `stratum+tcp://127.0.0.1:${backup.port}`, priority: 1 },
    ], { "upstream.pool.maxTimeoutsInRow": "2", "upstream.pool.failbackSeconds": "3600" });
    const m = await miner(relay);
    stalled.policy = "silent";
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ error: [20, "Upstream pool did not answer in time", null] });
    expect(await submit(m, m.job, share(m, m.job, 1e-6))).toMatchObject({ error: [20, "Upstream pool did not answer in time", null] });
    const j = notifyJob(await m.next((x) => x.method === "mining.notify" && (x.params as string[])[2]!.includes(backup.extranonces().values().next().value ?? "none"), 5000, "job from the backup"));
    expect(await submit(m, j, share(m, j, 1e-6))).toMatchObject({ result: true });
    const st = await stats(relay);
    expect(st.upstreams[0]).toMatchObject({ unconfirmed: 2, accepted: 0 });
    expect(st.upstreams[1]).toMatchObject({ accepted: 1, state: "active" });
  }, T);
});

describe("aggregation", () => {
  test("1,000 miners through one relay share ceil(1000 / aggregation) upstream connections, each miner its own prefix", async () => {
    const p = await startScriptedPool({ difficulty: 1e-6 });
    pools.push(p);
    const relay = await relayTo([{ url: `stratum+tcp://127.0.0.1:${p.port}` }], { "upstream.pool.aggregation": "100" });
    const N = 1000;
    const socks: StratumClient[] = [];
    for (let i = 0; i < N; i += 100) {
      socks.push(...await Promise.all(Array.from({ length: Math.min(100, N - i) }, () => connectStratum(relay.stratumPort, relay))));
    }
    clients.push(...socks);
    const seen = new Set<string>();
    const results = await Promise.all(socks.map(async (c, i) => {
      c.sendRaw(JSON.stringify({ id: 1, method: "mining.subscribe", params: [] }) + "\n" + JSON.stringify({ id: 2, method: "mining.authorize", params: [`rig${i}`, "x"] }) + "\n");
      const sub = await c.next(byId(1), 15_000, "subscribe");
      const job = notifyJob(await c.next(byMethod("mining.notify"), 15_000, "job"));
      return { en1: (sub.result as unknown[])[1] as string, coinb1: job.coinb1 };
    }));
    for (const r of results) seen.add(r.coinb1 + "/" + r.en1);
    // 100 miners per upstream connection: 10 connections, and no two miners hash the same coinbase.
    expect(p.open).toBe(10);
    expect(seen.size).toBe(N);
    expect(new Set(results.map((r) => r.coinb1)).size).toBe(10);
    const st = await stats(relay);
    expect(st.upstreams[0]!.connections).toBe(10);
  }, 60_000);
});
