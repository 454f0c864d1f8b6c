// bench --mode baseline's file states: the 16 KB-write copy is the same bytes, and eviction really empties the page cache (util-linux fincore); no relay started here.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { evict, writeInSmallChunks } from "../../../src/cli/bench/baseline.ts";

/** Bytes of `path` in the page cache, from fincore; undefined when fincore is missing. */
function cachedBytes(path: string): number | undefined {
  const r = spawnSync("fincore", ["--bytes", "--noheadings", "--output", "RES", path], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return Number(r.stdout.trim());
}

describe("bench --mode baseline file states", () => {
  const dir = mkdtempSync(join(tmpdir(), "stratum-edge-baseline-test-"));
  // Not a multiple of 16 KB, so the last short write is exercised.
  const src = join(dir, "src.bin");
  const data = new Uint8Array(3 * 1024 * 1024 + 12345);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  writeFileSync(src, data);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("writeInSmallChunks copies every byte", () => {
    const dst = join(dir, "small.bin");
    writeInSmallChunks(src, dst);
    expect(Buffer.compare(readFileSync(dst), Buffer.from(data))).toBe(0);
    // Into an existing file: replaced, not appended to.
    writeInSmallChunks(src, dst);
    expect(readFileSync(dst).length).toBe(data.length);
  });

  test("evict drops the file from the page cache", () => {
    const dst = join(dir, "evicted.bin");
    copyFileSync(src, dst);
    const before = cachedBytes(dst);
    if (before === undefined) {
      console.log("fincore (util-linux) not found: eviction checked only for its exit status");
      expect(evict(dst)).toBeUndefined();
      return;
    }
    expect(before).toBeGreaterThan(data.length / 2);
    expect(evict(dst)).toBeUndefined();
    expect(cachedBytes(dst)).toBe(0);
  });

  test("evict names the failure for a file it cannot open", () => {
    expect(() => evict(join(dir, "missing.bin"))).toThrow("ENOENT");
  });
});
