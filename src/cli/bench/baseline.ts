// `bench --mode baseline`: the relay's resident memory before the first miner, median of several starts, with its binary downloaded, copied and read from disk; no relay logic.
import { closeSync, copyFileSync, chmodSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMemory, startRelay } from "../../loadgen/relay_child.ts";
import { startFloor } from "./fanout.ts";
import { summarize } from "../../loadgen/stats.ts";
import { TARGETS, type Ctx, sleep, verdict } from "./common.ts";

/** Median RSS, anonymous and file-backed MB over the starts, or why the state could not be measured. */
export interface BaselineState {
  rssMb: number | null;
  anonMb: number | null;
  fileMb: number | null;
  /** The floor from the same copy in the same state: a bare listener (`bench --mode fanout-floor`), no relay code loaded. */
  floorRssMb: number | null;
  /** rssMb / floorRssMb. */
  overFloor: number | null;
  starts: number;
  skipped?: string;
}

/**
 * The same process maps more or less of its executable depending on how the file was written: Linux
 * keeps a file written in large writes in large page-cache folios and maps a whole folio at the first
 * touch of any of its pages (measured here: relay 37.8 MB written 16 KB at a time, 42.7 MB copied,
 * 58.8 MB written 1 MB at a time with dd, where a bare listener is already 54.6 MB). So each state is
 * measured with the floor from the same file in the same state.
 */
export interface BaselineFigures {
  /** Written 4–16 KB at a time, as curl writes a download (strace of curl 8 here: 4,096 and 12,288-byte writes). */
  downloaded: BaselineState;
  /** Copied with copy_file_range, as cp and `bun build --compile` write it. */
  copied: BaselineState;
  /** The copy evicted from the page cache before each start (as after a reboot). */
  readFromDisk: BaselineState;
  /** What the relay ran with besides its ports and data directory. */
  sets: Record<string, string>;
}

const SETTLE_MS = 2000;
const MB = 1024 * 1024;

const median = (xs: number[]) => (xs.length === 0 ? null : Math.round(summarize(xs).p50 * 10) / 10);

/** Copies `from` to `to` in 16 KB writes (a download's write size; see BaselineFigures.downloaded). */
export function writeInSmallChunks(from: string, to: string): void {
  const src = openSync(from, "r");
  const dst = openSync(to, "w");
  try {
    const buf = new Uint8Array(16 * 1024);
    for (let n; (n = readSync(src, buf, 0, buf.length, null)) > 0; ) {
      for (let off = 0; off < n; ) off += writeSync(dst, buf, off, n - off);
    }
  } finally {
    closeSync(src);
    closeSync(dst);
  }
}

/**
 * Drops the file's pages from the page cache: GNU dd's `iflag=nocache count=0` is posix_fadvise(DONTNEED)
 * on the whole file (coreutils manual), which frees clean pages no process maps. Returns an error text.
 */
export function evict(path: string): string | undefined {
  const fd = openSync(path, "r");
  try {
    fsyncSync(fd); // only clean pages can be dropped
  } finally {
    closeSync(fd);
  }
  const r = spawnSync("dd", [`if=${path}`, "iflag=nocache", "count=0", "status=none"], { encoding: "utf8" });
  if (r.error !== undefined) return `dd: ${r.error.message}`;
  return r.status === 0 ? undefined : `dd exited ${r.status}: ${r.stderr.trim()}`;
}

export async function runBaseline(ctx: Ctx, starts: number): Promise<BaselineFigures> {
  const cmd = ctx.relayCmd!;
  // A Bitcoin-only edge (the goal's case); the share log is on as by default (its writer starts with the first share).
  const sets = { "ethash.enabled": "false", "log.level": "warn" };
  console.log(`\n== baseline: relay RSS before the first miner, ${SETTLE_MS / 1000} s after start, median of ${starts} starts (${cmd.label}, ${Object.entries(sets).map(([k, v]) => `${k}=${v}`).join(" ")}) ==`);
  const none = (skipped: string): BaselineState => ({ rssMb: null, anonMb: null, fileMb: null, floorRssMb: null, overFloor: null, starts: 0, skipped });
  if (cmd.args.length > 0) {
    const why = "needs a compiled binary (the page cache figures are of the relay's own executable)";
    console.log(`  skipped: ${why}`);
    return { downloaded: none(why), copied: none(why), readFromDisk: none(why), sets };
  }
  const dir = mkdtempSync(join(tmpdir(), "stratum-edge-baseline-"));
  const copy = join(dir, "stratum-edge");
  const measure = async (label: string, prepare: () => string | undefined, write: (from: string, to: string) => void = copyFileSync): Promise<BaselineState> => {
    const rss: number[] = [];
    const anon: number[] = [];
    const floor: number[] = [];
    /** A fresh copy of the binary in this state; an error text when the state cannot be made. */
    const fresh = (): string | undefined => {
      rmSync(copy, { force: true });
      write(cmd.cmd, copy);
      chmodSync(copy, 0o755);
      return prepare();
    };
    for (let i = 0; i < starts; i++) {
      const problem = fresh();
      if (problem !== undefined) {
        console.log(`  ${label}: skipped (${problem})`);
        return none(problem);
      }
      const data = join(dir, `data-${i}`);
      const child = await startRelay({ cmd: copy, args: [], label }, { ...sets, dataDir: data });
      await sleep(SETTLE_MS);
      const m = readMemory(child.pid);
      await child.stop();
      rmSync(data, { recursive: true, force: true });
      if (m === undefined) return none("no /proc/PID/status memory figures (Linux only)");
      rss.push(m.rss / MB);
      anon.push(m.anon / MB);
      // The floor from a copy in the same state (the relay's run has paged the last one in).
      fresh();
      const f = await startFloor(1, { BENCH_FLOOR_INTERVAL_MS: "3600000" }, copy);
      await sleep(SETTLE_MS);
      const fm = readMemory(f.pids[0]!);
      await f.stop();
      if (fm !== undefined) floor.push(fm.rss / MB);
    }
    const r = median(rss);
    const a = median(anon);
    const fl = median(floor);
    const state: BaselineState = {
      rssMb: r, anonMb: a, fileMb: r !== null && a !== null ? Math.round((r - a) * 10) / 10 : null,
      floorRssMb: fl, overFloor: r !== null && fl !== null && fl > 0 ? Math.round((r / fl) * 100) / 100 : null, starts,
    };
    console.log(`  ${label}: RSS ${state.rssMb} MB (anonymous ${state.anonMb}, file-backed ${state.fileMb}); floor ${state.floorRssMb ?? "n/a"} MB, relay / floor ${state.overFloor ?? "n/a"}×   target ≤ ${TARGETS.baselineRssMb} MB: ${verdict((state.rssMb ?? Infinity) <= TARGETS.baselineRssMb)}`);
    return state;
  };
  try {
    const downloaded = await measure("binary downloaded (16 KB writes)", () => undefined, writeInSmallChunks);
    const copied = await measure("binary copied (cp, bun build)", () => undefined);
    const readFromDisk = await measure("binary read from disk", () => evict(copy));
    return { downloaded, copied, readFromDisk, sets };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
