// Job book retention/aliases and extranonce1 allocation/resume.
import { describe, expect, test } from "bun:test";
import { createJobBook } from "../../../src/pools/job_book.ts";
import { createExtranonceAllocator } from "../../../src/pools/extranonce.ts";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";

const sha = (i: Uint8Array, o: Uint8Array) => void Bun.SHA256.hash(i, o);
const t = (height: number, curtime = 1_700_000_000): BlockTemplate => ({
  height, version: 0x20000000, previousBlockHash: height.toString(16).padStart(64, "0"), bits: "1d00ffff", curtime, coinbaseValue: 1n, transactions: [],
});

describe("job book", () => {
  test("keeps the last N jobs; a clean job forgets all older ones", () => {
    const b = createJobBook({ keep: 3, sha, coinbase: { payoutScript: new Uint8Array([0x51]), poolTag: "", extranonce1Size: 4, extranonce2Size: 4 } });
    const ids = [1, 2, 3, 4].map((i) => b.add(t(10, 1_700_000_000 + i), false).id);
    expect(b.get(ids[0]!)).toBeUndefined();
    expect(ids.slice(1).every((id) => b.get(id) !== undefined)).toBe(true);
    expect(new Set(ids).size).toBe(4);
    const clean = b.add(t(11), true);
    expect(ids.every((id) => b.get(id) === undefined)).toBe(true);
    expect(b.current()).toBe(clean);
  });

  test("an alias is new work (ntime +1 per alias), retired with its base", () => {
    const b = createJobBook({ keep: 1, sha, coinbase: { payoutScript: new Uint8Array([0x51]), poolTag: "", extranonce1Size: 4, extranonce2Size: 4 } });
    const j = b.add(t(10), true);
    const a1 = b.alias(j);
    const a2 = b.alias(j);
    expect([a1.ntime - j.ntime, a2.ntime - j.ntime]).toEqual([1, 2]);
    expect(a1.aliasOf).toBe(j.id);
    expect(b.get(a1.id)).toBe(a1);
    b.add(t(10, 1_700_000_100), false);
    expect(b.get(a1.id)).toBeUndefined();
    expect(b.get(a2.id)).toBeUndefined();
  });
});

describe("extranonce1 allocator", () => {
  test("unique while held, prefix kept, resume only when free", () => {
    const a = createExtranonceAllocator(4, "ab", () => 0);
    const x = a.allocate();
    const y = a.allocate();
    expect(x).not.toBe(y);
    expect(x.startsWith("ab") && x.length === 8).toBe(true);
    expect(a.claim(x)).toBe(false);
    a.release(x);
    expect(a.claim(x)).toBe(true);
    expect(a.claim("cd000001")).toBe(false); // other instance's prefix
    expect(a.inUse).toBe(2);
  });

  test("wraps around a small space skipping held values", () => {
    const a = createExtranonceAllocator(1, "", () => 0);
    const held = new Set<string>();
    for (let i = 0; i < 256; i++) held.add(a.allocate());
    expect(held.size).toBe(256);
    expect(() => a.allocate()).toThrow(/exhausted/);
  });
});
