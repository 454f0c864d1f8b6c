// Session-thread copies of the job books: adopt() of jobs another book built, idPrefix for minted ids, onClear; no I/O.
import { describe, expect, test } from "bun:test";
import { createJobBook } from "../../../src/pools/job_book.ts";
import { createEthJobBook } from "../../../src/pools/eth_job_book.ts";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import type { EthWork } from "../../../protocols/eth/work.ts";

const sha = (i: Uint8Array, o: Uint8Array) => void Bun.SHA256.hash(i, o);
const coinbase = { payoutScript: new Uint8Array([0x51]), poolTag: "", extranonce1Size: 4, extranonce2Size: 4 };
const t = (height: number, curtime = 1_700_000_000): BlockTemplate => ({
  height, version: 0x20000000, previousBlockHash: height.toString(16).padStart(64, "0"), bits: "1d00ffff", curtime, coinbaseValue: 1n, transactions: [],
});

describe("job book adopt / idPrefix / onClear", () => {
  test("adopt() keeps another book's job under its own id and makes it current", () => {
    const main = createJobBook({ keep: 3, sha, coinbase });
    const copy = createJobBook({ keep: 3, sha, coinbase, idPrefix: "t1-" });
    const j = main.add(t(10), true);
    expect(copy.current()).toBeUndefined();
    copy.adopt(j, true);
    expect(copy.get(j.id)).toBe(j);
    expect(copy.current()).toBe(j);
    expect(copy.size).toBe(1);
  });

  test("a clean adopt forgets older jobs and their aliases; a non-clean one keeps them", () => {
    const main = createJobBook({ keep: 5, sha, coinbase });
    const copy = createJobBook({ keep: 5, sha, coinbase, idPrefix: "t2-" });
    const a = main.add(t(10, 1_700_000_001), true);
    const b = main.add(t(10, 1_700_000_002), false);
    copy.adopt(a, true);
    copy.adopt(b, false);
    const al = copy.alias(a);
    expect(copy.get(a.id)).toBe(a);
    expect(copy.get(b.id)).toBe(b);
    expect(copy.get(al.id)).toBe(al);
    const c = main.add(t(11), true);
    copy.adopt(c, true);
    expect(copy.get(a.id)).toBeUndefined();
    expect(copy.get(b.id)).toBeUndefined();
    expect(copy.get(al.id)).toBeUndefined();
    expect(copy.get(c.id)).toBe(c);
    expect(copy.current()).toBe(c);
    expect(copy.size).toBe(1);
  });

  test("the keep limit applies to adopted jobs", () => {
    const main = createJobBook({ keep: 10, sha, coinbase });
    const copy = createJobBook({ keep: 2, sha, coinbase, idPrefix: "t1-" });
    const jobs = [1, 2, 3, 4].map((i) => main.add(t(10, 1_700_000_000 + i), i === 1));
    for (const [i, j] of jobs.entries()) copy.adopt(j, i === 0);
    expect(copy.get(jobs[0]!.id)).toBeUndefined();
    expect(copy.get(jobs[1]!.id)).toBeUndefined();
    expect(copy.get(jobs[2]!.id)).toBe(jobs[2]!);
    expect(copy.get(jobs[3]!.id)).toBe(jobs[3]!);
    expect(copy.size).toBe(2);
    expect(copy.current()).toBe(jobs[3]!);
  });

  test("idPrefix: aliases (and own jobs) carry the prefix and never equal a base id", () => {
    const main = createJobBook({ keep: 1000, sha, coinbase });
    const copy = createJobBook({ keep: 1000, sha, coinbase, idPrefix: "t1-" });
    const baseIds = new Set<string>();
    const aliasIds = new Set<string>();
    for (let i = 0; i < 300; i++) {
      const j = main.add(t(10, 1_700_000_000 + i), i === 0);
      baseIds.add(j.id);
      expect(j.id).toMatch(/^[0-9a-f]+$/);
      copy.adopt(j, i === 0);
      const a = copy.alias(j);
      expect(a.id.startsWith("t1-")).toBe(true);
      expect(a.id).not.toBe(j.id);
      expect(a.aliasOf).toBe(j.id);
      expect(copy.get(a.id)).toBe(a);
      aliasIds.add(a.id);
    }
    expect(aliasIds.size).toBe(300);
    for (const id of aliasIds) expect(baseIds.has(id)).toBe(false);
    // The main book's aliases have no prefix (it passes none).
    const m = main.alias(main.current()!);
    expect(m.id).toMatch(/^[0-9a-f]+$/);
    // add() on a prefixed book mints prefixed ids too.
    expect(copy.add(t(12), true).id.startsWith("t1-")).toBe(true);
  });

  test("onClear fires after every clear(), with the book already empty", () => {
    const main = createJobBook({ keep: 3, sha, coinbase });
    main.add(t(10), true);
    main.add(t(10, 1_700_000_005), false);
    const seen: [number, boolean][] = [];
    let second = 0;
    main.onClear(() => seen.push([main.size, main.current() === undefined]));
    main.onClear(() => void second++);
    expect(seen).toEqual([]);
    main.add(t(11), true); // a clean add is not a clear()
    expect(seen).toEqual([]);
    main.clear();
    expect(seen).toEqual([[0, true]]);
    expect(second).toBe(1);
    main.clear();
    expect(seen.length).toBe(2);
    expect(second).toBe(2);
  });
});

const hex64 = (n: number) => "0x" + n.toString(16).padStart(64, "0");
const work = (blockNumber: number, h: number, target = 1n << 240n): EthWork => ({ headerHash: hex64(h), seedHash: hex64(0), target, blockNumber });
const epochInfo = () => ({ epoch: 0, cacheSize: 16776896, fullSize: 1073739904 });

describe("eth job book adopt / onClear", () => {
  test("adopt() makes a job findable by id and by header, and current", () => {
    const main = createEthJobBook({ algo: "ethash", keepHeights: 4, epochInfo });
    const copy = createEthJobBook({ algo: "ethash", keepHeights: 4, epochInfo });
    const j = main.add(work(100, 0xabc), true);
    copy.adopt(j);
    expect(copy.byId(j.id)).toBe(j);
    expect(copy.byHeader(j.headerHash)).toBe(j);
    expect(copy.byHeader(j.headerHash.toUpperCase().replace("0X", "0x"))).toBe(j);
    expect(copy.current()).toBe(j);
    expect(copy.size).toBe(1);
  });

  test("adopting prunes below the keepHeights window", () => {
    const main = createEthJobBook({ algo: "ethash", keepHeights: 3, epochInfo });
    const copy = createEthJobBook({ algo: "ethash", keepHeights: 3, epochInfo });
    const jobs = [100, 101, 101, 102, 103].map((n, i) => main.add(work(n, 0x1000 + i), true));
    for (const j of jobs) copy.adopt(j);
    // Window for 103 with 3 heights: 101..103; both jobs at 101 stay (node refreshes).
    expect(copy.byId(jobs[0]!.id)).toBeUndefined();
    expect(copy.byHeader(jobs[0]!.headerHash)).toBeUndefined();
    for (const j of jobs.slice(1)) {
      expect(copy.byId(j.id)).toBe(j);
      expect(copy.byHeader(j.headerHash)).toBe(j);
    }
    expect(copy.size).toBe(4);
    const j104 = main.add(work(104, 0x2000), true);
    copy.adopt(j104);
    expect(copy.byId(jobs[1]!.id)).toBeUndefined();
    expect(copy.byId(jobs[2]!.id)).toBeUndefined();
    expect(copy.size).toBe(3);
    expect(copy.current()).toBe(j104);
  });

  test("adopting the same job again keeps one copy and makes it current again", () => {
    const main = createEthJobBook({ algo: "etchash", keepHeights: 4, epochInfo });
    const copy = createEthJobBook({ algo: "etchash", keepHeights: 4, epochInfo });
    const a = main.add(work(50, 1), true);
    const b = main.add(work(50, 2), false);
    copy.adopt(a);
    copy.adopt(a);
    expect(copy.size).toBe(1);
    copy.adopt(b);
    expect(copy.current()).toBe(b);
    copy.adopt(a);
    expect(copy.size).toBe(2);
    expect(copy.current()).toBe(a);
    expect(copy.byHeader(a.headerHash)).toBe(a);
  });

  test("onClear fires after clear(), with the book already empty", () => {
    const book = createEthJobBook({ algo: "ethash", keepHeights: 4, epochInfo });
    const j = book.add(work(7, 7), true);
    const seen: [number, boolean, boolean][] = [];
    book.onClear(() => seen.push([book.size, book.current() === undefined, book.byHeader(j.headerHash) === undefined]));
    book.add(work(8, 8), true);
    expect(seen).toEqual([]);
    book.clear();
    expect(seen).toEqual([[0, true, true]]);
    book.clear();
    expect(seen.length).toBe(2);
  });
});
