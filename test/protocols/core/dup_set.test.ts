// Duplicate-key set: agrees with a JS Set on random and adversarial keys, across growth; tests only.
import { describe, expect, test } from "bun:test";
import { dupAdd, dupHas, newDupSet } from "../../../protocols/core/dup_set.ts";

const MAX = 2 ** 52;

describe("DupSet", () => {
  test("first add is new, second is a duplicate; key 0 and the largest key work", () => {
    const s = newDupSet();
    for (const k of [0, 1, MAX - 1, 2 ** 32, 2 ** 48 + 7]) {
      expect(dupHas(s, k)).toBe(false);
      expect(dupAdd(s, k)).toBe(true);
      expect(dupAdd(s, k)).toBe(false);
      expect(dupHas(s, k)).toBe(true);
    }
    expect(s.size).toBe(5);
  });

  test("agrees with Set<number> over 200k random 52-bit keys with repeats, through every doubling", () => {
    const s = newDupSet();
    const ref = new Set<number>();
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    const pool: number[] = [];
    for (let i = 0; i < 200_000; i++) {
      // One in four is a repeat of an earlier key.
      const k = i > 0 && rnd() % 4 === 0 ? pool[rnd() % pool.length]! : (rnd() & 0xfffff) * 2 ** 32 + rnd();
      pool.push(k);
      expect(dupAdd(s, k)).toBe(!ref.has(k));
      ref.add(k);
    }
    expect(s.size).toBe(ref.size);
    for (const k of ref) expect(dupHas(s, k)).toBe(true);
    // Load factor stays at or under 3/4; the table is a power of two.
    expect(s.size * 4).toBeLessThanOrEqual(s.slots.length * 3);
    expect(Math.log2(s.slots.length) % 1).toBe(0);
  });

  test("keys with identical low 32 bits (one home slot) are all kept apart", () => {
    const s = newDupSet();
    for (let hi = 0; hi < 500; hi++) expect(dupAdd(s, hi * 2 ** 32 + 42)).toBe(true);
    for (let hi = 0; hi < 500; hi++) expect(dupAdd(s, hi * 2 ** 32 + 42)).toBe(false);
    expect(dupHas(s, 500 * 2 ** 32 + 42)).toBe(false);
    expect(s.size).toBe(500);
  });
});
