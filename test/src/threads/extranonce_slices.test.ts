// Extranonce1 allocator sliced per session thread: disjoint slices, claim limited to the own slice, exhaustion, impossible slices; no I/O.
import { describe, expect, test } from "bun:test";
import { createExtranonceAllocator } from "../../../src/pools/extranonce.ts";

/** Deterministic "random" start values so every run walks the same path (including a wrap at the slice end). */
const starts = [0, 0.37, 0.999_999_9];

function valueOf(en1: string, prefix: string): number {
  return parseInt(en1.slice(prefix.length), 16);
}

describe("extranonce1 slices", () => {
  for (const { size, prefix, count, per } of [
    { size: 2, prefix: "", count: 2, per: 5000 },
    { size: 2, prefix: "", count: 3, per: 5000 },
    { size: 2, prefix: "", count: 4, per: 5000 },
    { size: 4, prefix: "ab", count: 2, per: 3000 },
    { size: 4, prefix: "ab", count: 3, per: 3000 },
    { size: 4, prefix: "ab", count: 4, per: 3000 },
  ]) {
    test(`size ${size} prefix "${prefix}" in ${count} slices: allocations are disjoint and inside their slice`, () => {
      const whole = 2 ** (8 * (size - prefix.length / 2));
      const space = Math.floor(whole / count);
      const seen = new Map<string, number>();
      for (let index = 0; index < count; index++) {
        for (const r of starts) {
          const a = createExtranonceAllocator(size, prefix, () => r, { index, count });
          for (let i = 0; i < per / starts.length; i++) {
            const en1 = a.allocate();
            expect(en1.length).toBe(size * 2);
            expect(en1.startsWith(prefix)).toBe(true);
            const v = valueOf(en1, prefix);
            expect(v).toBeGreaterThanOrEqual(index * space);
            expect(v).toBeLessThan((index + 1) * space);
            const owner = seen.get(en1);
            // The same slice may hand a value out again from another allocator instance; another slice never may.
            if (owner !== undefined) expect(owner).toBe(index);
            seen.set(en1, index);
          }
        }
      }
      // Every slice was actually used, so the disjointness check above covered all of them.
      expect(new Set(seen.values()).size).toBe(count);
    });
  }

  test("each of 3 slices of 2 bytes can hand out exactly its share, all distinct, and then is exhausted", () => {
    const all = new Set<string>();
    for (let index = 0; index < 3; index++) {
      const a = createExtranonceAllocator(2, "", () => 0.5, { index, count: 3 });
      for (let i = 0; i < 21845; i++) all.add(a.allocate());
      expect(a.inUse).toBe(21845);
      expect(() => a.allocate()).toThrow(/exhausted/);
    }
    expect(all.size).toBe(3 * 21845);
    // 65,536 = 3 × 21,845 + 1: the remainder (ffff) belongs to no slice.
    expect(all.has("ffff")).toBe(false);
  });

  test("claim: another slice's value refused, a free value of the own slice accepted, non-hex refused", () => {
    const a0 = createExtranonceAllocator(4, "ab", () => 0, { index: 0, count: 2 });
    const a1 = createExtranonceAllocator(4, "ab", () => 0, { index: 1, count: 2 });
    const from0 = a0.allocate();
    const from1 = a1.allocate();
    expect(valueOf(from0, "ab")).toBeLessThan(0x800000);
    expect(valueOf(from1, "ab")).toBeGreaterThanOrEqual(0x800000);
    // A value released in slice 0 is still slice 0's: slice 1 must not take it.
    a0.release(from0);
    expect(a1.claim(from0)).toBe(false);
    expect(a0.claim(from1)).toBe(false);
    // Slice boundaries exactly.
    expect(a0.claim("ab7fffff")).toBe(true);
    expect(a1.claim("ab7fffff")).toBe(false);
    expect(a1.claim("ab800000")).toBe(true);
    expect(a0.claim("ab800000")).toBe(false);
    expect(a1.claim("abffffff")).toBe(true);
    // Free value of its own slice: accepted once, then held.
    expect(a0.claim(from0)).toBe(true);
    expect(a0.claim(from0)).toBe(false);
    // Non-hex and wrong forms.
    for (const bad of ["abzzzzzz", "ab00000g", "AB000001", "ab-00001", "ab 00001", "ab0x0001", "ab00001", "ab0000001", "cd000001"]) {
      expect(a0.claim(bad)).toBe(false);
      expect(a1.claim(bad)).toBe(false);
    }
    expect(a0.inUse).toBe(2);
    expect(a1.inUse).toBe(3);
  });

  test("the remainder value that belongs to no slice is claimed by none", () => {
    for (let index = 0; index < 3; index++) {
      const a = createExtranonceAllocator(2, "", () => 0, { index, count: 3 });
      expect(a.claim("ffff")).toBe(false);
    }
  });

  test("a small slice is exhausted after its share; release frees a value again", () => {
    const a = createExtranonceAllocator(1, "", () => 0, { index: 2, count: 4 });
    const got = new Set<string>();
    for (let i = 0; i < 64; i++) got.add(a.allocate());
    expect(got.size).toBe(64);
    for (const en1 of got) expect(parseInt(en1, 16) >> 6).toBe(2);
    expect(() => a.allocate()).toThrow(/exhausted/);
    a.release("80");
    expect(a.allocate()).toBe("80");
    expect(() => a.allocate()).toThrow(/exhausted/);
  });

  test("a one-value slice (count = whole space)", () => {
    const a = createExtranonceAllocator(1, "", () => 0.9, { index: 200, count: 256 });
    expect(a.allocate()).toBe("c8");
    expect(() => a.allocate()).toThrow(/exhausted/);
  });

  test("impossible slices throw RangeError", () => {
    const bad: { index: number; count: number }[] = [
      { index: 0, count: 0 },
      { index: 2, count: 2 },
      { index: 5, count: 2 },
      { index: -1, count: 2 },
      { index: 0.5, count: 2 },
      { index: 0, count: 1.5 },
      { index: 0, count: Number.NaN },
      { index: 0, count: 257 },
    ];
    for (const part of bad) expect(() => createExtranonceAllocator(1, "", () => 0, part)).toThrow(RangeError);
    // With a prefix, what is left decides: 2 bytes with 1 byte of prefix leaves 256 values.
    expect(() => createExtranonceAllocator(2, "ab", () => 0, { index: 0, count: 257 })).toThrow(RangeError);
    expect(() => createExtranonceAllocator(2, "ab", () => 0, { index: 255, count: 256 })).not.toThrow();
  });

  test("without part the whole space is used (as before slicing)", () => {
    const a = createExtranonceAllocator(2, "", () => 0.999);
    const got = new Set<string>();
    for (let i = 0; i < 65536; i++) got.add(a.allocate());
    expect(got.size).toBe(65536);
    expect(got.has("0000") && got.has("ffff") && got.has("8000")).toBe(true);
    expect(() => a.allocate()).toThrow(/exhausted/);
    const b = createExtranonceAllocator(4, "ab", () => 0);
    expect(b.claim("ab000000")).toBe(true);
    expect(b.claim("abffffff")).toBe(true);
    expect(b.claim("ab7fffff")).toBe(true);
    expect(b.claim("abzzzzzz")).toBe(false);
  });

  // Regression: the slice check once ran on parseInt() doubles, which cannot hold 64-bit values:
  // "7fffffffffffffff" (slice 0 of 2) rounded to 2^63 and slice 1 took it.
  test("8-byte slices: slice 1 refuses slice 0's last value, slice 0 takes it", () => {
    const a1 = createExtranonceAllocator(8, "", () => 0, { index: 1, count: 2 });
    expect(a1.claim("7fffffffffffffff")).toBe(false);
    expect(a1.claim("8000000000000000")).toBe(true);
    const a0 = createExtranonceAllocator(8, "", () => 0, { index: 0, count: 2 });
    expect(a0.claim("7fffffffffffffff")).toBe(true);
    expect(a0.claim("8000000000000000")).toBe(false);
  });

  // Regression: past 2^53 `counter + 1` rounded back to counter and allocate() spun for ever.
  for (const size of [7, 8]) {
    test(`size ${size}: allocations from a start past 2^53 are distinct and sequential`, () => {
      const a = createExtranonceAllocator(size, "", () => 0.999999);
      const got = Array.from({ length: 5 }, () => a.allocate());
      expect(new Set(got).size).toBe(5);
      for (let i = 1; i < got.length; i++) expect(BigInt("0x" + got[i]!) - BigInt("0x" + got[i - 1]!)).toBe(1n);
      expect(got[0]!.length).toBe(size * 2);
    });
  }
});
