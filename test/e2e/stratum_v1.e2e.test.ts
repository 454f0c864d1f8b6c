// End-to-end Stratum v1 against the compiled binary: exact wire answers, found devnet blocks, replayed firmware openings, HTTP and graceful shutdown; no unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  byId,
  byMethod,
  connectStratum,
  findShare,
  handshake,
  httpGet,
  metricValue,
  networkTarget,
  notifyJob,
  sha,
  shareTarget,
  startRelay,
  submitParams,
  until,
  zeroExtranonce2,
  type Msg,
  type RelayProcess,
  type StratumClient,
} from "./helpers.ts";
import { sha256d } from "../../protocols/pow/sha256d.ts";
import { bytesToHexReversed, hexToBytes, hexToU32, u32ToHex } from "../../protocols/pow/hex.ts";
import { bitsToTarget, targetToDifficulty } from "../../protocols/pow/target.ts";
import fixtures from "../fixtures/stratum-messages.json";

const T = 20_000;
const fx = (name: string): Record<string, unknown> => {
  const m = fixtures.messages.find((x) => x.name === name);
  if (!m) throw new Error(`fixture ${name} missing`);
  return structuredClone(m.json) as Record<string, unknown>;
};
const line = (o: unknown) => JSON.stringify(o) + "\n";

/** Default devnet bits 1e00ffff: network difficulty exactly 2^-8, the cap on any share difficulty. */
const NET_DIFF_DEFAULT = targetToDifficulty(bitsToTarget(0x1e00ffff));
const MASK = 0x1fffe000;

// suggestFloor lowered so the `d=1e-12` password really gives difficulty 1e-12 (target capped at
// 2^256-1, every well-formed share valid); with the default floor (1e-4) it would be raised to 1e-4.
// No simulated network blocks during the run (default 60 s): a clean job would turn submits into "Job not found".
const EASY = { "difficulty.suggestFloor": "1e-12", "upstream.devnet.blockIntervalSeconds": "3600" };

const clients: StratumClient[] = [];
async function open(relay: RelayProcess): Promise<StratumClient> {
  const c = await connectStratum(relay.stratumPort, relay);
  clients.push(c);
  return c;
}

/** Index of a message object in the client's arrival order. */
const at = (c: StratumClient, m: Msg) => c.received.indexOf(m);

let A: RelayProcess; // default bits: shares, errors, firmware openings, HTTP
let B: RelayProcess; // bits 207fffff: every other hash is a block
let C: RelayProcess; // graceful shutdown

beforeAll(async () => {
  [A, B, C] = await Promise.all([
    startRelay({ sets: EASY }),
    startRelay({ sets: { ...EASY, "upstream.devnet.bits": "207fffff" } }),
    startRelay({}),
  ]);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([A, B, C].filter((r) => r !== undefined).map((r) => r.stop()));
});

describe("stratum v1 session over TCP", () => {
  test("subscribe → authorize → set_difficulty then notify; valid, duplicate, unknown job, unauthorized worker", async () => {
    const c = await open(A);
    c.sendRaw(line({ id: 1, method: "mining.subscribe", params: ["e2e/1.0"] }) + line({ id: 2, method: "mining.authorize", params: ["e2e.w1", "d=1e-12"] }));
    const sub = await c.next(byId(1), 5000, "subscribe result");
    const auth = await c.next(byId(2), 5000, "authorize result");
    const sd = await c.next(byMethod("mining.set_difficulty"), 5000, "set_difficulty");
    const nt = await c.next(byMethod("mining.notify"), 5000, "notify");

    expect(sub.error).toBeNull();
    const [subs, en1, en2Size] = sub.result as [string[][], string, number];
    expect(en1).toMatch(/^[0-9a-f]{8}$/); // stratum.extranonce1Size default 4
    expect(en2Size).toBe(4);
    expect(subs).toEqual([["mining.set_difficulty", en1], ["mining.notify", en1]]);
    expect(auth).toEqual({ id: 2, result: true, error: null });
    expect(sd).toEqual({ id: null, method: "mining.set_difficulty", params: [1e-12] });
    // Order on the wire: both replies first, then set_difficulty, then the job.
    const firstNotification = c.received.findIndex((m) => m.method !== undefined);
    expect(at(c, sub)).toBeLessThan(firstNotification);
    expect(at(c, auth)).toBeLessThan(firstNotification);
    expect(at(c, sd)).toBe(firstNotification);
    expect(at(c, nt)).toBeGreaterThan(at(c, sd));
    const job = notifyJob(nt);
    expect(job.clean).toBe(true);
    expect(job.nbits).toBe("1e00ffff");

    const share = findShare(job, en1, zeroExtranonce2(en2Size), { target: shareTarget(1e-12), meets: true });
    c.send({ id: 3, method: "mining.submit", params: submitParams("e2e.w1", job, share) });
    expect(await c.next(byId(3))).toEqual({ id: 3, result: true, error: null });

    c.send({ id: 4, method: "mining.submit", params: submitParams("e2e.w1", job, share) });
    expect(await c.next(byId(4))).toEqual({ id: 4, result: null, error: [22, "Duplicate share", null] });

    c.send({ id: 5, method: "mining.submit", params: ["e2e.w1", "nosuchjob", zeroExtranonce2(en2Size, 1), job.ntime, "00000000"] });
    expect(await c.next(byId(5))).toEqual({ id: 5, result: null, error: [21, "Job not found", null] });

    const other = findShare(job, en1, zeroExtranonce2(en2Size, 2), { target: shareTarget(1e-12), meets: true });
    c.send({ id: 6, method: "mining.submit", params: submitParams("intruder.w9", job, other) });
    expect(await c.next(byId(6))).toEqual({ id: 6, result: null, error: [24, "Unauthorized worker", null] });
    expect(c.isClosed()).toBe(false);
  }, T);

  test("a share above the share target → [23]; d=1 is capped at the network difficulty 1/256", async () => {
    const c = await open(A);
    const h = await handshake(c, { user: "e2e.hard", password: "d=1" });
    expect(h.difficulty).toBe(NET_DIFF_DEFAULT);
    expect(NET_DIFF_DEFAULT).toBe(1 / 256);
    const miss = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size), { target: shareTarget(h.difficulty), meets: false });
    c.send({ id: 3, method: "mining.submit", params: submitParams("e2e.hard", h.job, miss) });
    expect(await c.next(byId(3))).toEqual({ id: 3, result: null, error: [23, "Low difficulty share", null] });
  }, T);

  test("submit before subscribe (after an authorize) → [25]", async () => {
    const c = await open(A);
    // The first line picks the dialect, so the connection opens with authorize, then submits unsubscribed.
    c.sendRaw(line({ id: 1, method: "mining.authorize", params: ["e2e.early", "x"] }) +
      line({ id: 2, method: "mining.submit", params: ["e2e.early", "1", "00000000", "00000000", "00000000"] }));
    expect(await c.next(byId(1))).toEqual({ id: 1, result: true, error: null });
    expect(await c.next(byId(2))).toEqual({ id: 2, result: null, error: [25, "Not subscribed", null] });
    expect(c.received.some((m) => m.method === "mining.notify")).toBe(false);
  }, T);

  test("a connection whose very first line is a submit → [25]", async () => {
    const c = await open(A);
    c.send({ id: 1, method: "mining.submit", params: ["w", "1", "00000000", "00000000", "00000000"] });
    expect(await c.next(byId(1))).toEqual({ id: 1, result: null, error: [25, "Not subscribed", null] });
    expect(c.isClosed()).toBe(false);
  }, T);

  test("malformed JSON → [20] each time; the connection survives 9, the 10th closes it", async () => {
    const c = await open(A);
    c.send({ id: 1, method: "mining.subscribe", params: [] });
    await c.next(byId(1));
    const bad = ['{"id":7,"method":"mining.submit","params":[', "{not json", "}{", "[1,2", '{"id":'];
    const sendBad = (i: number) => c.sendRaw(bad[i % bad.length] + "\n");
    const errs: Msg[] = [];
    for (let i = 0; i < 3; i++) {
      sendBad(i);
      const e = await c.next((m) => Array.isArray(m.error), 5000, `error for malformed line ${i + 1}`);
      errs.push(e);
    }
    c.send({ id: 50, method: "mining.extranonce.subscribe", params: [] });
    expect(await c.next(byId(50))).toEqual({ id: 50, result: true, error: null });
    for (let i = 3; i < 9; i++) {
      sendBad(i);
      errs.push(await c.next((m) => Array.isArray(m.error), 5000, `error for malformed line ${i + 1}`));
    }
    c.send({ id: 51, method: "mining.extranonce.subscribe", params: [] });
    expect(await c.next(byId(51))).toEqual({ id: 51, result: true, error: null });
    expect(c.isClosed()).toBe(false);
    sendBad(9);
    errs.push(await c.next((m) => Array.isArray(m.error), 5000, "error for malformed line 10"));
    await c.waitClosed(3000);
    expect(errs).toHaveLength(10);
    for (const e of errs) {
      expect(e.result).toBeNull();
      const err = e.error as [number, string, null];
      expect(err[0]).toBe(20);
      expect(err[1]).toStartWith("Malformed request");
      expect(err[2]).toBeNull();
    }
  }, T);
});

describe("found devnet block (bits 207fffff)", () => {
  test("submit true → clean notify with a new prevhash, height+1, stats, journal and metrics", async () => {
    const before = (await httpGet(B.httpPort, "/api/stats")).json() as { pool: { height: number } };
    const c = await open(B);
    const h = await handshake(c, { user: "e2e.blockfinder", password: "d=1e-12" });
    expect(h.job.nbits).toBe("207fffff");
    // 1e-12 is below the network difficulty (~4.66e-10), so the cap does not touch it.
    expect(h.difficulty).toBe(1e-12);
    expect(targetToDifficulty(bitsToTarget(0x207fffff))).toBeGreaterThan(1e-12);
    const share = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size), { target: networkTarget(h.job), meets: true });
    c.send({ id: 10, method: "mining.submit", params: submitParams("e2e.blockfinder", h.job, share) });
    expect(await c.next(byId(10))).toEqual({ id: 10, result: true, error: null });

    const next = notifyJob(await c.next((m) => m.method === "mining.notify" && (m.params as unknown[])[8] === true, 5000, "clean notify after the block"));
    expect(next.clean).toBe(true);
    expect(next.prevhash).not.toBe(h.job.prevhash);
    expect(next.jobId).not.toBe(h.job.jobId);

    type Stats = { pool: { height: number; blocks: { hash: string; height: number; worker: string; result?: { accepted: boolean } }[] } };
    const stats = await until(async () => {
      const s = (await httpGet(B.httpPort, "/api/stats")).json() as Stats;
      return s.pool.blocks.some((b) => b.hash === share.hashHex && b.result !== undefined) ? s : undefined;
    }, 5000, "the block with a result in /api/stats", () => B.tail());
    expect(stats.pool.height).toBe(before.pool.height + 1);
    const blk = stats.pool.blocks.find((b) => b.hash === share.hashHex)!;
    expect(blk.result).toEqual({ accepted: true });
    expect(blk.worker).toBe("e2e.blockfinder");
    expect(blk.height).toBe(before.pool.height);
    const listed = (await httpGet(B.httpPort, "/api/blocks")).json() as Record<string, { hash: string; result?: { accepted: boolean } }[]>;
    expect(listed.btc?.find((b) => b.hash === share.hashHex)?.result).toEqual({ accepted: true });

    // The journal: a candidate line (whose first 80 bytes hash to the block hash) and a result line.
    const lines = readFileSync(join(B.dataDir, "blocks.jsonl"), "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
    const cand = lines.find((l) => l.type === "candidate" && l.hash === share.hashHex);
    const res = lines.find((l) => l.type === "result" && l.hash === share.hashHex);
    expect(cand).toBeDefined();
    expect(res).toMatchObject({ type: "result", hash: share.hashHex, accepted: true });
    const blockHex = cand!.blockHex as string;
    expect(blockHex).toMatch(/^[0-9a-f]+$/);
    const headerHash = new Uint8Array(32);
    sha256d(sha, hexToBytes(blockHex.slice(0, 160))!, headerHash);
    expect(bytesToHexReversed(headerHash)).toBe(share.hashHex);
    expect(lines.indexOf(cand!)).toBeLessThan(lines.indexOf(res!));

    const metrics = (await httpGet(B.httpPort, "/metrics")).text;
    expect(metricValue(metrics, "stratum_edge_blocks_total", 'result="accepted"')).toBeGreaterThanOrEqual(1);
  }, T);
});

describe("replayed firmware openings (one pipelined write each)", () => {
  test("Bitaxe / ESP-Miner: configure first, replies 1..4 in order, then set_difficulty and notify; version bits in/out of mask", async () => {
    const c = await open(A);
    const auth: Record<string, unknown> = { ...fx("authorize"), id: 3 }; // the fixture's own id (2) collides with subscribe_bitaxe
    const opening = [fx("configure_bitaxe"), fx("subscribe_bitaxe"), auth, fx("suggest_difficulty_bitaxe")];
    expect(opening.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect((fx("configure_bitaxe").params as unknown[])[1]).toEqual({ "version-rolling.mask": "ffffffff" });
    c.sendRaw(opening.map(line).join(""));
    const nt = await c.next(byMethod("mining.notify"), 5000, "first notify");
    const replies = c.received.filter((m) => m.method === undefined);
    expect(replies.map((m) => m.id)).toEqual([1, 2, 3, 4]);
    expect(replies[0]).toEqual({ id: 1, result: { "version-rolling": true, "version-rolling.mask": "1fffe000" }, error: null });
    expect((replies[1]!.result as unknown[])[2]).toBe(4);
    expect(replies[2]).toEqual({ id: 3, result: true, error: null });
    expect(replies[3]).toEqual({ id: 4, result: true, error: null });
    const sd = await c.next(byMethod("mining.set_difficulty"));
    expect(at(c, sd)).toBe(4);
    expect(at(c, nt)).toBe(5);
    // suggest_difficulty 1000 is capped at the network difficulty.
    expect(sd.params).toEqual([NET_DIFF_DEFAULT]);
    const en1 = (replies[1]!.result as unknown[])[1] as string;

    // Re-authorize with a fixed easy difficulty: a new set_difficulty and a re-issued job follow.
    const user = (auth.params as string[])[0]!;
    c.send({ id: 5, method: "mining.authorize", params: [user, "d=1e-12"] });
    expect(await c.next(byId(5))).toEqual({ id: 5, result: true, error: null });
    expect(await c.next(byMethod("mining.set_difficulty"))).toMatchObject({ params: [1e-12] });
    const job = notifyJob(await c.next(byMethod("mining.notify"), 5000, "re-issued notify"));
    const bits = 0x0a006000; // inside 1fffe000
    expect((bits & ~MASK) >>> 0).toBe(0);
    const version = ((hexToU32(job.version) & ~MASK) | bits) >>> 0;
    const share = findShare(job, en1, zeroExtranonce2(4), { target: shareTarget(1e-12), meets: true, version });
    c.send({ id: 6, method: "mining.submit", params: submitParams(user, job, share, undefined, u32ToHex(bits)) });
    expect(await c.next(byId(6))).toEqual({ id: 6, result: true, error: null });

    const outside = findShare(job, en1, "00000001", { target: shareTarget(1e-12), meets: true });
    c.send({ id: 7, method: "mining.submit", params: submitParams(user, job, outside, undefined, "e0000000") });
    const r = await c.next(byId(7));
    expect(r.result).toBeNull();
    expect((r.error as unknown[])[0]).toBe(20);
    expect((r.error as unknown[])[1]).toStartWith("Invalid version bits");
  }, T);

  test("cgminer resume: reconnecting with the old extranonce1 gets it back", async () => {
    const conns = async () => ((await httpGet(A.httpPort, "/api/stats")).json() as { connections: number }).connections;
    const n0 = await conns();
    const c1 = await open(A);
    c1.send(fx("subscribe_cgminer"));
    const r1 = (await c1.next(byId(1))).result as [string[][], string, number];
    const en1 = r1[1];
    // cgminer resumes with the id of the mining.notify subscription tuple.
    const session = r1[0].find((t) => t[0] === "mining.notify")![1]!;
    expect(session).toBe(en1);
    c1.close();
    await until(async () => ((await conns()) <= n0 ? true : undefined), 5000, "the relay to notice the disconnect", () => A.tail());
    const c2 = await open(A);
    const resume = fx("subscribe_cgminer_resume");
    (resume.params as string[])[1] = session;
    c2.send(resume);
    const r2 = (await c2.next(byId(1))).result as [string[][], string, number];
    expect(r2[1]).toBe(en1);
    // A fresh cgminer connection meanwhile gets a different one.
    const c3 = await open(A);
    c3.send(fx("subscribe_cgminer"));
    expect(((await c3.next(byId(1))).result as unknown[])[1]).not.toBe(en1);
  }, T);

  test("NerdMiner: fractional suggest_difficulty → set_difficulty 0.0005; a valid share with a short nonce is accepted", async () => {
    const c = await open(A);
    c.sendRaw(line(fx("subscribe_nerdminer")) + line({ id: 2, method: "mining.authorize", params: ["bc1qnerd.nerd1", "x"] }) +
      line({ id: 3, method: "mining.suggest_difficulty", params: [0.0005] }));
    const sub = await c.next(byId(1));
    expect(await c.next(byId(2))).toEqual({ id: 2, result: true, error: null });
    expect(await c.next(byId(3))).toEqual({ id: 3, result: true, error: null });
    expect(await c.next(byMethod("mining.set_difficulty"))).toEqual({ id: null, method: "mining.set_difficulty", params: [0.0005] });
    const job = notifyJob(await c.next(byMethod("mining.notify")));
    const [, en1] = sub.result as [unknown, string, number];
    // Expected ~2^21 hashes; nonces below 0x10000000 print in at most 7 hex digits.
    const share = findShare(job, en1, "00000000", { target: shareTarget(0.0005), meets: true, maxTries: 0x10000000 });
    const shortNonce = share.nonce.toString(16);
    expect(shortNonce.length).toBeLessThan(8);
    c.send({ id: 4, method: "mining.submit", params: submitParams("bc1qnerd.nerd1", job, share, shortNonce) });
    expect(await c.next(byId(4))).toEqual({ id: 4, result: true, error: null });
  }, T);

  test("ESP-Miner's request-shaped pong gets no answer and no close; mining.extranonce.subscribe → true", async () => {
    const c = await open(A);
    c.send({ id: 1, method: "mining.subscribe", params: ["bitaxe/BM1370/v2.6.0"] });
    await c.next(byId(1));
    const pong = fx("mining_ping_reply_esp_miner_quirk");
    expect(pong).toEqual({ id: 42, method: "pong", params: [] });
    const xs = fx("extranonce_subscribe");
    c.sendRaw(line(pong) + line(xs));
    expect(await c.next(byId("X"))).toEqual(fx("extranonce_subscribe_result"));
    await new Promise((r) => setTimeout(r, 200));
    expect(c.received.some((m) => m.id === 42)).toBe(false);
    expect(c.isClosed()).toBe(false);
    c.send({ id: 43, method: "mining.extranonce.subscribe", params: [] });
    expect(await c.next(byId(43))).toEqual({ id: 43, result: true, error: null });
  }, T);
});

describe("HTTP", () => {
  test("/healthz ok once a job exists; /metrics connections and share counters; /api/stats lists the worker", async () => {
    const hz = await httpGet(A.httpPort, "/healthz");
    expect(hz.status).toBe(200);
    expect(hz.json()).toMatchObject({ ok: true, version: "0.1.0" });

    const c = await open(A);
    const h = await handshake(c, { user: "e2e.httpworker", password: "d=1e-12" });
    for (let i = 0; i < 2; i++) {
      const s = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size, i), { target: shareTarget(1e-12), meets: true });
      c.send({ id: 100 + i, method: "mining.submit", params: submitParams("e2e.httpworker", h.job, s) });
      expect(await c.next(byId(100 + i))).toEqual({ id: 100 + i, result: true, error: null });
    }
    type Stats = { connections: number; workers: { name: string; accepted: number; rejected: number }[]; pool: { accepted: number } };
    const stats = (await httpGet(A.httpPort, "/api/stats")).json() as Stats;
    expect(stats.workers.find((w) => w.name === "e2e.httpworker")).toMatchObject({ name: "e2e.httpworker", accepted: 2, rejected: 0 });
    expect(stats.connections).toBeGreaterThanOrEqual(1);

    const m = await httpGet(A.httpPort, "/metrics");
    expect(m.status).toBe(200);
    expect(metricValue(m.text, "stratum_edge_connections")).toBe(stats.connections);
    expect(metricValue(m.text, "stratum_edge_shares_total", 'result="accepted",reason=""')).toBe(stats.pool.accepted);
    expect(stats.pool.accepted).toBeGreaterThanOrEqual(2);
    expect(metricValue(m.text, "stratum_edge_shares_total", 'result="rejected",reason="duplicate"')).toBeGreaterThanOrEqual(0);
  }, T);
});

describe("graceful shutdown", () => {
  test("SIGTERM: every miner gets client.reconnect, then the socket closes; exit 0 within 3 s", async () => {
    const a = await open(C);
    const b = await open(C);
    await handshake(a, { user: "e2e.s1" });
    await handshake(b, { user: "e2e.s2" });
    const t0 = Date.now();
    C.child.kill("SIGTERM");
    for (const c of [a, b]) {
      const r = await c.next(byMethod("client.reconnect"), 3000, "client.reconnect");
      expect(r.id).toBeNull();
      await c.waitClosed(3000);
    }
    const exit = await Promise.race([C.exited, new Promise<"late">((r) => setTimeout(() => r("late"), 3000 - (Date.now() - t0)))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(C.logs().some((l) => l.msg === "stopped")).toBe(true);
  }, T);
});
