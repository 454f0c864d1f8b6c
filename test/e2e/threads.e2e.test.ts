// End-to-end stratum.threads against the compiled binary: connections spread over SO_REUSEPORT session threads, shares, errors, found blocks, bans, SIGTERM and ethash checks on every thread, the port-in-use check, threads=1 unchanged; no unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import {
  byId,
  byMethod,
  findShare,
  HOST,
  httpGet,
  metricValue,
  networkTarget,
  notifyJob,
  runBinary,
  startRelay,
  submitParams,
  tempDir,
  until,
  zeroExtranonce2,
  connectStratum,
  type Job,
  type Msg,
  type RelayProcess,
} from "./helpers.ts";
import { admin, line, refusedAtAccept, sleep, startAbuseRelay, type AbuseRelay } from "./abuse_helpers.ts";
import { ethBlockTarget, ethCacheReady, ethProxyOpen, ethStratumOpen, ethStratumSubmit, ethSubmit, epoch0Cache, findEthShare, ADDRESS } from "./eth_helpers.ts";
import { inBatches, openV1, perThread, sliceOf, stats, validNonBlockShare, type V1Conn } from "./threads_helpers.ts";
import { difficultyToTarget } from "../../protocols/pow/target.ts";
import { quickCheck } from "../../protocols/pow/ethash.ts";
import { bytesToHex, hexToBytes } from "../../protocols/pow/hex.ts";

// suggestFloor lowered so a d=NUMBER password really sets the difficulty; no simulated blocks during
// the run (a clean job would turn submits into "Job not found"); ethash off where not tested (its
// epoch-0 cache build costs seconds of CPU on a 2-CPU box).
const QUIET = {
  "difficulty.suggestFloor": "1e-12",
  "upstream.devnet.blockIntervalSeconds": "3600",
  "ethash.upstream.devnet.blockIntervalSeconds": "3600",
};
const NO_ETH = { ...QUIET, "ethash.enabled": "false" };
const T = 30_000;

const sockets: { close(): void }[] = [];
const relays: RelayProcess[] = [];
async function relay(sets: Record<string, string>): Promise<RelayProcess> {
  const r = await startRelay({ sets });
  relays.push(r);
  return r;
}
async function v1(r: RelayProcess, count: number, o: Parameters<typeof openV1>[2]): Promise<V1Conn> {
  const c = await openV1(r.stratumPort, count, o);
  sockets.push(c.conn);
  return c;
}

afterAll(async () => {
  for (const s of sockets) s.close();
  await Promise.all(relays.map((r) => r.stop()));
});

/** Polls /api/stats until connectionsByThread sums to `total` (the threads report every 250 ms). */
async function waitByThread(r: RelayProcess, total: number, threads: number): Promise<number[]> {
  return until(
    async () => {
      const s = await stats(r.httpPort);
      const by = s.connectionsByThread;
      return by !== undefined && by.length === threads && by.reduce((a, b) => a + b, 0) === total && s.connections === total ? by : undefined;
    },
    8000,
    `connectionsByThread (${threads} entries) summing to ${total}`,
    () => r.tail(),
  );
}

describe("stratum.threads=2: shares on every thread", () => {
  let R: RelayProcess;
  beforeAll(async () => {
    R = await relay({ ...NO_ETH, "stratum.threads": "2" });
  }, 30_000);

  test("120 connections spread over both threads; unique extranonce1; every valid share true; low 23, duplicate 22, unknown job 21 on both threads; stats count them all", async () => {
    const N = 120;
    // d=1e-6: ~4300 hashes per valid share, and almost every hash misses it (the low-difficulty share).
    const conns = await inBatches(N, 30, (i) => v1(R, 2, { user: `thr.w${i}`, password: "d=1e-6" }));
    const by = await waitByThread(R, N, 2);
    expect(by[0]).toBeGreaterThan(0);
    expect(by[1]).toBeGreaterThan(0);
    expect(R.logs().find((l) => l.msg === "session threads listening")).toMatchObject({ threads: 2 });
    // The extranonce1 slices tell which thread serves which socket: they must agree with the counts.
    expect(perThread(conns, 2)).toEqual(by);
    expect(new Set(conns.map((c) => c.en1)).size).toBe(N);
    for (const c of conns) {
      expect(c.en1).toMatch(/^[0-9a-f]{8}$/);
      expect(c.difficulty).toBe(1e-6);
    }
    // Every thread serves the same current job.
    expect(new Set(conns.map((c) => c.job.jobId)).size).toBe(1);

    const m = (await httpGet(R.httpPort, "/metrics")).text;
    expect(metricValue(m, "stratum_edge_connections")).toBe(N);

    const before = await stats(R.httpPort);
    const results = await Promise.all(conns.map(async (c) => {
      const s = validNonBlockShare(c.job, c.en1, zeroExtranonce2(c.en2Size), c.difficulty);
      const low = findShare(c.job, c.en1, zeroExtranonce2(c.en2Size, 1), { target: difficultyToTarget(c.difficulty), meets: false });
      c.conn.write(
        line({ id: 10, method: "mining.submit", params: submitParams(c.user, c.job, s) }) +
          line({ id: 11, method: "mining.submit", params: submitParams(c.user, c.job, low) }) +
          line({ id: 12, method: "mining.submit", params: submitParams(c.user, c.job, s) }) +
          line({ id: 13, method: "mining.submit", params: [c.user, "nosuchjob", zeroExtranonce2(c.en2Size, 2), c.job.ntime, "00000000"] }),
      );
      const r: Msg[] = [];
      for (const id of [10, 11, 12, 13]) r.push(await c.conn.next(byId(id), 10_000, `submit ${id} on thread ${c.thread}`));
      return { thread: c.thread, r };
    }));
    for (const { thread, r } of results) {
      const tag = `thread ${thread}`;
      expect([tag, r[0]]).toEqual([tag, { id: 10, result: true, error: null }]);
      expect([tag, r[1]]).toEqual([tag, { id: 11, result: null, error: [23, "Low difficulty share", null] }]);
      expect([tag, r[2]]).toEqual([tag, { id: 12, result: null, error: [22, "Duplicate share", null] }]);
      expect([tag, r[3]]).toEqual([tag, { id: 13, result: null, error: [21, "Job not found", null] }]);
    }
    expect(results.filter((x) => x.thread === 1).length).toBe(by[1]!);

    // The worker thread's shares reach the main thread's pool in batches.
    const after = await until(
      async () => {
        const s = await stats(R.httpPort);
        return s.pool.accepted - before.pool.accepted >= N && s.pool.rejected - before.pool.rejected >= 3 * N ? s : undefined;
      },
      8000,
      `pool.accepted +${N} and pool.rejected +${3 * N}`,
      () => R.tail(),
    );
    expect(after.pool.accepted - before.pool.accepted).toBe(N);
    expect(after.pool.rejected - before.pool.rejected).toBe(3 * N);
    const reasons = Object.entries(after.pool.rejectedByReason).filter(([, n]) => n > 0);
    expect(reasons.map(([, n]) => n)).toEqual([N, N, N]);
    expect(after.pool.height).toBe(before.pool.height);
    // Per-worker counts: the worker thread's shares carry their worker names to the main thread's stats.
    const workers = new Map(((await stats(R.httpPort)) as unknown as { workers: { name: string; accepted: number; rejected: number }[] }).workers.map((w) => [w.name, w]));
    for (const c of conns) expect([c.thread, workers.get(c.user)]).toMatchObject([c.thread, { name: c.user, accepted: 1, rejected: 3 }]);
    for (const c of conns) expect(c.conn.isClosed()).toBe(false);
    for (const c of conns) c.conn.close();
    await waitByThread(R, 0, 2);
  }, 45_000);
});

describe("stratum.threads=2: a found block reaches every thread", () => {
  let R: RelayProcess;
  beforeAll(async () => {
    R = await relay({ ...NO_ETH, "stratum.threads": "2", "upstream.devnet.bits": "207fffff" });
  }, 30_000);

  test("a block found on the worker thread, then one on the main thread: all 60 connections get a clean notify with the new prevhash; /api/blocks lists both accepted", async () => {
    const N = 60;
    const conns = await inBatches(N, 30, (i) => v1(R, 2, { user: `blk.w${i}`, password: "d=1e-12" }));
    const by = await waitByThread(R, N, 2);
    expect(perThread(conns, 2)).toEqual(by);
    expect(by[0]).toBeGreaterThan(0);
    expect(by[1]).toBeGreaterThan(0);
    const h0 = (await stats(R.httpPort)).pool.height;

    let job: Job = conns[0]!.job;
    const seen = new Map<V1Conn, number>(conns.map((c) => [c, c.conn.received.length]));
    const found: string[] = [];
    for (const [round, thread] of [[1, 1], [2, 0]] as const) {
      const finder = conns.find((c) => c.thread === thread)!;
      // Each connection's latest job (the same on every connection after a clean notify).
      const s = findShare(job, finder.en1, zeroExtranonce2(finder.en2Size, round), { target: networkTarget(job), meets: true });
      finder.conn.write(line({ id: 100 + round, method: "mining.submit", params: submitParams(finder.user, job, s) }));
      expect(await finder.conn.next(byId(100 + round), 10_000, `block submit on thread ${thread}`)).toEqual({ id: 100 + round, result: true, error: null });
      found.push(s.hashHex);
      const news = await Promise.all(conns.map(async (c) => {
        const start = seen.get(c)!;
        const m = await c.conn.next(
          (x) => x.method === "mining.notify" && c.conn.received.indexOf(x) >= start && (x.params as unknown[])[8] === true && (x.params as unknown[])[1] !== job.prevhash,
          10_000,
          `clean notify after block ${round} (connection on thread ${c.thread})`,
        );
        seen.set(c, c.conn.received.indexOf(m) + 1);
        return notifyJob(m);
      }));
      // Every thread delivered the same new job.
      expect(new Set(news.map((j) => j.prevhash)).size).toBe(1);
      expect(new Set(news.map((j) => j.jobId)).size).toBe(1);
      expect(news[0]!.prevhash).not.toBe(job.prevhash);
      job = news[0]!;
      // The fan-out gauge joins both threads' reports of that broadcast: every socket, once.
      await until(
        async () => (metricValue((await httpGet(R.httpPort, "/metrics")).text, "stratum_edge_notify_fanout_sockets") === N ? true : undefined),
        5000,
        `stratum_edge_notify_fanout_sockets = ${N} after block ${round}`,
        () => R.tail(),
      );
    }

    const listed = await until(
      async () => {
        const b = (await httpGet(R.httpPort, "/api/blocks")).json() as Record<string, { hash: string; result?: { accepted: boolean } }[]>;
        const btc = b.btc ?? [];
        return found.every((h) => btc.some((x) => x.hash === h && x.result !== undefined)) ? btc : undefined;
      },
      8000,
      "both blocks with a result in /api/blocks",
      () => R.tail(),
    );
    for (const h of found) expect(listed.find((x) => x.hash === h)?.result).toEqual({ accepted: true });
    expect((await stats(R.httpPort)).pool.height).toBe(h0 + 2);
    // A share on the new job is accepted on both threads (the old job's ids are gone everywhere). At
    // these bits every other hash is a block: the share must not be one, or the job would move again.
    for (const thread of [0, 1]) {
      const c = conns.find((x) => x.thread === thread)!;
      const s = validNonBlockShare(job, c.en1, zeroExtranonce2(c.en2Size, 9), 1e-12);
      c.conn.write(line({ id: 200, method: "mining.submit", params: submitParams(c.user, job, s) }));
      expect(await c.conn.next(byId(200), 5000, `share on the new job, thread ${thread}`)).toEqual({ id: 200, result: true, error: null });
      c.conn.write(line({ id: 201, method: "mining.submit", params: submitParams(c.user, conns[0]!.job, s) }));
      expect(await c.conn.next(byId(201), 5000, `share on the first job, thread ${thread}`)).toEqual({ id: 201, result: null, error: [21, "Job not found", null] });
    }
  }, 45_000);

  test("a re-authorize re-issues the job under a per-session alias on each thread; shares and blocks on the alias are accepted and reach every connection", async () => {
    const conns = await inBatches(20, 20, (i) => v1(R, 2, { user: `alias.w${i}`, password: "d=1e-12" }));
    for (const thread of [0, 1]) {
      const h0 = (await stats(R.httpPort)).pool.height;
      const c = conns.find((x) => x.thread === thread);
      if (c === undefined) throw new Error(`no connection on thread ${thread} among 20 (1 in 500,000)`);
      const marks = new Map<V1Conn, number>(conns.map((x) => [x, x.conn.received.length]));
      c.conn.write(line({ id: 300, method: "mining.authorize", params: [c.user, "d=2e-12"] }));
      expect(await c.conn.next(byId(300), 5000, "re-authorize")).toEqual({ id: 300, result: true, error: null });
      expect((await c.conn.next(byMethod("mining.set_difficulty"), 5000, "new difficulty")).params).toEqual([2e-12]);
      const alias = notifyJob(await c.conn.next(byMethod("mining.notify"), 5000, "re-issued job"));
      // Session threads mint aliases under their own prefix so no two threads can hand out the same id.
      if (thread === 1) expect(alias.jobId).toStartWith("t1-");
      else expect(alias.jobId).toMatch(/^[0-9a-f]+$/);
      const other = conns.find((x) => x !== c)!;
      const latest = notifyJob([...other.conn.received].reverse().find((m) => m.method === "mining.notify")!);
      expect(alias.jobId).not.toBe(latest.jobId);
      expect(alias.prevhash).toBe(latest.prevhash);

      const ok = validNonBlockShare(alias, c.en1, zeroExtranonce2(c.en2Size, 40), 2e-12);
      c.conn.write(line({ id: 301, method: "mining.submit", params: submitParams(c.user, alias, ok) }) + line({ id: 302, method: "mining.submit", params: submitParams(c.user, alias, ok) }));
      expect(await c.conn.next(byId(301), 5000, "share on the alias")).toEqual({ id: 301, result: true, error: null });
      expect(await c.conn.next(byId(302), 5000, "duplicate on the alias")).toEqual({ id: 302, result: null, error: [22, "Duplicate share", null] });

      const blk = findShare(alias, c.en1, zeroExtranonce2(c.en2Size, 41), { target: networkTarget(alias), meets: true });
      c.conn.write(line({ id: 303, method: "mining.submit", params: submitParams(c.user, alias, blk) }));
      expect(await c.conn.next(byId(303), 5000, `block on the alias (thread ${thread})`)).toEqual({ id: 303, result: true, error: null });
      await Promise.all(conns.map((x) =>
        x.conn.next(
          (m) => m.method === "mining.notify" && x.conn.received.indexOf(m) >= marks.get(x)! && (m.params as unknown[])[8] === true && (m.params as unknown[])[1] !== alias.prevhash,
          10_000,
          `clean notify after the alias block (connection on thread ${x.thread})`,
        )
      ));
      const listed = await until(
        async () => {
          const b = (await httpGet(R.httpPort, "/api/blocks")).json() as Record<string, { hash: string; worker: string; result?: { accepted: boolean } }[]>;
          return b.btc?.find((x) => x.hash === blk.hashHex && x.result !== undefined);
        },
        8000,
        `the alias block of thread ${thread} with a result in /api/blocks`,
        () => R.tail(),
      );
      expect(listed.result).toEqual({ accepted: true });
      expect(listed.worker).toBe(c.user);
      expect((await stats(R.httpPort)).pool.height).toBe(h0 + 1);
    }
  }, 45_000);
});

describe("stratum.threads=2: bans reach every thread", () => {
  const TOKEN = "threads-admin-token";
  let R: AbuseRelay;
  beforeAll(async () => {
    R = await startAbuseRelay({ sets: { ...NO_ETH, "stratum.threads": "2", "bans.maxMalformed": "3", "bans.banMs": "60000", "http.adminToken": TOKEN } });
    relays.push(R);
  }, 30_000);

  test("malformed lines on ONE worker-thread connection of 127.0.0.2 → ban: its 40 connections on both threads close, 20 new ones are refused at accept; 127.0.0.1 keeps mining on both threads", async () => {
    const BAD = "127.0.0.2";
    const bad = await inBatches(40, 20, (i) => v1(R, 2, { user: `ban.w${i}`, password: "d=1e-12", localAddress: BAD }));
    const good = await inBatches(16, 16, (i) => v1(R, 2, { user: `ok.w${i}`, password: "d=1e-12" }));
    await waitByThread(R, 56, 2);
    const badBy = perThread(bad, 2);
    expect(badBy[0]).toBeGreaterThan(0);
    expect(badBy[1]).toBeGreaterThan(0);
    const goodBy = perThread(good, 2);
    expect(goodBy[0]).toBeGreaterThan(0);
    expect(goodBy[1]).toBeGreaterThan(0);

    // The offender is served by the worker thread: its abuse events must reach the main thread's policy.
    const offender = bad.find((c) => c.thread === 1)!;
    offender.conn.write("{not json\n" + "}{\n" + "[1,2\n");
    const ban = await R.waitForLog((l) => l.msg === "banned" && l.address === BAD, 5000, `a ban of ${BAD}`);
    expect(ban.reason).toBe("malformed");
    await Promise.all(bad.map((c) => c.conn.waitClosed(5000).catch(() => {
      throw new Error(`connection of ${BAD} on thread ${c.thread} still open after the ban\n${R.tail()}`);
    })));
    const refused = await inBatches(20, 10, () => refusedAtAccept(R.mainPort, { localAddress: BAD, ms: 2000 }));
    expect(refused.filter((x) => !x.refused)).toEqual([]);
    expect(R.logs().filter((l) => l.msg === "banned" && l.address === BAD)).toHaveLength(1);
    // Both threads' refusals and kicks reach the main thread's counters (the threads report every 250 ms).
    const counts = await until(
      async () => {
        const m = (await httpGet(R.httpPort, "/metrics")).text;
        const refusedN = metricValue(m, "stratum_edge_connections_refused_total", 'reason="banned"') ?? 0;
        const closedN = metricValue(m, "stratum_edge_connections_closed_total", 'reason="banned"') ?? 0;
        return refusedN >= 20 && closedN >= 40 ? { refusedN, closedN, m } : undefined;
      },
      5000,
      "20 refused and 40 closed for a ban in /metrics",
      () => R.tail(),
    );
    expect(counts.refusedN).toBe(20);
    expect(counts.closedN).toBe(40);

    await waitByThread(R, 16, 2);
    for (const c of good) {
      expect(c.conn.isClosed()).toBe(false);
      const s = findShare(c.job, c.en1, zeroExtranonce2(c.en2Size, 1), { target: difficultyToTarget(1e-12), meets: true });
      c.conn.write(line({ id: 50, method: "mining.submit", params: submitParams(c.user, c.job, s) }));
      expect(await c.conn.next(byId(50), 5000, `honest share on thread ${c.thread}`)).toEqual({ id: 50, result: true, error: null });
    }
    // A fresh honest connection is admitted on whichever thread.
    const fresh = await inBatches(6, 6, (i) => v1(R, 2, { user: `ok.n${i}`, password: "d=1e-12" }));
    expect(fresh).toHaveLength(6);
  }, 45_000);

  test("admin API: a manual ban closes the source on both threads; lifting it re-admits the source on both threads", async () => {
    const SRC = "127.0.0.3";
    const conns = await inBatches(24, 12, (i) => v1(R, 2, { user: `man.w${i}`, password: "d=1e-12", localAddress: SRC }));
    const by = perThread(conns, 2);
    expect(by[0]).toBeGreaterThan(0);
    expect(by[1]).toBeGreaterThan(0);
    expect((await admin(R.httpPort, "POST", "/api/bans", TOKEN, { address: SRC, seconds: 600 })).status).toBe(201);
    await Promise.all(conns.map((c) => c.conn.waitClosed(5000).catch(() => {
      throw new Error(`connection of ${SRC} on thread ${c.thread} still open after the manual ban\n${R.tail()}`);
    })));
    const refused = await inBatches(10, 10, () => refusedAtAccept(R.mainPort, { localAddress: SRC, ms: 2000 }));
    expect(refused.filter((x) => !x.refused)).toEqual([]);

    expect((await admin(R.httpPort, "DELETE", `/api/bans/${SRC}`, TOKEN)).status).toBe(200);
    // The lift reaches the threads as a message: give it a moment, then every new connection must be served.
    await sleep(300);
    const back = await inBatches(24, 12, (i) => v1(R, 2, { user: `man.b${i}`, password: "d=1e-12", localAddress: SRC }));
    const backBy = perThread(back, 2);
    expect(backBy[0]).toBeGreaterThan(0);
    expect(backBy[1]).toBeGreaterThan(0);
  }, 45_000);
});

describe("stratum.threads=3: SIGTERM", () => {
  let R: RelayProcess;
  beforeAll(async () => {
    R = await relay({ ...NO_ETH, "stratum.threads": "3" });
  }, 30_000);

  test("45 connections on three threads all get client.reconnect and are closed; the process exits 0", async () => {
    const N = 45;
    const conns = await inBatches(N, 15, (i) => v1(R, 3, { user: `term.w${i}` }));
    const by = await waitByThread(R, N, 3);
    expect(perThread(conns, 3)).toEqual(by);
    for (const n of by) expect(n).toBeGreaterThan(0);
    const t0 = Date.now();
    R.child.kill("SIGTERM");
    await Promise.all(conns.map(async (c) => {
      const r = await c.conn.next(byMethod("client.reconnect"), 5000, `client.reconnect on thread ${c.thread}`);
      expect(r.id).toBeNull();
      await c.conn.waitClosed(5000);
    }));
    const exit = await Promise.race([R.exited, new Promise<"late">((r) => setTimeout(() => r("late"), 8000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(8000);
    expect(R.logs().some((l) => l.msg === "stopped")).toBe(true);
  }, T);
});

/** A mix digest other than `mix` that still passes the relay's µs pre-check, so the refusal comes from hashimoto (copied from eth.e2e). */
function passingWrongMix(header: string, nonce: string, mix: string, target: bigint): string {
  const h = hexToBytes(header.slice(2))!, n = hexToBytes(nonce.slice(2))!;
  for (let i = 1; i < 10_000; i++) {
    const m = "0x" + i.toString(16).padStart(8, "0") + mix.slice(10);
    if (m !== mix && BigInt("0x" + bytesToHex(quickCheck(h, n, hexToBytes(m.slice(2))!))) <= target) return m;
  }
  throw new Error("passingWrongMix: none found");
}

describe("stratum.threads=2 with ethash: checks forwarded to the main thread's verifier", () => {
  let R: RelayProcess;
  const DEFAULT_BLOCK_TARGET = ethBlockTarget(100_000n);
  beforeAll(async () => {
    const r = relay({ ...QUIET, "stratum.threads": "2" });
    epoch0Cache();
    R = await r;
    await ethCacheReady(R);
  }, 60_000);

  test("20 eth-proxy + 8 EthereumStratum connections on both threads: real shares true, wrong mix / low share 23 (as single-threaded)", async () => {
    const proxies = await inBatches(20, 10, async () => {
      const c = await connectStratum(R.stratumPort, R);
      sockets.push(c);
      return { c, ...(await ethProxyOpen(c, { email: "d=1e-9" })) };
    });
    const es = await inBatches(8, 8, async (i) => {
      const c = await connectStratum(R.stratumPort, R);
      sockets.push(c);
      const o = await ethStratumOpen(c, { user: `${ADDRESS}.es${i}`, password: "d=1e-9" });
      return { c, o, worker: `${ADDRESS}.es${i}`, thread: sliceOf(o.extranonce, 2) };
    });
    const by = await waitByThread(R, 28, 2);
    expect(by[0]).toBeGreaterThan(0);
    expect(by[1]).toBeGreaterThan(0);
    const header = proxies[0]!.work[0];
    for (const p of proxies) {
      expect(p.login).toEqual({ id: 1, jsonrpc: "2.0", result: true });
      expect(p.work).toEqual(proxies[0]!.work);
    }
    const t = BigInt(proxies[0]!.work[2]);
    const before = await stats(R.httpPort);

    // Every eth-proxy connection (the kernel put them on both threads: 20 coin flips) submits one valid and one wrong-mix share.
    const replies = await Promise.all(proxies.map(async (p, i) => {
      const s = findEthShare(header, { atMost: t, above: DEFAULT_BLOCK_TARGET, start: i * 1000 });
      const s2 = findEthShare(header, { atMost: t, above: DEFAULT_BLOCK_TARGET, start: Number(BigInt(s.nonce) + 1n) });
      const wrong = passingWrongMix(header, s2.nonce, s2.mix, t);
      return [await ethSubmit(p.c, 10, [s.nonce, header, s.mix], 15_000), await ethSubmit(p.c, 11, [s2.nonce, header, wrong], 15_000)];
    }));
    for (const [ok, bad] of replies) {
      expect(ok).toEqual({ id: 10, jsonrpc: "2.0", result: true });
      expect(bad).toEqual({ id: 11, jsonrpc: "2.0", result: null, error: { code: 23, message: "Invalid share" } });
    }

    // EthereumStratum: the extranonce slice names the thread, so both are known to be covered.
    const esBy = perThread(es, 2);
    expect(esBy[0]! + esBy[1]!).toBe(8);
    const [jobId, , esHeader] = es[0]!.o.notify;
    const esT = difficultyToTarget(1e-9);
    const threadsSeen = new Set<number>();
    for (const e of es) {
      expect(e.o.notify[0]).toBe(jobId);
      const s = findEthShare(esHeader, { atMost: esT, above: DEFAULT_BLOCK_TARGET, prefix: e.o.extranonce });
      expect(await ethStratumSubmit(e.c, 20, e.worker, jobId, s.minerNonce, 15_000)).toEqual({ id: 20, result: true, error: null });
      // Misses the target: refused only after hashimoto, i.e. after the round trip to the main thread's verifier.
      const low = findEthShare(esHeader, { atMost: esT, meets: false, prefix: e.o.extranonce, start: 500 });
      expect(await ethStratumSubmit(e.c, 21, e.worker, jobId, low.minerNonce, 15_000)).toEqual({ id: 21, result: null, error: [23, "Low difficulty share", null] });
      threadsSeen.add(e.thread);
    }
    if (threadsSeen.size < 2) {
      // 8 coin flips all landed on one thread (1 in 128): open more until the other thread has one.
      for (let i = 0; i < 40 && threadsSeen.size < 2; i++) {
        const c = await connectStratum(R.stratumPort, R);
        sockets.push(c);
        const o = await ethStratumOpen(c, { user: `${ADDRESS}.x${i}`, password: "d=1e-9" });
        const th = sliceOf(o.extranonce, 2);
        if (threadsSeen.has(th)) continue;
        const s = findEthShare(o.notify[2], { atMost: esT, above: DEFAULT_BLOCK_TARGET, prefix: o.extranonce });
        expect(await ethStratumSubmit(c, 20, `${ADDRESS}.x${i}`, o.notify[0], s.minerNonce, 15_000)).toEqual({ id: 20, result: true, error: null });
        threadsSeen.add(th);
      }
    }
    expect([...threadsSeen].sort()).toEqual([0, 1]);

    const after = await until(
      async () => {
        const s = await stats(R.httpPort);
        const acc = (s.eth?.accepted ?? 0) - (before.eth?.accepted ?? 0);
        const rej = (s.eth?.rejected ?? 0) - (before.eth?.rejected ?? 0);
        return acc >= 28 && rej >= 28 ? s : undefined;
      },
      8000,
      "eth.accepted +28 and eth.rejected +28",
      () => R.tail(),
    );
    expect(after.eth!.accepted - before.eth!.accepted).toBeGreaterThanOrEqual(28);
    expect(after.eth!.rejected - before.eth!.rejected).toBe(28);
  }, 60_000);
});

describe("stratum.threads=2: a port in use is still an error", () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir("stratum-edge-threads-port-");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const listenOn = (srv: Server) => new Promise<number>((res, rej) => {
    srv.once("error", rej);
    srv.listen(0, HOST, () => res((srv.address() as { port: number }).port));
  });
  const runOn = (port: number, extra: Record<string, string> = {}) => {
    const sets: Record<string, string> = { ...NO_ETH, "stratum.host": HOST, "stratum.port": String(port), "http.host": HOST, "http.port": "0", dataDir: dir, "stratum.threads": "2", ...extra };
    const args = ["--log-json"];
    for (const [k, v] of Object.entries(sets)) args.push("--set", `${k}=${v}`);
    return runBinary(args, 15_000);
  };

  test("a plain listener holds the port → exit 1, \"could not start\", nothing listening", async () => {
    const srv = createServer((s) => s.destroy());
    const port = await listenOn(srv);
    try {
      const r = await runOn(port);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("could not start");
      expect(r.stdout).not.toContain("stratum listening");
    } finally {
      srv.close();
    }
  }, T);

  test("a SO_REUSEPORT listener (another relay with threads) holds the port → exit 1, not a silent share", async () => {
    // reusePort is missing from bun-types' TCP listen options (src/runtime/bun.ts passes it the same way).
    const reuse = { reusePort: true } as object;
    const socket = { open: (s: { end(): void }) => s.end(), data: () => {} };
    const other = Bun.listen({ hostname: HOST, port: 0, socket, ...reuse });
    // Proof the holder really has SO_REUSEPORT: a second SO_REUSEPORT bind joins it silently, which
    // is exactly what the relay's threads do and what a relay alone must not do to a foreign socket.
    const joined = Bun.listen({ hostname: HOST, port: other.port, socket, ...reuse });
    joined.stop(true);
    try {
      const r = await runOn(other.port);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("could not start");
      expect(r.stdout).not.toContain("stratum listening");
    } finally {
      other.stop(true);
    }
  }, T);
});

describe("stratum.threads=1 (default)", () => {
  test("no connectionsByThread in /api/stats; connections counts the main thread's", async () => {
    const R = await relay(NO_ETH);
    const c = await v1(R, 1, { user: "one.w1", password: "d=1e-12" });
    await until(async () => ((await stats(R.httpPort)).connections === 1 ? true : undefined), 5000, "connections = 1", () => R.tail());
    const s = await stats(R.httpPort);
    expect("connectionsByThread" in s).toBe(false);
    expect(R.logs().some((l) => l.msg === "session threads listening")).toBe(false);
    const share = findShare(c.job, c.en1, zeroExtranonce2(c.en2Size), { target: difficultyToTarget(1e-12), meets: true });
    c.conn.write(line({ id: 5, method: "mining.submit", params: submitParams(c.user, c.job, share) }));
    expect(await c.conn.next(byId(5), 5000, "share")).toEqual({ id: 5, result: true, error: null });
  }, T);
});
