// Tests for the Stratum v1 error table: every Reason mapped, codes in the slush range, wire form of encodeReason.
import { describe, expect, test } from "bun:test";
import { REASONS } from "../../../protocols/errors/reasons.ts";
import { encodeReason, STRATUM_V1_ERRORS } from "../../../protocols/stratum-v1/errors.ts";

describe("STRATUM_V1_ERRORS", () => {
  test("every Reason has an entry, and nothing else does", () => {
    expect(Object.keys(STRATUM_V1_ERRORS).sort()).toEqual([...REASONS].sort());
  });

  test("codes in 20..25, messages non-empty", () => {
    for (const r of REASONS) {
      const e = STRATUM_V1_ERRORS[r];
      expect(Number.isInteger(e.code)).toBe(true);
      expect(e.code).toBeGreaterThanOrEqual(20);
      expect(e.code).toBeLessThanOrEqual(25);
      expect(e.message.length).toBeGreaterThan(0);
    }
  });

  test("the slush codes miners act on", () => {
    expect(STRATUM_V1_ERRORS.stale).toEqual({ code: 21, message: "Job not found" });
    expect(STRATUM_V1_ERRORS.duplicate).toEqual({ code: 22, message: "Duplicate share" });
    expect(STRATUM_V1_ERRORS.low_difficulty).toEqual({ code: 23, message: "Low difficulty share" });
    expect(STRATUM_V1_ERRORS.invalid_solution.code).toBe(23);
    expect(STRATUM_V1_ERRORS.unauthorized).toEqual({ code: 24, message: "Unauthorized worker" });
    expect(STRATUM_V1_ERRORS.not_subscribed).toEqual({ code: 25, message: "Not subscribed" });
    expect(STRATUM_V1_ERRORS.internal).toEqual({ code: 20, message: "Other/Unknown" });
    expect(STRATUM_V1_ERRORS.bad_ntime).toEqual({ code: 20, message: "Ntime out of range" });
  });
});

describe("encodeReason", () => {
  test("wire form for every reason", () => {
    for (const r of REASONS) {
      const line = encodeReason(11, r);
      expect(line.endsWith("\n")).toBe(true);
      expect(JSON.parse(line)).toEqual({ id: 11, result: null, error: [STRATUM_V1_ERRORS[r].code, STRATUM_V1_ERRORS[r].message, null] });
    }
  });
  test("detail is appended and escaped; string ids kept", () => {
    expect(JSON.parse(encodeReason("X", "malformed", 'bad "nonce"\n'))).toEqual({
      id: "X",
      result: null,
      error: [20, 'Malformed request: bad "nonce"\n', null],
    });
  });
});
