// bitcoind work source: a fake JSON-RPC node under a manual clock (errors, cookie auth, longpoll, failover, outage, submitblock answers), then a real litecoind regtest pair (templates, rejections, a mined block, failover).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { scrypt as nobleScrypt } from "@noble/hashes/scrypt.js";
import { createBitcoindSource, type BitcoindSource, type BitcoindSourceOptions } from "../../../src/upstream/bitcoind.ts";
import { createRpcClient, mapSubmitAnswer, parseTemplate, type FetchLike } from "../../../src/upstream/bitcoind_rpc.ts";
import { createManualClock, type ManualClock } from "../../../src/runtime/manual_clock.ts";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import type { TemplateReason } from "../../../src/upstream/types.ts";
import type { StratumJob } from "../../../protocols/stratum-v1/job_types.ts";
import { buildJob } from "../../../protocols/stratum-v1/job.ts";
import { assembleBlock, buildHeader, type SubmitFields } from "../../../protocols/stratum-v1/share.ts";
import { scryptPow } from "../../../protocols/pow/scrypt.ts";
import { nobleSha256Into } from "../../../protocols/pow/sha256d.ts";
import { bytesToHex, hexToBytes } from "../../../protocols/pow/hex.ts";
import { hashMeetsTarget } from "../../../protocols/pow/target.ts";
import { realClock } from "../../../src/runtime/shared.ts";

setDefaultTimeout(30_000);
const _assignable: (s: BitcoindSource) => import("../../../src/upstream/types.ts").BitcoinWorkSource = (s) => s;
void _assignable;

// --- a fake Bitcoin Core: getblocktemplate (with longpoll), getbestblockhash, submitblock ---

type Answer = { result: unknown } | { error: { code: number; message: string } };

interface FakeNode {
  url: string;
  down: boolean;
  /** Expected Authorization header; undefined = accept anything. */
  auth?: string;
  gbtError?: { code: number; message: string };
  submitAnswer: () => Answer | "transport";
  height: number;
  tip: string;
  txs: { data: string; txid: string; hash: string }[];
  mempoolSeq: number;
  calls: string[];
  lpWaiters: Array<() => void>;
  mine(): void;
  addTx(): void;
}

function hash(n: number, tag = 0): string {
  return (tag.toString(16).padStart(8, "0") + n.toString(16).padStart(8, "0")).repeat(4);
}

function fakeNode(url: string, height = 100): FakeNode {
  const n: FakeNode = {
    url,
    down: false,
    submitAnswer: () => ({ result: null }),
    height,
    tip: hash(height),
    txs: [],
    mempoolSeq: 0,
    calls: [],
    lpWaiters: [],
    mine() {
      n.height++;
      n.tip = hash(n.height);
      n.txs = [];
      n.mempoolSeq++;
      for (const w of n.lpWaiters.splice(0)) w();
    },
    addTx() {
      const i = n.txs.length + 1;
      n.txs.push({ data: "02000000" + "ab".repeat(60), txid: hash(i, 0xfeed), hash: hash(i, 0xbeef) });
      n.mempoolSeq++;
    },
  };
  return n;
}

function gbt(n: FakeNode): unknown {
  return {
    version: 0x20000000,
    rules: ["csv", "!segwit", "taproot"],
    previousblockhash: n.tip,
    transactions: n.txs.map((t) => ({ ...t, depends: [], fee: 100, sigops: 1, weight: 400 })),
    coinbaseaux: {},
    coinbasevalue: 5000000000 + n.txs.length * 100,
    longpollid: n.tip + n.mempoolSeq,
    curtime: 1_700_000_000,
    bits: "207fffff",
    height: n.height + 1,
    default_witness_commitment: "6a24aa21a9ed" + "11".repeat(32),
  };
}

function fakeNet(...nodes: FakeNode[]): FetchLike {
  return async (url, init) => {
    const n = nodes.find((x) => x.url === url);
    if (!n || n.down) throw new TypeError(`Unable to connect to ${url}`);
    const auth = new Headers(init.headers).get("authorization") ?? undefined;
    if (n.auth !== undefined && auth !== n.auth) return new Response("", { status: 401 });
    const req = JSON.parse(String(init.body)) as { id: number; method: string; params: unknown[] };
    n.calls.push(req.method);
    let a: Answer | "transport";
    if (req.method === "getbestblockhash") a = { result: n.tip };
    else if (req.method === "getblocktemplate") {
      const p = req.params[0] as { longpollid?: string; rules: string[] };
      if (n.gbtError) a = { error: n.gbtError };
      else {
        if (p.longpollid !== undefined && p.longpollid === n.tip + n.mempoolSeq) {
          // Hold the call like Core does until the tip (or, here, a test's wake) changes; honour the abort.
          await new Promise<void>((resolve, reject) => {
            n.lpWaiters.push(resolve);
            init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")), { once: true });
          });
          if (n.down) throw new TypeError("connection reset");
        }
        a = { result: gbt(n) };
      }
    } else if (req.method === "submitblock") a = n.submitAnswer();
    else a = { error: { code: -32601, message: "Method not found" } };
    if (a === "transport") throw new TypeError("connection reset by peer");
    // Core's JSON-RPC 1.0 replies: errors with HTTP 500 and a JSON body.
    if ("error" in a) return new Response(JSON.stringify({ result: null, error: a.error, id: req.id }), { status: 500 });
    return new Response(JSON.stringify({ result: a.result, error: null, id: req.id }), { status: 200 });
  };
}

/** Lets pending promise chains (fake fetch, source loops) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 0));
}
async function advance(clock: ManualClock, ms: number, step = 250): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

interface Rig {
  src: BitcoindSource;
  clock: ManualClock;
  events: { t: BlockTemplate; reason: TemplateReason }[];
  logs: string[];
}

function rig(nodes: FakeNode[], o: Partial<BitcoindSourceOptions> = {}): Rig {
  const clock = createManualClock(1_000_000);
  const logs: string[] = [];
  const events: Rig["events"] = [];
  const src = createBitcoindSource({
    nodes: nodes.map((n) => ({ url: n.url, user: "u", password: "p" })),
    rules: ["mweb", "segwit"],
    longpoll: true,
    pollIntervalMs: 1000,
    mempoolRefreshSeconds: 30,
    maxJobAgeSeconds: 60,
    clock,
    fetch: fakeNet(...nodes),
    log: (m) => logs.push(m),
    ...o,
  });
  src.onTemplate((t, reason) => events.push({ t, reason }));
  return { src, clock, events, logs };
}

const count = (xs: string[], s: string) => xs.filter((x) => x === s).length;

describe("rpc client", () => {
  test("RPC errors are typed with code and message; transport failures are distinct", async () => {
    const a = fakeNode("http://a/");
    a.gbtError = { code: -9, message: "Litecoin is not connected!" };
    const clock = createManualClock();
    const rpc = createRpcClient({ url: "http://a/" }, { fetch: fakeNet(a), clock, timeoutMs: 1000 });
    expect(await rpc.call("getblocktemplate", [{ rules: [] }])).toEqual({
      ok: false,
      error: { kind: "rpc", code: -9, message: "Litecoin is not connected!" },
    });
    a.down = true;
    const r = await rpc.call("getbestblockhash", []);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.kind).toBe("transport");
  });

  test("timeout through the injected clock aborts the request", async () => {
    const clock = createManualClock();
    const hang: FetchLike = (_u, init) =>
      new Promise((_res, rej) => init.signal?.addEventListener("abort", () => rej(new DOMException("aborted", "AbortError"))));
    const rpc = createRpcClient({ url: "http://a/" }, { fetch: hang, clock, timeoutMs: 2000 });
    const p = rpc.call("getbestblockhash", []);
    clock.advance(1999);
    await settle();
    let done = false;
    void p.then(() => (done = true));
    await settle();
    expect(done).toBe(false);
    clock.advance(1);
    expect(await p).toEqual({ ok: false, error: { kind: "transport", message: "timeout after 2000 ms", timeout: true } });
  });

  test("non-JSON body (503 work queue) is a transport error; credentials in the URL move to the header", async () => {
    const clock = createManualClock();
    let seen: string | null = null;
    let seenUrl = "";
    const f: FetchLike = async (url, init) => {
      seenUrl = url;
      seen = new Headers(init.headers).get("authorization");
      return new Response("Work queue depth exceeded", { status: 503 });
    };
    const rpc = createRpcClient({ url: "http://al%40ice:s3cret@127.0.0.1:9/" }, { fetch: f, clock, timeoutMs: 1000 });
    const r = await rpc.call("getbestblockhash", []);
    expect(r).toEqual({ ok: false, error: { kind: "transport", message: "HTTP 503: Work queue depth exceeded" } });
    expect(seenUrl).toBe("http://127.0.0.1:9/");
    expect(rpc.label).toBe("http://127.0.0.1:9/");
    expect(seen === `Basic ${btoa("al@ice:s3cret")}`).toBe(true);
  });

  test("cookie file: read once, re-read on 401 (node restarted), auth error when still refused", async () => {
    const a = fakeNode("http://a/");
    let cookie = "__cookie__:first";
    let reads = 0;
    const readText = (p: string) => {
      expect(p).toBe("/data/.cookie");
      reads++;
      return cookie + "\n";
    };
    a.auth = `Basic ${btoa("__cookie__:first")}`;
    const rpc = createRpcClient({ url: a.url, cookieFile: "/data/.cookie" }, { fetch: fakeNet(a), clock: createManualClock(), readText, timeoutMs: 1000 });
    expect((await rpc.call("getbestblockhash", [])).ok).toBe(true);
    expect((await rpc.call("getbestblockhash", [])).ok).toBe(true);
    expect(reads).toBe(1);
    // node restart: new secret on disk and in the node
    cookie = "__cookie__:second";
    a.auth = `Basic ${btoa("__cookie__:second")}`;
    expect(await rpc.call("getbestblockhash", [])).toEqual({ ok: true, value: a.tip });
    expect(reads).toBe(2);
    a.auth = "Basic nope";
    const r = await rpc.call("getbestblockhash", []);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toEqual({ kind: "auth", status: 401, message: "rejected (cookie /data/.cookie)" });
  });
});

describe("template mapping", () => {
  const a = fakeNode("http://a/");
  a.addTx();
  test("GBT fields map into BlockTemplate (txid, not hash; bigint value; commitment; flags)", () => {
    const raw = { ...(gbt(a) as object), coinbaseaux: { flags: "0B2F503253482F" } };
    const p = parseTemplate(raw, ["mweb", "segwit"]);
    expect(p).toEqual({
      ok: true,
      longpollid: a.tip + a.mempoolSeq,
      template: {
        height: 101,
        version: 0x20000000,
        previousBlockHash: a.tip,
        bits: "207fffff",
        curtime: 1_700_000_000,
        coinbaseValue: 5000000100n,
        transactions: [{ data: "02000000" + "ab".repeat(60), txid: hash(1, 0xfeed) }],
        witnessCommitment: "6a24aa21a9ed" + "11".repeat(32),
        coinbaseFlags: "0b2f503253482f",
      },
    });
  });
  test("refuses unknown mandatory rules, MWEB data without its HogEx, and malformed results", () => {
    expect(parseTemplate(gbt(a), ["mweb"])).toEqual({ ok: false, message: "template requires rule 'segwit' which is not configured" });
    expect(parseTemplate({ ...(gbt(a) as object), mweb: "0102" }, ["segwit"]).ok).toBe(false);
    const bad = parseTemplate({ ...(gbt(a) as object), previousblockhash: "zz" }, ["segwit"]);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toContain("previousblockhash");
    expect(parseTemplate(null, ["segwit"]).ok).toBe(false);
  });
  test("submitblock answers (BIP22)", () => {
    expect(mapSubmitAnswer(null)).toEqual({ accepted: true });
    expect(mapSubmitAnswer("duplicate")).toEqual({ accepted: true, reason: "duplicate" });
    expect(mapSubmitAnswer("inconclusive")).toEqual({ accepted: true, reason: "inconclusive" });
    expect(mapSubmitAnswer("duplicate-inconclusive")).toEqual({ accepted: true, reason: "duplicate-inconclusive" });
    expect(mapSubmitAnswer("duplicate-invalid")).toEqual({ accepted: false, reason: "duplicate-invalid" });
    expect(mapSubmitAnswer("high-hash")).toEqual({ accepted: false, reason: "high-hash" });
    expect(mapSubmitAnswer("bad-txnmrklroot")).toEqual({ accepted: false, reason: "bad-txnmrklroot" });
    expect(mapSubmitAnswer("rejected")).toEqual({ accepted: false, reason: "rejected" });
    expect(mapSubmitAnswer(42)).toEqual({ accepted: false, reason: "unexpected answer 42" });
  });
});

describe("work source", () => {
  test("-10 (no blocks yet) then ready: down, logged once, then the initial template after reconnect", async () => {
    const a = fakeNode("http://a/");
    a.gbtError = { code: -10, message: "Litecoin is downloading blocks..." };
    const { src, clock, events, logs } = rig([a]);
    await src.start();
    expect(src.current()).toBeUndefined();
    expect(src.health().state).toBe("down");
    expect(src.health().nodes[0]?.workError).toBe("rpc error -10: Litecoin is downloading blocks...");
    await advance(clock, 10_000); // several reconnect attempts (1 s, 2 s, 4 s backoff)
    expect(a.calls.filter((c) => c === "getblocktemplate").length).toBeGreaterThanOrEqual(3);
    expect(count(logs, "bitcoind: node cannot serve work")).toBe(1);
    expect(count(logs, "bitcoind: no node serves work; keeping the last template until it is too old")).toBe(1);
    a.gbtError = undefined;
    await advance(clock, 9000);
    expect(events.map((e) => e.reason)).toEqual(["initial"]);
    expect(src.current()?.height).toBe(101);
    expect(src.health().state).toBe("ok");
    await src.stop();
  });

  test("longpoll: new tip → new_block at once, mempool wake → refresh, unchanged wake → nothing", async () => {
    const a = fakeNode("http://a/");
    const { src, events } = rig([a], { pollIntervalMs: 0, mempoolRefreshSeconds: 0, healthIntervalMs: 0 });
    await src.start();
    await settle();
    expect(src.health().longpollInFlight).toBe(true);
    a.mine(); // no clock advance: only the longpoll can deliver this
    await settle();
    expect(events.map((e) => e.reason)).toEqual(["initial", "new_block"]);
    expect(events[1]?.t.previousBlockHash).toBe(hash(101));
    a.addTx();
    for (const w of a.lpWaiters.splice(0)) w();
    await settle();
    expect(events.map((e) => e.reason)).toEqual(["initial", "new_block", "refresh"]);
    expect(events[2]?.t.transactions.length).toBe(1);
    for (const w of a.lpWaiters.splice(0)) w(); // returns the same work
    await settle();
    expect(events.length).toBe(3);
    expect(src.health().longpollInFlight).toBe(true);
    await src.stop();
    expect(src.health().longpollInFlight).toBe(false);
  });

  test("polling fallback (no longpoll): getbestblockhash each interval, template only on a new tip; mempool refresh every N s", async () => {
    const a = fakeNode("http://a/");
    const { src, clock, events } = rig([a], { longpoll: false, healthIntervalMs: 0 });
    await src.start();
    a.calls.length = 0;
    await advance(clock, 3000);
    expect(a.calls).toEqual(["getbestblockhash", "getbestblockhash", "getbestblockhash"]);
    a.mine();
    await advance(clock, 1000);
    expect(events.map((e) => e.reason)).toEqual(["initial", "new_block"]);
    a.addTx();
    await advance(clock, 25_000);
    expect(events.length).toBe(2); // mempool changes wait for the refresh
    await advance(clock, 5000);
    expect(events.map((e) => e.reason)).toEqual(["initial", "new_block", "refresh"]);
    await advance(clock, 30_000);
    expect(events.length).toBe(3); // same work: no new job
    await src.stop();
  });

  test("failover by priority, logged once per change, fail-back when the preferred node serves again", async () => {
    const a = fakeNode("http://a/");
    const b = fakeNode("http://b/");
    const c = fakeNode("http://c/");
    const clock = createManualClock(0);
    const logs: string[] = [];
    const events: string[] = [];
    const src = createBitcoindSource({
      nodes: [
        { url: a.url, priority: 2 },
        { url: b.url, priority: 0 },
        { url: c.url, priority: 1 },
      ],
      rules: ["segwit"],
      clock,
      fetch: fakeNet(a, b, c),
      log: (m) => logs.push(m),
      longpoll: false,
    });
    src.onTemplate((_t, r) => events.push(r));
    await src.start();
    expect(src.health().active).toBe("http://b/");
    expect(src.health().state).toBe("ok");
    b.down = true;
    await advance(clock, 1000);
    expect(src.health().active).toBe("http://c/");
    expect(src.health().state).toBe("failover");
    c.gbtError = { code: -9, message: "not connected!" };
    c.mine(); // c's tip moves: the poll notices, the template call fails → a
    await advance(clock, 1000);
    expect(src.health().active).toBe("http://a/");
    await advance(clock, 20_000);
    expect(count(logs, "bitcoind: node down")).toBe(1); // b, once, despite health checks every 5 s
    expect(src.current()).toBeDefined();
    b.down = false;
    await advance(clock, 5000);
    expect(src.health().active).toBe("http://b/");
    expect(count(logs, "bitcoind: failing back to preferred node")).toBe(1);
    expect(count(logs, "bitcoind: node back")).toBe(1);
    // each switch hands out the new node's template (another mempool), never silently
    expect(events).toEqual(["initial", "refresh", "refresh", "refresh"]);
    await src.stop();
  });

  test("all nodes down: last template kept until maxJobAge, then current() is undefined; back → template emitted", async () => {
    const a = fakeNode("http://a/");
    const b = fakeNode("http://b/");
    const { src, clock, events, logs } = rig([a, b], { maxJobAgeSeconds: 60 });
    await src.start();
    await settle();
    const t0 = src.current();
    expect(t0).toBeDefined();
    a.down = true;
    b.down = true;
    for (const w of a.lpWaiters.splice(0)) w(); // the held longpoll dies with the node
    await advance(clock, 1000);
    expect(src.health().state).toBe("down");
    await advance(clock, 58_000);
    expect(src.current()).toBe(t0);
    await advance(clock, 2000);
    expect(src.current()).toBeUndefined();
    expect(src.health().stale).toBe(true);
    expect(count(logs, "bitcoind: no node serves work; keeping the last template until it is too old")).toBe(1);
    expect(count(logs, "bitcoind: last template too old, no work to hand out")).toBe(1);
    expect(events.map((e) => e.reason)).toEqual(["initial"]);
    b.down = false;
    await advance(clock, 31_000); // reconnect backoff caps at 30 s
    expect(src.current()).toBeDefined();
    expect(src.health().active).toBe("http://b/");
    expect(events.map((e) => e.reason)).toEqual(["initial", "refresh"]); // same tip, but the pool stopped issuing jobs
    expect(count(logs, "bitcoind: work source back")).toBe(1);
    await src.stop();
  });
});

describe("submitBlock", () => {
  async function submit(r: Rig, hex = "00"): Promise<Awaited<ReturnType<BitcoindSource["submitBlock"]>>> {
    const p = r.src.submitBlock(hex);
    let out: Awaited<typeof p> | undefined;
    void p.then((v) => (out = v));
    for (let i = 0; i < 2000 && out === undefined; i++) await advance(r.clock, 100);
    if (!out) throw new Error("submitBlock never resolved");
    return out;
  }

  test("sent to every node; any acceptance wins; rejections carry the node's reason", async () => {
    const a = fakeNode("http://a/");
    const b = fakeNode("http://b/");
    const r = rig([a, b], { longpoll: false });
    await r.src.start();
    a.submitAnswer = () => ({ result: "high-hash" });
    b.submitAnswer = () => ({ result: "high-hash" });
    expect(await submit(r)).toMatchObject({ accepted: false, reason: "high-hash", attempts: 1 });
    expect(count(a.calls, "submitblock")).toBe(1);
    expect(count(b.calls, "submitblock")).toBe(1);
    b.submitAnswer = () => ({ result: "duplicate" });
    expect(await submit(r)).toMatchObject({ accepted: true, reason: "duplicate" });
    a.submitAnswer = () => ({ result: null });
    b.submitAnswer = () => ({ result: null });
    expect(await submit(r)).toMatchObject({ accepted: true, reason: undefined });
    // A peer that already had our block (relayed by the other node) says "duplicate": the block still
    // extended the chain, and the report says so once every node has answered.
    a.submitAnswer = () => ({ result: "duplicate" });
    b.submitAnswer = () => ({ result: null });
    expect(await submit(r)).toMatchObject({ accepted: true, reason: undefined });
    a.submitAnswer = () => ({ result: "inconclusive" });
    b.submitAnswer = () => "transport";
    const inc = await submit(r);
    expect(inc).toMatchObject({ accepted: true, reason: "inconclusive" });
    a.submitAnswer = () => ({ error: { code: -22, message: "Block decode failed" } });
    b.submitAnswer = () => ({ error: { code: -22, message: "Block decode failed" } });
    expect(await submit(r)).toMatchObject({ accepted: false, reason: "rpc error -22: Block decode failed", attempts: 1 });
    await r.src.stop();
  });

  test("no node answers: retried with backoff until one does", async () => {
    const a = fakeNode("http://a/");
    const r = rig([a], { longpoll: false });
    await r.src.start();
    a.down = true;
    const p = r.src.submitBlock("00");
    let out: Awaited<typeof p> | undefined;
    void p.then((v) => (out = v));
    await advance(r.clock, 3000); // 100+200+400+800+1600 ms of backoff: ≥ 5 attempts
    expect(out).toBeUndefined();
    a.down = false;
    await advance(r.clock, 3000);
    expect(out?.accepted).toBe(true);
    expect(out?.attempts).toBeGreaterThanOrEqual(5);
    expect(count(a.calls, "submitblock")).toBe(1); // transport failures never reached the node
    await r.src.stop();
  });

  test("gives up after the limit and says so", async () => {
    const a = fakeNode("http://a/");
    const r = rig([a], { longpoll: false, submitRetryLimitSeconds: 20 });
    await r.src.start();
    a.down = true;
    const out = await submit(r);
    expect(out.accepted).toBe(false);
    expect(out.reason).toMatch(/^no node answered submitblock within 2\d s$/);
    expect(out.answers[0]?.error).toContain("Unable to connect");
    await r.src.stop();
  });
});

// --- (b)+(c) against a real Litecoin Core regtest pair (CI installs litecoind; missing → these tests FAIL) ---

describe("litecoind regtest (real node)", () => {
  const procs: ChildProcess[] = [];
  let dir = "";
  let bin: string | null = null;
  const ports = { rpcA: 0, rpcB: 0, p2pA: 0, p2pB: 0 };
  const logs: string[] = [];
  const events: { t: BlockTemplate; reason: TemplateReason; at: number }[] = [];
  const measured: Record<string, number> = {};
  let src: BitcoindSource | undefined;
  let payoutAddress = "";
  let payoutScript = "";
  let sentTxids: string[] = [];

  const rpcClient = (port: number) =>
    createRpcClient({ url: `http://127.0.0.1:${port}/`, user: "edge", password: "regtest-pw" }, { fetch, clock: realClock, timeoutMs: 60_000 });
  async function rpc(port: number, method: string, params: unknown[] = []): Promise<any> {
    const r = await rpcClient(port).call(method, params);
    if (!r.ok) throw new Error(`${method} on :${port}: ${JSON.stringify(r.error)}`);
    return r.value;
  }
  async function waitFor<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 20_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}; source log: ${logs.join(" | ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const s = createServer();
      s.once("error", reject);
      s.listen(0, "127.0.0.1", () => {
        const a = s.address();
        s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
      });
    });
  }
  function startNode(name: string, rpcPort: number, p2pPort: number, connect?: number): ChildProcess {
    const datadir = join(dir, name);
    mkdirSync(datadir);
    const args = [
      "-regtest", "-server", "-rpcuser=edge", "-rpcpassword=regtest-pw", `-rpcport=${rpcPort}`, `-port=${p2pPort}`,
      `-datadir=${datadir}`, "-fallbackfee=0.0001", "-txindex=0", "-daemon=0", "-printtoconsole=0",
      "-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1", "-bind=127.0.0.1", "-listen", "-listenonion=0", "-discover=0", "-dnsseed=0",
      // Keep MWEB from activating here (test/src/upstream/litecoin_mweb.test.ts covers MWEB-active chains).
      "-vbparams=mweb:4000000000:4000000001:1000000:1000001",
    ];
    if (connect !== undefined) args.push(`-connect=127.0.0.1:${connect}`);
    const p = spawn(bin as string, args, { stdio: "ignore" });
    procs.push(p);
    return p;
  }
  async function stopNode(p: ChildProcess): Promise<void> {
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }

  beforeAll(async () => {
    bin = Bun.which("litecoind");
    if (!bin) return; // the first test fails with the message below
    dir = mkdtempSync(join(tmpdir(), "edge-ltc-"));
    ports.rpcA = await freePort();
    ports.rpcB = await freePort();
    ports.p2pA = await freePort();
    ports.p2pB = await freePort();
    startNode("a", ports.rpcA, ports.p2pA);
    startNode("b", ports.rpcB, ports.p2pB, ports.p2pA);
    for (const port of [ports.rpcA, ports.rpcB]) {
      await waitFor(`RPC on :${port}`, async () => (await rpcClient(port).call("getblockchaininfo", [])).ok || undefined, 30_000);
    }
    // getblocktemplate answers -9 until the node has a peer.
    await waitFor("the nodes to peer", async () => ((await rpc(ports.rpcA, "getconnectioncount")) >= 1 ? true : undefined));
  }, 60_000);

  afterAll(async () => {
    await src?.stop();
    await Promise.all(procs.map(stopNode));
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (process.env.BITCOIND_TEST_VERBOSE) console.log("litecoind measurements (ms):", measured);
  }, 30_000);

  test("(b) -10 before the first block, then templates from the real node", async () => {
    if (!bin) throw new Error("litecoind not found on PATH: install Litecoin Core 0.21 (Debian package litecoind); CI installs it");
    src = createBitcoindSource({
      nodes: [
        { url: `http://127.0.0.1:${ports.rpcA}/`, user: "edge", password: "regtest-pw", priority: 0 },
        { url: `http://127.0.0.1:${ports.rpcB}/`, user: "edge", password: "regtest-pw", priority: 1 },
      ],
      rules: ["mweb", "segwit"],
      longpoll: true,
      pollIntervalMs: 1000,
      mempoolRefreshSeconds: 1,
      maxJobAgeSeconds: 3,
      healthIntervalMs: 1000,
      submitRetryLimitSeconds: 5,
      clock: realClock,
      fetch,
      log: (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
    });
    src.onTemplate((t, reason) => events.push({ t, reason, at: Date.now() }));
    await src.start();
    expect(src.current()).toBeUndefined();
    expect(src.health().nodes[0]?.workError).toMatch(/^rpc error -10: /);

    await rpc(ports.rpcA, "createwallet", ["edge"]);
    payoutAddress = await rpc(ports.rpcA, "getnewaddress");
    payoutScript = (await rpc(ports.rpcA, "getaddressinfo", [payoutAddress])).scriptPubKey;
    await rpc(ports.rpcA, "generatetoaddress", [101, payoutAddress]);
    const t = await waitFor("a template on top of block 101", () => (src?.current()?.height === 102 ? src.current() : undefined));
    expect(events[0]?.reason).toBe("initial");
    expect(t.previousBlockHash).toBe(await rpc(ports.rpcA, "getbestblockhash"));
    expect(t.bits).toBe("207fffff");
    expect(t.coinbaseValue).toBe(5_000_000_000n);
    expect(t.witnessCommitment).toMatch(/^6a24aa21a9ed[0-9a-f]{64}$/);
    expect(src.health()).toMatchObject({ state: "ok", active: `http://127.0.0.1:${ports.rpcA}/`, longpollInFlight: true });

    const t0 = Date.now();
    const r = await rpcClient(ports.rpcA).call("getblocktemplate", [{ rules: ["mweb", "segwit"] }]);
    measured.getblocktemplateRpcMs = Date.now() - t0;
    expect(r.ok).toBe(true);
  }, 60_000);

  test("(b) wallet transactions reach the template (txid order, witness commitment)", async () => {
    if (!bin) throw new Error("litecoind not found");
    const before = events.length;
    const t0 = Date.now();
    sentTxids = [];
    for (let i = 0; i < 3; i++) sentTxids.push(await rpc(ports.rpcA, "sendtoaddress", [await rpc(ports.rpcA, "getnewaddress"), 1 + i]));
    // The node rebuilds its template for mempool changes at most every 5 s; mempoolRefreshSeconds=1 polls for it.
    const ev = await waitFor("a refresh with the 3 transactions", () =>
      events.slice(before).find((e) => sentTxids.every((id) => e.t.transactions.some((x) => x.txid === id))),
    );
    measured.mempoolToTemplateMs = ev.at - t0;
    expect(ev.reason).toBe("refresh");
    expect(ev.t.transactions.length).toBe(3);
    expect(ev.t.coinbaseValue > 5_000_000_000n).toBe(true); // fees
    expect(ev.t.witnessCommitment).toMatch(/^6a24aa21a9ed[0-9a-f]{64}$/);
    for (const tx of ev.t.transactions) {
      const raw = await rpc(ports.rpcA, "getrawtransaction", [tx.txid]);
      expect(tx.data).toBe(raw);
    }
  }, 30_000);

  test("(b) submitblock of garbage and of a block over the target: typed rejections", async () => {
    if (!bin || !src) throw new Error("litecoind not found");
    const garbage = await src.submitBlock("00");
    expect(garbage.accepted).toBe(false);
    expect(garbage.reason).toBe("rpc error -22: Block decode failed");
    expect(garbage.answers.length).toBe(2);

    const t = src.current() as BlockTemplate;
    const job = buildJob("bad", t, { payoutScript: hexToBytes(payoutScript) as Uint8Array, poolTag: "/edge-test/", extranonce1Size: 4, extranonce2Size: 4 }, nobleSha256Into);
    const en1 = new Uint8Array([1, 2, 3, 4]);
    // a nonce whose scrypt hash is above the target (about half are, at 207fffff)
    const fields = findNonce(job, en1, false);
    const block = assembleBlock(job, en1, fields, nobleSha256Into);
    const r = await src.submitBlock(block);
    expect(r).toMatchObject({ accepted: false, reason: "high-hash" });
  }, 30_000);

  test("(c) a block built from the template with buildJob + scrypt + assembleBlock is accepted; coinbase pays our address", async () => {
    if (!bin || !src) throw new Error("litecoind not found");
    const t = src.current() as BlockTemplate;
    const heightBefore = await rpc(ports.rpcA, "getblockcount");
    expect(t.height).toBe(heightBefore + 1);
    const job = buildJob("a1", t, { payoutScript: hexToBytes(payoutScript) as Uint8Array, poolTag: "/edge-test/", extranonce1Size: 4, extranonce2Size: 4 }, nobleSha256Into);
    const en1 = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
    const fields = findNonce(job, en1, true);
    const block = assembleBlock(job, en1, fields, nobleSha256Into);
    const eventsBefore = events.length;
    const t0 = Date.now();
    const r = await src.submitBlock(block);
    measured.submitblockMs = Date.now() - t0;
    expect(r).toMatchObject({ accepted: true, reason: undefined });
    expect(await rpc(ports.rpcA, "getblockcount")).toBe(heightBefore + 1);
    const tip = await rpc(ports.rpcA, "getbestblockhash");
    const b = await rpc(ports.rpcA, "getblock", [tip, 2]);
    expect(b.tx.length).toBe(1 + t.transactions.length);
    expect(b.tx[0].vout[0].scriptPubKey.hex).toBe(payoutScript);
    expect(b.tx[0].vout[0].scriptPubKey.addresses ?? [b.tx[0].vout[0].scriptPubKey.address]).toContain(payoutAddress);
    expect(b.tx.slice(1).map((x: { txid: string }) => x.txid).sort()).toEqual([...sentTxids].sort());
    // The source hands out the next height as new_block (longpoll or the post-submit poll).
    const ev = await waitFor("new_block after our block", () => events.slice(eventsBefore).find((e) => e.reason === "new_block"));
    measured.acceptedToNewBlockMs = ev.at - t0;
    expect(ev.t.height).toBe(heightBefore + 2);
    expect(ev.t.previousBlockHash).toBe(tip);
    // Peer B relays it: same tip on both.
    await waitFor("node B to have our block", async () => ((await rpc(ports.rpcB, "getbestblockhash")) === tip ? true : undefined));

    // A block mined elsewhere (the node itself): longpoll delivers it.
    const t1 = Date.now();
    const evCount = events.length;
    await rpc(ports.rpcA, "generatetoaddress", [1, payoutAddress]);
    const ev2 = await waitFor("new_block for a node-mined block", () => events.slice(evCount).find((e) => e.reason === "new_block"));
    measured.nodeBlockToNewBlockMs = ev2.at - t1;
    expect(ev2.t.height).toBe(heightBefore + 3);
  }, 60_000);

  test("failover to the second node, then outage: current() undefined after maxJobAgeSeconds", async () => {
    if (!bin || !src) throw new Error("litecoind not found");
    const [a, b] = procs as [ChildProcess, ChildProcess];
    const logsBefore = logs.length;
    const t0 = Date.now();
    await stopNode(a);
    await waitFor("failover to node B", () => (src?.health().active === `http://127.0.0.1:${ports.rpcB}/` ? true : undefined));
    measured.failoverMs = Date.now() - t0;
    expect(src.health().state).toBe("failover");
    expect(src.current()).toBeDefined();
    await stopNode(b);
    await waitFor("outage", () => (src?.health().state === "down" ? true : undefined));
    const t1 = Date.now();
    expect(src.current()).toBeDefined(); // kept for up to maxJobAgeSeconds (3 s here)
    await waitFor("the template to expire", () => (src?.current() === undefined ? true : undefined), 10_000);
    measured.outageToUndefinedMs = Date.now() - t1;
    expect(src.health().stale).toBe(true);
    const r = await src.submitBlock("00");
    expect(r.accepted).toBe(false);
    expect(r.reason).toMatch(/^no node answered submitblock within \d+ s$/);
    // logged once for this outage however many reconnect attempts failed (the -10 phase at start was another one)
    expect(logs.slice(logsBefore).filter((l) => l.startsWith("bitcoind: no node serves work")).length).toBe(1);
    expect(logs.slice(logsBefore).filter((l) => l.startsWith("bitcoind: last template too old")).length).toBe(1);
  }, 60_000);
});

/** Searches nonces with Litecoin's scrypt PoW until the header meets (or, for a negative test, misses) the job's target. */
function findNonce(job: StratumJob, en1: Uint8Array, meets: boolean): SubmitFields {
  const out = new Uint8Array(32);
  for (let nonce = 0; nonce < 1000; nonce++) {
    const f: SubmitFields = { ok: true, ntime: job.ntime, nonce, version: job.version, extranonce2: "00000001" };
    const header = buildHeader(job, en1, f, nobleSha256Into);
    scryptPow(header, out, nobleSha256Into);
    if (hashMeetsTarget(out, job.networkTargetLE) !== meets) continue;
    // Cross-check the project's scrypt against @noble/hashes once per found header.
    expect(bytesToHex(out)).toBe(bytesToHex(nobleScrypt(header, header, { N: 1024, r: 1, p: 1, dkLen: 32 })));
    return f;
  }
  throw new Error("no nonce in 1000 tries: target far harder than regtest's 207fffff");
}
