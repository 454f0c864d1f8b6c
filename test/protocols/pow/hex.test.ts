// Tests hex ⇄ bytes helpers: round trips, rejection of odd/invalid input, bounds of the in-place decoder, u32 parsing.
import { describe, expect, test } from "bun:test";
import {
  bytesToHex,
  bytesToHexReversed,
  hexIntoBytes,
  hexToBytes,
  hexToU32,
  isHex,
  reverseHex,
  u32ToHex,
} from "../../../protocols/pow/hex.ts";

describe("hex", () => {
  test("round trip of every byte value, upper and lower case input", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const hex = bytesToHex(all);
    expect(hex).toBe(Buffer.from(all).toString("hex"));
    expect(hexToBytes(hex)).toEqual(all);
    expect(hexToBytes(hex.toUpperCase())).toEqual(all);
  });

  test("odd length, non-hex and non-Latin1 characters are rejected", () => {
    expect(hexToBytes("abc")).toBeUndefined();
    expect(hexToBytes("zz")).toBeUndefined();
    expect(hexToBytes("0g")).toBeUndefined();
    expect(hexToBytes(" 0")).toBeUndefined();
    expect(hexToBytes("0\u0130")).toBeUndefined();
    expect(hexToBytes("")).toEqual(new Uint8Array(0));
    expect(isHex("00ff")).toBe(true);
    expect(isHex("0")).toBe(false);
    expect(isHex("0x")).toBe(false);
  });

  test("hexIntoBytes writes at offset and refuses overflow", () => {
    const out = new Uint8Array(4);
    expect(hexIntoBytes("abcd", out, 1)).toBe(true);
    expect(Array.from(out)).toEqual([0, 0xab, 0xcd, 0]);
    expect(hexIntoBytes("abcdef", out, 2)).toBe(false);
    expect(hexIntoBytes("ab", out, -1)).toBe(false);
    expect(hexIntoBytes("a", out, 0)).toBe(false);
    expect(hexIntoBytes("xx", out, 0)).toBe(false);
  });

  test("reverseHex and bytesToHexReversed agree", () => {
    expect(reverseHex("0102ab")).toBe("ab0201");
    expect(reverseHex("012")).toBeUndefined();
    expect(bytesToHexReversed(Uint8Array.of(1, 2, 0xab))).toBe("ab0201");
  });

  test("hexToU32 parses 1..8 chars big-endian, left-padding short input", () => {
    expect(hexToU32("ffffffff")).toBe(0xffffffff);
    expect(hexToU32("b2957c02")).toBe(0xb2957c02);
    expect(hexToU32("957c02")).toBe(0x00957c02);
    expect(hexToU32("0")).toBe(0);
    expect(hexToU32("")).toBe(-1);
    expect(hexToU32("123456789")).toBe(-1);
    expect(hexToU32("1234567g")).toBe(-1);
    expect(u32ToHex(0x00957c02)).toBe("00957c02");
    expect(u32ToHex(0xffffffff)).toBe("ffffffff");
  });
});
