// Tests the relay-mode client session towards an upstream pool: exact handshake lines, readiness rules, pool messages, submits and every verdict shape, timeouts by injected time.
import { describe, expect, test } from "bun:test";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import type { Reason } from "../../../protocols/errors/reasons.ts";
import {
  openUpstream,
  pendingSubmits,
  upstreamClosed,
  upstreamReceive,
  upstreamSubmit,
  upstreamTick,
  verdictFromError,
  type UpstreamOptions,
  type UpstreamOut,
  type UpstreamState,
} from "../../../protocols/stratum-v1/upstream_session.ts";

const T0 = 1_000_000;

const base: UpstreamOptions = {
  user: "acct.w1",
  password: "x",
  agent: "stratum-edge/1.0",
  versionMask: 0x1fffe000,
  suggestDifficulty: 0,
  handshakeTimeoutMs: 10_000,
  submitTimeoutMs: 5_000,
};

const recv = (s: UpstreamState, obj: unknown, now = T0): UpstreamOut[] => upstreamReceive(s, parseLine(JSON.stringify(obj)), now);

const SUB_RESULT = [[["mining.set_difficulty", "d1"], ["mining.notify", "sub-77"]], "A1B2C3D4", 8];

const NOTIFY = [
  "j1",
  "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000",
  "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008",
  "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",
  [],
  "00000002",
  "1c2ac4af",
  "504e86b9",
  false,
] as const;

/** Session with configure answered (mask granted ffffffff), subscribe and authorize true: ready, next id 4. */
function ready(opts: Partial<UpstreamOptions> = {}): UpstreamState {
  const { state } = openUpstream({ ...base, ...opts }, T0);
  const configure = state.opts.versionMask !== 0;
  const first = configure ? 2 : 1;
  if (configure) recv(state, { id: 1, result: { "version-rolling": true, "version-rolling.mask": "ffffffff" }, error: null });
  recv(state, { id: first, result: SUB_RESULT, error: null });
  const out = recv(state, { id: first + 1, result: true, error: null });
  if (!out.some((o) => o.kind === "ready")) throw new Error("session did not become ready");
  return state;
}

describe("upstream handshake", () => {
  test("configure, subscribe, authorize are pipelined as exact lines", () => {
    const { state, out } = openUpstream(base, T0);
    expect(out).toEqual([
      {
        kind: "write",
        data: '{"id":1,"method":"mining.configure","params":[["version-rolling"],{"version-rolling.mask":"1fffe000","version-rolling.min-bit-count":2}]}\n',
      },
      { kind: "write", data: '{"id":2,"method":"mining.subscribe","params":["stratum-edge/1.0"]}\n' },
      { kind: "write", data: '{"id":3,"method":"mining.authorize","params":["acct.w1","x"]}\n' },
    ]);
    expect(state.phase).toBe("handshake");
  });

  test("versionMask 0: no configure; a resume id goes in subscribe params[1]", () => {
    const { out } = openUpstream({ ...base, versionMask: 0, resumeId: "sub-77" }, T0);
    expect(out).toEqual([
      { kind: "write", data: '{"id":1,"method":"mining.subscribe","params":["stratum-edge/1.0","sub-77"]}\n' },
      { kind: "write", data: '{"id":2,"method":"mining.authorize","params":["acct.w1","x"]}\n' },
    ]);
  });

  test("ready only after subscribe + authorize + configure; granted mask ANDed with ours; extranonce1 lowercased", () => {
    const { state } = openUpstream(base, T0);
    expect(recv(state, { id: 2, result: SUB_RESULT, error: null })).toEqual([]);
    expect(recv(state, { id: 3, result: true, error: null })).toEqual([]);
    expect(state.phase).toBe("handshake");
    const out = recv(state, { id: 1, result: { "version-rolling": true, "version-rolling.mask": "00ffffff" }, error: null });
    expect(out).toEqual([{ kind: "ready", extranonce1: "a1b2c3d4", extranonce2Size: 8, versionMask: 0x00ffe000, subscriptionId: "sub-77" }]);
    expect(state.phase).toBe("ready");
  });

  test("without configure: ready on subscribe + authorize in either order, mask 0", () => {
    const { state } = openUpstream({ ...base, versionMask: 0 }, T0);
    expect(recv(state, { id: 2, result: true, error: null })).toEqual([]);
    expect(recv(state, { id: 1, result: SUB_RESULT, error: null })).toEqual([
      { kind: "ready", extranonce1: "a1b2c3d4", extranonce2Size: 8, versionMask: 0, subscriptionId: "sub-77" },
    ]);
  });

  test("a configure error means no version rolling", () => {
    const { state } = openUpstream(base, T0);
    recv(state, { id: 2, result: SUB_RESULT, error: null });
    recv(state, { id: 3, result: true, error: null });
    const out = recv(state, { id: 1, result: null, error: [20, "Method not found", null] });
    expect(out).toEqual([{ kind: "ready", extranonce1: "a1b2c3d4", extranonce2Size: 8, versionMask: 0, subscriptionId: "sub-77" }]);
  });

  test("configure refused (version-rolling false) keeps mask 0", () => {
    const { state } = openUpstream(base, T0);
    recv(state, { id: 1, result: { "version-rolling": false }, error: null });
    recv(state, { id: 2, result: SUB_RESULT, error: null });
    const out = recv(state, { id: 3, result: true, error: null });
    expect(out).toEqual([{ kind: "ready", extranonce1: "a1b2c3d4", extranonce2Size: 8, versionMask: 0, subscriptionId: "sub-77" }]);
  });

  test("a silent configure is given up after handshakeTimeoutMs/2: ready with mask 0", () => {
    const { state } = openUpstream(base, T0);
    recv(state, { id: 2, result: SUB_RESULT, error: null }, T0 + 10);
    recv(state, { id: 3, result: true, error: null }, T0 + 20);
    expect(upstreamTick(state, T0 + 4_999)).toEqual([]);
    expect(upstreamTick(state, T0 + 5_000)).toEqual([
      { kind: "ready", extranonce1: "a1b2c3d4", extranonce2Size: 8, versionMask: 0, subscriptionId: "sub-77" },
    ]);
    // A late configure answer no longer changes anything.
    const late = recv(state, { id: 1, result: { "version-rolling": true, "version-rolling.mask": "ffffffff" }, error: null }, T0 + 6_000);
    expect(late.filter((o) => o.kind !== "log")).toEqual([]);
    expect(state.versionMask).toBe(0);
  });

  test("suggestDifficulty > 0: mining.suggest_difficulty follows ready", () => {
    const { state } = openUpstream({ ...base, versionMask: 0, suggestDifficulty: 4096 }, T0);
    recv(state, { id: 1, result: SUB_RESULT, error: null });
    const out = recv(state, { id: 2, result: true, error: null });
    expect(out.map((o) => o.kind)).toEqual(["ready", "write"]);
    expect(out[1]).toEqual({ kind: "write", data: '{"id":3,"method":"mining.suggest_difficulty","params":[4096]}\n' });
  });

  test("subscribe error → failed, and nothing more is processed", () => {
    const { state } = openUpstream({ ...base, versionMask: 0 }, T0);
    const out = recv(state, { id: 1, result: null, error: [20, "nope", null] });
    expect(out).toEqual([{ kind: "failed", why: 'mining.subscribe refused or unreadable: [20,"nope",null]' }]);
    expect(state.phase).toBe("failed");
    expect(recv(state, { id: 2, result: true, error: null })).toEqual([]);
    expect(upstreamTick(state, T0 + 60_000)).toEqual([]);
  });

  test("an unreadable subscribe result → failed", () => {
    const { state } = openUpstream({ ...base, versionMask: 0 }, T0);
    const out = recv(state, { id: 1, result: [[], "xyz", 8], error: null });
    expect(out).toEqual([{ kind: "failed", why: 'mining.subscribe refused or unreadable: [[],"xyz",8]' }]);
  });

  test("authorize false → failed", () => {
    const { state } = openUpstream({ ...base, versionMask: 0 }, T0);
    recv(state, { id: 1, result: SUB_RESULT, error: null });
    expect(recv(state, { id: 2, result: false, error: null })).toEqual([{ kind: "failed", why: "mining.authorize refused: false" }]);
    expect(state.phase).toBe("failed");
  });

  test("authorize with an error → failed, the error quoted", () => {
    const { state } = openUpstream({ ...base, versionMask: 0 }, T0);
    expect(recv(state, { id: 2, result: null, error: [24, "Unauthorized worker", null] })).toEqual([
      { kind: "failed", why: 'mining.authorize refused: [24,"Unauthorized worker",null]' },
    ]);
  });

  test("handshake timeout → failed exactly at handshakeTimeoutMs", () => {
    const { state } = openUpstream({ ...base, versionMask: 0 }, T0);
    recv(state, { id: 1, result: SUB_RESULT, error: null }, T0 + 100);
    expect(upstreamTick(state, T0 + 9_999)).toEqual([]);
    expect(upstreamTick(state, T0 + 10_000)).toEqual([{ kind: "failed", why: "no subscribe/authorize answer within 10000 ms" }]);
    expect(state.phase).toBe("failed");
  });

  test("a ready session never times out its handshake", () => {
    const s = ready({ versionMask: 0 });
    expect(upstreamTick(s, T0 + 1_000_000)).toEqual([]);
    expect(s.phase).toBe("ready");
  });
});

describe("upstream messages", () => {
  test("notify carries the difficulty in force; set_difficulty applies to the NEXT notify", () => {
    const s = ready();
    const job1 = recv(s, { id: null, method: "mining.notify", params: NOTIFY });
    expect(job1).toEqual([
      {
        kind: "job",
        notify: {
          type: "notify",
          jobId: "j1",
          prevhash: NOTIFY[1],
          coinb1: NOTIFY[2],
          coinb2: NOTIFY[3],
          branch: [],
          version: "00000002",
          nbits: "1c2ac4af",
          ntime: "504e86b9",
          clean: false,
        },
        difficulty: 1,
      },
    ]);
    expect(recv(s, { id: null, method: "mining.set_difficulty", params: [512] })).toEqual([{ kind: "difficulty", difficulty: 512 }]);
    const job2 = recv(s, { id: null, method: "mining.notify", params: ["j2", ...NOTIFY.slice(1, 8), true] });
    expect(job2).toHaveLength(1);
    const j = job2[0]!;
    if (j.kind !== "job") throw new Error("expected a job");
    expect(j.notify.jobId).toBe("j2");
    expect(j.notify.clean).toBe(true);
    expect(j.difficulty).toBe(512);
  });

  test("set_difficulty before ready is kept for the first job", () => {
    const { state } = openUpstream({ ...base, versionMask: 0 }, T0);
    recv(state, { id: null, method: "mining.set_difficulty", params: [8192] });
    recv(state, { id: 1, result: SUB_RESULT, error: null });
    recv(state, { id: 2, result: true, error: null });
    const out = recv(state, { id: null, method: "mining.notify", params: NOTIFY });
    expect(out[0]).toMatchObject({ kind: "job", difficulty: 8192 });
  });

  test("set_extranonce → extranonce output (lowercased), state updated", () => {
    const s = ready();
    expect(recv(s, { id: null, method: "mining.set_extranonce", params: ["ABCDEF01", 6] })).toEqual([
      { kind: "extranonce", extranonce1: "abcdef01", extranonce2Size: 6 },
    ]);
    expect(s.extranonce1).toBe("abcdef01");
    expect(s.extranonce2Size).toBe(6);
  });

  test("set_version_mask is ANDed with the mask we asked for", () => {
    const s = ready();
    expect(recv(s, { id: null, method: "mining.set_version_mask", params: ["ffff0000"] })).toEqual([{ kind: "version_mask", mask: 0x1fff0000 }]);
    expect(s.versionMask).toBe(0x1fff0000);
  });

  test("client.reconnect with and without host/port/wait", () => {
    const s = ready();
    expect(recv(s, { id: null, method: "client.reconnect", params: ["pool2.example", 3334, 5] })).toEqual([
      { kind: "reconnect", host: "pool2.example", port: 3334, waitSeconds: 5 },
    ]);
    expect(recv(s, { id: null, method: "client.reconnect", params: ["pool3.example", "4444"] })).toEqual([
      { kind: "reconnect", host: "pool3.example", port: 4444 },
    ]);
    expect(recv(s, { id: null, method: "client.reconnect", params: [] })).toEqual([{ kind: "reconnect" }]);
  });

  test("client.show_message → message output, capped at 500 chars", () => {
    const s = ready();
    expect(recv(s, { id: null, method: "client.show_message", params: ["maintenance at noon"] })).toEqual([
      { kind: "message", text: "maintenance at noon" },
    ]);
    const long = recv(s, { id: null, method: "client.show_message", params: ["x".repeat(900)] });
    expect(long).toEqual([{ kind: "message", text: "x".repeat(500) }]);
  });

  test("mining.ping and client.get_version are answered", () => {
    const s = ready();
    expect(recv(s, { id: 7, method: "mining.ping", params: [] })).toEqual([{ kind: "write", data: '{"id":7,"result":"pong","error":null}\n' }]);
    expect(recv(s, { id: "v", method: "client.get_version", params: [] })).toEqual([
      { kind: "write", data: '{"id":"v","result":"stratum-edge/1.0","error":null}\n' },
    ]);
  });

  test("an unknown request with an id gets an error; an unknown notification gets nothing", () => {
    const s = ready();
    expect(recv(s, { id: 9, method: "mining.frobnicate", params: [1] })).toEqual([
      { kind: "write", data: '{"id":9,"result":null,"error":[20,"Method not supported",null]}\n' },
    ]);
    expect(recv(s, { id: null, method: "mining.frobnicate", params: [1] })).toEqual([]);
  });

  test("unusable params and unreadable lines are logged, never answered", () => {
    const s = ready();
    const bad = recv(s, { id: null, method: "mining.set_difficulty", params: [-1] });
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ kind: "log", level: "warn" });
    const junk = upstreamReceive(s, parseLine("{nope"), T0);
    expect(junk).toHaveLength(1);
    expect(junk[0]).toMatchObject({ kind: "log", level: "warn", msg: "unreadable line from upstream" });
    expect(s.phase).toBe("ready");
  });
});

describe("upstream submits and verdicts", () => {
  const SUB = { worker: "acct.w1", jobId: "j1", extranonce2: "0000010203040506", ntime: "504e86b9", nonce: "deadbeef" };

  test("exact mining.submit lines, with and without version bits", () => {
    const s = ready();
    expect(upstreamSubmit(s, SUB, "a", T0)).toEqual([
      { kind: "write", data: '{"id":4,"method":"mining.submit","params":["acct.w1","j1","0000010203040506","504e86b9","deadbeef"]}\n' },
    ]);
    expect(upstreamSubmit(s, { ...SUB, versionBits: "00002000" }, "b", T0)).toEqual([
      {
        kind: "write",
        data: '{"id":5,"method":"mining.submit","params":["acct.w1","j1","0000010203040506","504e86b9","deadbeef","00002000"]}\n',
      },
    ]);
    expect(pendingSubmits(s)).toBe(2);
  });

  test("result true → accepted with the latency, carrying the ctx", () => {
    const s = ready();
    const ctx = { share: 1 };
    upstreamSubmit(s, SUB, ctx, T0 + 100);
    const out = recv(s, { id: 4, result: true, error: null }, T0 + 137);
    expect(out).toEqual([{ kind: "verdict", ctx, verdict: { kind: "accepted" }, latencyMs: 37 }]);
    expect(out[0]!.kind === "verdict" && out[0]!.ctx).toBe(ctx);
    expect(pendingSubmits(s)).toBe(0);
  });

  const coded: [number, string, Reason][] = [
    [21, "Job not found", "stale"],
    [22, "Duplicate share", "duplicate"],
    [23, "Low difficulty share", "low_difficulty"],
    [24, "Unauthorized worker", "unauthorized"],
    [25, "Not subscribed", "not_subscribed"],
  ];
  for (const [code, message, reason] of coded) {
    test(`error [${code}, …] → rejected ${reason}`, () => {
      const s = ready();
      upstreamSubmit(s, SUB, code, T0);
      expect(recv(s, { id: 4, result: null, error: [code, message, null] }, T0 + 5)).toEqual([
        { kind: "verdict", ctx: code, verdict: { kind: "rejected", reason, code, message }, latencyMs: 5 },
      ]);
    });
  }

  test('[20, "x"] and {code:-3, message:"y"} → upstream_rejected with their code and text', () => {
    const s = ready();
    upstreamSubmit(s, SUB, "a", T0);
    upstreamSubmit(s, SUB, "b", T0);
    expect(recv(s, { id: 4, result: null, error: [20, "x"] }, T0 + 1)).toEqual([
      { kind: "verdict", ctx: "a", verdict: { kind: "rejected", reason: "upstream_rejected", code: 20, message: "x" }, latencyMs: 1 },
    ]);
    expect(recv(s, { id: 5, result: null, error: { code: -3, message: "y" } }, T0 + 2)).toEqual([
      { kind: "verdict", ctx: "b", verdict: { kind: "rejected", reason: "upstream_rejected", code: -3, message: "y" }, latencyMs: 2 },
    ]);
  });

  test("result false with a null error → upstream_rejected, no code", () => {
    const s = ready();
    upstreamSubmit(s, SUB, "a", T0);
    const out = recv(s, { id: 4, result: false, error: null }, T0 + 3);
    expect(out).toHaveLength(1);
    const v = out[0]!;
    if (v.kind !== "verdict") throw new Error("expected a verdict");
    expect(v.verdict).toEqual({ kind: "rejected", reason: "upstream_rejected", code: undefined, message: "result false" });
    expect(v.verdict.kind === "rejected" && v.verdict.code).toBeUndefined();
  });

  test("verdictFromError: string errors, unknown codes, long messages", () => {
    expect(verdictFromError("stale work")).toEqual({ kind: "rejected", reason: "upstream_rejected", code: undefined, message: "stale work" });
    expect(verdictFromError([99, "weird", null])).toEqual({ kind: "rejected", reason: "upstream_rejected", code: 99, message: "weird" });
    expect(verdictFromError({ code: 23, message: "low" })).toEqual({ kind: "rejected", reason: "low_difficulty", code: 23, message: "low" });
    expect(verdictFromError([20, "m".repeat(300)]).message).toBe("m".repeat(200));
  });

  test("no verdict within submitTimeoutMs → timeout with the latency; a late answer is only logged", () => {
    const s = ready();
    upstreamSubmit(s, SUB, "a", T0 + 1_000);
    expect(upstreamTick(s, T0 + 5_999)).toEqual([]);
    expect(upstreamTick(s, T0 + 6_000)).toEqual([{ kind: "verdict", ctx: "a", verdict: { kind: "timeout" }, latencyMs: 5_000 }]);
    expect(pendingSubmits(s)).toBe(0);
    const late = recv(s, { id: 4, result: true, error: null }, T0 + 7_000);
    expect(late.map((o) => o.kind)).toEqual(["log"]);
  });

  test("upstreamClosed: every pending submit is lost, the session is over", () => {
    const s = ready();
    upstreamSubmit(s, SUB, "a", T0);
    upstreamSubmit(s, SUB, "b", T0);
    upstreamSubmit(s, SUB, "c", T0);
    recv(s, { id: 5, result: true, error: null }, T0 + 1); // "b" answered before the close
    expect(upstreamClosed(s)).toEqual([
      { kind: "verdict", ctx: "a", verdict: { kind: "lost" }, latencyMs: 0 },
      { kind: "verdict", ctx: "c", verdict: { kind: "lost" }, latencyMs: 0 },
    ]);
    expect(pendingSubmits(s)).toBe(0);
    expect(s.phase).toBe("failed");
    // After the close, a submit is lost at once rather than written to a dead connection.
    expect(upstreamSubmit(s, SUB, "d", T0 + 2)).toEqual([{ kind: "verdict", ctx: "d", verdict: { kind: "lost" }, latencyMs: 0 }]);
  });

  test("submit before ready → lost, nothing written", () => {
    const { state } = openUpstream(base, T0);
    expect(upstreamSubmit(state, SUB, "early", T0)).toEqual([{ kind: "verdict", ctx: "early", verdict: { kind: "lost" }, latencyMs: 0 }]);
    expect(pendingSubmits(state)).toBe(0);
  });
});
