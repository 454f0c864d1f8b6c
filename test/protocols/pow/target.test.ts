// Tests bits/target/difficulty conversions and hash-vs-target checks against test/fixtures/bitcoin.json difficulty vectors and real blocks.
import { describe, expect, test } from "bun:test";
import { hexToBytes } from "../../../protocols/pow/hex.ts";
import {
  bitsToTarget,
  bytesLEToBigInt,
  DIFF1_SHA256,
  difficultyToTarget,
  hashMeetsTarget,
  hashToDifficulty,
  MAX_TARGET,
  targetToBits,
  targetToDifficulty,
  targetToLE,
} from "../../../protocols/pow/target.ts";
import { allHeaders, fx } from "./vectors.ts";

const big = (hex: string) => BigInt("0x" + hex);
/** Display-order hash hex → raw little-endian bytes (what sha256d outputs). */
const displayToLE = (hex: string) => (hexToBytes(hex) as Uint8Array).reverse();
const relClose = (a: number, b: number, tol = 1e-12) => expect(Math.abs(a - b) / Math.abs(b)).toBeLessThanOrEqual(tol);

describe("target", () => {
  test("DIFF1 matches the fixture constant", () => {
    expect(DIFF1_SHA256).toBe(big(fx.constants.diff1_target_hex));
  });

  test("bits_to_target vectors: target, round trip to bits, difficulty", () => {
    const v = fx.difficulty_vectors.bits_to_target;
    expect(v.length).toBeGreaterThanOrEqual(8);
    for (const { bits_hex, target_hex, difficulty } of v) {
      const bits = Number.parseInt(bits_hex, 16);
      const t = bitsToTarget(bits);
      expect(t).toBe(big(target_hex));
      expect(targetToBits(t)).toBe(bits);
      relClose(targetToDifficulty(t), difficulty);
    }
  });

  test("compact encoding edge cases (Bitcoin Core SetCompact/GetCompact)", () => {
    expect(bitsToTarget(0x01003456)).toBe(0n);
    expect(bitsToTarget(0x01123456)).toBe(0x12n);
    expect(bitsToTarget(0x02123456)).toBe(0x1234n);
    expect(bitsToTarget(0x04123456)).toBe(0x12345600n);
    expect(bitsToTarget(0x04923456)).toBe(0n); // negative
    expect(bitsToTarget(0xff123456)).toBe(0n); // overflow
    expect(targetToBits(0x80n)).toBe(0x02008000);
    expect(targetToBits(0x12345600n)).toBe(0x04123456);
    expect(targetToBits(0n)).toBe(0);
  });

  test("difficulty_to_share_target vectors are exact floors", () => {
    const v = fx.difficulty_vectors.difficulty_to_share_target;
    expect(v.length).toBeGreaterThanOrEqual(8);
    for (const { difficulty, target_hex_floor } of v) {
      expect(difficultyToTarget(difficulty)).toBe(big(target_hex_floor));
    }
  });

  test("fractional, tiny and invalid difficulties", () => {
    expect(difficultyToTarget(0.0001)).toBe(DIFF1_SHA256 * 10000n);
    expect(difficultyToTarget(0.0001) > DIFF1_SHA256).toBe(true);
    expect(difficultyToTarget(1e-300)).toBe(MAX_TARGET);
    expect(difficultyToTarget(1.5e21)).toBe((DIFF1_SHA256 * 10n) / 15000000000000000000000n);
    for (const bad of [0, -1, Number.NaN, Infinity]) expect(difficultyToTarget(bad)).toBe(0n);
  });

  test("targetToLE / bytesLEToBigInt round trip and capping", () => {
    const t = big("00000000ffff0000000000000000000000000000000000000000000000000001");
    const le = targetToLE(t);
    expect(le.length).toBe(32);
    expect(le[0]).toBe(1);
    expect(le[27]).toBe(0xff);
    expect(bytesLEToBigInt(le)).toBe(t);
    expect(targetToLE(MAX_TARGET + 5n)).toEqual(new Uint8Array(32).fill(0xff));
  });

  test("hashMeetsTarget: equal passes, one above fails, one below passes", () => {
    const t = big("000000000004864c000000000000000000000000000000000000000000000000");
    const tl = targetToLE(t);
    expect(hashMeetsTarget(targetToLE(t), tl)).toBe(true);
    expect(hashMeetsTarget(targetToLE(t + 1n), tl)).toBe(false);
    expect(hashMeetsTarget(targetToLE(t - 1n), tl)).toBe(true);
    expect(hashMeetsTarget(targetToLE(MAX_TARGET), tl)).toBe(false);
    expect(hashMeetsTarget(new Uint8Array(32), targetToLE(0n))).toBe(true);
  });

  test("hash_to_share_difficulty vectors (float path and bigint path)", () => {
    const v = fx.difficulty_vectors.hash_to_share_difficulty;
    expect(v.length).toBe(3);
    for (const { hash, share_difficulty } of v) {
      relClose(hashToDifficulty(displayToLE(hash)), share_difficulty);
      relClose(targetToDifficulty(big(hash)), share_difficulty);
    }
    expect(hashToDifficulty(new Uint8Array(32))).toBe(Infinity);
    // a hash with its only non-zero byte low down exercises the < 8-byte window
    const low = new Uint8Array(32);
    low[2] = 1;
    relClose(hashToDifficulty(low), Number(DIFF1_SHA256) / 65536);
  });

  test("every real block: hash ≤ target(bits), share difficulty, network difficulty", () => {
    expect(allHeaders.length).toBe(11);
    for (const b of allHeaders) {
      const t = bitsToTarget(b.header.bits);
      if (b.target_hex !== undefined) expect(t).toBe(big(b.target_hex));
      expect(hashMeetsTarget(displayToLE(b.hash), targetToLE(t))).toBe(true);
      relClose(hashToDifficulty(displayToLE(b.hash)), b.hash_share_difficulty);
      relClose(targetToDifficulty(t), b.network_difficulty);
    }
  });
});
