// eth-proxy session reducer tests: exact wire answers, verify actions and verified outcomes with a real job book and an injected clock; no sockets, no hashimoto (the verifier's answer is supplied).
import { describe, expect, test } from "bun:test";
import { createExtranonceAllocator } from "../../../src/pools/extranonce.ts";
import type { Action, VerifyRequest, EthashVerifyRequest, VerifyResult } from "../../../protocols/core/actions.ts";
import type { EthJob, EthWork } from "../../../protocols/eth/work.ts";
import { ethProxy, reportedHashrate, type EthEnv, type EthPolicy, type EthProxyState } from "../../../protocols/eth-proxy/session.ts";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import { epochParams, quickCheck } from "../../../protocols/pow/ethash.ts";
import { bytesToHex, hexToBytes } from "../../../protocols/pow/hex.ts";
import { difficultyToTarget, targetToDifficulty } from "../../../protocols/pow/target.ts";
import { createEthJobBook, type EthJobBook } from "../../../src/pools/eth_job_book.ts";

const ADDR = "0xb85150eb365e7df0941f0cf08235f987ba91506a";
const SEED0 = "0x" + "00".repeat(32);
const TWO_256 = 1n << 256n;
const EPOCH0 = epochParams(1, { algo: "ethash" })!;

const POLICY: EthPolicy = {
  initialDifficulty: 7e-7,
  suggestFloor: 1e-9,
  vardiff: { targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30, min: 1e-9, max: 1e6 },
  loginTimeoutMs: 10_000,
  idleTimeoutMs: 600_000,
  maxMalformed: 3,
  disconnectOnError: false,
};

function makeBook(): EthJobBook {
  return createEthJobBook({
    algo: "ethash",
    keepHeights: 3,
    epochInfo: (n) => {
      const p = epochParams(n, { algo: "ethash" })!;
      return { epoch: p.epoch, cacheSize: p.cacheSize, fullSize: p.fullSize };
    },
  });
}

/** Work at height n with block difficulty `blockDiff` (geth unit: boundary 2^256 / difficulty). */
function work(n: number, blockDiff = 100_000n, tag = "a"): EthWork {
  const h = (n.toString(16).padStart(4, "0") + tag.charCodeAt(0).toString(16)).padEnd(64, "5");
  return { headerHash: "0x" + h, seedHash: SEED0, target: TWO_256 / blockDiff, blockNumber: n };
}

function env(policy: Partial<EthPolicy> = {}, book: EthJobBook = makeBook()): EthEnv & { jobs: EthJobBook } {
  return { now: 1_000_000, jobs: book, policy: { ...POLICY, ...policy }, extranonce: createExtranonceAllocator(2) };
}

const recv = (s: EthProxyState, e: EthEnv, obj: unknown): Action[] => {
  const out: Action[] = [];
  ethProxy.receive(s, parseLine(JSON.stringify(obj)), e, out);
  return out;
};
const text = (a: Action): string => (a.kind === "write" ? (typeof a.data === "string" ? a.data : new TextDecoder().decode(a.data)) : "");
const writes = (out: Action[]): string[] => out.filter((a) => a.kind === "write").map(text);
const kinds = (out: Action[]) => out.map((a) => a.kind);
const verifyOf = (out: Action[]): EthashVerifyRequest => {
  const v = out.find((a) => a.kind === "verify");
  if (v === undefined || v.kind !== "verify") throw new Error(`no verify action in ${JSON.stringify(kinds(out))}`);
  if (v.request.algo === "scrypt") throw new Error("expected an ethash verify request");
  return v.request as EthashVerifyRequest;
};
const shareOf = (out: Action[]) => {
  const a = out.find((x) => x.kind === "share");
  if (a === undefined || a.kind !== "share") throw new Error("no share action");
  return a.share;
};

function open(e: EthEnv): EthProxyState {
  return ethProxy.open({ remoteAddress: "10.0.0.1", extranonce1: "" }, e);
}

/** Logged in (with an optional email / password) and holding work; returns the getWork result. */
function ready(e: EthEnv, email?: string): { s: EthProxyState; result: [string, string, string, string] } {
  const s = open(e);
  const login = recv(s, e, { id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: email === undefined ? [ADDR] : [ADDR, email], worker: "rig1" });
  expect(writes(login)).toEqual(['{"id":1,"jsonrpc":"2.0","result":true}\n']);
  const gw = writes(recv(s, e, { id: 2, jsonrpc: "2.0", method: "eth_getWork", params: [] }));
  expect(gw).toHaveLength(1);
  const m = JSON.parse(gw[0]!) as { result: [string, string, string, string] };
  return { s, result: m.result };
}

const toBig = (b: Uint8Array) => BigInt("0x" + bytesToHex(b));
const nonceHex = (n: number) => "0x" + n.toString(16).padStart(16, "0");

/**
 * Nonces (from `start`) whose pre-check value keccak256(keccak512(header‖nonce)‖mix) is within (lo, hi]:
 * what the reducer computes before asking for hashimoto. The mix is fixed; the verifier's answer is supplied later.
 */
function nonces(job: EthJob, mix: Uint8Array, lo: bigint, hi: bigint, count: number, start = 0): { nonce: string; value: Uint8Array }[] {
  const found: { nonce: string; value: Uint8Array }[] = [];
  for (let n = start; n < start + 2_000_000 && found.length < count; n++) {
    const q = quickCheck(job.headerBytes, hexToBytes(nonceHex(n).slice(2))!, mix);
    const v = toBig(q);
    if (v > lo && v <= hi) found.push({ nonce: nonceHex(n), value: Uint8Array.from(q) });
  }
  if (found.length < count) throw new Error("nonces: search exhausted");
  return found;
}

const MIX = "0x" + "6b".repeat(32);
const MIX_BYTES = hexToBytes(MIX.slice(2))!;
/** Claymore's shape ("worker":"" = not given); ethminer's top-level "worker" is tested on its own below. */
const submit = (id: number, nonce: string, header: string, mix = MIX, worker = "") => ({ id, jsonrpc: "2.0", method: "eth_submitWork", params: [nonce, header, mix], worker });
const ok = (mix: Uint8Array, result: Uint8Array): VerifyResult => ({ ok: true, mixDigest: mix, result });
const verified = (s: EthProxyState, req: VerifyRequest, res: VerifyResult, e: EthEnv): Action[] => {
  const out: Action[] = [];
  ethProxy.verified!(s, req, res, e, out);
  return out;
};

describe("eth-proxy detect", () => {
  test("the four eth_ methods select the dialect; Stratum openings do not", () => {
    for (const method of ["eth_submitLogin", "eth_getWork", "eth_submitWork", "eth_submitHashrate"]) {
      expect(ethProxy.detect({ kind: "request", id: 1, method, params: [] })).toBe(true);
    }
    expect(ethProxy.detect({ kind: "request", id: 1, method: "mining.subscribe", params: [] })).toBe(false);
    expect(ethProxy.detect({ kind: "request", id: 1, method: "mining.hello", params: {} })).toBe(false);
    expect(ethProxy.detect({ kind: "response", id: 1, result: true, error: null })).toBe(false);
  });
});

describe("eth-proxy login and getWork", () => {
  test("login → true; worker is address.worker", () => {
    const e = env();
    const s = open(e);
    expect(writes(recv(s, e, { id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ADDR.toUpperCase().replace("0X", "0x")], worker: "rig1" }))).toEqual([
      '{"id":1,"jsonrpc":"2.0","result":true}\n',
    ]);
    expect(s.loggedIn).toBe(true);
    expect(s.worker).toBe(ADDR + ".rig1");
    const s2 = open(e);
    recv(s2, e, { id: 1, method: "eth_submitLogin", params: [ADDR + ".farm7", "x"] });
    expect(s2.worker).toBe(ADDR + ".farm7");
  });

  test("invalid login → -1 Invalid login, not logged in, connection kept", () => {
    const e = env();
    const s = open(e);
    const out = recv(s, e, { id: 3, jsonrpc: "2.0", method: "eth_submitLogin", params: ["0x1234", "x"] });
    expect(writes(out)).toEqual(['{"id":3,"jsonrpc":"2.0","result":null,"error":{"code":-1,"message":"Invalid login: address must be 0x + 40 hex digits"}}\n']);
    expect(kinds(out)).toEqual(["write", "abuse"]); // a failed login, counted by the ban policy
    expect(s.loggedIn).toBe(false);
    const out2 = recv(s, e, { id: 4, method: "eth_submitLogin", params: [] });
    expect(JSON.parse(writes(out2)[0]!).error.code).toBe(-1);
    expect(JSON.parse(writes(out2)[0]!).error.message).toStartWith("Invalid login");
  });

  test("getWork before login → 25 Not subscribed; submitWork before login → 25", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const s = open(e);
    expect(writes(recv(s, e, { id: 2, jsonrpc: "2.0", method: "eth_getWork", params: [] }))).toEqual([
      '{"id":2,"jsonrpc":"2.0","result":null,"error":{"code":25,"message":"Not subscribed"}}\n',
    ]);
    expect(writes(recv(s, e, submit(3, nonceHex(1), work(1).headerHash)))).toEqual([
      '{"id":3,"jsonrpc":"2.0","result":null,"error":{"code":25,"message":"Not subscribed"}}\n',
    ]);
  });

  test("getWork before any work → 0 Work not ready", () => {
    const e = env();
    const s = open(e);
    recv(s, e, { id: 1, method: "eth_submitLogin", params: [ADDR] });
    expect(writes(recv(s, e, { id: 2, jsonrpc: "2.0", method: "eth_getWork", params: [] }))).toEqual([
      '{"id":2,"jsonrpc":"2.0","result":null,"error":{"code":0,"message":"Work not ready"}}\n',
    ]);
  });

  test("work result: [header, seed, 0x+64-hex target of the initial difficulty, 0x-quantity block number]", () => {
    const e = env();
    e.jobs.add(work(26), true);
    const { result } = ready(e);
    expect(result).toEqual([work(26).headerHash, SEED0, "0x" + difficultyToTarget(7e-7).toString(16).padStart(64, "0"), "0x1a"]);
    expect(result[2]).toMatch(/^0x[0-9a-f]{64}$/);
  });

  test("d=NUMBER in the login's 2nd param (email) sets the difficulty; below suggestFloor it is raised to the floor", () => {
    const e = env();
    e.jobs.add(work(1), true);
    expect(BigInt(ready(e, "d=1e-9").result[2])).toBe(difficultyToTarget(1e-9));
    expect(BigInt(ready(e, "x,d=0.0000002").result[2])).toBe(difficultyToTarget(2e-7));
    expect(BigInt(ready(e, "d=1e-12").result[2])).toBe(difficultyToTarget(1e-9));
    // Not a difficulty: the initial one stays.
    expect(BigInt(ready(e, "me@example.com").result[2])).toBe(difficultyToTarget(7e-7));
  });

  test("share difficulty is capped at the block's: the share target is never harder than the block target", () => {
    const e = env();
    e.jobs.add(work(1, 1000n), true);
    const t = BigInt(ready(e, "d=1").result[2]);
    const block = TWO_256 / 1000n;
    expect(t >= block - (block >> 40n) && t <= block + (block >> 40n)).toBe(true);
  });
});

describe("eth-proxy job push", () => {
  test("a new job is pushed with id 0 after getWork, not before; equal difficulties share one encoding", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const quiet = open(e);
    recv(quiet, e, { id: 1, method: "eth_submitLogin", params: [ADDR] });
    const { s: a } = ready(e, "d=1e-9");
    const { s: b } = ready(e, "d=1e-9");
    const job = e.jobs.add(work(2), true);
    const memo = new Map<string, string | Uint8Array>();
    const ev = { job, clean: true, memo };
    const outQ: Action[] = [], outA: Action[] = [], outB: Action[] = [];
    ethProxy.job(quiet, ev, e, outQ);
    ethProxy.job(a, ev, e, outA);
    ethProxy.job(b, ev, e, outB);
    expect(outQ).toEqual([]);
    const expected = '{"id":0,"jsonrpc":"2.0","result":["' + work(2).headerHash + '","' + SEED0 + '","0x' + difficultyToTarget(1e-9).toString(16).padStart(64, "0") + '","0x2"]}\n';
    expect(writes(outA)).toEqual([expected]);
    expect(writes(outB)).toEqual([expected]);
    expect((outA[0] as { data: unknown }).data).toBe((outB[0] as { data: unknown }).data);
  });
});

describe("eth-proxy submitWork", () => {
  test("unknown header → result false (stale) and a rejected share", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const out = recv(s, e, submit(7, nonceHex(1), "0x" + "22".repeat(32)));
    expect(writes(out)).toEqual(['{"id":7,"jsonrpc":"2.0","result":false}\n']);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "stale", worker: ADDR + ".rig1" });
    expect(kinds(out)).not.toContain("verify");
  });

  test("a job that fell out of the job book is stale; one still in it is not", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const job1 = e.jobs.current()!;
    e.jobs.add(work(2), true);
    e.jobs.add(work(3), true); // keepHeights 3: heights 1..3 kept
    const [p] = nonces(job1, MIX_BYTES, 0n, difficultyToTarget(1e-9), 1);
    expect(kinds(recv(s, e, submit(8, p!.nonce, job1.headerHash)))).toEqual(["verify"]);
    e.jobs.add(work(4), true); // height 1 dropped
    expect(writes(recv(s, e, submit(9, nonceHex(12345), job1.headerHash)))).toEqual(['{"id":9,"jsonrpc":"2.0","result":false}\n']);
  });

  test("pre-check above the target → 23 Invalid share at once, no verify action", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e); // 7e-7
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, difficultyToTarget(7e-7), TWO_256, 1);
    const out = recv(s, e, submit(10, p!.nonce, job.headerHash));
    expect(writes(out)).toEqual(['{"id":10,"jsonrpc":"2.0","result":null,"error":{"code":23,"message":"Invalid share"}}\n']);
    expect(kinds(out)).toEqual(["write", "share"]);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "low_difficulty", difficulty: 7e-7, jobId: job.id, height: 1 });
  });

  test("duplicate (same nonce, same header) → 22, whether or not the first was verified", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, 0n, difficultyToTarget(1e-9), 1);
    expect(kinds(recv(s, e, submit(11, p!.nonce, job.headerHash)))).toEqual(["verify"]);
    const out = recv(s, e, submit(12, p!.nonce.toUpperCase().replace("0X", "0x"), job.headerHash));
    expect(writes(out)).toEqual(['{"id":12,"jsonrpc":"2.0","result":null,"error":{"code":22,"message":"Duplicate share"}}\n']);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "duplicate" });
  });

  test("verify action carries the job's epoch data, header, nonce and mix as bytes", () => {
    const e = env();
    e.jobs.add(work(5), true);
    const { s } = ready(e, "d=1e-9");
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, 0n, difficultyToTarget(1e-9), 1);
    const req = verifyOf(recv(s, e, submit(13, p!.nonce, job.headerHash)));
    expect(req.algo).toBe("ethash");
    expect(req.epoch).toBe(0);
    expect(bytesToHex(req.seed)).toBe("00".repeat(32));
    expect(req.cacheSize).toBe(EPOCH0.cacheSize);
    expect(req.fullSize).toBe(EPOCH0.fullSize);
    expect(req.cacheSize).toBe(16776896);
    expect("0x" + bytesToHex(req.headerHash)).toBe(job.headerHash);
    expect("0x" + bytesToHex(req.nonce)).toBe(p!.nonce);
    expect("0x" + bytesToHex(req.mixDigest!)).toBe(MIX);
  });

  test("verified: matching mix and result under the share target → true and an accepted share (no block above the network target)", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, job.target, difficultyToTarget(1e-9), 1);
    const req = verifyOf(recv(s, e, submit(14, p!.nonce, job.headerHash)));
    e.now += 5;
    const out = verified(s, req, ok(MIX_BYTES, p!.value), e);
    expect(writes(out)).toEqual(['{"id":14,"jsonrpc":"2.0","result":true}\n']);
    expect(kinds(out)).toEqual(["write", "share"]);
    const sh = shareOf(out);
    expect(sh).toMatchObject({ worker: ADDR + ".rig1", accepted: true, difficulty: 1e-9, jobId: job.id, height: 1, at: e.now });
    expect(sh.shareDifficulty).toBeCloseTo(targetToDifficulty(toBig(p!.value)), 20);
  });

  test("verified: result at or under the network target → also a block action with eth_submitWork's fields", () => {
    const e = env();
    e.jobs.add(work(9, 2n), true); // boundary 2^255
    const { s } = ready(e, "d=1e-9");
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, 0n, job.target, 1);
    const req = verifyOf(recv(s, e, submit(15, p!.nonce, job.headerHash)));
    const out = verified(s, req, ok(MIX_BYTES, p!.value), e);
    expect(writes(out)).toEqual(['{"id":15,"jsonrpc":"2.0","result":true}\n']);
    const b = out.find((a) => a.kind === "block");
    expect(b).toBeDefined();
    expect(b!.kind === "block" && b!.block).toEqual({
      algo: "ethash",
      worker: ADDR + ".rig1",
      height: 9,
      nonce: p!.nonce,
      headerHash: job.headerHash,
      mixDigest: MIX,
      hash: "0x" + bytesToHex(p!.value),
      at: e.now,
    });
  });

  // Regression: ethminer repeats its top-level "worker":"rig1" on every eth_submitWork; accepted shares and blocks
  // once went to "rig1" while rejected ones went to "0x<addr>.rig1", splitting one rig in two in the stats.
  test("accepted share and block of a submit carrying ethminer's top-level worker are attributed to address.worker, like rejected ones", () => {
    const e = env();
    e.jobs.add(work(9, 2n), true);
    const { s } = ready(e, "d=1e-9");
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, 0n, job.target, 1);
    const req = verifyOf(recv(s, e, submit(25, p!.nonce, job.headerHash, MIX, "rig1")));
    const out = verified(s, req, ok(MIX_BYTES, p!.value), e);
    expect(shareOf(out).worker).toBe(ADDR + ".rig1");
    const b = out.find((a) => a.kind === "block");
    expect(b?.kind === "block" && b.block.worker).toBe(ADDR + ".rig1");
  });

  test("verified: mix mismatch → 23 Invalid share (invalid_solution)", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, 0n, difficultyToTarget(1e-9), 1);
    const req = verifyOf(recv(s, e, submit(16, p!.nonce, job.headerHash)));
    const out = verified(s, req, ok(hexToBytes("77".repeat(32))!, p!.value), e);
    expect(writes(out)).toEqual(['{"id":16,"jsonrpc":"2.0","result":null,"error":{"code":23,"message":"Invalid share"}}\n']);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "invalid_solution" });
    expect(kinds(out)).not.toContain("block");
  });

  test("verified: result above the share target → 23 (low_difficulty)", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, 0n, difficultyToTarget(1e-9), 1);
    const req = verifyOf(recv(s, e, submit(17, p!.nonce, job.headerHash)));
    const out = verified(s, req, ok(MIX_BYTES, hexToBytes("ff".repeat(32))!), e);
    expect(writes(out)).toEqual(['{"id":17,"jsonrpc":"2.0","result":null,"error":{"code":23,"message":"Invalid share"}}\n']);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "low_difficulty" });
  });

  test("verified: verifier failure → -1 Internal error, not a silent accept", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, 0n, difficultyToTarget(1e-9), 1);
    const req = verifyOf(recv(s, e, submit(18, p!.nonce, job.headerHash)));
    const out = verified(s, req, { ok: false, error: "cache unavailable" }, e);
    expect(writes(out)).toEqual(['{"id":18,"jsonrpc":"2.0","result":null,"error":{"code":-1,"message":"Internal error"}}\n']);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "internal" });
  });

  test("work fetched elsewhere (header never sent on this connection) is judged at this connection's difficulty", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const s = open(e);
    recv(s, e, { id: 1, method: "eth_submitLogin", params: [ADDR, "d=1e-9"] });
    const job = e.jobs.current()!;
    const [p] = nonces(job, MIX_BYTES, job.target, difficultyToTarget(1e-9), 1);
    const req = verifyOf(recv(s, e, submit(19, p!.nonce, job.headerHash)));
    expect(writes(verified(s, req, ok(MIX_BYTES, p!.value), e))).toEqual(['{"id":19,"jsonrpc":"2.0","result":true}\n']);
  });

  test("malformed params (short nonce) → -1 Malformed PoW result; the maxMalformed-th closes", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const h = e.jobs.current()!.headerHash;
    const out1 = recv(s, e, submit(20, "0x1234", h));
    expect(writes(out1)).toEqual(['{"id":20,"jsonrpc":"2.0","result":null,"error":{"code":-1,"message":"Malformed PoW result: nonce must be 8 bytes of hex"}}\n']);
    expect(kinds(out1)).toEqual(["write", "abuse"]);
    expect(kinds(recv(s, e, submit(21, nonceHex(1), h, "0x12")))).toEqual(["write", "abuse"]);
    const out3 = recv(s, e, { id: 22, method: "eth_submitWork", params: [nonceHex(1)] });
    expect(writes(out3)).toEqual(['{"id":22,"jsonrpc":"2.0","result":null,"error":{"code":-1,"message":"Malformed PoW result: expected 3 params, got 1"}}\n']);
    expect(out3.at(-1)).toEqual({ kind: "close", reason: "malformed" });
    expect(recv(s, e, { id: 23, method: "eth_getWork", params: [] })).toEqual([]);
  });

  test("disconnectOnError: an error answer is followed by a close", () => {
    const e = env({ disconnectOnError: true });
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-9");
    const out = recv(s, e, submit(24, nonceHex(1), "0x" + "22".repeat(32)));
    expect(writes(out)).toEqual(['{"id":24,"jsonrpc":"2.0","result":false}\n']);
    expect(out).toContainEqual({ kind: "close", reason: "malformed" });
  });
});

describe("eth-proxy hashrate, unknown methods, timers, vardiff", () => {
  test("eth_submitHashrate → true; kept as a canonical quantity", () => {
    const e = env();
    const s = open(e);
    recv(s, e, { id: 1, method: "eth_submitLogin", params: [ADDR] });
    expect(writes(recv(s, e, { id: 9, jsonrpc: "2.0", method: "eth_submitHashrate", params: ["0x00000000000000000000000000000000000000000000000000000000026f5e48", "0x" + "59".repeat(32)] }))).toEqual([
      '{"id":9,"jsonrpc":"2.0","result":true}\n',
    ]);
    expect(reportedHashrate(s)).toBe("0x26f5e48");
    const bad = writes(recv(s, e, { id: 10, method: "eth_submitHashrate", params: ["12", "x"] }));
    expect(JSON.parse(bad[0]!).error.code).toBe(-1);
  });

  test("unknown method → -1 Method not found: name", () => {
    const e = env();
    const s = open(e);
    expect(writes(recv(s, e, { id: 5, method: "eth_foo", params: [] }))).toEqual([
      '{"id":5,"jsonrpc":"2.0","result":null,"error":{"code":-1,"message":"Method not found: eth_foo"}}\n',
    ]);
  });

  test("login timeout and idle timeout close through tick", () => {
    const e = env();
    const s = open(e);
    const out: Action[] = [];
    e.now += 9_999;
    ethProxy.tick(s, e, out);
    expect(out).toEqual([]);
    e.now += 1;
    ethProxy.tick(s, e, out);
    expect(out).toEqual([{ kind: "close", reason: "login_timeout" }]);
    const e2 = env({ idleTimeoutMs: 5000 });
    const s2 = open(e2);
    recv(s2, e2, { id: 1, method: "eth_submitLogin", params: [ADDR] });
    const out2: Action[] = [];
    e2.now += 5000;
    ethProxy.tick(s2, e2, out2);
    expect(out2).toEqual([{ kind: "close", reason: "idle_timeout" }]);
  });

  test("vardiff: a quiet window halves the difficulty and pushes the job again (id 0) with the easier target", () => {
    const e = env();
    e.jobs.add(work(1, 1_000_000_000n), true);
    const { s } = ready(e);
    const out: Action[] = [];
    e.now += 59_000;
    ethProxy.tick(s, e, out);
    expect(out).toEqual([]);
    e.now += 1_000;
    ethProxy.tick(s, e, out);
    expect(writes(out)).toEqual(['{"id":0,"jsonrpc":"2.0","result":["' + work(1).headerHash + '","' + SEED0 + '","0x' + difficultyToTarget(3.5e-7).toString(16).padStart(64, "0") + '","0x1"]}\n']);
  });

  test("vardiff: a flood of accepted shares raises the difficulty at once; later shares are judged at the lower one still (credit the higher when met)", () => {
    const e = env();
    e.jobs.add(work(1, 1_000_000_000n), true);
    const { s } = ready(e);
    const job = e.jobs.current()!;
    const found = nonces(job, MIX_BYTES, job.target, difficultyToTarget(7e-7), 12);
    const outs: Action[] = [];
    e.now += 1000;
    found.forEach((p, i) => {
      const req = verifyOf(recv(s, e, submit(100 + i, p.nonce, job.headerHash)));
      outs.push(...verified(s, req, ok(MIX_BYTES, p.value), e));
    });
    // 12 shares in 1 s against a 10 s target: 7e-7 · 10 / (1/12) = 8.4e-5, pushed with id 0.
    const pushes = writes(outs).filter((l) => l.startsWith('{"id":0'));
    expect(pushes).toEqual(['{"id":0,"jsonrpc":"2.0","result":["' + job.headerHash + '","' + SEED0 + '","0x' + difficultyToTarget(8.4e-5).toString(16).padStart(64, "0") + '","0x1"]}\n']);
    expect(s.difficulty).toBe(8.4e-5);
    // A share mined before the push (meets only 7e-7) is still accepted, credited at 7e-7.
    const [late] = nonces(job, MIX_BYTES, difficultyToTarget(8.4e-5), difficultyToTarget(7e-7), 1, 1_000_000);
    const req = verifyOf(recv(s, e, submit(200, late!.nonce, job.headerHash)));
    const out = verified(s, req, ok(MIX_BYTES, late!.value), e);
    expect(writes(out)[0]).toBe('{"id":200,"jsonrpc":"2.0","result":true}\n');
    expect(shareOf(out).difficulty).toBe(7e-7);
  });

  test("fixed d= difficulty is not changed by vardiff", () => {
    const e = env();
    e.jobs.add(work(1, 1_000_000_000n), true);
    const { s } = ready(e, "d=2e-7");
    const out: Action[] = [];
    e.now += 600_000 - 1;
    ethProxy.tick(s, e, out);
    expect(out).toEqual([]);
  });

  test("shutdown closes (eth-proxy has no reconnect message)", () => {
    const e = env();
    const s = open(e);
    const out: Action[] = [];
    ethProxy.shutdown(s, e, out);
    expect(out).toEqual([{ kind: "close", reason: "shutdown" }]);
  });
});
