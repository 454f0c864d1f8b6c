// EthereumStratum extranonces behind an instance prefix (store.redis.instancePrefix): sizes, the 3-byte cap, thread slices; no sessions.
import { describe, expect, test } from "bun:test";
import { createEthExtranonceAllocator } from "../../../src/pools/extranonce.ts";

describe("createEthExtranonceAllocator", () => {
  test("no prefix: the configured own bytes", () => {
    const a = createEthExtranonceAllocator(2);
    expect(a.allocate()).toMatch(/^[0-9a-f]{4}$/);
  });
  test("a prefix leads and the own bytes stay (2 + 1 = 3 bytes)", () => {
    const a = createEthExtranonceAllocator(2, "0a");
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const x = a.allocate();
      expect(x).toMatch(/^0a[0-9a-f]{4}$/);
      seen.add(x);
    }
    expect(seen.size).toBe(1000);
  });
  test("capped at the dialects' 3 bytes: the prefix takes from the own bytes", () => {
    expect(createEthExtranonceAllocator(3, "0b").allocate()).toMatch(/^0b[0-9a-f]{4}$/);
    expect(createEthExtranonceAllocator(3, "0b0c").allocate()).toMatch(/^0b0c[0-9a-f]{2}$/);
  });
  test("two instances never hand out the same extranonce; thread slices stay inside the prefix", () => {
    const a = createEthExtranonceAllocator(1, "01", Math.random, { index: 0, count: 2 });
    const b = createEthExtranonceAllocator(1, "01", Math.random, { index: 1, count: 2 });
    const c = createEthExtranonceAllocator(1, "02");
    const all = [...Array.from({ length: 128 }, () => a.allocate()), ...Array.from({ length: 128 }, () => b.allocate()), ...Array.from({ length: 256 }, () => c.allocate())];
    expect(new Set(all).size).toBe(512);
    expect(all.slice(0, 256).every((x) => x.startsWith("01"))).toBe(true);
    expect(all.slice(256).every((x) => x.startsWith("02"))).toBe(true);
  });
});
