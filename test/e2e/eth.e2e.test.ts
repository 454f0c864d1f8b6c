// End-to-end Ethereum-style dialects against the compiled binary: eth-proxy, EthereumStratum/1.0.0 and HTTP getwork with real ethash shares, one port for every dialect, EIP-1571 (EthereumStratum/2.0.0) sessions; no unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  byId,
  byMethod,
  connectStratum,
  findShare,
  handshake,
  httpGet,
  shareTarget,
  startRelay,
  submitParams,
  until,
  zeroExtranonce2,
  type RelayProcess,
  type StratumClient,
} from "./helpers.ts";
import {
  ADDRESS,
  epoch0Cache,
  ethBlockTarget,
  ethCacheReady,
  ethProxyOpen,
  ethStratumOpen,
  ethStratumSubmit,
  ethSubmit,
  findEthShare,
  isWorkPush,
  postRpc,
} from "./eth_helpers.ts";
import { difficultyToTarget } from "../../protocols/pow/target.ts";
import { quickCheck } from "../../protocols/pow/ethash.ts";
import { bytesToHex, hexToBytes } from "../../protocols/pow/hex.ts";

const T = 20_000;
const SEED0 = "0x" + "00".repeat(32);
const DEFAULT_BLOCK_TARGET = ethBlockTarget(100_000n);
const BLOCK2_TARGET = ethBlockTarget(2n);

// No simulated blocks during the run (either chain): a clean job mid-test would turn shares stale.
const QUIET = { "upstream.devnet.blockIntervalSeconds": "3600", "ethash.upstream.devnet.blockIntervalSeconds": "3600" };

/** A mix digest other than `mix` for which keccak256(keccak512(header‖nonce)‖mix') still meets `target`. */
function passingWrongMix(header: string, nonce: string, mix: string, target: bigint): string {
  const h = hexToBytes(header.slice(2))!, n = hexToBytes(nonce.slice(2))!;
  for (let i = 1; i < 10_000; i++) {
    const m = "0x" + i.toString(16).padStart(8, "0") + mix.slice(10);
    if (m !== mix && BigInt("0x" + bytesToHex(quickCheck(h, n, hexToBytes(m.slice(2))!))) <= target) return m;
  }
  throw new Error("passingWrongMix: none found");
}

let A: RelayProcess; // default ethash settings: eth-proxy, EthereumStratum shares and errors, all dialects on one port, hello
let B: RelayProcess; // blockDifficulty 2: every other hash is a block (pushes, clean notifies, found blocks)
let C: RelayProcess; // initialDifficulty 1e-9: HTTP getwork (its URL login carries no d=NUMBER)

const clients: StratumClient[] = [];
async function open(relay: RelayProcess): Promise<StratumClient> {
  const c = await connectStratum(relay.stratumPort, relay);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  const relays = Promise.all([
    startRelay({ sets: { ...QUIET, "difficulty.suggestFloor": "1e-12" } }),
    startRelay({ sets: { ...QUIET, "ethash.upstream.devnet.blockDifficulty": "2" } }),
    startRelay({ sets: { ...QUIET, "ethash.initialDifficulty": "1e-9" } }),
  ]);
  // The test process's own epoch-0 cache (~1.5 s) while the relays start.
  epoch0Cache();
  [A, B, C] = await relays;
  // Each relay builds its own epoch-0 cache in a worker (~1.5 s idle, >10 s on a loaded 2-CPU box); shares wait
  // for it, so the per-reply bounds below only hold once it is built.
  await Promise.all([A, B, C].map((r) => ethCacheReady(r)));
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([A, B, C].filter((r) => r !== undefined).map((r) => r.stop()));
});

describe("eth-proxy over TCP with real ethash shares", () => {
  test("login d=1e-9 → work; valid share true, duplicate 22, wrong mix 23, low difficulty 23, stale false, malformed -1, hashrate true", async () => {
    const c = await open(A);
    const { login, work } = await ethProxyOpen(c, { email: "d=1e-9" });
    expect(login).toEqual({ id: 1, jsonrpc: "2.0", result: true });
    const [header, seed, target, number] = work;
    expect(header).toMatch(/^0x[0-9a-f]{64}$/);
    expect(seed).toBe(SEED0);
    expect(target).toBe("0x" + difficultyToTarget(1e-9).toString(16).padStart(64, "0"));
    expect(number).toMatch(/^0x[1-9a-f][0-9a-f]*$/);
    const t = BigInt(target);

    // Below the share target but above the network's: a share, not a block (the chain must not move here).
    const s = findEthShare(header, { atMost: t, above: DEFAULT_BLOCK_TARGET });
    expect(await ethSubmit(c, 10, [s.nonce, header, s.mix])).toEqual({ id: 10, jsonrpc: "2.0", result: true });
    expect(await ethSubmit(c, 11, [s.nonce, header, s.mix])).toEqual({ id: 11, jsonrpc: "2.0", result: null, error: { code: 22, message: "Duplicate share" } });

    const s2 = findEthShare(header, { atMost: t, above: DEFAULT_BLOCK_TARGET, start: Number(BigInt(s.nonce) + 1n) });
    // A wrong mix that still passes the relay's µs pre-check, so the refusal comes from hashimoto's mix comparison.
    const wrongMix = passingWrongMix(header, s2.nonce, s2.mix, t);
    expect(await ethSubmit(c, 12, [s2.nonce, header, wrongMix])).toEqual({ id: 12, jsonrpc: "2.0", result: null, error: { code: 23, message: "Invalid share" } });

    const low = findEthShare(header, { atMost: t, meets: false, start: 1000 });
    expect(await ethSubmit(c, 13, [low.nonce, header, low.mix])).toEqual({ id: 13, jsonrpc: "2.0", result: null, error: { code: 23, message: "Invalid share" } });

    expect(await ethSubmit(c, 14, [s2.nonce, "0x" + "22".repeat(32), s2.mix])).toEqual({ id: 14, jsonrpc: "2.0", result: false });

    const bad = await ethSubmit(c, 15, ["0x1234", header, s2.mix]);
    expect(bad.id).toBe(15);
    expect(bad.error).toEqual({ code: -1, message: "Malformed PoW result: nonce must be 8 bytes of hex" });

    c.send({ id: 16, jsonrpc: "2.0", method: "eth_submitHashrate", params: ["0x00000000000000000000000000000000000000000000000000000000026f5e48", "0x" + "59".repeat(32)] });
    expect(await c.next(byId(16), 5000, "hashrate reply")).toEqual({ id: 16, jsonrpc: "2.0", result: true });

    // Still open and serving after every refusal above (errors do not disconnect by default).
    c.send({ id: 17, jsonrpc: "2.0", method: "eth_getWork", params: [] });
    expect((await c.next(byId(17), 5000, "getWork again")).result).toEqual(work);
    expect(c.isClosed()).toBe(false);
  }, T);

  test("when the devnet moves (a block found here) the new job is pushed with id 0", async () => {
    const c = await open(B);
    const { work } = await ethProxyOpen(c, { email: "d=1e-9" });
    const [header, , target, number] = work;
    // Share difficulty is capped at the block's: here the share target is the block target.
    const t = BigInt(target);
    const s = findEthShare(header, { atMost: t < BLOCK2_TARGET ? t : BLOCK2_TARGET });
    expect(await ethSubmit(c, 20, [s.nonce, header, s.mix])).toEqual({ id: 20, jsonrpc: "2.0", result: true });
    const push = await c.next(isWorkPush(header), 5000, "work push with id 0");
    const r = push.result as string[];
    expect(push.jsonrpc).toBe("2.0");
    expect(r[0]).toMatch(/^0x[0-9a-f]{64}$/);
    expect(r[0]).not.toBe(header);
    expect(r[1]).toBe(SEED0);
    expect(r[2]).toBe(target);
    expect(Number(r[3])).toBe(Number(number) + 1);
  }, T);
});

describe("EthereumStratum/1.0.0 over TCP with real ethash shares", () => {
  test("subscribe → extranonce; authorize d=1e-9 → set_difficulty then notify; shares true, duplicate 22, unknown job 21, wrong-length nonce 20", async () => {
    const c = await open(A);
    const o = await ethStratumOpen(c, { password: "d=1e-9" });
    expect(o.subscribe.error).toBeNull();
    const r = o.subscribe.result as [[string, string, string], string];
    expect(r[0][0]).toBe("mining.notify");
    expect(r[0][2]).toBe("EthereumStratum/1.0.0");
    expect(o.extranonce).toMatch(/^[0-9a-f]{4}$/); // ethash.extranonceBytes default 2
    expect(o.difficulty).toBe(1e-9);
    expect(o.order.setDifficulty).toBeLessThan(o.order.notify);
    const [jobId, seed, header, clean] = o.notify;
    expect(seed).toBe("00".repeat(32));
    expect(header).toMatch(/^[0-9a-f]{64}$/);
    expect(clean).toBe(true);

    const worker = ADDRESS + ".rig1";
    const t = difficultyToTarget(o.difficulty);
    const s1 = findEthShare(header, { atMost: t, above: DEFAULT_BLOCK_TARGET, prefix: o.extranonce });
    expect(s1.minerNonce).toHaveLength(12);
    expect(await ethStratumSubmit(c, 10, worker, jobId, s1.minerNonce)).toEqual({ id: 10, result: true, error: null });
    const s2 = findEthShare(header, { atMost: t, above: DEFAULT_BLOCK_TARGET, prefix: o.extranonce, start: parseInt(s1.minerNonce, 16) + 1 });
    expect(await ethStratumSubmit(c, 11, worker, jobId, s2.minerNonce)).toEqual({ id: 11, result: true, error: null });
    expect(await ethStratumSubmit(c, 12, worker, jobId, s1.minerNonce)).toEqual({ id: 12, result: null, error: [22, "Duplicate share", null] });
    expect(await ethStratumSubmit(c, 13, worker, "zzzzzz", s2.minerNonce)).toEqual({ id: 13, result: null, error: [21, "Job not found", null] });
    expect(await ethStratumSubmit(c, 14, worker, jobId, s2.minerNonce + "00")).toEqual({
      id: 14,
      result: null,
      error: [20, "Malformed request: miner nonce must be 12 hex digits", null],
    });
    // A nonce that misses the target is refused with 23 after hashimoto (the notify carries no mix to pre-check).
    const low = findEthShare(header, { atMost: t, meets: false, prefix: o.extranonce, start: 500 });
    expect(await ethStratumSubmit(c, 15, worker, jobId, low.minerNonce)).toEqual({ id: 15, result: null, error: [23, "Low difficulty share", null] });
  }, T);

  test("a block (blockDifficulty=2) → true, then a clean notify with a new header; /api/stats eth.blocks shows it accepted", async () => {
    const c = await open(B);
    const o = await ethStratumOpen(c, { password: "d=1e-9" });
    const [jobId, , header] = o.notify;
    const t = difficultyToTarget(o.difficulty);
    const s = findEthShare(header, { atMost: t < BLOCK2_TARGET ? t : BLOCK2_TARGET, prefix: o.extranonce });
    const worker = ADDRESS + ".rig1";
    expect(await ethStratumSubmit(c, 30, worker, jobId, s.minerNonce)).toEqual({ id: 30, result: true, error: null });
    const next = await c.next((m) => m.method === "mining.notify" && (m.params as unknown[])[2] !== header, 5000, "clean notify after the block");
    const p = next.params as [string, string, string, boolean];
    expect(p[0]).not.toBe(jobId);
    expect(p[2]).toMatch(/^[0-9a-f]{64}$/);
    expect(p[3]).toBe(true);
    const block = await until(
      async () => {
        const st = (await httpGet(B.httpPort, "/api/stats")).json() as { eth?: { blocks?: { hash: string; worker: string; result?: { accepted: boolean } }[] } };
        return st.eth?.blocks?.find((b) => b.hash === s.hash && b.result !== undefined);
      },
      5000,
      "the block in /api/stats eth.blocks",
      () => B.tail(),
    );
    expect(block.worker).toBe(worker);
    expect(block.result).toEqual({ accepted: true });
    // The old job is gone for this connection after the clean notify.
    expect(await ethStratumSubmit(c, 31, worker, jobId, s.minerNonce.replace(/.$/, (d) => (d === "0" ? "1" : "0")))).toEqual({ id: 31, result: null, error: [21, "Job not found", null] });
  }, T);
});

describe("HTTP getwork", () => {
  test("POST /0x<addr>/rig1: eth_getWork → work; eth_submitWork real share → true; eth_submitHashrate → true; plain POST / works too", async () => {
    const path = `/${ADDRESS}/rig1`;
    const gw = await postRpc(C.httpPort, path, { id: 1, jsonrpc: "2.0", method: "eth_getWork", params: [] });
    expect(gw.status).toBe(200);
    expect(gw.json.id).toBe(1);
    const work = gw.json.result as string[];
    expect(work).toHaveLength(4);
    expect(work[1]).toBe(SEED0);
    expect(work[2]).toBe("0x" + difficultyToTarget(1e-9).toString(16).padStart(64, "0"));
    const s = findEthShare(work[0]!, { atMost: BigInt(work[2]!), above: DEFAULT_BLOCK_TARGET });
    const sw = await postRpc(C.httpPort, path, { id: 2, jsonrpc: "2.0", method: "eth_submitWork", params: [s.nonce, work[0], s.mix] });
    expect(sw.json).toEqual({ id: 2, jsonrpc: "2.0", result: true });
    const dup = await postRpc(C.httpPort, path, { id: 3, jsonrpc: "2.0", method: "eth_submitWork", params: [s.nonce, work[0], s.mix] });
    expect(dup.json).toEqual({ id: 3, jsonrpc: "2.0", result: null, error: { code: 22, message: "Duplicate share" } });
    const hr = await postRpc(C.httpPort, path, { id: 4, jsonrpc: "2.0", method: "eth_submitHashrate", params: ["0x1dcd6500", "0x" + "aa".repeat(32)] });
    expect(hr.json).toEqual({ id: 4, jsonrpc: "2.0", result: true });

    const plain = await postRpc(C.httpPort, "/", { id: 5, jsonrpc: "2.0", method: "eth_getWork", params: [] });
    expect(plain.status).toBe(200);
    expect(plain.json.result).toEqual(work);
    const s2 = findEthShare(work[0]!, { atMost: BigInt(work[2]!), above: DEFAULT_BLOCK_TARGET, start: Number(BigInt(s.nonce) + 1n) });
    const sw2 = await postRpc(C.httpPort, "/", { id: 6, jsonrpc: "2.0", method: "eth_submitWork", params: [s2.nonce, work[0], s2.mix] });
    expect(sw2.json).toEqual({ id: 6, jsonrpc: "2.0", result: true });
    const stats = (await httpGet(C.httpPort, "/api/stats")).json() as { eth?: { accepted?: number } };
    expect(stats.eth?.accepted).toBeGreaterThanOrEqual(2);
  }, T);
});

describe("one port, every dialect", () => {
  test("a Bitcoin Stratum v1, an eth-proxy and an EthereumStratum miner on the same port at once, each with its own work and true for a valid share", async () => {
    const [btc, proxy, es] = await Promise.all([open(A), open(A), open(A)]);
    const [h, p, e] = await Promise.all([
      handshake(btc, { user: "btc.w1", password: "d=1e-12" }),
      ethProxyOpen(proxy, { email: "d=1e-9", worker: "rig2" }),
      ethStratumOpen(es, { user: ADDRESS + ".rig3", password: "d=1e-9" }),
    ]);
    // Each got its own dialect's work.
    expect(h.job.jobId).toBeString();
    expect(h.job.coinb1).toMatch(/^[0-9a-f]+$/);
    expect(h.difficulty).toBe(1e-12);
    expect(p.work[0]).toMatch(/^0x[0-9a-f]{64}$/);
    expect(e.notify[2]).toBe(p.work[0].slice(2)); // both Ethereum dialects mine the same devnet header
    const btcShare = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size), { target: shareTarget(h.difficulty), meets: true });
    const ps = findEthShare(p.work[0], { atMost: BigInt(p.work[2]), above: DEFAULT_BLOCK_TARGET });
    const es1 = findEthShare(e.notify[2], { atMost: difficultyToTarget(e.difficulty), above: DEFAULT_BLOCK_TARGET, prefix: e.extranonce, start: 7 });
    btc.send({ id: 40, method: "mining.submit", params: submitParams("btc.w1", h.job, btcShare) });
    proxy.send({ id: 41, jsonrpc: "2.0", method: "eth_submitWork", params: [ps.nonce, p.work[0], ps.mix] });
    es.send({ id: 42, method: "mining.submit", params: [ADDRESS + ".rig3", e.notify[0], es1.minerNonce] });
    const [rb, rp, re] = await Promise.all([btc.next(byId(40), 5000, "btc submit"), proxy.next(byId(41), 5000, "eth-proxy submit"), es.next(byId(42), 5000, "eth-stratum submit")]);
    expect(rb).toEqual({ id: 40, result: true, error: null });
    expect(rp).toEqual({ id: 41, jsonrpc: "2.0", result: true });
    expect(re).toEqual({ id: 42, result: true, error: null });
    // No cross-talk: no dialect received another's messages.
    expect(btc.received.some((m) => Array.isArray(m.result) && m.id === 0)).toBe(false);
    expect(proxy.received.some((m) => m.method !== undefined)).toBe(false);
    expect(es.received.filter(byMethod("mining.notify")).every((m) => (m.params as unknown[]).length === 4)).toBe(true);
  }, T);
});

describe("EIP-1571 (EthereumStratum/2.0.0)", () => {
  test("hello → subscribe → authorize → set → notify → valid share {id}; dup 409, low 406, stale 404, bad token 301, bad nonce 400, unknown 405; noop; bye closes — next to a Stratum v1 and an eth-proxy miner on the same port", async () => {
    const [btc, proxy, c] = await Promise.all([open(A), open(A), open(A)]);
    const [h, p] = await Promise.all([handshake(btc, { user: "btc.w9", password: "d=1e-12" }), ethProxyOpen(proxy, { email: "d=1e-9", worker: "rig8" })]);

    c.send({ id: 0, method: "mining.hello", params: { agent: "ethminer-0.19.0", host: "127.0.0.1", port: A.stratumPort.toString(16), proto: "EthereumStratum/2.0.0" } });
    const hello = await c.next(byId(0), 5000, "hello result");
    expect(hello).toEqual({ id: 0, result: { proto: "EthereumStratum/2.0.0", encoding: "plain", resume: "0", timeout: expect.stringMatching(/^[1-9a-f][0-9a-f]*$/), maxerrors: expect.stringMatching(/^[1-9a-f][0-9a-f]*$/), node: "stratum-edge" } });
    c.send({ id: 1, method: "mining.subscribe" });
    const sub = await c.next(byId(1), 5000, "subscribe result");
    expect(sub.result).toBeString();
    expect(sub.error).toBeUndefined();
    c.send({ id: 2, method: "mining.authorize", params: [ADDRESS + ".rig9", "d=1e-9"] });
    expect(await c.next(byId(2), 5000, "authorize result")).toEqual({ id: 2, result: "w0" });

    // mining.set with all four members comes before the first mining.notify (EIP-1571 "Prepare for mining").
    const notify = await c.next(byMethod("mining.notify"), 10_000, "first notify");
    const set = c.received.find(byMethod("mining.set"))!;
    expect(c.received.indexOf(set)).toBeLessThan(c.received.indexOf(notify));
    expect(set.id).toBeUndefined();
    const sp = set.params as unknown as { epoch: string; target: string; algo: string; extranonce: string };
    expect(sp.epoch).toBe("0");
    expect(sp.target).toBe(difficultyToTarget(1e-9).toString(16));
    expect(sp.algo).toBe("ethash");
    expect(sp.extranonce).toMatch(/^([0-9a-f]{2}){1,3}$/);
    expect(notify.id).toBeUndefined();
    const [jobId, height, header, clean] = notify.params as string[];
    expect(header).toBe(p.work[0].slice(2)); // the same devnet header as the eth-proxy miner
    expect(height).toBe(BigInt(p.work[3]).toString(16));
    expect(clean).toBe("1");

    // Valid shares from all three dialects at once, each answered in its own form.
    const share = findEthShare("0x" + header, { atMost: BigInt("0x" + sp.target), above: DEFAULT_BLOCK_TARGET, prefix: sp.extranonce, start: 3 });
    const btcShare = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size), { target: shareTarget(h.difficulty), meets: true });
    const ps = findEthShare(p.work[0], { atMost: BigInt(p.work[2]), above: DEFAULT_BLOCK_TARGET, start: 9 });
    c.send({ id: 3, method: "mining.submit", params: [jobId, share.minerNonce, "w0"] });
    btc.send({ id: 40, method: "mining.submit", params: submitParams("btc.w9", h.job, btcShare) });
    proxy.send({ id: 41, jsonrpc: "2.0", method: "eth_submitWork", params: [ps.nonce, p.work[0], ps.mix] });
    const [r3, rb, rp] = await Promise.all([c.next(byId(3), 5000, "submit"), btc.next(byId(40), 5000, "btc submit"), proxy.next(byId(41), 5000, "eth-proxy submit")]);
    expect(r3).toEqual({ id: 3 });
    expect(rb).toEqual({ id: 40, result: true, error: null });
    expect(rp).toEqual({ id: 41, jsonrpc: "2.0", result: true });

    const reply = async (id: number, params: unknown[]) => {
      c.send({ id, method: "mining.submit", params });
      return c.next(byId(id), 5000, `submit ${id}`);
    };
    expect(await reply(4, [jobId, share.minerNonce, "w0"])).toEqual({ id: 4, error: { code: 409, message: "Duplicate share" } });
    const low = findEthShare("0x" + header, { atMost: BigInt("0x" + sp.target), meets: false, prefix: sp.extranonce, start: 1000 });
    expect(await reply(5, [jobId, low.minerNonce, "w0"])).toEqual({ id: 5, error: { code: 406, message: "Bad nonce" } });
    expect(await reply(6, ["nosuchjob", share.minerNonce, "w0"])).toEqual({ id: 6, error: { code: 404, message: "Job not found" } });
    expect(await reply(7, [jobId, share.minerNonce, "w9"])).toEqual({ id: 7, error: { code: 301, message: "Unauthorized worker" } });
    const bad = await reply(8, [jobId, "zz", "w0"]);
    expect((bad.error as { code: number }).code).toBe(400);
    expect(bad.result).toBeUndefined();
    c.send({ id: 9, method: "mining.fly" });
    expect(await c.next(byId(9), 5000, "unknown method")).toEqual({ id: 9, error: { code: 405, message: "Method not supported: mining.fly" } });

    c.send({ id: 10, method: "mining.noop" });
    expect(await c.next(byId(10), 5000, "noop")).toEqual({ id: 10 });
    expect(c.isClosed()).toBe(false);
    c.send({ method: "mining.bye" });
    await c.waitClosed(2000);
    // The other two miners are untouched.
    expect(btc.isClosed()).toBe(false);
    expect(proxy.isClosed()).toBe(false);
  }, T);

  test("a hello asking for another proto → 4xx error in EIP-1571 form and close", async () => {
    const c = await open(A);
    c.send({ id: 1, method: "mining.hello", params: { agent: "x", host: "127.0.0.1", port: "d80", proto: "EthereumStratum/3.0.0" } });
    const reply = await c.next(byId(1), 2000, "hello refusal");
    const e = reply.error as { code: number; message: string };
    expect(e.code).toBe(405);
    expect(e.message).toContain("EthereumStratum/2.0.0");
    expect(reply.result).toBeUndefined();
    await c.waitClosed(2000);
  }, T);
});
