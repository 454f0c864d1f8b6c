// Tests for the EthereumStratum/1.0.0 error table: every Reason mapped, codes 20..25, wire form of encodeEthStratumReason.
import { describe, expect, test } from "bun:test";
import { REASONS } from "../../../protocols/errors/reasons.ts";
import { encodeEthStratumReason, ETH_STRATUM_ERRORS } from "../../../protocols/eth-stratum/errors.ts";

describe("ETH_STRATUM_ERRORS", () => {
  test("every Reason has an entry, and nothing else does", () => {
    expect(Object.keys(ETH_STRATUM_ERRORS).sort()).toEqual([...REASONS].sort());
  });

  test("codes in 20..25, messages non-empty", () => {
    for (const r of REASONS) {
      const e = ETH_STRATUM_ERRORS[r];
      expect(Number.isInteger(e.code)).toBe(true);
      expect(e.code).toBeGreaterThanOrEqual(20);
      expect(e.code).toBeLessThanOrEqual(25);
      expect(e.message.length).toBeGreaterThan(0);
    }
  });

  test("the codes of the NiceHash spec / Stratum v1", () => {
    expect(ETH_STRATUM_ERRORS.stale).toEqual({ code: 21, message: "Job not found" });
    expect(ETH_STRATUM_ERRORS.duplicate).toEqual({ code: 22, message: "Duplicate share" });
    expect(ETH_STRATUM_ERRORS.low_difficulty).toEqual({ code: 23, message: "Low difficulty share" });
    expect(ETH_STRATUM_ERRORS.invalid_solution).toEqual({ code: 23, message: "Invalid share" });
    expect(ETH_STRATUM_ERRORS.unauthorized).toEqual({ code: 24, message: "Unauthorized worker" });
    expect(ETH_STRATUM_ERRORS.not_subscribed).toEqual({ code: 25, message: "Not subscribed" });
    for (const r of ["bad_ntime", "bad_version", "malformed", "unsupported_method", "work_not_ready", "rate_limited", "banned", "internal"] as const) {
      expect(ETH_STRATUM_ERRORS[r].code).toBe(20);
    }
  });
});

describe("encodeEthStratumReason", () => {
  test("wire form for every reason", () => {
    for (const r of REASONS) {
      const line = encodeEthStratumReason(11, r);
      expect(line.endsWith("\n")).toBe(true);
      expect(JSON.parse(line)).toEqual({ id: 11, result: null, error: [ETH_STRATUM_ERRORS[r].code, ETH_STRATUM_ERRORS[r].message, null] });
    }
  });
  test("detail is appended and escaped; string ids kept", () => {
    expect(JSON.parse(encodeEthStratumReason("X", "malformed", 'bad "nonce"\n'))).toEqual({
      id: "X",
      result: null,
      error: [20, 'Malformed request: bad "nonce"\n', null],
    });
    expect(encodeEthStratumReason(4, "stale")).toBe('{"id":4,"result":null,"error":[21,"Job not found",null]}\n');
  });
});
