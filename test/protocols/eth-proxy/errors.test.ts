// Tests for the eth-proxy error table: every Reason mapped, open-ethereum-pool codes, stale as result false, wire form of encodeEthReason.
import { describe, expect, test } from "bun:test";
import { REASONS } from "../../../protocols/errors/reasons.ts";
import { encodeEthReason, ETH_PROXY_ERRORS } from "../../../protocols/eth-proxy/errors.ts";

describe("ETH_PROXY_ERRORS", () => {
  test("every Reason has an entry, and nothing else does", () => {
    expect(Object.keys(ETH_PROXY_ERRORS).sort()).toEqual([...REASONS].sort());
  });

  test("only stale is result:false; every other entry has an integer code and a message", () => {
    for (const r of REASONS) {
      const e = ETH_PROXY_ERRORS[r];
      if (r === "stale") {
        expect(e).toEqual({ result: false });
        continue;
      }
      if ("result" in e) throw new Error(`${r} should be an error object`);
      expect(Number.isInteger(e.code)).toBe(true);
      expect([-1, 0, 22, 23, 25]).toContain(e.code);
      expect(e.message.length).toBeGreaterThan(0);
    }
  });

  test("the open-ethereum-pool codes miners see", () => {
    expect(ETH_PROXY_ERRORS.duplicate).toEqual({ code: 22, message: "Duplicate share" });
    expect(ETH_PROXY_ERRORS.low_difficulty).toEqual({ code: 23, message: "Invalid share" });
    expect(ETH_PROXY_ERRORS.invalid_solution).toEqual({ code: 23, message: "Invalid share" });
    expect(ETH_PROXY_ERRORS.unauthorized).toEqual({ code: -1, message: "Invalid login" });
    expect(ETH_PROXY_ERRORS.not_subscribed).toEqual({ code: 25, message: "Not subscribed" });
    expect(ETH_PROXY_ERRORS.malformed).toEqual({ code: -1, message: "Malformed PoW result" });
    expect(ETH_PROXY_ERRORS.work_not_ready).toEqual({ code: 0, message: "Work not ready" });
    expect(ETH_PROXY_ERRORS.unsupported_method).toEqual({ code: -1, message: "Method not found" });
  });

  test("Bitcoin-only reasons still say what they are", () => {
    for (const r of ["bad_ntime", "bad_version"] as const) {
      const e = ETH_PROXY_ERRORS[r];
      if ("result" in e) throw new Error("unexpected");
      expect(e.code).toBe(-1);
      expect(e.message.toLowerCase()).toMatch(r === "bad_ntime" ? /ntime/ : /version/);
    }
  });
});

describe("encodeEthReason", () => {
  test("wire form for every reason", () => {
    for (const r of REASONS) {
      const line = encodeEthReason(11, r);
      expect(line.endsWith("\n")).toBe(true);
      expect(line.indexOf("\n")).toBe(line.length - 1);
      const e = ETH_PROXY_ERRORS[r];
      const expected = "result" in e ? { id: 11, jsonrpc: "2.0", result: false } : { id: 11, jsonrpc: "2.0", result: null, error: e };
      expect(JSON.parse(line)).toEqual(expected);
    }
  });
  test("stale is exactly result false without an error member", () => {
    expect(encodeEthReason(4, "stale", "job 0xabc expired")).toBe('{"id":4,"jsonrpc":"2.0","result":false}\n');
  });
  test("detail is appended and escaped; string ids kept", () => {
    expect(JSON.parse(encodeEthReason("X", "malformed", 'bad "nonce"\n'))).toEqual({
      id: "X",
      jsonrpc: "2.0",
      result: null,
      error: { code: -1, message: 'Malformed PoW result: bad "nonce"\n' },
    });
    expect(encodeEthReason(null, "work_not_ready")).toBe('{"id":null,"jsonrpc":"2.0","result":null,"error":{"code":0,"message":"Work not ready"}}\n');
  });
});
