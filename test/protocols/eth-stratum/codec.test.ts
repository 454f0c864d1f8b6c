// Tests for the EthereumStratum/1.0.0 codecs and nonce helpers: the NiceHash spec's real-world scenario end to end, refusals, byte-exact encoders.
import { describe, expect, test } from "bun:test";
import ethash from "../../fixtures/ethash.json";
import { createLineFramer } from "../../../protocols/jsonrpc/framer.ts";
import { parseLine, type RpcMessage } from "../../../protocols/jsonrpc/envelope.ts";
import { parseEthStratumMessage, type EthStratumMessage } from "../../../protocols/eth-stratum/client_to_server.ts";
import {
  encodeEthStratumError,
  encodeEthStratumNotify,
  encodeEthStratumSubscribeResult,
  encodeSetDifficulty,
  encodeSetExtranonce,
  encodeTrue,
  ETH_STRATUM_PROTOCOL,
} from "../../../protocols/eth-stratum/server_to_client.ts";
import {
  formatExtranonce,
  fullNonce,
  isValidExtranonce,
  MAX_EXTRANONCE_BYTES,
  minerNonceDigits,
  NONCE_HEX_DIGITS,
} from "../../../protocols/eth-stratum/nonce.ts";

const SPEC = ethash.share_examples.find((e) => e.id === "nicehash-ethstratum1-spec-example")!;

function viaWire(json: unknown): RpcMessage {
  const out = createLineFramer().push(new TextEncoder().encode(JSON.stringify(json) + "\r\n"));
  expect(out.lines.length).toBe(1);
  const m = parseLine(out.lines[0]!);
  if (m.kind === "invalid") throw new Error(`did not parse: ${m.detail}`);
  return m;
}

function parse(json: unknown): EthStratumMessage {
  return parseEthStratumMessage(viaWire(json));
}

function req(method: string, params: unknown, id: number | string | null = 1): EthStratumMessage {
  return parse({ id, method, params });
}

describe("NiceHash spec, section IV: real world scenario", () => {
  test("subscribe → result with session id and extranonce", () => {
    const sub = parse({ id: 1, method: "mining.subscribe", params: ["ethminer/0.19.0", "EthereumStratum/1.0.0"] });
    expect(sub).toEqual({ type: "subscribe", id: 1, agent: "ethminer/0.19.0", protocol: ETH_STRATUM_PROTOCOL });
    const line = encodeEthStratumSubscribeResult(1, "ae6812eb4cd7735a302a8a9dd95cf71f", SPEC.extranonce);
    expect(line).toBe('{"id":1,"result":[["mining.notify","ae6812eb4cd7735a302a8a9dd95cf71f","EthereumStratum/1.0.0"],"a2eea0"],"error":null}\n');
  });

  test("authorize + extranonce.subscribe → true", () => {
    expect(req("mining.authorize", ["username", "password"], 2)).toEqual({ type: "authorize", id: 2, user: "username", password: "password" });
    expect(req("mining.extranonce.subscribe", [], 3)).toEqual({ type: "extranonce_subscribe", id: 3 });
    expect(encodeTrue(2)).toBe('{"id":2,"result":true,"error":null}\n');
  });

  test("set_difficulty 1 and notify with bare hashes", () => {
    expect(encodeSetDifficulty(SPEC.set_difficulty)).toBe('{"id":null,"method":"mining.set_difficulty","params":[1]}\n');
    expect(encodeSetDifficulty(0.5)).toBe('{"id":null,"method":"mining.set_difficulty","params":[0.5]}\n');
    expect(encodeSetDifficulty(SPEC.nicehash_difficulty_of_share)).toBe('{"id":null,"method":"mining.set_difficulty","params":[1.863085]}\n');
    expect(() => encodeSetDifficulty(0)).toThrow(RangeError);
    const notify = encodeEthStratumNotify("bf0488aa", SPEC.seed_hash, SPEC.header_hash, true);
    expect(notify).toBe(
      '{"id":null,"method":"mining.notify","params":["bf0488aa","' + SPEC.seed_hash.slice(2) + '","' + SPEC.header_hash.slice(2) + '",true]}\n',
    );
    expect(notify).toContain('"abad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c"');
    // already-bare and uppercase hashes come out bare lowercase
    expect(encodeEthStratumNotify("j", SPEC.seed_hash.slice(2).toUpperCase(), "0X" + SPEC.header_hash.slice(2), false)).toBe(
      '{"id":null,"method":"mining.notify","params":["j","' + SPEC.seed_hash.slice(2) + '","' + SPEC.header_hash.slice(2) + '",false]}\n',
    );
  });

  test("submit with miner nonce cfae7df760 → full nonce 0xa2eea0cfae7df760", () => {
    const sub = req("mining.submit", ["username", "bf0488aa", SPEC.miner_nonce_submitted], 4);
    expect(sub).toEqual({ type: "submit", id: 4, worker: "username", jobId: "bf0488aa", minerNonce: "cfae7df760" });
    if (sub.type !== "submit") throw new Error("unreachable");
    expect(sub.minerNonce.length).toBe(minerNonceDigits(SPEC.extranonce));
    expect(fullNonce(SPEC.extranonce, sub.minerNonce)).toBe(SPEC.full_nonce);
  });
});

describe("parseEthStratumMessage", () => {
  test("subscribe variants", () => {
    expect(req("mining.subscribe", [null, "EthereumStratum/1.0.0"])).toEqual({ type: "subscribe", id: 1, agent: "", protocol: "EthereumStratum/1.0.0" });
    // the protocol string is reported as sent; the session decides what it accepts
    expect(req("mining.subscribe", ["a", "EthereumStratum/2.0.0"])).toEqual({ type: "subscribe", id: 1, agent: "a", protocol: "EthereumStratum/2.0.0" });
    for (const bad of [[], ["cgminer/4.10"], ["a", 1], ["a", null], [5, "EthereumStratum/1.0.0"]] as unknown[]) {
      expect(req("mining.subscribe", bad).type).toBe("invalid");
    }
    expect(req("mining.subscribe", { agent: "a" }).type).toBe("invalid");
  });

  test("authorize: missing / null password is empty; non-strings refused", () => {
    expect(req("mining.authorize", ["0xabc.rig"])).toEqual({ type: "authorize", id: 1, user: "0xabc.rig", password: "" });
    expect(req("mining.authorize", ["u", null])).toEqual({ type: "authorize", id: 1, user: "u", password: "" });
    expect(req("mining.authorize", [1, "p"]).type).toBe("invalid");
    expect(req("mining.authorize", ["u", 1]).type).toBe("invalid");
    expect(req("mining.authorize", {}).type).toBe("invalid");
  });

  test("submit: nonce lengths 2..16 even hex accepted, normalised lowercase, 0x stripped", () => {
    for (let n = 2; n <= 16; n += 2) {
      const nonce = "A".repeat(n);
      expect(req("mining.submit", ["w", "j", nonce])).toEqual({ type: "submit", id: 1, worker: "w", jobId: "j", minerNonce: "a".repeat(n) });
    }
    expect(req("mining.submit", ["w", "j", "0xCFAE7DF760"])).toEqual({ type: "submit", id: 1, worker: "w", jobId: "j", minerNonce: "cfae7df760" });
    expect(req("mining.submit", ["w", "j", "cfae7df760", "extra"]).type).toBe("submit");
  });

  const badSubmits: [string, unknown][] = [
    ["object params", { nonce: "00" }],
    ["two params", ["w", "j"]],
    ["odd nonce", ["w", "j", "cfae7df76"]],
    ["empty nonce", ["w", "j", ""]],
    ["one digit", ["w", "j", "a"]],
    ["18 digits", ["w", "j", "a".repeat(18)]],
    ["non-hex", ["w", "j", "cfae7df76z"]],
    ["0x only", ["w", "j", "0x"]],
    ["number nonce", ["w", "j", 12345678]],
    ["number job", ["w", 1, "cfae7df760"]],
    ["null worker", [null, "j", "cfae7df760"]],
  ];
  for (const [name, params] of badSubmits) {
    test(`submit invalid: ${name}`, () => {
      const m = req("mining.submit", params);
      expect(m.type).toBe("invalid");
      if (m.type === "invalid") {
        expect(m.method).toBe("mining.submit");
        expect(m.detail.length).toBeGreaterThan(0);
      }
    });
  }

  test("eth_submitHashrate on this dialect", () => {
    expect(req("eth_submitHashrate", ["0x26f5e48", "0x59daa26581d0acd1"], 9)).toEqual({
      type: "submit_hashrate",
      id: 9,
      hashrate: 0x26f5e48n,
      clientId: "0x59daa26581d0acd1",
    });
    expect(req("eth_submitHashrate", ["40000000", "x"]).type).toBe("invalid");
  });

  test("unknown methods and responses", () => {
    expect(req("mining.configure", [[], {}])).toEqual({ type: "unknown", id: 1, method: "mining.configure" });
    expect(req("eth_submitLogin", ["0x"])).toEqual({ type: "unknown", id: 1, method: "eth_submitLogin" });
    const r = parseLine('{"id":7,"result":"ethminer 0.19.0","error":null}');
    if (r.kind === "invalid") throw new Error("fixture");
    expect(parseEthStratumMessage(r)).toEqual({ type: "response", id: 7, result: "ethminer 0.19.0", error: null });
  });
});

describe("server encoders", () => {
  test("set_extranonce has one param", () => {
    expect(encodeSetExtranonce("af4c")).toBe('{"id":null,"method":"mining.set_extranonce","params":["af4c"]}\n');
  });
  test("errors are Stratum v1 arrays", () => {
    expect(encodeEthStratumError(4, 21, "Job not found")).toBe('{"id":4,"result":null,"error":[21,"Job not found",null]}\n');
  });
  test("subscribe result with a 2-byte extranonce (spec section II example)", () => {
    expect(JSON.parse(encodeEthStratumSubscribeResult("s", "abc", "080c"))).toEqual({
      id: "s",
      result: [["mining.notify", "abc", "EthereumStratum/1.0.0"], "080c"],
      error: null,
    });
  });
});

describe("nonce helpers", () => {
  test("fullNonce concatenates big-endian and lowercases", () => {
    expect(fullNonce("a2eea0", "cfae7df760")).toBe("0xa2eea0cfae7df760");
    expect(fullNonce("A2EEA0", "CFAE7DF760")).toBe("0xa2eea0cfae7df760");
    expect(fullNonce("080c", "0123456789ab")).toBe("0x080c0123456789ab");
    expect(fullNonce("", "0123456789abcdef")).toBe("0x0123456789abcdef");
  });
  test("fullNonce refuses wrong lengths and non-hex", () => {
    expect(fullNonce("a2eea0", "cfae7df7")).toBeUndefined(); // too short for a 3-byte extranonce
    expect(fullNonce("a2eea0", "cfae7df76000")).toBeUndefined(); // too long
    expect(fullNonce("a2eea0", "cfae7df76z")).toBeUndefined();
    expect(fullNonce("a2eea0", "-fae7df760")).toBeUndefined();
    expect(fullNonce("a2eea0f1", "ae7df760")).toBeUndefined(); // 4-byte extranonce is outside the spec
    expect(fullNonce("a2eea", "0cfae7df760")).toBeUndefined(); // odd extranonce
    expect(fullNonce("zzzzzz", "cfae7df760")).toBeUndefined();
  });
  test("minerNonceDigits and limits", () => {
    expect(NONCE_HEX_DIGITS).toBe(16);
    expect(MAX_EXTRANONCE_BYTES).toBe(3);
    expect(minerNonceDigits("a2eea0")).toBe(10);
    expect(minerNonceDigits("080c")).toBe(12);
    expect(minerNonceDigits("")).toBe(16);
  });
  test("isValidExtranonce", () => {
    for (const ok of ["", "00", "080c", "a2eea0", "FFFFFF"]) expect(isValidExtranonce(ok)).toBe(true);
    for (const bad of ["0", "a2eea0f1", "zz", "0x0c"]) expect(isValidExtranonce(bad)).toBe(false);
  });
  test("formatExtranonce: zero-padded, range-checked", () => {
    expect(formatExtranonce(0, 3)).toBe("000000");
    expect(formatExtranonce(0xa2eea0, 3)).toBe("a2eea0");
    expect(formatExtranonce(0x80c, 2)).toBe("080c");
    expect(formatExtranonce(255, 1)).toBe("ff");
    expect(formatExtranonce(256, 1)).toBeUndefined();
    expect(formatExtranonce(0x1000000, 3)).toBeUndefined();
    expect(formatExtranonce(-1, 2)).toBeUndefined();
    expect(formatExtranonce(1.5, 2)).toBeUndefined();
    expect(formatExtranonce(1, 0)).toBeUndefined();
    expect(formatExtranonce(1, 4)).toBeUndefined();
    for (let i = 0; i < 1000; i++) expect(isValidExtranonce(formatExtranonce(i * 16411, 3)!)).toBe(true);
  });
});
