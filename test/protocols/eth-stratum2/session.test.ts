// EIP-1571 session reducer tests: the spec's transcripts as exact wire lines, verify actions and verified outcomes with a real job book; no sockets, no hashimoto (the verifier's answer is supplied).
import { describe, expect, test } from "bun:test";
import { createExtranonceAllocator } from "../../../src/pools/extranonce.ts";
import type { Action, EthashVerifyRequest, VerifyResult } from "../../../protocols/core/actions.ts";
import type { EthWork } from "../../../protocols/eth/work.ts";
import type { EthEnv, EthPolicy } from "../../../protocols/eth/env.ts";
import { ethStratum2, type EthStratum2State } from "../../../protocols/eth-stratum2/session.ts";
import { ethStratum } from "../../../protocols/eth-stratum/session.ts";
import { ethProxy } from "../../../protocols/eth-proxy/session.ts";
import { stratumV1 } from "../../../protocols/stratum-v1/session.ts";
import { parseLine, type RpcMessage } from "../../../protocols/jsonrpc/envelope.ts";
import { epochParams } from "../../../protocols/pow/ethash.ts";
import { hexToBytes } from "../../../protocols/pow/hex.ts";
import { difficultyToTarget } from "../../../protocols/pow/target.ts";
import { createEthJobBook, type EthJobBook } from "../../../src/pools/eth_job_book.ts";

const TWO_256 = 1n << 256n;
const EN = "af4c"; // the spec's extranonce: the miner submits 12 hex digits
const POLICY: EthPolicy = {
  initialDifficulty: 7e-7,
  suggestFloor: 1e-9,
  vardiff: { targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30, min: 1e-9, max: 1e6 },
  loginTimeoutMs: 10_000,
  idleTimeoutMs: 180_000,
  maxMalformed: 5,
  disconnectOnError: false,
};

function env(policy: Partial<EthPolicy> = {}): EthEnv & { jobs: EthJobBook } {
  const jobs = createEthJobBook({
    algo: "ethash",
    keepHeights: 3,
    epochInfo: (n) => {
      const p = epochParams(n, { algo: "ethash" })!;
      return { epoch: p.epoch, cacheSize: p.cacheSize, fullSize: p.fullSize };
    },
  });
  return { now: 5_000_000, jobs, policy: { ...POLICY, ...policy }, extranonce: createExtranonceAllocator(2) };
}
const work = (n: number): EthWork => ({ headerHash: "0x" + n.toString(16).padStart(4, "0").padEnd(64, "c"), seedHash: "0x" + "00".repeat(32), target: TWO_256 / 1_000_000_000n, blockNumber: n });

const text = (a: Action): string => (a.kind === "write" ? (typeof a.data === "string" ? a.data : new TextDecoder().decode(a.data)) : "");
const writes = (out: Action[]): string[] => out.filter((a) => a.kind === "write").map(text);
const open = (e: EthEnv) => ethStratum2.open({ remoteAddress: "10.0.0.2", extranonce1: EN }, e);
function recvLine(s: EthStratum2State, e: EthEnv, line: string): Action[] {
  const out: Action[] = [];
  ethStratum2.receive(s, parseLine(line), e, out);
  ethStratum2.flush(s, e, out);
  return out;
}
const recv = (s: EthStratum2State, e: EthEnv, obj: unknown) => recvLine(s, e, JSON.stringify(obj));
const HELLO = { id: 0, method: "mining.hello", params: { agent: "ethminer-0.17", host: "somemininigpool.com", port: "4d2", proto: "EthereumStratum/2.0.0" } };

/** hello → subscribe → authorize on a book with one job; returns the session and the authorize batch. */
function ready(e: EthEnv & { jobs: EthJobBook }, password = "x"): { s: EthStratum2State; out: Action[] } {
  e.jobs.add(work(0x6526d5), true);
  const s = open(e);
  recv(s, e, HELLO);
  recv(s, e, { id: 1, method: "mining.subscribe" });
  return { s, out: recv(s, e, { id: 2, method: "mining.authorize", params: ["0xabc.rig1", password] }) };
}

describe("EIP-1571 transcript (the spec's examples)", () => {
  test("hello → result with proto, plain encoding, no resume, timeout and maxerrors in hex", () => {
    const e = env();
    const s = open(e);
    expect(writes(recv(s, e, HELLO))).toEqual(['{"id":0,"result":{"proto":"EthereumStratum/2.0.0","encoding":"plain","resume":"0","timeout":"b4","maxerrors":"5","node":"stratum-edge"}}\n']);
  });

  test("subscribe without params → a session id string; authorize → worker token; then mining.set with all four members before mining.notify", () => {
    const e = env();
    e.jobs.add(work(0x6526d5), true);
    const s = open(e);
    recv(s, e, HELLO);
    expect(writes(recv(s, e, { id: 1, method: "mining.subscribe" }))).toEqual(['{"id":1,"result":"saf4c"}\n']);
    const w = writes(recv(s, e, { id: 2, method: "mining.authorize", params: ["0xabc.rig1", "x"] }));
    const job = e.jobs.current()!;
    expect(w).toEqual([
      '{"id":2,"result":"w0"}\n',
      '{"method":"mining.set","params":{"epoch":"dc","target":"' + difficultyToTarget(7e-7).toString(16) + '","algo":"ethash","extranonce":"af4c"}}\n',
      '{"method":"mining.notify","params":["' + job.id + '","6526d5","' + job.headerHash.slice(2) + '","1"]}\n',
    ]);
    // The same credentials again → the token issued before; another worker → a new one.
    expect(writes(recv(s, e, { id: 3, method: "mining.authorize", params: ["0xabc.rig1", "x"] }))).toEqual(['{"id":3,"result":"w0"}\n']);
    expect(writes(recv(s, e, { id: 4, method: "mining.authorize", params: ["0xabc.rig2", ""] }))).toEqual(['{"id":4,"result":"w1"}\n']);
  });

  test("submit [jobId, 12-digit miner nonce, token] → verify of extranonce ‖ nonce; a good hash → {\"id\":31}, a share and vardiff", () => {
    const e = env();
    const { s } = ready(e);
    const job = e.jobs.current()!;
    const out = recv(s, e, { id: 31, method: "mining.submit", params: [job.id, "68765fccd712", "w0"] });
    const v = out.find((a) => a.kind === "verify");
    if (v?.kind !== "verify") throw new Error("no verify");
    const req = v.request as EthashVerifyRequest;
    expect(Buffer.from(req.nonce).toString("hex")).toBe("af4c68765fccd712"); // the spec's full nonce
    const res: VerifyResult = { ok: true, result: hexToBytes("00".repeat(31) + "01")!, mixDigest: hexToBytes("3c".repeat(32))! };
    const done: Action[] = [];
    ethStratum2.verified!(s, req, res, e, done);
    expect(writes(done)).toEqual(['{"id":31}\n']);
    const share = done.find((a) => a.kind === "share");
    expect(share?.kind === "share" && share.share.accepted).toBe(true);
    // value 1 is below the block target too: a block candidate goes to the pool.
    expect(done.some((a) => a.kind === "block")).toBe(true);
  });

  test("a hash above the share target → the spec's 406 Bad nonce, counted rejected", () => {
    const e = env();
    const { s } = ready(e);
    const job = e.jobs.current()!;
    const out = recv(s, e, { id: 31, method: "mining.submit", params: [job.id, "68765fccd712", "w0"] });
    const v = out.find((a) => a.kind === "verify");
    if (v?.kind !== "verify") throw new Error("no verify");
    const done: Action[] = [];
    ethStratum2.verified!(s, v.request, { ok: true, result: hexToBytes("ff".repeat(32))!, mixDigest: hexToBytes("3c".repeat(32))! }, e, done);
    expect(writes(done)).toEqual(['{"id":31,"error":{"code":406,"message":"Bad nonce"}}\n']);
    const share = done.find((a) => a.kind === "share");
    expect(share?.kind === "share" && share.share.reason).toBe("low_difficulty");
  });

  test("noop → {\"id\":50}; hashrate → {\"id\":16}; bye → close without an answer", () => {
    const e = env();
    const { s } = ready(e);
    expect(writes(recv(s, e, { id: 50, method: "mining.noop" }))).toEqual(['{"id":50}\n']);
    expect(writes(recv(s, e, { id: 16, method: "mining.hashrate", params: ["500000", "w0"] }))).toEqual(['{"id":16}\n']);
    expect(s.hashrate).toBe(0x500000n);
    expect(recv(s, e, { method: "mining.bye" })).toEqual([{ kind: "close", reason: "bye" }]);
    expect(recv(s, e, { id: 51, method: "mining.noop" })).toEqual([]); // closing: nothing more
  });

  test("a new job: mining.set only for what changed (target after vardiff, epoch at a boundary), then notify with clean \"1\"/\"0\"", () => {
    const e = env();
    const { s } = ready(e);
    const next = e.jobs.add(work(0x6526d6), true);
    const out: Action[] = [];
    ethStratum2.job(s, { job: next, clean: true, memo: new Map() }, e, out);
    expect(writes(out)).toEqual(['{"method":"mining.notify","params":["' + next.id + '","6526d6","' + next.headerHash.slice(2) + '","1"]}\n']);
    s.fixed = 2e-6; // as a d= password would
    const same = e.jobs.add({ ...work(0x6526d6), headerHash: "0x" + "dd".repeat(32) }, false);
    const out2: Action[] = [];
    ethStratum2.job(s, { job: same, clean: false, memo: new Map() }, e, out2);
    expect(writes(out2)).toEqual([
      '{"method":"mining.set","params":{"target":"' + difficultyToTarget(2e-6).toString(16) + '"}}\n',
      '{"method":"mining.notify","params":["' + same.id + '","6526d6","' + "dd".repeat(32) + '","0"]}\n',
    ]);
    const epoch1 = e.jobs.add(work(30000 * 221), true);
    const out3: Action[] = [];
    ethStratum2.job(s, { job: epoch1, clean: true, memo: new Map() }, e, out3);
    expect(writes(out3)[0]).toBe('{"method":"mining.set","params":{"epoch":"dd"}}\n');
  });

  test("shutdown sends mining.bye then closes", () => {
    const e = env();
    const { s } = ready(e);
    const out: Action[] = [];
    ethStratum2.shutdown(s, e, out);
    expect(out).toEqual([{ kind: "write", data: '{"method":"mining.bye"}\n' }, { kind: "close", reason: "shutdown" }]);
  });
});

describe("EIP-1571 refusals in its own form, never a throw", () => {
  test("another proto in hello → 405 naming ours, then close", () => {
    const e = env();
    const s = open(e);
    const out = recv(s, e, { ...HELLO, params: { ...HELLO.params, proto: "EthereumStratum/1.0.0" } });
    expect(writes(out)).toEqual(['{"id":0,"error":{"code":405,"message":"Method not supported: proto EthereumStratum/1.0.0; this server speaks EthereumStratum/2.0.0"}}\n']);
    expect(out.at(-1)).toEqual({ kind: "close", reason: "unsupported_dialect" });
  });

  test("order, tokens, jobs and nonces", () => {
    const e = env();
    e.jobs.add(work(0x6526d5), true);
    const s = open(e);
    recv(s, e, HELLO);
    expect(writes(recv(s, e, { id: 1, method: "mining.authorize", params: ["a", "b"] }))).toEqual(['{"id":1,"error":{"code":302,"message":"Not subscribed"}}\n']);
    expect(writes(recv(s, e, { id: 2, method: "mining.submit", params: ["j", "00", "w0"] }))).toEqual(['{"id":2,"error":{"code":302,"message":"Not subscribed"}}\n']);
    recv(s, e, { id: 3, method: "mining.subscribe" });
    recv(s, e, { id: 4, method: "mining.authorize", params: ["0xabc.rig1", "x"] });
    const job = e.jobs.current()!;
    expect(writes(recv(s, e, { id: 5, method: "mining.submit", params: [job.id, "68765fccd712", "w7"] }))).toEqual(['{"id":5,"error":{"code":301,"message":"Unauthorized worker"}}\n']);
    expect(writes(recv(s, e, { id: 6, method: "mining.submit", params: ["bf0488aa", "68765fccd712", "w0"] }))).toEqual(['{"id":6,"error":{"code":404,"message":"Job not found"}}\n']);
    expect(writes(recv(s, e, { id: 7, method: "mining.submit", params: [job.id, "af4c68765fccd712", "w0"] }))).toEqual(['{"id":7,"error":{"code":400,"message":"Bad request: nonce must be 12 hex digits after extranonce \\"af4c\\""}}\n']);
    recv(s, e, { id: 8, method: "mining.submit", params: [job.id, "68765fccd712", "w0"] });
    expect(writes(recv(s, e, { id: 9, method: "mining.submit", params: [job.id, "68765fccd712", "w0"] }))).toEqual(['{"id":9,"error":{"code":409,"message":"Duplicate share"}}\n']);
    expect(writes(recv(s, e, { id: 10, method: "mining.hashrate", params: ["500000", "w9"] }))).toEqual(['{"id":10,"error":{"code":301,"message":"Unauthorized worker"}}\n']);
    expect(writes(recv(s, e, { id: 11, method: "eth_getWork" }))).toEqual(['{"id":11,"error":{"code":405,"message":"Method not supported: eth_getWork"}}\n']);
  });

  test("malformed lines: 400 with the id when it is usable, none for a notification; close after maxerrors", () => {
    const e = env({ maxMalformed: 3 });
    const s = open(e);
    recv(s, e, HELLO);
    expect(writes(recvLine(s, e, "{not json"))).toEqual([]); // no usable id: nothing to answer, still counted
    expect(writes(recv(s, e, { id: "7", method: "mining.noop" }))).toEqual([]); // string ids are not EIP-1571 ids
    const out = recv(s, e, { id: 3, method: "mining.submit", params: { job: 1 } });
    expect(writes(out)).toEqual(['{"id":3,"error":{"code":400,"message":"Bad request: params must be an array [jobId, nonce, token]"}}\n']);
    expect(out.at(-1)).toEqual({ kind: "close", reason: "malformed" });
  });

  test("garbage params of every shape never throw", () => {
    const shapes: unknown[] = [undefined, null, 1, "x", [], [1, 2, 3], {}, { proto: 5 }, [null, null, null], ["j", "zz", "w0"], ["j", "0".repeat(18), "w0"], ["", "", ""]];
    const methods = ["mining.hello", "mining.subscribe", "mining.authorize", "mining.submit", "mining.hashrate", "mining.noop", "mining.bye", "mining.set"];
    for (const method of methods) {
      for (const params of shapes) {
        const e = env({ maxMalformed: 1000 });
        const { s } = ready(e);
        expect(() => recv(s, e, { id: 9, method, params })).not.toThrow();
      }
    }
  });
});

describe("detection on the auto-detecting port", () => {
  const first = (obj: unknown) => parseLine(JSON.stringify(obj)) as RpcMessage;
  const openings: [string, unknown][] = [
    ["eth-stratum2", HELLO],
    ["eth-stratum", { id: 1, method: "mining.subscribe", params: ["ethminer", "EthereumStratum/1.0.0"] }],
    ["stratum-v1", { id: 1, method: "mining.subscribe", params: ["cgminer/4.10"] }],
    ["eth-proxy", { id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: ["0xabc"] }],
  ];
  for (const [name, line] of openings) {
    test(`${name} opening is claimed by exactly that dialect`, () => {
      const claims = [ethStratum2, ethStratum, stratumV1, ethProxy].filter((d) => d.detect(first(line))).map((d) => d.name);
      expect(claims).toEqual([name]);
    });
  }
});

describe("Ethereum-style sessions with their port's own difficulty (OpenInfo.difficulty)", () => {
  // The pool-wide policy starts at 7e-7 with vardiff down to 1e-9; this port starts at 4e-6 and stays in [1e-6, 8e-6].
  const port = { initialDifficulty: 4e-6, suggestFloor: 1e-6, vardiff: { targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30, min: 1e-6, max: 8e-6 } };
  const info = { remoteAddress: "10.0.0.2", extranonce1: EN, difficulty: port };
  const targetOf = (lines: string[]) => JSON.parse(lines.find((l) => l.includes('"mining.set"'))!).params.target as string;

  test("EIP-1571: the first mining.set carries the port's target, the pool's without one", () => {
    const e = env();
    expect(targetOf(writes(ready(e).out))).toBe(difficultyToTarget(7e-7).toString(16));
    e.jobs.add(work(0x6526d6), true);
    const s = ethStratum2.open(info, e);
    recv(s, e, HELLO);
    recv(s, e, { id: 1, method: "mining.subscribe" });
    expect(targetOf(writes(recv(s, e, { id: 2, method: "mining.authorize", params: ["0xabc.rig1", "x"] })))).toBe(difficultyToTarget(4e-6).toString(16));
  });

  test("EthereumStratum/1.0.0: set_difficulty starts at the port's value and vardiff lowering stops at its min; d=NUMBER is bounded by it", () => {
    const e = env();
    e.jobs.add(work(7), true);
    const s = ethStratum.open(info, e);
    const out: Action[] = [];
    for (const m of [{ id: 1, method: "mining.subscribe", params: ["ethminer-0.19.0", "EthereumStratum/1.0.0"] }, { id: 2, method: "mining.authorize", params: ["0xabc.rig1", "x"] }]) {
      ethStratum.receive(s, parseLine(JSON.stringify(m)), e, out);
    }
    ethStratum.flush(s, e, out);
    const diffs = (o: Action[]) => writes(o).filter((l) => l.includes("set_difficulty")).map((l) => JSON.parse(l).params[0] as number);
    expect(diffs(out)).toEqual([4e-6]);
    const lowered: number[] = [];
    for (let i = 0; i < 5; i++) {
      e.now += 61_000; // a quiet retarget window halves the difficulty
      const t: Action[] = [];
      ethStratum.tick(s, e, t);
      lowered.push(...diffs(t));
    }
    expect(lowered).toEqual([2e-6, 1e-6]);
    const fixed = ethStratum.open(info, e);
    const o2: Action[] = [];
    ethStratum.receive(fixed, parseLine(JSON.stringify({ id: 1, method: "mining.subscribe", params: ["m", "EthereumStratum/1.0.0"] })), e, o2);
    ethStratum.receive(fixed, parseLine(JSON.stringify({ id: 2, method: "mining.authorize", params: ["0xabc.rig1", "d=1e-9"] })), e, o2);
    ethStratum.flush(fixed, e, o2);
    expect(diffs(o2)).toEqual([1e-6]);
  });

  test("eth-proxy: eth_getWork's target is the port's", () => {
    const e = env();
    e.jobs.add(work(9), true);
    const getWork = (s: ReturnType<typeof ethProxy.open>) => {
      const out: Action[] = [];
      ethProxy.receive(s, parseLine(JSON.stringify({ id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: ["0xb85150eb365e7df0941f0cf08235f987ba91506a"] })), e, out);
      ethProxy.receive(s, parseLine(JSON.stringify({ id: 2, jsonrpc: "2.0", method: "eth_getWork", params: [] })), e, out);
      return BigInt(JSON.parse(writes(out).find((l) => l.startsWith('{"id":2'))!).result[2]);
    };
    expect(getWork(ethProxy.open({ remoteAddress: "10.0.0.3", extranonce1: "" }, e))).toBe(difficultyToTarget(7e-7));
    expect(getWork(ethProxy.open({ remoteAddress: "10.0.0.3", extranonce1: "", difficulty: port }, e))).toBe(difficultyToTarget(4e-6));
  });
});
