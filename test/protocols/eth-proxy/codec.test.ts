// Tests for the eth-proxy codecs: real miner request shapes → typed messages, invalid params → typed refusals, encoders byte-exact.
import { describe, expect, test } from "bun:test";
import ethash from "../../fixtures/ethash.json";
import { createLineFramer } from "../../../protocols/jsonrpc/framer.ts";
import { parseLine, type RpcMessage } from "../../../protocols/jsonrpc/envelope.ts";
import {
  normalizeHexField,
  parseEthProxyMessage,
  parseHashrateQuantity,
  type EthProxyMessage,
} from "../../../protocols/eth-proxy/client_to_server.ts";
import {
  encodeEthError,
  encodeEthResult,
  encodeQuantity,
  encodeTarget,
  encodeWork,
  encodeWorkPush,
  workResult,
  type EthWork,
} from "../../../protocols/eth-proxy/server_to_client.ts";
import { ADDR, CLIENT_ID, HEADER, MINER_LINES, MIX, NONCE, POOL_LINES, SEED } from "./wire.ts";

/** JSON → wire line → framer → parseLine, the path real bytes take. */
function viaWire(json: unknown): RpcMessage {
  const out = createLineFramer().push(new TextEncoder().encode(JSON.stringify(json) + "\n"));
  expect(out.lines.length).toBe(1);
  const m = parseLine(out.lines[0]!);
  if (m.kind === "invalid") throw new Error(`did not parse: ${m.detail}`);
  return m;
}

function parse(json: unknown): EthProxyMessage {
  return parseEthProxyMessage(viaWire(json));
}

function req(method: string, params: unknown, extra: Record<string, unknown> = {}): EthProxyMessage {
  return parse({ id: 1, jsonrpc: "2.0", method, params, ...extra });
}

const EXPECTED: Record<string, EthProxyMessage> = {
  ethminer_login: { type: "login", id: 1, address: ADDR, worker: "rig1" },
  ethminer_login_pass: { type: "login", id: 1, address: ADDR, worker: "rig1", email: "x" },
  ethminer_login_email: { type: "login", id: 1, address: ADDR, email: "me@example.com" },
  ethminer_get_work: { type: "get_work", id: 5 },
  ethminer_submit_work: { type: "submit_work", id: 40, nonce: NONCE, headerHash: HEADER, mixDigest: MIX, worker: "rig1" },
  ethminer_hashrate: { type: "submit_hashrate", id: 9, hashrate: 0x26f5e48n, clientId: CLIENT_ID },
  claymore_login: { type: "login", id: 2, address: ADDR, worker: "eth1.0", email: "x" },
  claymore_get_work: { type: "get_work", id: 3 },
  claymore_submit_work: { type: "submit_work", id: 4, nonce: NONCE, headerHash: HEADER, mixDigest: MIX },
  claymore_hashrate: { type: "submit_hashrate", id: 6, hashrate: 0x491cc40n, clientId: CLIENT_ID },
  lolminer_login: { type: "login", id: 1, address: ADDR, worker: "rig0", email: "x" },
  // split at the FIRST dot; checksummed address lowercased; top-level "" does not hide the dotted worker
  trex_login_checksummed: { type: "login", id: 1, address: ADDR, worker: "farm.a" },
  both_workers: { type: "login", id: 1, address: ADDR, worker: "toplevel" },
  submit_work_no_prefix: { type: "submit_work", id: 7, nonce: NONCE, headerHash: HEADER, mixDigest: MIX },
};

describe("parseEthProxyMessage: real miner shapes", () => {
  test("every wire line has an expectation", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.keys(MINER_LINES).sort());
  });
  for (const [name, json] of Object.entries(MINER_LINES)) {
    test(name, () => {
      expect(parse(json)).toEqual(EXPECTED[name]!);
    });
  }
  test("responses pass through (e.g. a miner answering a pool request)", () => {
    const m = parseLine(POOL_LINES.duplicate);
    if (m.kind === "invalid") throw new Error("fixture");
    expect(parseEthProxyMessage(m)).toEqual({ type: "response", id: 4, result: null, error: { code: 22, message: "Duplicate share" } });
  });
  test("unknown methods keep id and name", () => {
    expect(req("mining.subscribe", [])).toEqual({ type: "unknown", id: 1, method: "mining.subscribe" });
    expect(req("eth_submitlogin", [ADDR])).toEqual({ type: "unknown", id: 1, method: "eth_submitlogin" });
  });
  test("eth_getWork ignores its params", () => {
    expect(req("eth_getWork", ["", ""])).toEqual({ type: "get_work", id: 1 });
    expect(req("eth_getWork", { a: 1 })).toEqual({ type: "get_work", id: 1 });
  });
});

describe("eth_submitLogin refusals are invalid_login", () => {
  const cases: [string, unknown][] = [
    ["no params", []],
    ["object params", { login: ADDR }],
    ["number address", [12345]],
    ["null address", [null]],
    ["address too short", [ADDR.slice(0, 41)]],
    ["address too long", [ADDR + "0"]],
    ["no 0x", [ADDR.slice(2)]],
    ["non-hex", ["0x" + "g".repeat(40)]],
    ["empty", [""]],
    ["dot only", ["." + ADDR]],
    ["nanopool-style slash", [ADDR + "/rig1"]],
    ["email not a string", [ADDR, 5]],
  ];
  for (const [name, params] of cases) {
    test(name, () => {
      const m = req("eth_submitLogin", params);
      expect(m.type).toBe("invalid_login");
      expect(m.id).toBe(1);
      if (m.type === "invalid_login") expect(m.detail.length).toBeGreaterThan(0);
    });
  }
  test("worker name length is bounded", () => {
    expect(req("eth_submitLogin", [ADDR], { worker: "w".repeat(128) }).type).toBe("login");
    expect(req("eth_submitLogin", [ADDR], { worker: "w".repeat(129) }).type).toBe("invalid_login");
  });
  test("accepted variants: 0X prefix, trailing dot (no worker), null / empty email", () => {
    expect(req("eth_submitLogin", ["0X" + ADDR.slice(2)])).toEqual({ type: "login", id: 1, address: ADDR });
    expect(req("eth_submitLogin", [ADDR + "."])).toEqual({ type: "login", id: 1, address: ADDR });
    expect(req("eth_submitLogin", [ADDR, null])).toEqual({ type: "login", id: 1, address: ADDR });
    expect(req("eth_submitLogin", [ADDR, ""])).toEqual({ type: "login", id: 1, address: ADDR });
  });
  test("a non-string top-level worker is ignored by the envelope (dotted worker used)", () => {
    expect(req("eth_submitLogin", [ADDR + ".w"], { worker: 7 })).toEqual({ type: "login", id: 1, address: ADDR, worker: "w" });
  });
});

describe("eth_submitWork", () => {
  const good = [NONCE, HEADER, MIX];
  test("mixed case and missing prefix normalise to lowercase 0x", () => {
    const m = req("eth_submitWork", ["0XA2EEA0CFAE7DF760", HEADER.toUpperCase().replace("0X", "0x"), MIX.slice(2)]);
    expect(m).toEqual({ type: "submit_work", id: 1, nonce: NONCE, headerHash: HEADER, mixDigest: MIX });
  });
  const bads: [string, unknown][] = [
    ["object params", { nonce: NONCE }],
    ["two params", good.slice(0, 2)],
    ["nonce 7 bytes", ["0xa2eea0cfae7df7", HEADER, MIX]],
    ["nonce 9 bytes", [NONCE + "00", HEADER, MIX]],
    ["nonce odd", [NONCE + "0", HEADER, MIX]],
    ["nonce number", [123, HEADER, MIX]],
    ["nonce non-hex", ["0xa2eea0cfae7df76z", HEADER, MIX]],
    ["nonce 0x only", ["0x", HEADER, MIX]],
    ["header short", [NONCE, HEADER.slice(0, 65), MIX]],
    ["header long", [NONCE, HEADER + "00", MIX]],
    ["mix short", [NONCE, HEADER, MIX.slice(0, 64)]],
    ["mix null", [NONCE, HEADER, null]],
    ["double prefix", ["0x0x" + NONCE.slice(4), HEADER, MIX]],
    ["negative", ["-" + NONCE.slice(3), HEADER, MIX]],
  ];
  for (const [name, params] of bads) {
    test(`invalid: ${name}`, () => {
      const m = req("eth_submitWork", params);
      expect(m.type).toBe("invalid");
      if (m.type === "invalid") {
        expect(m.method).toBe("eth_submitWork");
        expect(m.detail.length).toBeGreaterThan(0);
      }
    });
  }
  test("extra params are ignored (some miners append the worker)", () => {
    expect(req("eth_submitWork", [...good, "rig1"]).type).toBe("submit_work");
  });
});

describe("eth_submitHashrate", () => {
  test("quantities: padded, short, zero, uppercase prefix, max uint64", () => {
    expect(parseHashrateQuantity("0x" + "0".repeat(56) + "026f5e48")).toBe(0x26f5e48n);
    expect(parseHashrateQuantity("0x0")).toBe(0n);
    expect(parseHashrateQuantity("0X1F")).toBe(31n);
    expect(parseHashrateQuantity("0x" + "f".repeat(16))).toBe((1n << 64n) - 1n);
  });
  test("refused: ≥ 2^64, negative, decimal, no prefix, empty, too long, non-string", () => {
    for (const bad of ["0x10000000000000000", "0x" + "f".repeat(64), "-0x1", "0x-1", "12345", "1f", "0x", "", "0x" + "0".repeat(65), "0x1g", " 0x1", 5, null, 1e20]) {
      expect(parseHashrateQuantity(bad)).toBeUndefined();
    }
  });
  test("message level", () => {
    expect(req("eth_submitHashrate", ["0x10", "abc"])).toEqual({ type: "submit_hashrate", id: 1, hashrate: 16n, clientId: "abc" });
    expect(req("eth_submitHashrate", ["0x10"]).type).toBe("invalid");
    expect(req("eth_submitHashrate", ["0x10", 5]).type).toBe("invalid");
    expect(req("eth_submitHashrate", ["0x10", "x".repeat(129)]).type).toBe("invalid");
    expect(req("eth_submitHashrate", ["0x10000000000000000", "abc"]).type).toBe("invalid");
    expect(req("eth_submitHashrate", { rate: "0x10" }).type).toBe("invalid");
  });
});

describe("normalizeHexField", () => {
  test("fixed width", () => {
    expect(normalizeHexField("0xABCD", 4)).toBe("0xabcd");
    expect(normalizeHexField("abcd", 4)).toBe("0xabcd");
    expect(normalizeHexField("abc", 4)).toBeUndefined();
    expect(normalizeHexField("0xabcde", 4)).toBeUndefined();
    expect(normalizeHexField(undefined, 4)).toBeUndefined();
  });
});

describe("encoders", () => {
  const work: EthWork = { headerHash: HEADER, seedHash: SEED, target: 0xffffn << 208n, blockNumber: 1_500_000 };

  test("result and error lines (open-ethereum-pool shape)", () => {
    expect(encodeEthResult(1, true)).toBe(POOL_LINES.login_ok + "\n");
    expect(encodeEthResult(4, false)).toBe(POOL_LINES.stale + "\n");
    expect(encodeEthError(4, 22, "Duplicate share")).toBe(POOL_LINES.duplicate + "\n");
    expect(encodeEthResult("a", undefined)).toBe('{"id":"a","jsonrpc":"2.0","result":null}\n');
    expect(JSON.parse(encodeEthError(null, -1, 'q"\n'))).toEqual({ id: null, jsonrpc: "2.0", result: null, error: { code: -1, message: 'q"\n' } });
  });

  test("encodeQuantity: canonical, no leading zeros, 0x0", () => {
    expect(encodeQuantity(0)).toBe("0x0");
    expect(encodeQuantity(0n)).toBe("0x0");
    expect(encodeQuantity(1)).toBe("0x1");
    expect(encodeQuantity(1024)).toBe("0x400");
    expect(encodeQuantity(1_500_000)).toBe("0x16e360");
    expect(encodeQuantity((1n << 64n) - 1n)).toBe("0xffffffffffffffff");
    expect(() => encodeQuantity(-1)).toThrow(RangeError);
    expect(() => encodeQuantity(-1n)).toThrow(RangeError);
    expect(() => encodeQuantity(1.5)).toThrow(RangeError);
    expect(() => encodeQuantity(2 ** 53)).toThrow(RangeError);
  });

  test("encodeTarget pads to 32 bytes: fixture target_examples", () => {
    const ex = ethash.target_examples as unknown as Record<string, string>[];
    const unpadded = ex[0]!.boundary_hex_open_ethereum_pool!;
    const padded = ex[1]!.boundary_32byte!;
    expect(encodeTarget(BigInt(unpadded))).toBe(padded);
    expect(encodeTarget(BigInt(ex[2]!.boundary_32byte!))).toBe(ex[2]!.boundary_32byte!);
    expect(encodeTarget(0n)).toBe("0x" + "0".repeat(64));
    expect(encodeTarget((1n << 256n) - 1n)).toBe("0x" + "f".repeat(64));
    expect(() => encodeTarget(1n << 256n)).toThrow(RangeError);
    expect(() => encodeTarget(-1n)).toThrow(RangeError);
  });

  test("encodeWork: [header, seed, 32-byte target, block quantity]", () => {
    const line = encodeWork(5, work);
    expect(line).toBe(
      '{"id":5,"jsonrpc":"2.0","result":["' + HEADER + '","' + SEED + '","0x00000000ffff' + "0".repeat(52) + '","0x16e360"]}\n',
    );
    // headers without prefix / uppercase come out normalised
    expect(workResult({ ...work, headerHash: HEADER.slice(2).toUpperCase(), seedHash: "0X" + SEED.slice(2), blockNumber: 0 })).toEqual([
      HEADER,
      SEED,
      "0x00000000ffff" + "0".repeat(52),
      "0x0",
    ]);
  });

  test("encodeWorkPush = id 0 with jsonrpc 2.0", () => {
    const push = encodeWorkPush(work);
    expect(push).toBe(encodeWork(0, work));
    const o = JSON.parse(push);
    expect(o.id).toBe(0);
    expect(o.jsonrpc).toBe("2.0");
    expect(o.result).toHaveLength(4);
    expect(o.error).toBeUndefined();
  });

  test("encoded work round-trips through the parser as a response with the same fields", () => {
    const m = parseLine(encodeWorkPush(work).trimEnd());
    if (m.kind !== "response") throw new Error("expected response");
    expect(m.result).toEqual(workResult(work));
    expect(BigInt((m.result as string[])[2]!)).toBe(work.target);
  });
});
