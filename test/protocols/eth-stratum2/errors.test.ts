// EIP-1571 error table tests: every Reason maps into the spec's 2xx..5xx scheme with its class, and the wire form is {id, error:{code,message}} with no result member.
import { describe, expect, test } from "bun:test";
import { REASONS } from "../../../protocols/errors/reasons.ts";
import { ETH_STRATUM2_ERRORS, encodeEthStratum2Reason } from "../../../protocols/eth-stratum2/errors.ts";

describe("EIP-1571 error codes", () => {
  test("every Reason has a code in 200..599", () => {
    for (const r of REASONS) {
      const e = ETH_STRATUM2_ERRORS[r];
      expect(e.code).toBeGreaterThanOrEqual(200);
      expect(e.code).toBeLessThan(600);
      expect(e.message.length).toBeGreaterThan(0);
    }
  });

  test("classes follow the spec: authorization 3xx, bad requests 4xx, server/upstream trouble 5xx", () => {
    expect(Math.floor(ETH_STRATUM2_ERRORS.unauthorized.code / 100)).toBe(3);
    expect(Math.floor(ETH_STRATUM2_ERRORS.not_subscribed.code / 100)).toBe(3);
    for (const r of ["malformed", "unsupported_method", "stale", "duplicate", "low_difficulty", "banned"] as const) expect(Math.floor(ETH_STRATUM2_ERRORS[r].code / 100)).toBe(4);
    for (const r of ["internal", "upstream_unavailable", "upstream_timeout", "work_not_ready"] as const) expect(Math.floor(ETH_STRATUM2_ERRORS[r].code / 100)).toBe(5);
    // The spec's own examples.
    expect(ETH_STRATUM2_ERRORS.low_difficulty).toEqual({ code: 406, message: "Bad nonce" });
    expect(ETH_STRATUM2_ERRORS.stale).toEqual({ code: 404, message: "Job not found" });
  });

  test("wire form", () => {
    expect(encodeEthStratum2Reason(31, "low_difficulty")).toBe('{"id":31,"error":{"code":406,"message":"Bad nonce"}}\n');
    expect(JSON.parse(encodeEthStratum2Reason(2, "malformed", 'a "quoted" detail'))).toEqual({ id: 2, error: { code: 400, message: 'Bad request: a "quoted" detail' } });
  });
});
