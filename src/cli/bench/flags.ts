// bench's modes and the checks of its numeric flags, shared by the flag parser and the modes; no I/O, nothing else imported (the floor process loads it).

/**
 * Every `--mode`; abuse-source and fanout-floor are internal (the processes --mode abuse and the floors spawn).
 * all = start + shares + idle + fanout. abuse (issue 4) is run on its own, not in all: an honest miner's
 * latency while a banned source opens 1,000 connections/s (env BENCH_ABUSE_RATE, BENCH_ABUSE_FROM,
 * BENCH_HONEST_INTERVAL_MS, BENCH_ABUSE_CONTROL=1; the CLI's flag set lives in args.ts).
 * blocks (issue 5) is also on its own: block share → submitblock latency and new tip → clean job to 10k miners,
 * with the relay's bitcoind upstream pointed at a simulated node in this process (src/loadgen/fake_bitcoind.ts);
 * --miners sets the block miners (50), --connections the fan-out miners (10,000).
 * baseline (issue 14): RSS before the first miner, the binary downloaded, copied and read from disk, beside the floor.
 */
export const MODES = ["shares", "idle", "fanout", "all", "abuse", "abuse-source", "fanout-floor", "blocks", "baseline"] as const;
export type Mode = (typeof MODES)[number];

/** A positive number flag (floored), undefined when absent; throws naming the flag otherwise. */
export function positiveInt(v: string | boolean | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isFinite(n) || n <= 0) throw new Error(`${what} expects a positive number, got "${String(v)}"`);
  return Math.floor(n);
}
