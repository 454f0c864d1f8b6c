// Found-block journal on a real temp dir: durable appends, read back, torn last line, unsubmitted candidates.
import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBlockJournal } from "../../../src/store/block_journal.ts";
import { nodeFiles } from "../../../src/runtime/shared.ts";
import type { Files } from "../../../src/runtime/types.ts";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "se-journal-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const cand = (n: number) => ({
  height: 100 + n,
  hash: n.toString(16).padStart(64, "0"),
  blockHex: `00${n}`,
  worker: `w${n}`,
  foundAt: 1_700_000_000_000 + n,
});

describe("block journal", () => {
  test("record goes through appendDurable before returning, one JSON line each", () => {
    const dir = join(tempDir(), "nested", "data");
    const calls: string[] = [];
    const spy: Files = { ...nodeFiles, appendDurable: (p, t) => (calls.push(t), nodeFiles.appendDurable(p, t)) };
    const j = createBlockJournal(spy, dir);
    j.record(cand(1));
    expect(calls.length).toBe(1);
    const text = readFileSync(join(dir, "blocks.jsonl"), "utf8");
    expect(text).toBe(calls[0] as string);
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toEqual({ type: "candidate", ...cand(1) });
    j.recordResult(cand(1).hash, { accepted: false, reason: "high-hash", at: 5 });
    expect(calls.length).toBe(2);
  });

  test("list reads candidates back with their latest result; unsubmitted lists the rest", () => {
    const dir = tempDir();
    const j = createBlockJournal(nodeFiles, dir);
    expect(j.list()).toEqual([]);
    j.record(cand(1));
    j.record(cand(2));
    j.record(cand(3));
    j.recordResult(cand(2).hash, { accepted: false, reason: "inconclusive", at: 10 });
    j.recordResult(cand(2).hash, { accepted: true, at: 11 });
    j.recordResult(cand(3).hash, { accepted: false, reason: "high-hash", at: 12 });
    j.recordResult("ff".repeat(32), { accepted: true, at: 13 }); // unknown hash: ignored
    // A second process (restart) sees the same state.
    const again = createBlockJournal(nodeFiles, dir);
    expect(again.list()).toEqual([
      cand(1),
      { ...cand(2), result: { accepted: true, at: 11 } },
      { ...cand(3), result: { accepted: false, reason: "high-hash", at: 12 } },
    ]);
    expect(again.unsubmitted()).toEqual([cand(1)]);
  });

  test("a torn last line is skipped, and the next record still lands on its own line", () => {
    const dir = tempDir();
    const j = createBlockJournal(nodeFiles, dir);
    j.record(cand(1));
    appendFileSync(join(dir, "blocks.jsonl"), '{"type":"candidate","height":102,"hash":"ab'); // crash mid-write
    expect(j.list()).toEqual([cand(1)]);
    const reopened = createBlockJournal(nodeFiles, dir);
    reopened.record(cand(3));
    expect(reopened.list()).toEqual([cand(1), cand(3)]);
    expect(reopened.unsubmitted().map((c) => c.height)).toEqual([101, 103]);
  });

  test("malformed and wrongly typed lines are skipped without throwing", () => {
    const dir = tempDir();
    appendFileSync(join(dir, "blocks.jsonl"), 'not json\n{"type":"candidate","hash":"x","height":"7"}\n[1,2]\n\n');
    const j = createBlockJournal(nodeFiles, dir);
    j.record(cand(4));
    expect(j.list()).toEqual([cand(4)]);
  });
});
