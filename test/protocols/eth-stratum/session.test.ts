// EthereumStratum/1.0.0 session reducer tests: exact wire answers, verify actions and verified outcomes with a real job book and an injected clock; no sockets, no hashimoto (the verifier's answer is supplied).
import { describe, expect, test } from "bun:test";
import { createExtranonceAllocator } from "../../../src/pools/extranonce.ts";
import type { Action, VerifyRequest, EthashVerifyRequest, VerifyResult } from "../../../protocols/core/actions.ts";
import type { EthWork } from "../../../protocols/eth/work.ts";
import type { EthEnv, EthPolicy } from "../../../protocols/eth-proxy/session.ts";
import { ethStratum, type EthStratumState } from "../../../protocols/eth-stratum/session.ts";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import { epochParams } from "../../../protocols/pow/ethash.ts";
import { bytesToHex, hexToBytes } from "../../../protocols/pow/hex.ts";
import { difficultyToTarget, targetToDifficulty } from "../../../protocols/pow/target.ts";
import { createEthJobBook, type EthJobBook } from "../../../src/pools/eth_job_book.ts";

const SEED0 = "00".repeat(32);
const TWO_256 = 1n << 256n;
const EN = "ab12"; // 2-byte extranonce: the miner submits 12 hex digits
const PROTO = "EthereumStratum/1.0.0";

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

function work(n: number, blockDiff = 1_000_000_000n): EthWork {
  return { headerHash: "0x" + n.toString(16).padStart(4, "0").padEnd(64, "c"), seedHash: "0x" + SEED0, target: TWO_256 / blockDiff, blockNumber: n };
}

function env(policy: Partial<EthPolicy> = {}): EthEnv & { jobs: EthJobBook } {
  return { now: 5_000_000, jobs: makeBook(), policy: { ...POLICY, ...policy }, extranonce: createExtranonceAllocator(2) };
}

const text = (a: Action): string => (a.kind === "write" ? (typeof a.data === "string" ? a.data : new TextDecoder().decode(a.data)) : "");
const writes = (out: Action[]): string[] => out.filter((a) => a.kind === "write").map(text);
const kinds = (out: Action[]) => out.map((a) => a.kind);

function recv(s: EthStratumState, e: EthEnv, obj: unknown, flush = true): Action[] {
  const out: Action[] = [];
  ethStratum.receive(s, parseLine(JSON.stringify(obj)), e, out);
  if (flush) ethStratum.flush(s, e, out);
  return out;
}
const open = (e: EthEnv, extranonce = EN) => ethStratum.open({ remoteAddress: "10.0.0.2", extranonce1: extranonce }, e);
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
const verified = (s: EthStratumState, req: VerifyRequest, res: VerifyResult, e: EthEnv): Action[] => {
  const out: Action[] = [];
  ethStratum.verified!(s, req, res, e, out);
  return out;
};
/** A 32-byte big-endian value, as hashimoto's result. */
const val = (v: bigint) => hexToBytes(v.toString(16).padStart(64, "0"))!;
const MIX = hexToBytes("3c".repeat(32))!;

const subscribe = (id = 1, protocol = PROTO) => ({ id, method: "mining.subscribe", params: ["ethminer-0.19.0", protocol] });
const authorize = (id = 2, user = "0xb85150eb365e7df0941f0cf08235f987ba91506a.rig1", password = "x") => ({ id, method: "mining.authorize", params: [user, password] });
const USER = "0xb85150eb365e7df0941f0cf08235f987ba91506a.rig1";
const notifyLine = (jobId: string, header: string, clean: boolean) =>
  '{"id":null,"method":"mining.notify","params":["' + jobId + '","' + SEED0 + '","' + header.slice(2) + '",' + String(clean) + "]}\n";

/** Subscribed and authorized (password given), holding the current job; returns the state and the wire lines so far. */
function ready(e: EthEnv, password = "d=1e-9"): { s: EthStratumState; lines: string[] } {
  const s = open(e);
  const lines = [...writes(recv(s, e, subscribe())), ...writes(recv(s, e, authorize(2, USER, password)))];
  return { s, lines };
}

describe("EthereumStratum/1.0.0 detect and subscribe", () => {
  test("detect: mining.subscribe with the EthereumStratum/1.0.0 string only", () => {
    expect(ethStratum.detect({ kind: "request", id: 1, method: "mining.subscribe", params: ["m", PROTO] })).toBe(true);
    expect(ethStratum.detect({ kind: "request", id: 1, method: "mining.subscribe", params: ["cgminer/4.10"] })).toBe(false);
    expect(ethStratum.detect({ kind: "request", id: 1, method: "mining.subscribe", params: ["m", "EthereumStratum/2.0.0"] })).toBe(false);
    expect(ethStratum.detect({ kind: "request", id: 1, method: "mining.hello", params: { proto: "EthereumStratum/2.0.0" } })).toBe(false);
    expect(ethStratum.detect({ kind: "request", id: 1, method: "eth_submitLogin", params: [] })).toBe(false);
  });

  test("subscribe result: [[\"mining.notify\", id, \"EthereumStratum/1.0.0\"], extranonce]", () => {
    const e = env();
    const s = open(e);
    expect(writes(recv(s, e, subscribe()))).toEqual(['{"id":1,"result":[["mining.notify","ab12","EthereumStratum/1.0.0"],"ab12"],"error":null}\n']);
    expect(s.subscribed).toBe(true);
  });

  test("subscribe with another protocol string is refused (20) and does not subscribe", () => {
    const e = env();
    const s = open(e);
    expect(writes(recv(s, e, subscribe(1, "EthereumStratum/2.0.0")))).toEqual([
      '{"id":1,"result":null,"error":[20,"Method not supported: protocol EthereumStratum/2.0.0",null]}\n',
    ]);
    expect(s.subscribed).toBe(false);
  });
});

describe("EthereumStratum/1.0.0 authorize and work", () => {
  test("authorize → true, then set_difficulty then notify (hashes without 0x, clean true)", () => {
    const e = env();
    const job = e.jobs.add(work(1), true);
    const { lines } = ready(e);
    expect(lines).toEqual([
      '{"id":1,"result":[["mining.notify","ab12","EthereumStratum/1.0.0"],"ab12"],"error":null}\n',
      '{"id":2,"result":true,"error":null}\n',
      '{"id":null,"method":"mining.set_difficulty","params":[0.000000001]}\n',
      notifyLine(job.id, job.headerHash, true),
    ]);
    expect(lines[3]).not.toContain("0x");
  });

  test("no password difficulty → the initial one; below the floor → the floor", () => {
    const e = env();
    e.jobs.add(work(1), true);
    expect(ready(e, "x").lines[2]).toBe('{"id":null,"method":"mining.set_difficulty","params":[0.0000007]}\n');
    expect(ready(e, "d=1e-15").lines[2]).toBe('{"id":null,"method":"mining.set_difficulty","params":[0.000000001]}\n');
  });

  test("authorize before subscribe: work follows the subscribe; no work while the book is empty", () => {
    const e = env();
    const s = open(e);
    expect(writes(recv(s, e, authorize()))).toEqual(['{"id":2,"result":true,"error":null}\n']);
    expect(writes(recv(s, e, subscribe()))).toEqual(['{"id":1,"result":[["mining.notify","ab12","EthereumStratum/1.0.0"],"ab12"],"error":null}\n']);
    expect(s.workSent).toBe(false);
    const e2 = env();
    const job = e2.jobs.add(work(2), true);
    const s2 = open(e2);
    expect(writes(recv(s2, e2, authorize()))).toEqual(['{"id":2,"result":true,"error":null}\n']);
    expect(writes(recv(s2, e2, subscribe()))).toEqual([
      '{"id":1,"result":[["mining.notify","ab12","EthereumStratum/1.0.0"],"ab12"],"error":null}\n',
      '{"id":null,"method":"mining.set_difficulty","params":[0.0000007]}\n',
      notifyLine(job.id, job.headerHash, true),
    ]);
  });

  test("empty user → 24 Unauthorized worker", () => {
    const e = env();
    const s = open(e);
    recv(s, e, subscribe());
    expect(writes(recv(s, e, authorize(2, "  ")))).toEqual(['{"id":2,"result":null,"error":[24,"Unauthorized worker",null]}\n']);
  });

  test("a new job: notify to sessions that have work (set_difficulty only when it changed), shared bytes, clean flag passed", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s: a } = ready(e);
    const { s: b } = ready(e);
    const idle = open(e);
    recv(idle, e, subscribe());
    const job = e.jobs.add(work(2), false);
    const memo = new Map<string, string | Uint8Array>();
    const oa: Action[] = [], ob: Action[] = [], oi: Action[] = [];
    ethStratum.job(a, { job, clean: false, memo }, e, oa);
    ethStratum.job(b, { job, clean: false, memo }, e, ob);
    ethStratum.job(idle, { job, clean: false, memo }, e, oi);
    expect(writes(oa)).toEqual([notifyLine(job.id, job.headerHash, false)]);
    expect(oi).toEqual([]);
    expect((oa[0] as { data: unknown }).data).toBe((ob[0] as { data: unknown }).data);
  });
});

describe("EthereumStratum/1.0.0 submit", () => {
  function withJob(password = "d=1e-9") {
    const e = env();
    const job = e.jobs.add(work(1), true);
    const { s } = ready(e, password);
    return { e, s, job };
  }
  const sub = (id: number, jobId: string, minerNonce: string, worker = USER) => ({ id, method: "mining.submit", params: [worker, jobId, minerNonce] });

  test("not subscribed → 25; unauthorized worker → 24", () => {
    const e = env();
    const job = e.jobs.add(work(1), true);
    const s = open(e);
    expect(writes(recv(s, e, sub(4, job.id, "0011223344ff")))).toEqual(['{"id":4,"result":null,"error":[25,"Not subscribed",null]}\n']);
    recv(s, e, subscribe());
    recv(s, e, authorize());
    expect(writes(recv(s, e, sub(5, job.id, "0011223344ff", "someone.else")))).toEqual(['{"id":5,"result":null,"error":[24,"Unauthorized worker",null]}\n']);
  });

  test("wrong-length miner nonce → 20 malformed (names the expected length); non-hex → 20; the 3rd closes", () => {
    const { e, s, job } = withJob();
    const out = recv(s, e, sub(6, job.id, "0011223344ff55"));
    expect(writes(out)).toEqual(['{"id":6,"result":null,"error":[20,"Malformed request: miner nonce must be 12 hex digits",null]}\n']);
    expect(kinds(out)).toEqual(["write", "abuse"]); // counted against the source by the ban policy
    expect(writes(recv(s, e, sub(7, job.id, "zz"))).map((l) => JSON.parse(l).error[0])).toEqual([20]);
    const out3 = recv(s, e, sub(8, job.id, "00"));
    expect(out3.at(-1)).toEqual({ kind: "close", reason: "malformed" });
  });

  test("unknown job → 21 Job not found; a job this connection was never sent → 21", () => {
    const { e, s } = withJob();
    const out = recv(s, e, sub(9, "ffffff", "0011223344ff"));
    expect(writes(out)).toEqual(['{"id":9,"result":null,"error":[21,"Job not found",null]}\n']);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "stale", worker: USER });
    const other = e.jobs.add(work(2), false); // in the book, never notified to s
    expect(writes(recv(s, e, sub(10, other.id, "0011223344ff")))[0]).toBe('{"id":10,"result":null,"error":[21,"Job not found",null]}\n');
  });

  test("after a clean job the previous job ids are stale (21)", () => {
    const { e, s, job } = withJob();
    const next = e.jobs.add(work(2), true);
    ethStratum.job(s, { job: next, clean: true, memo: new Map() }, e, []);
    expect(writes(recv(s, e, sub(11, job.id, "0011223344ff")))[0]).toBe('{"id":11,"result":null,"error":[21,"Job not found",null]}\n');
    expect(kinds(recv(s, e, sub(12, next.id, "0011223344ff")))).toEqual(["verify"]);
  });

  test("verify action: full nonce = extranonce ‖ miner nonce, no mix digest; duplicate → 22", () => {
    const { e, s, job } = withJob();
    const req = verifyOf(recv(s, e, sub(13, job.id, "00112233AAFF")));
    expect(bytesToHex(req.nonce)).toBe("ab1200112233aaff");
    expect(req.mixDigest).toBeUndefined();
    expect(req).toMatchObject({ algo: "ethash", epoch: 0, cacheSize: 16776896 });
    expect(bytesToHex(req.seed)).toBe(SEED0);
    expect("0x" + bytesToHex(req.headerHash)).toBe(job.headerHash);
    const dup = recv(s, e, sub(14, job.id, "00112233aaff"));
    expect(writes(dup)).toEqual(['{"id":14,"result":null,"error":[22,"Duplicate share",null]}\n']);
    expect(shareOf(dup)).toMatchObject({ accepted: false, reason: "duplicate", difficulty: 1e-9 });
  });

  test("verified under the share target → true and an accepted share; no block above the network target", () => {
    const { e, s, job } = withJob();
    const req = verifyOf(recv(s, e, sub(15, job.id, "000000000001")));
    const value = difficultyToTarget(1e-9) - 1n;
    const out = verified(s, req, { ok: true, mixDigest: MIX, result: val(value) }, e);
    expect(writes(out)).toEqual(['{"id":15,"result":true,"error":null}\n']);
    expect(kinds(out)).toEqual(["write", "share"]);
    expect(shareOf(out)).toMatchObject({ worker: USER, accepted: true, difficulty: 1e-9, jobId: job.id, height: 1 });
    expect(shareOf(out).shareDifficulty).toBeCloseTo(targetToDifficulty(value), 20);
  });

  test("verified above the share target → 23 Low difficulty share", () => {
    const { e, s, job } = withJob();
    const req = verifyOf(recv(s, e, sub(16, job.id, "000000000002")));
    const out = verified(s, req, { ok: true, mixDigest: MIX, result: val(difficultyToTarget(1e-9) + 1n) }, e);
    expect(writes(out)).toEqual(['{"id":16,"result":null,"error":[23,"Low difficulty share",null]}\n']);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "low_difficulty" });
  });

  test("verified at or under the network target → true and a block action with the computed mix digest", () => {
    const { e, s, job } = withJob();
    const req = verifyOf(recv(s, e, sub(17, job.id, "0000000000a3")));
    const out = verified(s, req, { ok: true, mixDigest: MIX, result: val(job.target) }, e);
    expect(writes(out)).toEqual(['{"id":17,"result":true,"error":null}\n']);
    expect(kinds(out)).toEqual(["write", "share", "block"]);
    const b = out[2]!;
    expect(b.kind === "block" && b.block).toEqual({
      algo: "ethash",
      worker: USER,
      height: 1,
      nonce: "0xab120000000000a3",
      headerHash: job.headerHash,
      mixDigest: "0x" + "3c".repeat(32),
      hash: "0x" + job.target.toString(16).padStart(64, "0"),
      at: e.now,
    });
  });

  test("verifier failure → 20 Other/Unknown (internal), never accepted", () => {
    const { e, s, job } = withJob();
    const req = verifyOf(recv(s, e, sub(18, job.id, "000000000004")));
    const out = verified(s, req, { ok: false, error: "boom" }, e);
    expect(writes(out)).toEqual(['{"id":18,"result":null,"error":[20,"Other/Unknown",null]}\n']);
    expect(shareOf(out)).toMatchObject({ accepted: false, reason: "internal" });
  });

  test("a second authorized worker on the same connection may submit", () => {
    const { e, s, job } = withJob();
    expect(writes(recv(s, e, authorize(3, "0xb85150eb365e7df0941f0cf08235f987ba91506a.rig2", "x")))).toEqual(['{"id":3,"result":true,"error":null}\n']);
    const req = verifyOf(recv(s, e, sub(19, job.id, "000000000005", "0xb85150eb365e7df0941f0cf08235f987ba91506a.rig2")));
    const out = verified(s, req, { ok: true, mixDigest: MIX, result: val(difficultyToTarget(1e-9) >> 1n) }, e);
    expect(shareOf(out).worker).toBe("0xb85150eb365e7df0941f0cf08235f987ba91506a.rig2");
  });
});

describe("EthereumStratum/1.0.0 hashrate, timers, vardiff", () => {
  test("eth_submitHashrate → true; mining.extranonce.subscribe → true; unknown → 20", () => {
    const e = env();
    const s = open(e);
    recv(s, e, subscribe());
    expect(writes(recv(s, e, { id: 7, method: "eth_submitHashrate", params: ["0x1dcd6500", "0x" + "aa".repeat(32)] }))).toEqual(['{"id":7,"result":true,"error":null}\n']);
    expect(s.hashrate).toBe(500_000_000n);
    expect(writes(recv(s, e, { id: 8, method: "mining.extranonce.subscribe", params: [] }))).toEqual(['{"id":8,"result":true,"error":null}\n']);
    expect(writes(recv(s, e, { id: 9, method: "mining.foo", params: [] }))).toEqual(['{"id":9,"result":null,"error":[20,"Method not supported: mining.foo",null]}\n']);
  });

  test("login timeout without authorize; idle timeout after", () => {
    const e = env();
    const s = open(e);
    recv(s, e, subscribe());
    const out: Action[] = [];
    e.now += 10_000;
    ethStratum.tick(s, e, out);
    expect(out).toEqual([{ kind: "close", reason: "login_timeout" }]);
  });

  test("vardiff: a quiet window halves the difficulty: set_difficulty then the same job again", () => {
    const e = env();
    const job = e.jobs.add(work(1), true);
    const { s } = ready(e, "x");
    const out: Action[] = [];
    e.now += 60_000;
    ethStratum.tick(s, e, out);
    expect(writes(out)).toEqual(['{"id":null,"method":"mining.set_difficulty","params":[0.00000035]}\n', notifyLine(job.id, job.headerHash, true)]);
    // The job keeps its id and is judged at the lower of the two difficulties (see sendWork).
    const req = verifyOf(recv(s, e, { id: 30, method: "mining.submit", params: [USER, job.id, "000000000009"] }));
    const res = verified(s, req, { ok: true, mixDigest: MIX, result: val(difficultyToTarget(3.5e-7)) }, e);
    expect(writes(res)[0]).toBe('{"id":30,"result":true,"error":null}\n');
    expect(shareOf(res).difficulty).toBe(3.5e-7);
  });

  test("a fixed d= difficulty is left alone by vardiff; shutdown closes", () => {
    const e = env();
    e.jobs.add(work(1), true);
    const { s } = ready(e, "d=1e-8");
    const out: Action[] = [];
    e.now += 120_000;
    ethStratum.tick(s, e, out);
    expect(out).toEqual([]);
    ethStratum.shutdown(s, e, out);
    expect(out).toEqual([{ kind: "close", reason: "shutdown" }]);
  });
});

describe("extranonce ownership", () => {
  test("both Ethereum dialects give the core's extranonce back when the connection closes", async () => {
    const { ethProxy } = await import("../../../protocols/eth-proxy/session.ts");
    const e = env();
    const a = e.extranonce as ReturnType<typeof createExtranonceAllocator>;
    const en1 = a.allocate();
    const en2 = a.allocate();
    const s1 = open(e, en1);
    const s2 = ethProxy.open({ remoteAddress: "10.0.0.3", extranonce1: en2 }, e);
    expect(a.inUse).toBe(2);
    ethStratum.closed(s1, e);
    ethProxy.closed(s2, e);
    // Without this, a 2-byte extranonce space ran out after 65,536 connections in the life of the process.
    expect(a.inUse).toBe(0);
  });
});
