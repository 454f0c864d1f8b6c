// Tests the relay-mode EthereumStratum/1.0.0 client session: exact handshake lines, readiness rules, extranonce/difficulty/notify, submits with the extranonce removed, every verdict shape, timeouts by injected time.
import { describe, expect, test } from "bun:test";
import type { Reason } from "../../../protocols/errors/reasons.ts";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import {
  describeUpstreamEthStratum,
  openUpstream,
  upstreamClosed,
  upstreamReceive,
  upstreamSubmit,
  upstreamTick,
  type EthStratumUpstreamOptions,
  type EthStratumUpstreamOut,
  type EthStratumUpstreamState,
} from "../../../protocols/eth-stratum/upstream_session.ts";
import {
  encodeEthStratumNotify,
  encodeEthStratumSubscribeResult,
  encodeSetDifficulty,
  encodeSetExtranonce,
  encodeTrue,
} from "../../../protocols/eth-stratum/server_to_client.ts";
import { encodeEthStratumReason } from "../../../protocols/eth-stratum/errors.ts";
import { parseEthStratumMessage } from "../../../protocols/eth-stratum/client_to_server.ts";
import { fullNonce } from "../../../protocols/eth-stratum/nonce.ts";
import { difficultyToTarget } from "../../../protocols/pow/target.ts";

const T0 = 2_000_000;
const SEED = "22".repeat(32);
const HEADER = "11".repeat(32);
const P = "EthereumStratum/1.0.0";

const base: EthStratumUpstreamOptions = {
  user: "0x" + "ab".repeat(20) + ".rig1",
  password: "x",
  agent: "stratum-edge/1.0",
  handshakeTimeoutMs: 10_000,
  submitTimeoutMs: 5_000,
};

const recv = (s: EthStratumUpstreamState, obj: unknown, now = T0): EthStratumUpstreamOut[] => upstreamReceive(s, parseLine(JSON.stringify(obj)), now);
const recvLine = (s: EthStratumUpstreamState, line: string, now = T0): EthStratumUpstreamOut[] => upstreamReceive(s, parseLine(line), now);
const writes = (out: EthStratumUpstreamOut[]): string[] => out.flatMap((o) => (o.kind === "write" ? [o.data] : []));
const kinds = (out: EthStratumUpstreamOut[]): string[] => out.map((o) => o.kind);

/** Subscribed (extranonce "a2ee"), authorized, extranonce.subscribe answered: ready, next id 4. */
function ready(extranonce = "a2ee"): EthStratumUpstreamState {
  const { state } = openUpstream(base, T0);
  recv(state, { id: 1, result: [["mining.notify", "sess-1", P], extranonce], error: null });
  const out = recv(state, { id: 2, result: true, error: null });
  if (!out.some((o) => o.kind === "ready")) throw new Error("session did not become ready");
  recv(state, { id: 3, result: true, error: null });
  return state;
}

describe("eth-stratum upstream handshake", () => {
  test("subscribe and authorize are pipelined as exact lines our server reads", () => {
    const { state, out } = openUpstream(base, T0);
    expect(writes(out)).toEqual([
      `{"id":1,"method":"mining.subscribe","params":["stratum-edge/1.0","${P}"]}\n`,
      `{"id":2,"method":"mining.authorize","params":["${base.user}","x"]}\n`,
    ]);
    expect(state.phase).toBe("handshake");
    const sub = parseLine(writes(out)[0]!);
    if (sub.kind !== "request") throw new Error("not a request");
    expect(parseEthStratumMessage(sub)).toEqual({ type: "subscribe", id: 1, agent: "stratum-edge/1.0", protocol: P });
  });

  test("subscribe result → extranonce.subscribe sent; ready after authorize", () => {
    const { state } = openUpstream(base, T0);
    const a = recvLine(state, encodeEthStratumSubscribeResult(1, "sess-9", "A2EEA0"));
    expect(a).toEqual([{ kind: "write", data: '{"id":3,"method":"mining.extranonce.subscribe","params":[]}\n' }]);
    expect(state.phase).toBe("handshake");
    expect(recvLine(state, encodeTrue(2))).toEqual([{ kind: "ready", extranonce: "a2eea0", sessionId: "sess-9" }]);
    expect(recvLine(state, encodeTrue(3))).toEqual([]);
  });

  test("authorize answered first: ready comes with the subscribe answer", () => {
    const { state } = openUpstream(base, T0);
    expect(recv(state, { id: 2, result: true, error: null })).toEqual([]);
    const out = recv(state, { id: 1, result: [["mining.notify", "s", P], ""], error: null });
    expect(kinds(out)).toEqual(["write", "ready"]);
    expect(out[1]).toEqual({ kind: "ready", extranonce: "", sessionId: "s" });
  });

  test("a 7-byte extranonce is taken; the session id may be missing", () => {
    const { state } = openUpstream(base, T0);
    recv(state, { id: 2, result: true });
    expect(recv(state, { id: 1, result: [["mining.notify", null, P], "01020304050607"] })[1]).toEqual({ kind: "ready", extranonce: "01020304050607", sessionId: "" });
  });

  test.each([
    ["8-byte extranonce", [["mining.notify", "s", P], "0102030405060708"], "mining.subscribe: extranonce must be 0..7 bytes of hex"],
    ["odd extranonce", [["mining.notify", "s", P], "abc"], "mining.subscribe: extranonce must be 0..7 bytes of hex"],
    ["non-hex extranonce", [["mining.notify", "s", P], "zz"], "mining.subscribe: extranonce must be 0..7 bytes of hex"],
    ["numeric extranonce", [["mining.notify", "s", P], 12], "mining.subscribe: extranonce must be 0..7 bytes of hex"],
    ["other protocol", [["mining.notify", "s", "EthereumStratum/2.0.0"], "aa"], `mining.subscribe: pool does not speak ${P}`],
    ["a Stratum v1 answer", [[["mining.notify", "s"]], "aabbccdd", 4], "mining.subscribe: first element must be the mining.notify tuple"],
    ["not an array", true, 'mining.subscribe: result must be [["mining.notify", id, protocol], extranonce]'],
  ])("unusable subscribe result (%s) → failed", (_name, result, why) => {
    const { state } = openUpstream(base, T0);
    expect(recv(state, { id: 1, result, error: null })).toEqual([{ kind: "failed", why }]);
    expect(state.phase).toBe("failed");
    expect(recv(state, { id: 2, result: true })).toEqual([]);
  });

  test("subscribe refused → failed with the pool's error", () => {
    const { state } = openUpstream(base, T0);
    expect(recv(state, { id: 1, result: null, error: [20, "Unsupported protocol", null] })).toEqual([
      { kind: "failed", why: 'mining.subscribe: refused: [20,"Unsupported protocol",null]' },
    ]);
  });

  test("authorize false or error → failed", () => {
    const a = openUpstream(base, T0).state;
    expect(recv(a, { id: 2, result: false, error: null })).toEqual([{ kind: "failed", why: "mining.authorize refused: false" }]);
    const b = openUpstream(base, T0).state;
    expect(recvLine(b, encodeEthStratumReason(2, "unauthorized"))).toEqual([{ kind: "failed", why: 'mining.authorize refused: [24,"Unauthorized worker",null]' }]);
  });

  test("extranonce.subscribe declined → debug log, still ready", () => {
    const { state } = openUpstream(base, T0);
    recv(state, { id: 1, result: [["mining.notify", "s", P], "aa"] });
    recv(state, { id: 2, result: true });
    expect(recvLine(state, encodeEthStratumReason(3, "unsupported_method"))).toEqual([
      { kind: "log", level: "debug", msg: "upstream declined mining.extranonce.subscribe", fields: { answer: '[20,"Method not supported",null]' } },
    ]);
    expect(state.phase).toBe("ready");
  });

  test("no handshake within handshakeTimeoutMs → failed; an ignored extranonce.subscribe is forgotten", () => {
    const a = openUpstream(base, T0).state;
    expect(upstreamTick(a, T0 + 9_999)).toEqual([]);
    expect(upstreamTick(a, T0 + 10_000)).toEqual([{ kind: "failed", why: "no subscribe/authorize answer within 10000 ms" }]);
    expect(upstreamTick(a, T0 + 20_000)).toEqual([]);
    const b = openUpstream(base, T0).state;
    recv(b, { id: 1, result: [["mining.notify", "s", P], "aa"] }, T0 + 100);
    recv(b, { id: 2, result: true }, T0 + 100);
    expect(b.pending.size).toBe(1);
    expect(upstreamTick(b, T0 + 10_100)).toEqual([]);
    expect(b.pending.size).toBe(0);
  });
});

describe("eth-stratum upstream difficulty, jobs, extranonce", () => {
  test("notify before any set_difficulty: difficulty 1 and its target", () => {
    const s = ready();
    expect(recvLine(s, encodeEthStratumNotify("j1", SEED, HEADER, true))).toEqual([
      { kind: "job", jobId: "j1", seedHash: "0x" + SEED, headerHash: "0x" + HEADER, clean: true, target: 0xffffn << 208n, difficulty: 1 },
    ]);
  });

  test("set_difficulty uses the server's own conversion and applies to the next notify", () => {
    const s = ready();
    const d = 4.294967296; // 2^32 / 1e9: a NiceHash-style fractional difficulty
    expect(recvLine(s, encodeSetDifficulty(d))).toEqual([{ kind: "difficulty", difficulty: d, target: difficultyToTarget(d) }]);
    const out = recvLine(s, encodeEthStratumNotify("j2", "0x" + SEED, "0x" + HEADER, false));
    expect(out).toEqual([{ kind: "job", jobId: "j2", seedHash: "0x" + SEED, headerHash: "0x" + HEADER, clean: false, target: difficultyToTarget(d), difficulty: d }]);
    expect(recv(s, { id: null, method: "mining.set_difficulty", params: ["0.5"] })).toEqual([{ kind: "difficulty", difficulty: 0.5, target: difficultyToTarget(0.5) }]);
    expect(describeUpstreamEthStratum(s).difficulty).toBe(0.5);
  });

  test.each([[[0]], [[-1]], [["abc"]], [[]], [{ d: 1 }]])("bad set_difficulty %j → warning, difficulty kept", (params) => {
    const s = ready();
    expect(recv(s, { id: null, method: "mining.set_difficulty", params })).toEqual([
      { kind: "log", level: "warn", msg: "upstream sent unusable params", fields: { method: "mining.set_difficulty", detail: "difficulty must be a finite number > 0" } },
    ]);
    expect(s.difficulty).toBe(1);
  });

  test.each([
    ["three params", ["j", SEED, HEADER], "expected [jobId, seedHash, headerHash, clean]"],
    ["empty job id", ["", SEED, HEADER, true], "job id must be a string of 1..128 chars"],
    ["numeric job id", [7, SEED, HEADER, true], "job id must be a string of 1..128 chars"],
    ["short seed", ["j", SEED.slice(2), HEADER, true], "seed hash must be 32 bytes of hex"],
    ["non-hex header", ["j", SEED, "zz".repeat(32), true], "header hash must be 32 bytes of hex"],
    ["clean as string", ["j", SEED, HEADER, "true"], "clean must be a boolean"],
  ])("bad notify (%s) → warning, no job", (_name, params, detail) => {
    const s = ready();
    expect(recv(s, { id: null, method: "mining.notify", params })).toEqual([
      { kind: "log", level: "warn", msg: "upstream sent unusable params", fields: { method: "mining.notify", detail } },
    ]);
  });

  test("set_extranonce → extranonce output; later submits use it", () => {
    const s = ready("a2ee");
    expect(recvLine(s, encodeSetExtranonce("B0B1B2"))).toEqual([{ kind: "extranonce", extranonce: "b0b1b2" }]);
    expect(writes(upstreamSubmit(s, { worker: "w", jobId: "j", nonce: "b0b1b2cfae7df760" }, "c", T0))).toEqual([
      '{"id":4,"method":"mining.submit","params":["w","j","cfae7df760"]}\n',
    ]);
    expect(describeUpstreamEthStratum(s).extranonce).toBe("b0b1b2");
  });

  test.each([[["0102030405060708"]], [["abc"]], [[5]], [[]]])("bad set_extranonce %j → warning, extranonce kept", (params) => {
    const s = ready("a2ee");
    expect(recv(s, { id: null, method: "mining.set_extranonce", params })).toEqual([
      { kind: "log", level: "warn", msg: "upstream sent unusable params", fields: { method: "mining.set_extranonce", detail: "extranonce must be 0..7 bytes of hex" } },
    ]);
    expect(s.extranonce).toBe("a2ee");
  });
});

describe("eth-stratum upstream client.* and unknown lines", () => {
  test("client.reconnect with and without params", () => {
    const s = ready();
    expect(recv(s, { id: null, method: "client.reconnect", params: ["pool.example", "3333", 5] })).toEqual([{ kind: "reconnect", host: "pool.example", port: 3333, waitSeconds: 5 }]);
    expect(recv(s, { id: null, method: "client.reconnect", params: [] })).toEqual([{ kind: "reconnect" }]);
    expect(recv(s, { id: null, method: "client.reconnect", params: ["h", 70000] })).toEqual([
      { kind: "log", level: "warn", msg: "upstream sent unusable params", fields: { method: "client.reconnect", detail: "port must be 1..65535" } },
    ]);
  });

  test("client.show_message → message (capped); bad params → warning", () => {
    const s = ready();
    expect(recv(s, { id: null, method: "client.show_message", params: ["maintenance at 12:00"] })).toEqual([{ kind: "message", text: "maintenance at 12:00" }]);
    expect((recv(s, { id: null, method: "client.show_message", params: ["x".repeat(900)] })[0] as { text: string }).text).toHaveLength(500);
    expect(kinds(recv(s, { id: null, method: "client.show_message", params: [1] }))).toEqual(["log"]);
  });

  test("mining.ping and client.get_version with an id are answered", () => {
    const s = ready();
    expect(writes(recv(s, { id: 11, method: "mining.ping", params: [] }))).toEqual(['{"id":11,"result":"pong","error":null}\n']);
    expect(writes(recv(s, { id: 12, method: "client.get_version", params: [] }))).toEqual(['{"id":12,"result":"stratum-edge/1.0","error":null}\n']);
  });

  test("unknown request with an id → error [20, Method not supported]; a notification → debug log", () => {
    const s = ready();
    expect(writes(recv(s, { id: 7, method: "mining.foo", params: [] }))).toEqual(['{"id":7,"result":null,"error":[20,"Method not supported: mining.foo",null]}\n']);
    // A Bitcoin-only method is just as unknown here.
    expect(writes(recv(s, { id: "v", method: "mining.set_version_mask", params: ["1fffe000"] }))).toEqual(['{"id":"v","result":null,"error":[20,"Method not supported: mining.set_version_mask",null]}\n']);
    expect(recv(s, { id: null, method: "mining.bar", params: [] })).toEqual([{ kind: "log", level: "debug", msg: "upstream sent an unknown notification", fields: { method: "mining.bar" } }]);
  });

  test("unknown answer id and unreadable lines → logs; the session goes on", () => {
    const s = ready();
    expect(recv(s, { id: 99, result: true })).toEqual([{ kind: "log", level: "debug", msg: "upstream answered an unknown request id", fields: { id: 99 } }]);
    expect(recvLine(s, "[1,2]", T0 + 9)).toEqual([{ kind: "log", level: "warn", msg: "unreadable line from upstream", fields: { detail: "not a JSON object" } }]);
    expect(s.lastMessageAt).toBe(T0 + 9);
    expect(s.phase).toBe("ready");
  });
});

describe("eth-stratum upstream submits and verdicts", () => {
  test("mining.submit with the extranonce removed; our server rebuilds the same nonce; true → accepted", () => {
    const s = ready("a2eea0");
    const out = upstreamSubmit(s, { worker: "rig1", jobId: "j1", nonce: "a2eea0cfae7df760" }, "c1", T0 + 10);
    expect(writes(out)).toEqual(['{"id":4,"method":"mining.submit","params":["rig1","j1","cfae7df760"]}\n']);
    const req = parseLine(writes(out)[0]!);
    if (req.kind !== "request") throw new Error("not a request");
    const m = parseEthStratumMessage(req);
    if (m.type !== "submit") throw new Error("not a submit");
    expect(fullNonce("a2eea0", m.minerNonce)).toBe("0xa2eea0cfae7df760");
    expect(describeUpstreamEthStratum(s).pendingSubmits).toBe(1);
    expect(recvLine(s, encodeTrue(4), T0 + 35)).toEqual([{ kind: "verdict", ctx: "c1", verdict: { kind: "accepted" }, latencyMs: 25 }]);
  });

  test("0x prefix and upper case are tolerated; an empty extranonce sends the whole nonce", () => {
    const s = ready("");
    expect(writes(upstreamSubmit(s, { worker: "w", jobId: "j", nonce: "0xA2EEA0CFAE7DF760" }, 1, T0))).toEqual([
      '{"id":4,"method":"mining.submit","params":["w","j","a2eea0cfae7df760"]}\n',
    ]);
  });

  test("nonce outside the pool's extranonce → rejected here, nothing sent", () => {
    const s = ready("a2ee");
    expect(upstreamSubmit(s, { worker: "w", jobId: "j", nonce: "b0b1cfae7df76011" }, "c", T0)).toEqual([
      { kind: "verdict", ctx: "c", verdict: { kind: "rejected", reason: "upstream_rejected", code: undefined, message: "nonce outside the pool's extranonce" }, latencyMs: 0 },
    ]);
    expect(s.nextId).toBe(4);
  });

  test.each(["a2eecfae7df760", "a2eecfae7df7601122", "a2eecfae7df7zz11", ""])("nonce %j not 8 bytes of hex → rejected here", (nonce) => {
    const s = ready("a2ee");
    expect(upstreamSubmit(s, { worker: "w", jobId: "j", nonce }, "c", T0)).toEqual([
      { kind: "verdict", ctx: "c", verdict: { kind: "rejected", reason: "upstream_rejected", code: undefined, message: "nonce must be 8 bytes of hex" }, latencyMs: 0 },
    ]);
  });

  test("submit before ready → lost", () => {
    const { state } = openUpstream(base, T0);
    expect(upstreamSubmit(state, { worker: "w", jobId: "j", nonce: "a2eecfae7df76011" }, "c", T0)).toEqual([{ kind: "verdict", ctx: "c", verdict: { kind: "lost" }, latencyMs: 0 }]);
  });

  const rejections: [string, unknown, unknown, { reason: Reason; code: number | undefined; message: string }][] = [
    ["result false", false, null, { reason: "upstream_rejected", code: undefined, message: "result false" }],
    ["result null without error", null, null, { reason: "upstream_rejected", code: undefined, message: "unexpected result null" }],
    ["[21]", null, [21, "Job not found", null], { reason: "stale", code: 21, message: "Job not found" }],
    ["[22]", null, [22, "Duplicate share", null], { reason: "duplicate", code: 22, message: "Duplicate share" }],
    ["[23]", null, [23, "Low difficulty share", null], { reason: "low_difficulty", code: 23, message: "Low difficulty share" }],
    ["[24]", null, [24, "Unauthorized worker", null], { reason: "unauthorized", code: 24, message: "Unauthorized worker" }],
    ["[25]", null, [25, "Not subscribed", null], { reason: "not_subscribed", code: 25, message: "Not subscribed" }],
    ["[20]", null, [20, "Other/Unknown", null], { reason: "upstream_rejected", code: 20, message: "Other/Unknown" }],
    ["{code, message}", false, { code: 22, message: "dup" }, { reason: "duplicate", code: 22, message: "dup" }],
  ];
  test.each(rejections)("%s → rejected", (_name, result, error, expected) => {
    const s = ready("a2ee");
    upstreamSubmit(s, { worker: "w", jobId: "j", nonce: "a2eecfae7df76011" }, "c", T0);
    expect(recv(s, { id: 4, result, error }, T0 + 3)).toEqual([{ kind: "verdict", ctx: "c", verdict: { kind: "rejected", ...expected }, latencyMs: 3 }]);
  });

  test("our server's refusals map back to the same reasons", () => {
    const s = ready("a2ee");
    for (const [i, reason] of (["stale", "duplicate", "low_difficulty", "unauthorized", "not_subscribed"] as const).entries()) {
      upstreamSubmit(s, { worker: "w", jobId: "j", nonce: "a2eecfae7df76011" }, reason, T0);
      expect(recvLine(s, encodeEthStratumReason(4 + i, reason))).toMatchObject([{ ctx: reason, verdict: { kind: "rejected", reason } }]);
    }
  });

  test("no verdict within submitTimeoutMs → timeout; the late answer is only logged", () => {
    const s = ready("a2ee");
    upstreamSubmit(s, { worker: "w", jobId: "j", nonce: "a2eecfae7df76011" }, "c", T0);
    expect(upstreamTick(s, T0 + 4_999)).toEqual([]);
    expect(upstreamTick(s, T0 + 5_000)).toEqual([{ kind: "verdict", ctx: "c", verdict: { kind: "timeout" }, latencyMs: 5_000 }]);
    expect(kinds(recv(s, { id: 4, result: true }))).toEqual(["log"]);
  });

  test("closed → pending shares lost; describe shows the end", () => {
    const s = ready("a2ee");
    upstreamSubmit(s, { worker: "w", jobId: "j", nonce: "a2eecfae7df76011" }, "a", T0);
    upstreamSubmit(s, { worker: "w", jobId: "j", nonce: "a2eecfae7df76012" }, "b", T0);
    expect(describeUpstreamEthStratum(s)).toEqual({ dialect: "eth-stratum", phase: "ready", pendingSubmits: 2, extranonce: "a2ee", difficulty: 1, lastMessageAt: T0 });
    expect(upstreamClosed(s)).toEqual([
      { kind: "verdict", ctx: "a", verdict: { kind: "lost" }, latencyMs: 0 },
      { kind: "verdict", ctx: "b", verdict: { kind: "lost" }, latencyMs: 0 },
    ]);
    expect(describeUpstreamEthStratum(s)).toMatchObject({ phase: "failed", pendingSubmits: 0 });
    expect(recv(s, { id: 4, result: true })).toEqual([]);
    expect(upstreamTick(s, T0 + 60_000)).toEqual([]);
  });
});
