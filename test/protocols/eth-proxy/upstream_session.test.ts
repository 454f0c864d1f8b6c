// Tests the relay-mode eth-proxy client session: exact request lines, login rules, work from answers/pushes/polls, submits and every verdict shape, hashrate, timeouts by injected time.
import { describe, expect, test } from "bun:test";
import type { Reason } from "../../../protocols/errors/reasons.ts";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import {
  describeUpstreamEthProxy,
  openUpstream,
  upstreamClosed,
  upstreamHashrate,
  upstreamReceive,
  upstreamSubmit,
  upstreamTick,
  type EthProxyUpstreamOptions,
  type EthProxyUpstreamOut,
  type EthProxyUpstreamState,
} from "../../../protocols/eth-proxy/upstream_session.ts";
import { encodeWork, encodeWorkPush, encodeEthResult } from "../../../protocols/eth-proxy/server_to_client.ts";
import { encodeEthReason } from "../../../protocols/eth-proxy/errors.ts";

const T0 = 1_000_000;
const ADDR = "0x" + "ab".repeat(20);
const HEADER = "0x" + "11".repeat(32);
const SEED = "0x" + "22".repeat(32);
const MIX = "0x" + "33".repeat(32);
const NONCE = "0x00000000deadbeef";
const TARGET_HEX = "0x00000000ffff0000000000000000000000000000000000000000000000000000";
const TARGET = 0xffffn << 208n;

const base: EthProxyUpstreamOptions = {
  user: ADDR,
  password: "x",
  worker: "rig1",
  handshakeTimeoutMs: 10_000,
  submitTimeoutMs: 5_000,
  pollIntervalMs: 2_000,
};

const recv = (s: EthProxyUpstreamState, obj: unknown, now = T0): EthProxyUpstreamOut[] => upstreamReceive(s, parseLine(JSON.stringify(obj)), now);
const recvLine = (s: EthProxyUpstreamState, line: string, now = T0): EthProxyUpstreamOut[] => upstreamReceive(s, parseLine(line), now);
const writes = (out: EthProxyUpstreamOut[]): string[] => out.flatMap((o) => (o.kind === "write" ? [o.data] : []));
const kinds = (out: EthProxyUpstreamOut[]): string[] => out.map((o) => o.kind);

/** Logged in, the pipelined eth_getWork still unanswered; next id 3. */
function ready(opts: Partial<EthProxyUpstreamOptions> = {}): EthProxyUpstreamState {
  const { state } = openUpstream({ ...base, ...opts }, T0);
  const out = recv(state, { id: 1, jsonrpc: "2.0", result: true });
  if (!out.some((o) => o.kind === "ready")) throw new Error("session did not become ready");
  return state;
}

describe("eth-proxy upstream login", () => {
  test("eth_submitLogin (with the worker field) and eth_getWork are pipelined as exact lines", () => {
    const { state, out } = openUpstream(base, T0);
    expect(writes(out)).toEqual([
      `{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":["${ADDR}","x"],"worker":"rig1"}\n`,
      '{"id":2,"jsonrpc":"2.0","method":"eth_getWork","params":[]}\n',
    ]);
    expect(state.phase).toBe("handshake");
    // Every line is something our own eth-proxy server reads.
    for (const line of writes(out)) expect(parseLine(line).kind).toBe("request");
    expect(parseLine(writes(out)[0]!)).toMatchObject({ method: "eth_submitLogin", worker: "rig1" });
  });

  test("no worker option: no worker field", () => {
    const { out } = openUpstream({ ...base, worker: undefined }, T0);
    expect(writes(out)[0]).toBe(`{"id":1,"jsonrpc":"2.0","method":"eth_submitLogin","params":["${ADDR}","x"]}\n`);
  });

  test("login true → ready, once", () => {
    const { state } = openUpstream(base, T0);
    expect(recv(state, { id: 1, jsonrpc: "2.0", result: true })).toEqual([{ kind: "ready" }]);
    expect(state.phase).toBe("ready");
  });

  test("login false → failed; later lines are ignored", () => {
    const { state } = openUpstream(base, T0);
    const out = recv(state, { id: 1, jsonrpc: "2.0", result: false });
    expect(out).toEqual([{ kind: "failed", why: "eth_submitLogin refused: false" }]);
    expect(state.phase).toBe("failed");
    expect(recv(state, { id: 2, result: [HEADER, SEED, TARGET_HEX] })).toEqual([]);
    expect(upstreamTick(state, T0 + 60_000)).toEqual([]);
  });

  test("login error object (our server's Invalid login) → failed with the pool's text", () => {
    const { state } = openUpstream(base, T0);
    const out = recvLine(state, encodeEthReason(1, "unauthorized", "address must be 0x + 40 hex digits"));
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ kind: "failed" });
    expect((out[0] as { why: string }).why).toContain("Invalid login");
  });

  test("login true with an error still refuses", () => {
    const { state } = openUpstream(base, T0);
    expect(kinds(recv(state, { id: 1, result: true, error: { code: -1, message: "no" } }))).toEqual(["failed"]);
  });

  test("no login answer within handshakeTimeoutMs → failed", () => {
    const { state } = openUpstream(base, T0);
    recv(state, { id: 2, result: [HEADER, SEED, TARGET_HEX] });
    expect(upstreamTick(state, T0 + 9_999)).toEqual([]);
    expect(upstreamTick(state, T0 + 10_000)).toEqual([{ kind: "failed", why: "no eth_submitLogin answer within 10000 ms" }]);
  });
});

describe("eth-proxy upstream work", () => {
  test("eth_getWork answer → work with bigint target and height", () => {
    const s = ready();
    const out = recv(s, { id: 2, jsonrpc: "2.0", result: [HEADER, SEED, TARGET_HEX, "0x10d4f3"] });
    expect(out).toEqual([{ kind: "work", headerHash: HEADER, seedHash: SEED, target: TARGET, height: 0x10d4f3 }]);
  });

  test("our server's own work replies and pushes decode to the same work", () => {
    const s = ready();
    const w = { headerHash: HEADER, seedHash: SEED, target: TARGET, blockNumber: 1234 };
    expect(recvLine(s, encodeWork(2, w))).toEqual([{ kind: "work", headerHash: HEADER, seedHash: SEED, target: TARGET, height: 1234 }]);
    const w2 = { ...w, headerHash: "0x" + "44".repeat(32), target: TARGET / 2n };
    expect(recvLine(s, encodeWorkPush(w2))).toEqual([{ kind: "work", headerHash: w2.headerHash, seedHash: SEED, target: TARGET / 2n, height: 1234 }]);
  });

  test("unpadded target (open-ethereum-pool big.Int bytes), no 0x, upper case, no height", () => {
    const s = ready();
    const out = recv(s, { id: 2, result: ["11".repeat(32).toUpperCase(), SEED.slice(2), "0xffff000000000000000000000000000000000000000000000000"] });
    expect(out).toEqual([{ kind: "work", headerHash: HEADER, seedHash: SEED, target: 0xffffn << 192n }]);
  });

  test("numeric height is accepted; an unreadable height is dropped with a warning", () => {
    const s = ready();
    expect(recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX, 77] })).toEqual([{ kind: "work", headerHash: HEADER, seedHash: SEED, target: TARGET, height: 77 }]);
    const out = recv(s, { id: 0, result: ["0x" + "55".repeat(32), SEED, TARGET_HEX, "tall"] });
    expect(kinds(out)).toEqual(["log", "work"]);
    expect(out[1]).toEqual({ kind: "work", headerHash: "0x" + "55".repeat(32), seedHash: SEED, target: TARGET });
  });

  test("pushes with id 0, id null, and as a mining.notify request", () => {
    const s = ready();
    const h = (n: number) => "0x" + n.toString(16).padStart(2, "0").repeat(32);
    expect(recvLine(s, `{"id":0,"jsonrpc":"2.0","result":["${h(1)}","${SEED}","${TARGET_HEX}"]}`, T0 + 1)).toMatchObject([{ kind: "work", headerHash: h(1) }]);
    expect(s.lastPushAt).toBe(T0 + 1);
    expect(recvLine(s, `{"id":null,"result":["${h(2)}","${SEED}","${TARGET_HEX}"]}`, T0 + 2)).toMatchObject([{ kind: "work", headerHash: h(2) }]);
    expect(recvLine(s, `{"id":null,"method":"mining.notify","params":["${h(3)}","${SEED}","${TARGET_HEX}"]}`, T0 + 3)).toMatchObject([{ kind: "work", headerHash: h(3) }]);
    expect(recvLine(s, `{"method":"mining.notify","params":["${h(4)}","${SEED}","${TARGET_HEX}"]}`, T0 + 4)).toMatchObject([{ kind: "work", headerHash: h(4) }]);
    expect(s.lastPushAt).toBe(T0 + 4);
  });

  test("the same work again is not news; a new target for the same header is", () => {
    const s = ready();
    expect(kinds(recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX] }))).toEqual(["work"]);
    expect(recv(s, { id: 0, result: [HEADER.toUpperCase().replace("0X", "0x"), SEED, TARGET_HEX.replace("0x0000", "0x")] })).toEqual([]);
    expect(recv(s, { id: 0, result: [HEADER, SEED, "0x" + "7f".repeat(32)] })).toEqual([
      { kind: "work", headerHash: HEADER, seedHash: SEED, target: BigInt("0x" + "7f".repeat(32)) },
    ]);
    expect(describeUpstreamEthProxy(s).headerHash).toBe(HEADER);
  });

  test.each([
    ["short header", ["0x" + "11".repeat(31), SEED, TARGET_HEX], "header hash must be 32 bytes of hex"],
    ["non-hex seed", [HEADER, "0x" + "zz".repeat(32), TARGET_HEX], "seed hash must be 32 bytes of hex"],
    ["33-byte target", [HEADER, SEED, "0x01" + "00".repeat(32)], "target must be 1..32 bytes of non-zero hex"],
    ["zero target", [HEADER, SEED, "0x0"], "target must be 1..32 bytes of non-zero hex"],
    ["empty target", [HEADER, SEED, "0x"], "target must be 1..32 bytes of non-zero hex"],
    ["numeric target", [HEADER, SEED, 5], "target must be 1..32 bytes of non-zero hex"],
    ["two elements", [HEADER, SEED], "work must be an array [header, seed, target(, height)]"],
  ])("unusable work (%s) → warning, no work", (_name, result, detail) => {
    const s = ready();
    expect(recv(s, { id: 0, result })).toEqual([{ kind: "log", level: "warn", msg: "upstream sent unusable work", fields: { source: "push", detail } }]);
    expect(recv(s, { id: 2, result })).toEqual([{ kind: "log", level: "warn", msg: "upstream sent unusable work", fields: { source: "poll", detail } }]);
  });

  test("mining.notify request with object params → warning", () => {
    const s = ready();
    expect(kinds(recvLine(s, '{"id":null,"method":"mining.notify","params":{"a":1}}'))).toEqual(["log"]);
  });

  test("eth_getWork refused (Work not ready) → info log, not a failure", () => {
    const s = ready();
    const out = recvLine(s, encodeEthReason(2, "work_not_ready"));
    expect(out).toEqual([{ kind: "log", level: "info", msg: "upstream has no work yet", fields: { error: '{"code":0,"message":"Work not ready"}' } }]);
    expect(s.phase).toBe("ready");
  });

  test("work before the login answer is still delivered", () => {
    const { state } = openUpstream(base, T0);
    expect(kinds(recv(state, { id: 0, result: [HEADER, SEED, TARGET_HEX] }))).toEqual(["work"]);
  });
});

describe("eth-proxy upstream other pool lines", () => {
  test("unknown request with an id is answered with Method not found", () => {
    const s = ready();
    expect(writes(recvLine(s, '{"id":9,"method":"client.get_version","params":[]}'))).toEqual([
      '{"id":9,"jsonrpc":"2.0","result":null,"error":{"code":-1,"message":"Method not found: client.get_version"}}\n',
    ]);
    expect(writes(recvLine(s, '{"id":"x","method":"eth_foo"}'))).toEqual([
      '{"id":"x","jsonrpc":"2.0","result":null,"error":{"code":-1,"message":"Method not found: eth_foo"}}\n',
    ]);
  });

  test("unknown notification → debug log only", () => {
    const s = ready();
    expect(recvLine(s, '{"id":null,"method":"client.show_message","params":["hi"]}')).toEqual([
      { kind: "log", level: "debug", msg: "upstream sent an unknown notification", fields: { method: "client.show_message" } },
    ]);
  });

  test("answer to an unknown id, and a non-array push → debug log", () => {
    const s = ready();
    expect(recv(s, { id: 42, result: true })).toEqual([{ kind: "log", level: "debug", msg: "upstream answered an unknown request id", fields: { id: 42 } }]);
    expect(kinds(recv(s, { id: 0, result: false }))).toEqual(["log"]);
    expect(kinds(recv(s, { id: 0, result: null, error: { code: -1, message: "x" } }))).toEqual(["log"]);
  });

  test("unreadable line → warning; the session goes on", () => {
    const s = ready();
    expect(recvLine(s, "{not json", T0 + 5)).toEqual([{ kind: "log", level: "warn", msg: "unreadable line from upstream", fields: { detail: "JSON parse error" } }]);
    expect(s.lastMessageAt).toBe(T0 + 5);
    expect(s.phase).toBe("ready");
  });
});

describe("eth-proxy upstream submits and verdicts", () => {
  test("eth_submitWork exact line with the worker field; true → accepted with latency", () => {
    const s = ready();
    const out = upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "c1", T0 + 100);
    expect(writes(out)).toEqual([`{"id":3,"jsonrpc":"2.0","method":"eth_submitWork","params":["${NONCE}","${HEADER}","${MIX}"],"worker":"rig1"}\n`]);
    expect(parseLine(writes(out)[0]!)).toMatchObject({ kind: "request", method: "eth_submitWork", worker: "rig1" });
    expect(describeUpstreamEthProxy(s).pendingSubmits).toBe(1);
    expect(recvLine(s, encodeEthResult(3, true), T0 + 140)).toEqual([{ kind: "verdict", ctx: "c1", verdict: { kind: "accepted" }, latencyMs: 40 }]);
    expect(describeUpstreamEthProxy(s).pendingSubmits).toBe(0);
  });

  test("fields are normalised to lowercase 0x; no worker option → no worker field", () => {
    const s = ready({ worker: undefined });
    const out = upstreamSubmit(s, { nonce: "00000000DEADBEEF", headerHash: HEADER.toUpperCase().replace("0X", "0x"), mixDigest: MIX.slice(2) }, 1, T0);
    expect(writes(out)).toEqual([`{"id":3,"jsonrpc":"2.0","method":"eth_submitWork","params":["${NONCE}","${HEADER}","${MIX}"]}\n`]);
  });

  test("malformed share fields → rejected malformed, nothing on the wire", () => {
    const s = ready();
    const out = upstreamSubmit(s, { nonce: "0x1234", headerHash: HEADER, mixDigest: MIX }, "c", T0);
    expect(out).toEqual([
      { kind: "verdict", ctx: "c", verdict: { kind: "rejected", reason: "malformed", code: undefined, message: "nonce, header hash or mix digest is not hex of the right length" }, latencyMs: 0 },
    ]);
    expect(s.nextId).toBe(3);
  });

  test("submit before login → lost, nothing sent", () => {
    const { state } = openUpstream(base, T0);
    expect(upstreamSubmit(state, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "c", T0)).toEqual([{ kind: "verdict", ctx: "c", verdict: { kind: "lost" }, latencyMs: 0 }]);
  });

  const rejections: [string, unknown, unknown, { reason: Reason; code: number | undefined; message: string }][] = [
    ["result false (open-ethereum-pool stale)", false, undefined, { reason: "upstream_rejected", code: undefined, message: "result false" }],
    ["result null without error", null, undefined, { reason: "upstream_rejected", code: undefined, message: "unexpected result null" }],
    ["{code 21}", null, { code: 21, message: "Job not found" }, { reason: "stale", code: 21, message: "Job not found" }],
    ["{code 22}", null, { code: 22, message: "Duplicate share" }, { reason: "duplicate", code: 22, message: "Duplicate share" }],
    ["{code 23}", null, { code: 23, message: "Invalid share" }, { reason: "low_difficulty", code: 23, message: "Invalid share" }],
    ["{code 24}", null, { code: 24, message: "Unauthorized" }, { reason: "unauthorized", code: 24, message: "Unauthorized" }],
    ["{code 25}", null, { code: 25, message: "Not subscribed" }, { reason: "not_subscribed", code: 25, message: "Not subscribed" }],
    ["{code -1}", null, { code: -1, message: "Malformed PoW result" }, { reason: "upstream_rejected", code: -1, message: "Malformed PoW result" }],
    ["[22, msg]", null, [22, "dup", null], { reason: "duplicate", code: 22, message: "dup" }],
    ["[20, msg]", null, [20, "Other", null], { reason: "upstream_rejected", code: 20, message: "Other" }],
    ["false with an error object: the error decides", false, { code: 23, message: "Low" }, { reason: "low_difficulty", code: 23, message: "Low" }],
    ["bare string error", null, "boom", { reason: "upstream_rejected", code: undefined, message: "boom" }],
  ];
  test.each(rejections)("%s → rejected", (_name, result, error, expected) => {
    const s = ready();
    upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "c", T0);
    const line: Record<string, unknown> = { id: 3, jsonrpc: "2.0", result };
    if (error !== undefined) line.error = error;
    expect(recv(s, line, T0 + 7)).toEqual([{ kind: "verdict", ctx: "c", verdict: { kind: "rejected", ...expected }, latencyMs: 7 }]);
  });

  test("our server's own refusals map back: stale is result false, duplicate is 22", () => {
    const s = ready();
    upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "a", T0);
    upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "b", T0);
    expect(recvLine(s, encodeEthReason(3, "stale"))).toMatchObject([{ ctx: "a", verdict: { kind: "rejected", reason: "upstream_rejected", message: "result false" } }]);
    expect(recvLine(s, encodeEthReason(4, "duplicate"))).toMatchObject([{ ctx: "b", verdict: { kind: "rejected", reason: "duplicate", code: 22 } }]);
  });

  test("no verdict within submitTimeoutMs → timeout; a late answer is only logged", () => {
    const s = ready({ pollIntervalMs: 0 });
    recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX] });
    upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "c", T0);
    expect(upstreamTick(s, T0 + 4_999)).toEqual([]);
    expect(upstreamTick(s, T0 + 5_000)).toEqual([{ kind: "verdict", ctx: "c", verdict: { kind: "timeout" }, latencyMs: 5_000 }]);
    expect(kinds(recv(s, { id: 3, result: true }))).toEqual(["log"]);
  });

  test("closed → pending shares lost, the session is over", () => {
    const s = ready();
    upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "a", T0);
    upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "b", T0);
    expect(upstreamClosed(s)).toEqual([
      { kind: "verdict", ctx: "a", verdict: { kind: "lost" }, latencyMs: 0 },
      { kind: "verdict", ctx: "b", verdict: { kind: "lost" }, latencyMs: 0 },
    ]);
    expect(describeUpstreamEthProxy(s)).toMatchObject({ dialect: "eth-proxy", phase: "failed", pendingSubmits: 0 });
    expect(recv(s, { id: 3, result: true })).toEqual([]);
    expect(upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "c", T0)).toMatchObject([{ verdict: { kind: "lost" } }]);
  });
});

describe("eth-proxy upstream hashrate", () => {
  const CLIENT = "0x" + "9a".repeat(32);

  test("eth_submitHashrate exact line; true answer is silent, a refusal a debug log", () => {
    const s = ready();
    const hr = "0x" + "0".repeat(56) + "05f5e100";
    expect(writes(upstreamHashrate(s, hr, CLIENT, T0))).toEqual([`{"id":3,"jsonrpc":"2.0","method":"eth_submitHashrate","params":["${hr}","${CLIENT}"]}\n`]);
    expect(recv(s, { id: 3, result: true })).toEqual([]);
    upstreamHashrate(s, "0x1", CLIENT, T0);
    expect(kinds(recv(s, { id: 4, result: null, error: { code: -1, message: "no" } }))).toEqual(["log"]);
  });

  test("unusable quantity → warning, nothing sent; before login → nothing", () => {
    const s = ready();
    expect(upstreamHashrate(s, "100", CLIENT, T0)).toMatchObject([{ kind: "log", level: "warn" }]);
    expect(upstreamHashrate(s, "0x" + "f".repeat(17), CLIENT, T0)).toMatchObject([{ kind: "log", level: "warn" }]);
    expect(s.nextId).toBe(3);
    const { state } = openUpstream(base, T0);
    expect(upstreamHashrate(state, "0x1", CLIENT, T0)).toEqual([]);
  });

  test("an unanswered report is forgotten after submitTimeoutMs", () => {
    const s = ready({ pollIntervalMs: 0 });
    recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX] });
    upstreamHashrate(s, "0x1", CLIENT, T0);
    expect(s.pending.size).toBe(1);
    expect(upstreamTick(s, T0 + 5_000)).toEqual([]);
    expect(s.pending.size).toBe(0);
  });
});

describe("eth-proxy upstream polling", () => {
  const POLL = (id: number) => `{"id":${id},"jsonrpc":"2.0","method":"eth_getWork","params":[]}\n`;

  test("eth_getWork every pollIntervalMs when no push came, one at a time", () => {
    const s = ready();
    recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX] }, T0 + 10);
    expect(upstreamTick(s, T0 + 1_999)).toEqual([]);
    expect(writes(upstreamTick(s, T0 + 2_000))).toEqual([POLL(3)]);
    // Unanswered: no second poll on top of it.
    expect(upstreamTick(s, T0 + 4_500)).toEqual([]);
    // Answered late: the interval counts from the poll, so the next one is already due.
    recv(s, { id: 3, result: [HEADER, SEED, TARGET_HEX] }, T0 + 4_600);
    expect(writes(upstreamTick(s, T0 + 4_600))).toEqual([POLL(4)]);
    recv(s, { id: 4, result: [HEADER, SEED, TARGET_HEX] }, T0 + 4_650);
    expect(upstreamTick(s, T0 + 6_599)).toEqual([]);
    expect(writes(upstreamTick(s, T0 + 6_600))).toEqual([POLL(5)]);
  });

  test("a push postpones the poll", () => {
    const s = ready();
    recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX] });
    recv(s, { id: 0, result: ["0x" + "66".repeat(32), SEED, TARGET_HEX] }, T0 + 1_500);
    expect(upstreamTick(s, T0 + 2_000)).toEqual([]);
    expect(upstreamTick(s, T0 + 3_499)).toEqual([]);
    expect(writes(upstreamTick(s, T0 + 3_500))).toEqual([POLL(3)]);
  });

  test("a poll left unanswered for submitTimeoutMs is dropped and the next one goes out", () => {
    const s = ready();
    recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX] });
    expect(writes(upstreamTick(s, T0 + 2_000))).toEqual([POLL(3)]);
    const out = upstreamTick(s, T0 + 7_000);
    expect(out).toEqual([
      { kind: "log", level: "debug", msg: "upstream did not answer eth_getWork", fields: { ageMs: 5_000 } },
      { kind: "write", data: POLL(4) },
    ]);
  });

  test("pollIntervalMs 0 never polls; no poll before login", () => {
    const s = ready({ pollIntervalMs: 0 });
    recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX] });
    expect(upstreamTick(s, T0 + 60_000)).toEqual([]);
    const { state } = openUpstream(base, T0);
    recv(state, { id: 2, result: [HEADER, SEED, TARGET_HEX] });
    expect(upstreamTick(state, T0 + 3_000)).toEqual([]);
  });

  test("describe reports phase, pending shares, work and height", () => {
    const s = ready();
    recv(s, { id: 2, result: [HEADER, SEED, TARGET_HEX, "0x2a"] }, T0 + 3);
    upstreamSubmit(s, { nonce: NONCE, headerHash: HEADER, mixDigest: MIX }, "c", T0);
    expect(describeUpstreamEthProxy(s)).toEqual({ dialect: "eth-proxy", phase: "ready", pendingSubmits: 1, headerHash: HEADER, height: 42, lastMessageAt: T0 + 3 });
  });
});
