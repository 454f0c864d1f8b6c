// ethnode work source: unit tests over a scripted fetch + manual clock, and integration against the fake core-geth over real HTTP.
import { afterEach, describe, expect, test } from "bun:test";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { createEthNodeSource, parseGetWork, redactUrl, type EthNodeSource, type FetchLike } from "../../../src/upstream/ethnode.ts";
import { createManualClock, type ManualClock } from "../../../src/runtime/manual_clock.ts";
import { realClock } from "../../../src/runtime/shared.ts";
import type { EthWork } from "../../../protocols/eth/work.ts";
import { bytesToHex } from "../../../protocols/pow/hex.ts";
import { ethashHash, startFakeGeth, type FakeGeth } from "../../support/fake_geth.ts";

const TWO_256 = 1n << 256n;
const H = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const boundary = (diff: bigint) => "0x" + (TWO_256 / diff).toString(16).padStart(64, "0");
const SEED0 = "0x" + "00".repeat(32);

/** A scripted node: what it answers per method, or that it is down / hanging. */
interface SimNode {
  work: string[] | undefined;
  head: number;
  down: boolean;
  hang: boolean;
  /** eth_submitWork answer, or "throw" for a transport error. */
  submit: (boolean | "throw")[];
  calls: { method: string; params: unknown[] }[];
}

function sim(work?: string[]): SimNode {
  return { work, head: 0, down: false, hang: false, submit: [true], calls: [] };
}

function net(nodes: Record<string, SimNode>): FetchLike {
  return async (url, init) => {
    const n = nodes[url];
    const req = JSON.parse(init.body) as { id: number; method: string; params: unknown[] };
    if (n === undefined || n.down) throw new TypeError(`connect ECONNREFUSED ${url}`);
    n.calls.push({ method: req.method, params: req.params });
    if (n.hang) {
      return new Promise<Response>((_, reject) => init.signal.addEventListener("abort", () => reject(new DOMException("The operation was aborted.", "AbortError"))));
    }
    const reply = (body: object) => Response.json({ jsonrpc: "2.0", id: req.id, ...body });
    switch (req.method) {
      case "eth_getWork":
        return n.work === undefined ? reply({ error: { code: -32000, message: "no mining work available yet" } }) : reply({ result: n.work });
      case "eth_blockNumber":
        return reply({ result: "0x" + n.head.toString(16) });
      case "eth_submitWork": {
        const a = n.submit.length > 1 ? n.submit.shift()! : n.submit[0]!;
        if (a === "throw") throw new TypeError("socket hang up");
        return reply({ result: a });
      }
      case "eth_submitHashrate":
        return reply({ result: true });
      default:
        return reply({ error: { code: -32601, message: `the method ${req.method} does not exist/is not available` } });
    }
  };
}

/** Let fetch promises and their continuations run (the manual clock has no real timers). */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) await new Promise((r) => setTimeout(r, 0));
}

interface Harness {
  src: EthNodeSource;
  clock: ManualClock;
  logs: { level: string; msg: string; fields?: Record<string, unknown> }[];
  emitted: { w: EthWork; newBlock: boolean }[];
}

function harness(nodes: Record<string, SimNode>, extra: Partial<Parameters<typeof createEthNodeSource>[0]> = {}): Harness {
  const clock = createManualClock(1_000_000);
  const logs: Harness["logs"] = [];
  const emitted: Harness["emitted"] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void logs.push({ level, msg, ...(fields ? { fields } : {}) });
  const src = createEthNodeSource({
    nodes: Object.keys(nodes).map((url, i) => ({ url, priority: i })),
    pollIntervalMs: 250,
    maxWorkAgeSeconds: 10,
    clock,
    fetch: net(nodes),
    log: { info: at("info"), warn: at("warn"), error: at("error") },
    requestTimeoutMs: 2000,
    ...extra,
  });
  src.onWork((w, newBlock) => emitted.push({ w, newBlock }));
  return { src, clock, logs, emitted };
}

/** Advance the manual clock in poll-sized steps, letting each poll finish. */
async function run(h: Harness, ms: number, step = 250): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    h.clock.advance(Math.min(step, ms - t));
    await settle();
  }
}

const count = (h: Harness, msg: string) => h.logs.filter((l) => l.msg === msg).length;

describe("parseGetWork", () => {
  test("4-element geth result decodes; 3-element leaves the number open; malformed is a message", () => {
    const r = parseGetWork([H(1).toUpperCase().replace("0X", "0x"), SEED0, boundary(1000n), "0x1e"]);
    expect(r).toEqual({ work: { headerHash: H(1), seedHash: SEED0, target: TWO_256 / 1000n }, blockNumber: 30 });
    expect(parseGetWork([H(1), SEED0, boundary(1000n)])).toEqual({ work: { headerHash: H(1), seedHash: SEED0, target: TWO_256 / 1000n }, blockNumber: undefined });
    expect(typeof parseGetWork([H(1), SEED0, boundary(1000n), "0x01e"])).toBe("string"); // leading zero: not a quantity
    expect(typeof parseGetWork([H(1), SEED0, "0x" + "00".repeat(32), "0x1"])).toBe("string"); // difficulty 1 overflows to 0
    expect(typeof parseGetWork([H(1).slice(0, 60), SEED0, boundary(2n), "0x1"])).toBe("string");
    expect(typeof parseGetWork({ result: 1 })).toBe("string");
    expect(typeof parseGetWork([H(1), SEED0])).toBe("string");
  });
  test("redactUrl hides credentials", () => {
    expect(redactUrl("http://user:secret@10.0.0.1:8545")).toBe("http://***@10.0.0.1:8545");
    expect(redactUrl("http://10.0.0.1:8545")).toBe("http://10.0.0.1:8545");
  });
});

describe("ethnode unit (scripted fetch, manual clock)", () => {
  test("work arrives on start; identical seal hashes are not re-emitted; newBlock follows the block number", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    const h = harness({ "http://a": a });
    await h.src.start();
    expect(h.emitted).toEqual([{ w: { headerHash: H(1), seedHash: SEED0, target: TWO_256 / 1000n, blockNumber: 16 }, newBlock: true }]);
    expect(h.src.current()?.blockNumber).toBe(16);
    await run(h, 2000);
    expect(a.calls.filter((c) => c.method === "eth_getWork").length).toBe(9); // start + 8 ticks
    expect(h.emitted.length).toBe(1);
    a.work = [H(2), SEED0, boundary(1000n), "0x10"]; // new transactions, same height
    await run(h, 250);
    expect(h.emitted.length).toBe(2);
    expect(h.emitted[1]!.newBlock).toBe(false);
    expect(h.emitted[1]!.w.headerHash).toBe(H(2));
    a.work = [H(3), SEED0, boundary(2000n), "0x11"];
    await run(h, 250);
    expect(h.emitted.length).toBe(3);
    expect(h.emitted[2]!).toEqual({ w: { headerHash: H(3), seedHash: SEED0, target: TWO_256 / 2000n, blockNumber: 17 }, newBlock: true });
    expect(h.src.health().state).toBe("up");
    await h.src.stop();
  });

  test("legacy 3-element eth_getWork: block number = eth_blockNumber + 1, asked only when the seal hash changes, logged once", async () => {
    const a = sim([H(1), SEED0, boundary(1000n)]);
    a.head = 99;
    const h = harness({ "http://a": a });
    await h.src.start();
    expect(h.src.current()?.blockNumber).toBe(100);
    await run(h, 1000);
    expect(a.calls.filter((c) => c.method === "eth_blockNumber").length).toBe(1);
    a.work = [H(2), SEED0, boundary(1000n)];
    a.head = 100;
    await run(h, 250);
    expect(h.emitted.map((e) => [e.w.blockNumber, e.newBlock])).toEqual([
      [100, true],
      [101, true],
    ]);
    expect(a.calls.filter((c) => c.method === "eth_blockNumber").length).toBe(2);
    expect(h.logs.filter((l) => l.msg.includes("3-element")).length).toBe(1);
  });

  test("submitWork goes to every healthy node at once: true = accepted", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    const b = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    a.submit = [false];
    b.submit = [true];
    const h = harness({ "http://a": a, "http://b": b });
    await h.src.start();
    // b is a healthy, unused backup: it was never asked for work yet (up unknown), so it is included too.
    const r = h.src.submitWork("0x00000000000000FF", H(1), H(7));
    await settle();
    expect(await r).toEqual({ accepted: true });
    const sentA = a.calls.filter((c) => c.method === "eth_submitWork");
    const sentB = b.calls.filter((c) => c.method === "eth_submitWork");
    expect(sentA).toEqual([{ method: "eth_submitWork", params: ["0x00000000000000ff", H(1), H(7)] }]);
    expect(sentB.length).toBe(1);
  });

  test("idle backups are health-checked: a dead backup is logged once and skipped by submitWork", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    const b = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    b.down = true;
    const h = harness({ "http://a": a, "http://b": b }, { healthCheckIntervalMs: 5000 });
    await h.src.start();
    expect(h.src.health().nodes[1]!.up).toBeUndefined();
    await run(h, 20_000);
    expect(h.src.health().nodes[1]!.up).toBe(false);
    expect(h.logs.filter((l) => l.msg === "ethnode: node down").map((l) => l.fields?.node)).toEqual(["http://b"]);
    b.down = false;
    const r = await h.src.submitWork("0x0000000000000001", H(1), H(7));
    expect(r).toEqual({ accepted: true });
    expect(b.calls.filter((c) => c.method === "eth_submitWork").length).toBe(0);
    // The backup recovers: the next check marks it up (one line) and it stays the backup.
    await run(h, 31_000);
    expect(h.src.health().nodes[1]!.up).toBe(true);
    expect(count(h, "ethnode: node back up")).toBe(1);
    expect(h.src.health().node).toBe("http://a");
  });

  test("submitWork: false from the node = rejected by node; malformed input is never sent", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    a.submit = [false];
    const h = harness({ "http://a": a });
    await h.src.start();
    expect(await h.src.submitWork("0x0000000000000001", H(1), H(7))).toEqual({ accepted: false, reason: "rejected by node" });
    expect(await h.src.submitWork("0x01", H(1), H(7))).toEqual({ accepted: false, reason: "malformed" });
    expect(a.calls.filter((c) => c.method === "eth_submitWork").length).toBe(1);
  });

  test("submitWork retries transport errors with backoff until the node answers", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    a.submit = ["throw", "throw", "throw", true];
    const h = harness({ "http://a": a });
    await h.src.start();
    let result: unknown;
    void h.src.submitWork("0x0000000000000001", H(1), H(7)).then((r) => (result = r));
    await settle();
    expect(result).toBeUndefined();
    await run(h, 1000, 25);
    expect(result).toEqual({ accepted: true });
    expect(a.calls.filter((c) => c.method === "eth_submitWork").length).toBe(4);
    expect(count(h, "ethnode: block accepted by node")).toBe(1);
  });

  test("submitWork gives up at the deadline when no node answers", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    a.submit = ["throw"];
    const h = harness({ "http://a": a }, { submitDeadlineMs: 3000 });
    await h.src.start();
    let result: { accepted: boolean; reason?: string } | undefined;
    void h.src.submitWork("0x0000000000000001", H(1), H(7)).then((r) => (result = r));
    await run(h, 2500, 50);
    expect(result).toBeUndefined();
    await run(h, 1000, 50);
    expect(result?.accepted).toBe(false);
    expect(result?.reason).toContain("no node reachable");
    const tries = a.calls.filter((c) => c.method === "eth_submitWork").length;
    expect(tries).toBeGreaterThan(4);
    expect(tries).toBeLessThan(12); // backoff, not a busy loop
  });

  test("eth_submitHashrate: canonical quantity, stable id from the configured string, sent every interval", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    const h = harness({ "http://a": a }, { hashrateIntervalSeconds: 30, hashrateId: "rig-eu-1" });
    await h.src.start();
    await run(h, 30_000, 1000);
    expect(a.calls.filter((c) => c.method === "eth_submitHashrate").length).toBe(0); // nothing reported yet
    h.src.reportHashrate(1_000_000n);
    await run(h, 30_000, 1000);
    h.src.reportHashrate(0n);
    await run(h, 30_000, 1000);
    h.src.reportHashrate(1n << 70n); // beyond hexutil.Uint64: clamped
    await run(h, 30_000, 1000);
    const sent = a.calls.filter((c) => c.method === "eth_submitHashrate").map((c) => c.params);
    const id = "0x" + bytesToHex(keccak_256(new TextEncoder().encode("rig-eu-1")));
    expect(sent).toEqual([
      ["0xf4240", id],
      ["0x0", id],
      ["0xffffffffffffffff", id],
    ]);
    expect(h.src.health().hashrateId).toBe(id);
    // A configured 32-byte hash is used as is; without one the id is random but fixed for the process.
    const h2 = harness({ "http://a": a }, { hashrateId: H(0xabc) });
    expect(h2.src.health().hashrateId).toBe(H(0xabc));
    const h3 = harness({ "http://a": a }, { randomBytes: (n) => new Uint8Array(n).fill(7) });
    expect(h3.src.health().hashrateId).toBe("0x" + "07".repeat(32));
    const h4 = harness({ "http://a": a });
    expect(h4.src.health().hashrateId).toMatch(/^0x[0-9a-f]{64}$/);
    expect(h4.src.health().hashrateId).toBe(h4.src.health().hashrateId);
  });

  test("failover by priority: primary down → backup serves work, one log line; primary back after backoff → fail back", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    const b = sim([H(2), SEED0, boundary(1000n), "0x10"]);
    const h = harness({ "http://a": a, "http://b": b }, { reconnectBaseMs: 1000, reconnectMaxMs: 4000 });
    await h.src.start();
    expect(h.src.health().node).toBe("http://a");
    expect(b.calls.length).toBe(0); // the backup is not polled while the primary serves
    a.down = true;
    await run(h, 250);
    expect(h.src.health().node).toBe("http://b");
    expect(h.emitted.map((e) => [e.w.headerHash, e.newBlock])).toEqual([
      [H(1), true],
      [H(2), false],
    ]);
    await run(h, 20_000);
    expect(count(h, "ethnode: node down")).toBe(1);
    expect(h.src.health().nodes[0]!.failures).toBeGreaterThan(3);
    expect(h.src.current()?.headerHash).toBe(H(2)); // the backup keeps the work fresh
    a.down = false;
    a.work = [H(3), SEED0, boundary(1000n), "0x11"];
    await run(h, 5000);
    expect(h.src.health().node).toBe("http://a");
    expect(h.src.current()?.headerHash).toBe(H(3));
    expect(count(h, "ethnode: node back up")).toBe(1);
    expect(count(h, "ethnode: taking work from node")).toBe(3); // a, b, a
  });

  test("a hanging node times out and the backup takes over in the same poll", async () => {
    const a = sim([H(1), SEED0, boundary(1000n), "0x10"]);
    const b = sim([H(2), SEED0, boundary(1000n), "0x10"]);
    const h = harness({ "http://a": a, "http://b": b }, { requestTimeoutMs: 1000 });
    await h.src.start();
    a.hang = true;
    await run(h, 1500, 250);
    expect(h.src.health().node).toBe("http://b");
    expect(h.src.health().nodes[0]!.lastError).toContain("timeout");
  });

  test("outage: last work kept without emitting, undefined after maxWorkAgeSeconds, one line per state change; recovery", async () => {
    const a = sim(undefined); // before work exists geth answers -32000
    const h = harness({ "http://a": a }, { maxWorkAgeSeconds: 10 });
    await h.src.start();
    expect(h.src.current()).toBeUndefined();
    expect(h.src.health().nodes[0]!.lastError).toContain("no mining work available yet");
    expect(h.src.health().state).toBe("down");
    a.work = [H(1), SEED0, boundary(1000n), "0x10"];
    await run(h, 2000);
    expect(h.src.current()?.headerHash).toBe(H(1));
    const before = h.logs.length;
    a.down = true;
    await run(h, 9000);
    expect(h.src.current()?.headerHash).toBe(H(1)); // still within maxWorkAge
    expect(h.src.health().state).toBe("down");
    await run(h, 2000);
    expect(h.src.current()).toBeUndefined();
    expect(h.src.health().state).toBe("expired");
    await run(h, 60_000, 500);
    expect(h.emitted.length).toBe(1);
    expect(h.logs.slice(before).map((l) => l.msg)).toEqual([
      "ethnode: node down",
      "ethnode: no node is serving work; keeping the last work until it is too old",
      "ethnode: work expired, no work for miners until a node answers",
    ]);
    a.down = false;
    await run(h, 31_000, 500);
    expect(h.src.current()?.headerHash).toBe(H(1));
    expect(h.emitted.length).toBe(1); // same seal hash: not re-emitted
    expect(h.src.health().state).toBe("up");
    expect(h.logs.slice(before + 3).map((l) => l.msg)).toEqual(["ethnode: node back up", "ethnode: taking work from node"]);
  });
});

// ---- Integration: real HTTP against the simulated core-geth ----

const gets: FakeGeth[] = [];
const sources: EthNodeSource[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.stop();
  for (const g of gets.splice(0)) await g.stop();
});

function geth(o: Parameters<typeof startFakeGeth>[0] = {}): FakeGeth {
  const g = startFakeGeth(o);
  gets.push(g);
  return g;
}

function live(urls: string[], extra: Partial<Parameters<typeof createEthNodeSource>[0]> = {}) {
  const logs: string[] = [];
  const emitted: { w: EthWork; newBlock: boolean }[] = [];
  const at = (msg: string) => void logs.push(msg);
  const src = createEthNodeSource({
    nodes: urls.map((url, i) => ({ url, priority: i })),
    pollIntervalMs: 20,
    maxWorkAgeSeconds: 5,
    clock: realClock,
    fetch,
    log: { info: at, warn: at, error: at },
    requestTimeoutMs: 500,
    reconnectBaseMs: 50,
    reconnectMaxMs: 200,
    ...extra,
  });
  src.onWork((w, newBlock) => emitted.push({ w, newBlock }));
  sources.push(src);
  return { src, logs, emitted };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

async function rpcRaw(url: string, method: string, params: unknown[]): Promise<unknown> {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }) });
  return r.json();
}

/** Mine like a GPU would: the first nonce whose hashimoto result meets (or, with want=false, misses) the boundary. */
function mine(w: { headerHash: string; blockNumber: number; difficulty: bigint }, want: boolean, from = 0n): { nonce: string; mixDigest: string } {
  const target = TWO_256 / w.difficulty;
  for (let n = from; ; n++) {
    const r = ethashHash(w.blockNumber, w.headerHash, n);
    if (r.result <= target === want) return { nonce: "0x" + n.toString(16).padStart(16, "0"), mixDigest: r.mixDigest };
  }
}

describe("fake core-geth wire format", () => {
  test("envelopes and errors as core-geth writes them", async () => {
    const g = geth({ blockNumber: false });
    expect(await rpcRaw(g.url, "eth_getWork", [])).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32000, message: "no mining work available yet" } });
    const w = g.setWork({ blockNumber: 30000, difficulty: 1000n });
    expect(await rpcRaw(g.url, "eth_getWork", [])).toEqual({ jsonrpc: "2.0", id: 7, result: [w.headerHash, w.seedHash, boundary(1000n), "0x7530"] });
    expect(w.seedHash).toBe("0x290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563"); // epoch 1 seed = keccak256(32 zero bytes)
    expect(await rpcRaw(g.url, "eth_blockNumber", [])).toEqual({ jsonrpc: "2.0", id: 7, result: "0x752f" });
    expect(await rpcRaw(g.url, "eth_submitHashrate", ["0x01", H(1)])).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32602, message: "invalid argument 0: hex number with leading zero digits" } });
    expect(await rpcRaw(g.url, "eth_submitHashrate", ["0x1", "0x12"])).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32602, message: "invalid argument 1: hex string has length 2, want 64 for common.Hash" } });
    expect(await rpcRaw(g.url, "eth_submitHashrate", ["0x1", H(1)])).toEqual({ jsonrpc: "2.0", id: 7, result: true });
    expect(await rpcRaw(g.url, "eth_submitWork", ["0x01", H(1), H(2)])).toMatchObject({ error: { code: -32602 } });
    expect(await rpcRaw(g.url, "eth_submitWork", ["0x0000000000000001", H(1), H(2)])).toEqual({ jsonrpc: "2.0", id: 7, result: false });
    g.setLegacy(true);
    expect(((await rpcRaw(g.url, "eth_getWork", [])) as { result: string[] }).result.length).toBe(3);
    expect(g.calls("eth_getWork")).toBe(3);
  });
});

describe("ethnode against the fake core-geth (real HTTP)", () => {
  test("work arrives and changes; newBlock only on a new height", async () => {
    const g = geth({ blockNumber: 5, difficulty: 1000n });
    const { src, emitted } = live([g.url]);
    await src.start();
    expect(src.current()).toEqual({ headerHash: g.work()!.headerHash, seedHash: g.work()!.seedHash, target: TWO_256 / 1000n, blockNumber: 5 });
    g.newSealHash();
    await until(() => emitted.length === 2);
    g.advanceBlock();
    await until(() => emitted.length === 3);
    expect(emitted.map((e) => [e.w.blockNumber, e.newBlock])).toEqual([
      [5, true],
      [5, false],
      [6, true],
    ]);
    await Bun.sleep(100);
    expect(emitted.length).toBe(3);
    expect(g.calls("eth_getWork")).toBeGreaterThan(4);
  });

  test("legacy 3-element node", async () => {
    const g = geth({ blockNumber: 42, legacy: true });
    const { src, logs } = live([g.url]);
    await src.start();
    expect(src.current()?.blockNumber).toBe(42);
    g.advanceBlock();
    await until(() => src.current()?.blockNumber === 43);
    expect(logs.filter((l) => l.includes("3-element")).length).toBe(1);
  });

  test("a real block is accepted; a hash above the boundary, a wrong mix digest and stale work are rejected", async () => {
    const g = geth({ blockNumber: 3, difficulty: 4n });
    const { src } = live([g.url]);
    await src.start();
    const w = g.work()!;
    const miss = mine(w, false);
    expect(await src.submitWork(miss.nonce, w.headerHash, miss.mixDigest)).toEqual({ accepted: false, reason: "rejected by node" });
    const hit = mine(w, true);
    expect(await src.submitWork(hit.nonce, w.headerHash, H(0x1234))).toEqual({ accepted: false, reason: "rejected by node" });
    expect(await src.submitWork(hit.nonce, w.headerHash, hit.mixDigest)).toEqual({ accepted: true });
    expect(g.submissions.map((s) => [s.accepted, s.reason])).toEqual([
      [false, "invalid proof-of-work"],
      [false, "invalid mix digest"],
      [true, ""],
    ]);
    await until(() => src.current()?.blockNumber === 4); // the accepted block triggers an immediate poll
    // Work 7 blocks behind the head: geth's staleThreshold.
    const old = g.work()!;
    for (let i = 0; i < 6; i++) g.advanceBlock();
    const okOld = mine(old, true);
    expect(await src.submitWork(okOld.nonce, old.headerHash, okOld.mixDigest)).toEqual({ accepted: true }); // 6 behind: still taken
    const old2 = g.work()!;
    for (let i = 0; i < 7; i++) g.advanceBlock();
    const okOld2 = mine(old2, true);
    expect(await src.submitWork(okOld2.nonce, old2.headerHash, okOld2.mixDigest)).toEqual({ accepted: false, reason: "rejected by node" });
  }, 20_000);

  test("eth_submitHashrate over HTTP: canonical quantity and a stable id", async () => {
    const g = geth();
    const { src } = live([g.url], { hashrateIntervalSeconds: 0.05, hashrateId: "farm-1" });
    await src.start();
    src.reportHashrate(123_456_789n);
    await until(() => g.hashrates.length >= 3);
    const id = "0x" + bytesToHex(keccak_256(new TextEncoder().encode("farm-1")));
    for (const r of g.hashrates) expect(r).toEqual({ rate: "0x75bcd15", id });
  });

  test("failover between two nodes and back; outage → current() undefined after maxWorkAge", async () => {
    const a = geth({ blockNumber: 10 });
    const b = geth({ blockNumber: 10 });
    const { src, logs } = live([a.url, b.url], { maxWorkAgeSeconds: 0.4 });
    await src.start();
    expect(src.current()?.headerHash).toBe(a.work()!.headerHash);
    a.down();
    await until(() => src.current()?.headerHash === b.work()!.headerHash);
    a.up();
    a.advanceBlock();
    await until(() => src.current()?.headerHash === a.work()!.headerHash);
    a.fail("http500");
    b.fail("hang");
    await until(() => src.current() === undefined);
    expect(src.health().state).toBe("expired");
    // current() ages the work on the spot; the log line comes with the next poll tick.
    const expired = "ethnode: work expired, no work for miners until a node answers";
    await until(() => logs.includes(expired));
    await new Promise((r) => setTimeout(r, 100)); // a few more polls: still one line
    expect(logs.filter((l) => l === expired).length).toBe(1);
    b.fail("none");
    await until(() => src.current()?.headerHash === b.work()!.headerHash);
  }, 10_000);
});
