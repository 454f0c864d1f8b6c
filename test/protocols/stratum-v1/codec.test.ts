// Tests for the Stratum v1 codecs against every wire fixture: parse miner→pool and pool→miner, re-encode pool→miner.
import { describe, expect, test } from "bun:test";
import fixtures from "../../fixtures/stratum-messages.json";
import { createLineFramer } from "../../../protocols/jsonrpc/framer.ts";
import { parseLine, type RpcMessage } from "../../../protocols/jsonrpc/envelope.ts";
import { parseClientMessage, parseConfigure, type ClientMessage } from "../../../protocols/stratum-v1/client_to_server.ts";
import { parseServerMessage, parseSubscribeResult, type ServerMessage } from "../../../protocols/stratum-v1/server_messages.ts";
import {
  encodeConfigureResult,
  encodeGetVersion,
  encodeNotify,
  encodeNotifyBytes,
  encodePing,
  encodePong,
  encodeReconnect,
  encodeResult,
  encodeSetDifficulty,
  encodeSetExtranonce,
  encodeSetVersionMask,
  encodeShowMessage,
  encodeStratumError,
  encodeSubscribeResult,
  encodeTrue,
  formatDifficulty,
} from "../../../protocols/stratum-v1/server_to_client.ts";
import type { StratumJob } from "../../../protocols/stratum-v1/job_types.ts";

interface Fixture {
  name: string;
  dir: string;
  json: Record<string, unknown>;
}
const MESSAGES = fixtures.messages as Fixture[];
const byName = (n: string): Fixture => {
  const f = MESSAGES.find((m) => m.name === n);
  if (!f) throw new Error(`no fixture ${n}`);
  return f;
};

/** Fixture → wire line → framer → parseLine, the path real bytes take. */
function viaWire(json: unknown): RpcMessage {
  const f = createLineFramer();
  const out = f.push(new TextEncoder().encode(JSON.stringify(json) + "\r\n"));
  expect(out.lines.length).toBe(1);
  const m = parseLine(out.lines[0]!);
  if (m.kind === "invalid") throw new Error(`fixture did not parse: ${m.detail}`);
  return m;
}

const EXPECTED_CLIENT: Record<string, ClientMessage> = {
  subscribe_minimal: { type: "subscribe", id: 1 },
  subscribe_cgminer: { type: "subscribe", id: 1, agent: "cgminer/4.10.0" },
  subscribe_cgminer_resume: { type: "subscribe", id: 1, agent: "cgminer/4.10.0", resume: "ae6812eb4cd7735a302a8a9dd95cf71f" },
  subscribe_bitaxe: { type: "subscribe", id: 2, agent: "bitaxe/BM1370/v2.6.0" },
  subscribe_nerdminer: { type: "subscribe", id: 1, agent: "NerdMinerV2" },
  authorize: { type: "authorize", id: 2, user: "slush.miner1", password: "password" },
  submit_5: { type: "submit", id: 4, worker: "slush.miner1", jobId: "bf", extranonce2: "00000001", ntime: "504e86ed", nonce: "b2957c02" },
  submit_6_version_bits: {
    type: "submit",
    id: 7,
    worker: "bc1qexample.worker",
    jobId: "1a2b",
    extranonce2: "0000000000000001",
    ntime: "647025b5",
    nonce: "0a029ed1",
    versionBits: "1fffe000",
  },
  configure_bip310_example: {
    type: "configure",
    id: 1,
    extensions: ["minimum-difficulty", "version-rolling"],
    params: { "minimum-difficulty.value": 2048, "version-rolling.mask": "1fffe000", "version-rolling.min-bit-count": 2 },
  },
  configure_bitaxe: { type: "configure", id: 1, extensions: ["version-rolling"], params: { "version-rolling.mask": "ffffffff" } },
  suggest_difficulty_bitaxe: { type: "suggest_difficulty", id: 4, difficulty: 1000 },
  extranonce_subscribe: { type: "extranonce_subscribe", id: "X" },
  client_get_version_reply_cgminer: { type: "response", id: 7, result: "cgminer/4.10.0", error: null },
  mining_ping_reply_cgminer: { type: "response", id: 42, result: "pong", error: null },
  mining_ping_reply_esp_miner_quirk: { type: "pong", id: 42 },
  multi_version_bitmain: { type: "multi_version", id: 5, versions: 4 },
};

const EXPECTED_SERVER: Record<string, ServerMessage> = {
  subscribe_result_slush: { type: "result", id: 1, result: byName("subscribe_result_slush").json.result, error: null },
  subscribe_result_ckpool_shape: { type: "result", id: 1, result: byName("subscribe_result_ckpool_shape").json.result, error: null },
  subscribe_result_public_pool_shape: {
    type: "result",
    id: 1,
    result: byName("subscribe_result_public_pool_shape").json.result,
    error: null,
  },
  authorize_result: { type: "result", id: 2, result: true, error: null },
  set_difficulty: { type: "set_difficulty", difficulty: 1 },
  notify_slush: {
    type: "notify",
    jobId: "bf",
    prevhash: "4d16b6f85af6e2198f44ae2a6de67f78487ae5611b77c6c0440b921e00000000",
    coinb1:
      "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008",
    coinb2: "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",
    branch: [],
    version: "00000002",
    nbits: "1c2ac4af",
    ntime: "504e86b9",
    clean: false,
  },
  submit_result: { type: "result", id: 4, result: true, error: null },
  configure_bip310_result: { type: "result", id: 1, result: byName("configure_bip310_result").json.result, error: null },
  configure_unsupported_result: { type: "result", id: 1, result: { "version-rolling": false }, error: null },
  configure_result_ckpool_public_pool: {
    type: "result",
    id: 1,
    result: { "version-rolling": true, "version-rolling.mask": "1fffe000" },
    error: null,
  },
  set_version_mask: { type: "set_version_mask", mask: 0x3000, maskHex: "00003000" },
  extranonce_subscribe_result: { type: "result", id: "X", result: true, error: null },
  set_extranonce: { type: "set_extranonce", extranonce1: "08000002", extranonce2Size: 4 },
  client_reconnect_ckpool: { type: "reconnect", host: "pool.example.com", port: 3333, waitSeconds: 0 },
  client_show_message: { type: "show_message", text: "Pool maintenance at 12:00 UTC" },
  client_get_version: { type: "get_version", id: 7 },
  mining_ping_ckpool: { type: "ping", id: 42 },
};

const notify = byName("notify_slush").json.params as unknown[];
/** A job whose wire fields are the slush notify fixture; binary fields are not used by the encoders. */
const SLUSH_JOB: StratumJob = {
  id: "bf",
  height: 0,
  template: { height: 0, version: 2, previousBlockHash: "00".repeat(32), bits: "1c2ac4af", curtime: 0, coinbaseValue: 0n, transactions: [] },
  extranonce1Size: 4,
  extranonce2Size: 4,
  prevhashNotify: notify[1] as string,
  coinb1: notify[2] as string,
  coinb2: notify[3] as string,
  merkleBranch: notify[4] as string[],
  versionHex: notify[5] as string,
  nbitsHex: notify[6] as string,
  ntimeHex: notify[7] as string,
  coinb1Bytes: new Uint8Array(0),
  coinb2Bytes: new Uint8Array(0),
  branchBytes: new Uint8Array(0),
  prevhash: new Uint8Array(32),
  version: 2,
  bits: 0x1c2ac4af,
  ntime: 0x504e86b9,
  networkTarget: 0n,
  networkTargetLE: new Uint8Array(32),
};

/** How our encoders produce each pool→miner fixture. */
const ENCODE_SERVER: Record<string, () => string> = {
  subscribe_result_slush: () =>
    encodeSubscribeResult(1, "ae6812eb4cd7735a302a8a9dd95cf71f", "08000002", 4, "b4b6693b72a50c7116db18d6497cac52"),
  // Shapes of other pools (notify tuple only): the generic result encoder carries them unchanged.
  subscribe_result_ckpool_shape: () => encodeResult(1, byName("subscribe_result_ckpool_shape").json.result),
  subscribe_result_public_pool_shape: () => encodeResult(1, byName("subscribe_result_public_pool_shape").json.result),
  authorize_result: () => encodeTrue(2),
  set_difficulty: () => encodeSetDifficulty(1),
  notify_slush: () => encodeNotify(SLUSH_JOB, false),
  submit_result: () => encodeTrue(4),
  configure_bip310_result: () =>
    encodeConfigureResult(1, { "version-rolling": true, "version-rolling.mask": "18000000", "minimum-difficulty": true }),
  configure_unsupported_result: () => encodeConfigureResult(1, { "version-rolling": false }),
  configure_result_ckpool_public_pool: () => encodeConfigureResult(1, { "version-rolling": true, "version-rolling.mask": "1fffe000" }),
  set_version_mask: () => encodeSetVersionMask("00003000"),
  extranonce_subscribe_result: () => encodeTrue("X"),
  set_extranonce: () => encodeSetExtranonce("08000002", 4),
  client_reconnect_ckpool: () => encodeReconnect("pool.example.com", 3333, 0),
  client_show_message: () => encodeShowMessage("Pool maintenance at 12:00 UTC"),
  client_get_version: () => encodeGetVersion(7),
  mining_ping_ckpool: () => encodePing(42),
};

describe("fixtures: miner→pool through framer, parseLine, parseClientMessage", () => {
  const clientFixtures = MESSAGES.filter((m) => m.dir === "miner->pool");
  test("every miner→pool fixture has an expectation", () => {
    expect(clientFixtures.length).toBeGreaterThan(10);
    for (const f of clientFixtures) expect(Object.keys(EXPECTED_CLIENT)).toContain(f.name);
  });
  for (const f of clientFixtures) {
    test(f.name, () => {
      expect(parseClientMessage(viaWire(f.json))).toEqual(EXPECTED_CLIENT[f.name]!);
    });
  }
});

describe("fixtures: pool→miner parse and re-encode", () => {
  const serverFixtures = MESSAGES.filter((m) => m.dir === "pool->miner");
  test("every pool→miner fixture has a parse expectation and an encoder", () => {
    expect(serverFixtures.length).toBeGreaterThan(10);
    for (const f of serverFixtures) {
      expect(Object.keys(EXPECTED_SERVER)).toContain(f.name);
      expect(Object.keys(ENCODE_SERVER)).toContain(f.name);
    }
  });
  for (const f of serverFixtures) {
    test(`parse ${f.name}`, () => {
      expect(parseServerMessage(viaWire(f.json))).toEqual(EXPECTED_SERVER[f.name]!);
    });
    test(`encode ${f.name}`, () => {
      const line = ENCODE_SERVER[f.name]!();
      expect(line.endsWith("\n")).toBe(true);
      expect(line.indexOf("\n")).toBe(line.length - 1);
      expect(JSON.parse(line)).toEqual(f.json);
      // and our own parser reads our own line back the same way it reads the fixture
      expect(parseServerMessage(viaWire(JSON.parse(line)))).toEqual(EXPECTED_SERVER[f.name]!);
    });
  }
});

describe("parseSubscribeResult", () => {
  test("slush: notify tuple id, not the set_difficulty one", () => {
    expect(parseSubscribeResult(byName("subscribe_result_slush").json.result)).toEqual({
      subscriptionId: "ae6812eb4cd7735a302a8a9dd95cf71f",
      extranonce1: "08000002",
      extranonce2Size: 4,
    });
  });
  test("ckpool and public-pool shapes", () => {
    expect(parseSubscribeResult(byName("subscribe_result_ckpool_shape").json.result)).toEqual({
      subscriptionId: "0000002a",
      extranonce1: "fa3b5d2e",
      extranonce2Size: 8,
    });
    expect(parseSubscribeResult(byName("subscribe_result_public_pool_shape").json.result)).toEqual({
      subscriptionId: "3f2a9c1b",
      extranonce1: "3f2a9c1b",
      extranonce2Size: 4,
    });
  });
  test("bare tuple, only a set_difficulty tuple, and no tuples", () => {
    expect(parseSubscribeResult([["mining.notify", "ab"], "00", 2])?.subscriptionId).toBe("ab");
    expect(parseSubscribeResult([[["mining.set_difficulty", "d1"]], "00", 2])?.subscriptionId).toBe("d1");
    expect(parseSubscribeResult([null, "00", 2])?.subscriptionId).toBe("");
  });
  test("refuses unusable results", () => {
    for (const r of [null, true, [], [[], "0g", 4], [[], "abc", 4], [[], "00", -1], [[], "00", 2.5], [[], "00", "4"], [[], 5, 4]]) {
      expect(parseSubscribeResult(r)).toBeUndefined();
    }
  });
  test("round trip with encodeSubscribeResult", () => {
    const m = viaWire(JSON.parse(encodeSubscribeResult(3, "sess1", "deadbeef", 8)));
    expect(m.kind).toBe("response");
    if (m.kind === "response") expect(parseSubscribeResult(m.result)).toEqual({ subscriptionId: "sess1", extranonce1: "deadbeef", extranonce2Size: 8 });
  });
});

describe("client message params", () => {
  const req = (method: string, params: unknown, id: number | string | null = 9): RpcMessage => ({
    kind: "request",
    id,
    method,
    params: params as unknown[],
  });

  test("subscribe: extra params ignored, null read as absent, non-string agent refused", () => {
    expect(parseClientMessage(req("mining.subscribe", ["a", "s", "host", 3333]))).toEqual({ type: "subscribe", id: 9, agent: "a", resume: "s" });
    expect(parseClientMessage(req("mining.subscribe", [null, null]))).toEqual({ type: "subscribe", id: 9 });
    expect(parseClientMessage(req("mining.subscribe", [5])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.subscribe", ["a", 5])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.subscribe", { a: 1 })).type).toBe("invalid");
  });

  test("authorize: missing password → ''", () => {
    expect(parseClientMessage(req("mining.authorize", ["u"]))).toEqual({ type: "authorize", id: 9, user: "u", password: "" });
    expect(parseClientMessage(req("mining.authorize", ["u", null]))).toEqual({ type: "authorize", id: 9, user: "u", password: "" });
    expect(parseClientMessage(req("mining.authorize", []))).toMatchObject({ type: "invalid", method: "mining.authorize" });
    expect(parseClientMessage(req("mining.authorize", ["u", 1])).type).toBe("invalid");
  });

  test("submit: exactly 5 or 6 strings", () => {
    const ok = ["w", "j", "00", "504e86ed", "b2957c02"];
    expect(parseClientMessage(req("mining.submit", ok)).type).toBe("submit");
    expect(parseClientMessage(req("mining.submit", [...ok, "1fffe000"])).type).toBe("submit");
    expect(parseClientMessage(req("mining.submit", ok.slice(0, 4))).type).toBe("invalid");
    expect(parseClientMessage(req("mining.submit", [...ok, "a", "b"])).type).toBe("invalid");
    for (let i = 0; i < 6; i++) {
      const p: unknown[] = [...ok, "1fffe000"];
      p[i] = 12;
      const r = parseClientMessage(req("mining.submit", p));
      expect(r).toMatchObject({ type: "invalid", id: 9, method: "mining.submit" });
    }
  });

  test("suggest_difficulty: number or numeric string, finite, > 0", () => {
    expect(parseClientMessage(req("mining.suggest_difficulty", ["0.0001"]))).toEqual({ type: "suggest_difficulty", id: 9, difficulty: 0.0001 });
    expect(parseClientMessage(req("mining.suggest_difficulty", [0.5]))).toEqual({ type: "suggest_difficulty", id: 9, difficulty: 0.5 });
    for (const bad of [[0], [-1], ["abc"], [""], [null], [], [1e400], ["Infinity"], [true]]) {
      expect(parseClientMessage(req("mining.suggest_difficulty", bad)).type).toBe("invalid");
    }
  });

  test("suggest_target, get_transactions, multi_version, ping, unknown", () => {
    expect(parseClientMessage(req("mining.suggest_target", ["00000000ffff"]))).toEqual({ type: "suggest_target", id: 9, target: "00000000ffff" });
    expect(parseClientMessage(req("mining.suggest_target", ["zz"])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.suggest_target", ["0".repeat(65)])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.get_transactions", ["bf"]))).toEqual({ type: "get_transactions", id: 9, jobId: "bf" });
    expect(parseClientMessage(req("mining.get_transactions", [])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.multi_version", [0])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.ping", []))).toEqual({ type: "ping", id: 9 });
    expect(parseClientMessage(req("eth_submitLogin", ["x"]))).toEqual({ type: "unknown", id: 9, method: "eth_submitLogin" });
  });

  test("configure: bad extension lists refused", () => {
    expect(parseClientMessage(req("mining.configure", [["a", 1], {}])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.configure", ["version-rolling", {}])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.configure", [["version-rolling"], []])).type).toBe("invalid");
    expect(parseClientMessage(req("mining.configure", [["version-rolling"]]))).toEqual({
      type: "configure",
      id: 9,
      extensions: ["version-rolling"],
      params: {},
    });
  });
});

describe("parseConfigure", () => {
  const configure = (name: string) => {
    const m = parseClientMessage(viaWire(byName(name).json));
    if (m.type !== "configure") throw new Error("not configure");
    return m;
  };
  test("BIP310 example", () => {
    expect(parseConfigure(configure("configure_bip310_example"))).toEqual({
      versionRolling: { mask: 0x1fffe000, minBitCount: 2 },
      minimumDifficulty: 2048,
      subscribeExtranonce: false,
      unknown: [],
    });
  });
  test("Bitaxe: no min-bit-count reads as 0", () => {
    expect(parseConfigure(configure("configure_bitaxe"))).toEqual({
      versionRolling: { mask: 0xffffffff, minBitCount: 0 },
      subscribeExtranonce: false,
      unknown: [],
    });
  });
  test("unusable parameters and unknown extensions are listed, not honoured", () => {
    expect(
      parseConfigure({
        type: "configure",
        id: 1,
        extensions: ["version-rolling", "minimum-difficulty", "subscribe-extranonce", "info"],
        params: { "version-rolling.mask": "xyz", "minimum-difficulty.value": -5 },
      }),
    ).toEqual({ subscribeExtranonce: true, unknown: ["version-rolling", "minimum-difficulty", "info"] });
    expect(
      parseConfigure({ type: "configure", id: 1, extensions: ["version-rolling"], params: { "version-rolling.min-bit-count": "2" } }).unknown,
    ).toEqual(["version-rolling"]);
  });
});

describe("server message params", () => {
  const note = (method: string, params: unknown[]): RpcMessage => ({ kind: "request", id: null, method, params });
  test("notify with bad fields is invalid", () => {
    const good = notify.slice();
    for (let i = 0; i < 9; i++) {
      const p = good.slice();
      p[i] = i === 8 ? "true" : 7;
      expect(parseServerMessage(note("mining.notify", p)).type).toBe("invalid");
    }
    expect(parseServerMessage(note("mining.notify", good.slice(0, 8))).type).toBe("invalid");
  });
  test("set_difficulty fractional and numeric string; reconnect []", () => {
    expect(parseServerMessage(note("mining.set_difficulty", [0.001]))).toEqual({ type: "set_difficulty", difficulty: 0.001 });
    expect(parseServerMessage(note("mining.set_difficulty", ["16"]))).toEqual({ type: "set_difficulty", difficulty: 16 });
    expect(parseServerMessage(note("mining.set_difficulty", [0])).type).toBe("invalid");
    expect(parseServerMessage(note("client.reconnect", []))).toEqual({ type: "reconnect" });
    expect(parseServerMessage(note("client.reconnect", ["h", 70000])).type).toBe("invalid");
    expect(parseServerMessage(note("mining.whatever", []))).toEqual({ type: "unknown", id: null, method: "mining.whatever" });
  });
});

describe("server encoders", () => {
  test("encodeNotify clean flag, explicit job id, bytes equal the string and are cached", () => {
    expect(JSON.parse(encodeNotify(SLUSH_JOB, true)).params[8]).toBe(true);
    expect(JSON.parse(encodeNotify(SLUSH_JOB, false, "c0")).params[0]).toBe("c0");
    const dec = new TextDecoder();
    const b1 = encodeNotifyBytes(SLUSH_JOB, true);
    expect(dec.decode(b1)).toBe(encodeNotify(SLUSH_JOB, true));
    expect(encodeNotifyBytes(SLUSH_JOB, true)).toBe(b1);
    expect(dec.decode(encodeNotifyBytes(SLUSH_JOB, false))).toBe(encodeNotify(SLUSH_JOB, false));
    expect(dec.decode(encodeNotifyBytes(SLUSH_JOB, false, "zz"))).toBe(encodeNotify(SLUSH_JOB, false, "zz"));
  });

  test("encodeNotify with a merkle branch", () => {
    const job: StratumJob = { ...SLUSH_JOB, merkleBranch: ["11".repeat(32), "22".repeat(32)] };
    expect(JSON.parse(encodeNotify(job, false)).params[4]).toEqual(["11".repeat(32), "22".repeat(32)]);
  });

  test("encodeStratumError, encodePong, reconnect variants", () => {
    expect(JSON.parse(encodeStratumError(4, 21, "Job not found"))).toEqual({ id: 4, result: null, error: [21, "Job not found", null] });
    expect(JSON.parse(encodePong(8))).toEqual({ id: 8, result: "pong", error: null });
    expect(JSON.parse(encodeReconnect())).toEqual({ id: null, method: "client.reconnect", params: [] });
    expect(JSON.parse(encodeReconnect("h"))).toEqual({ id: null, method: "client.reconnect", params: ["h"] });
    expect(JSON.parse(encodeReconnect("h", 3333))).toEqual({ id: null, method: "client.reconnect", params: ["h", "3333"] });
  });

  test("difficulty formatting: no exponent, parses back", () => {
    const cases: [number, string][] = [
      [1, "1"],
      [65536, "65536"],
      [0.0001, "0.0001"],
      [1e-7, "0.0000001"],
      [0.5, "0.5"],
      [1 / 3, "0.333333333333"],
      [123.456, "123.456"],
      [0.1 + 0.2, "0.3"],
      [1e21, "1000000000000000000000"],
    ];
    for (const [d, s] of cases) expect(formatDifficulty(d)).toBe(s);
    for (let e = -12; e <= 20; e++) {
      for (const m of [1, 1.5, 3.14159, 9.999999]) {
        const d = m * 10 ** e;
        const s = formatDifficulty(d);
        expect(s).toMatch(/^[0-9]+(\.[0-9]+)?$/);
        expect(Math.abs(Number(s) - d) / d).toBeLessThan(1e-11);
      }
    }
    expect(Number(formatDifficulty(5e-324))).toBe(5e-324); // fallback form still parses
    expect(JSON.parse(encodeSetDifficulty(0.0001)).params[0]).toBe(0.0001);
    expect(encodeSetDifficulty(1e-7)).toBe('{"id":null,"method":"mining.set_difficulty","params":[0.0000001]}\n');
    for (const bad of [0, -1, NaN, Infinity]) expect(() => formatDifficulty(bad)).toThrow(RangeError);
  });
});
