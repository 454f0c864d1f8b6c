// What every bench mode shares: targets, the relay child and its settings, rounding and CPU readings; no measurement of its own.
import { readFileSync, rmSync } from "node:fs";
import type { Runtime } from "../../runtime/types.ts";
import type { Load } from "../../loadgen/load_client.ts";
import { fetchText, readCpuSeconds, resolveRelayCommand, startRelay, tryConnect, type RelayChild, type RelayCommand } from "../../loadgen/relay_child.ts";
import { BENCH_TLS, tlsRelaySetup } from "./tls.ts";

/** The figures README promises; printed next to each measurement. */
export const TARGETS = {
  sharesPerSecond: 60_000,
  idleRssMbPer1k: 2,
  fanoutP99Ms: 60,
  /** Fan-out spread p99 over the bare-listener floor's, same run (issue 13). */
  fanoutFloorRatio: 1.25,
  startMs: 50,
  /** Honest miner's p99 share latency while 1,000 abusive connections/s are refused, over its quiet p99 (issue 4). */
  abuseP99Ratio: 2,
  /** Relay RSS before the first miner, Bitcoin-only edge (issue 14). */
  baselineRssMb: 40,
  /** Shares/s lost by turning the share log on, percent of the log-off figure (issue 10). */
  shareLogCostPercent: 30,
} as const;

export type { Mode } from "./flags.ts";

export interface Ctx {
  runtime: Runtime;
  relayCmd: RelayCommand | undefined;
  target: { host: string; port: number } | undefined;
  seconds: number | undefined;
  connections: number | undefined;
  /** stratum.threads for the relay under test (--threads; default: the relay's own default, 1). */
  threads: number | undefined;
  /** --tls: the miners dial TLS (a [[listeners]] port with a throw-away certificate, or --target's TLS port). */
  tls: boolean;
  /** store.redis.url for the relay under test (--redis): measures share publishing to Redis. */
  redis?: string | undefined;
}

/** The load generator's TLS options for this run (spread into createLoad). */
export const loadTls = (ctx: Ctx) => (ctx.tls ? { tls: BENCH_TLS } : {});

/** Base overrides for a relay under load: fixed tiny difficulty allowed, room for 10k+ miners, quiet logs. */
export function baseSets(dataDir: string, threads: number | undefined): Record<string, string> {
  return {
    ...(threads !== undefined ? { "stratum.threads": String(threads) } : {}),
    "difficulty.min": "1e-12",
    "difficulty.suggestFloor": "1e-12",
    "difficulty.initial": "1e-12",
    "stratum.maxConnections": "30000",
    // The load generator submits far faster than any miner, from one address.
    "stratum.maxMessagesPerSecond": "1000000",
    "stratum.messageBurst": "1000000",
    "bans.enabled": "false",
    "log.level": "warn",
    dataDir,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const r1 = (x: number) => Math.round(x * 10) / 10;
export const r3 = (x: number) => Math.round(x * 1000) / 1000;
export const fmtInt = (x: number) => Math.round(x).toLocaleString("en-US");
export const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

export function cpuSelf(): number {
  return readCpuSeconds(process.pid) ?? (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
}

/** Busy and total jiffies over all CPUs from /proc/stat (busy includes irq/softirq: loopback TCP is paid there). */
export function systemCpu(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

export function tmpDataDir(): string {
  const base = process.env.TMPDIR || "/tmp";
  return `${base}/stratum-edge-bench-${process.pid}`;
}

/**
 * How to run this very program again. A `bun build --compile --format=cjs` binary has argv[1] under
 * /$bunfs/ (checked on Bun 1.4.5) while its import.meta.url is the build-time source path, so
 * resolveRelayCommand("self") alone would run the binary with a source path as its command.
 */
export function selfCommand(): RelayCommand {
  const script = process.argv[1] ?? "";
  if (script.startsWith("/$bunfs/") || script.includes("~BUN")) return { cmd: process.execPath, args: [], label: process.execPath };
  return resolveRelayCommand("self");
}

export async function withRelay<T>(ctx: Ctx, extra: Record<string, string>, fn: (host: string, port: number, child: RelayChild | undefined) => Promise<T>): Promise<T> {
  if (ctx.target) return fn(ctx.target.host, ctx.target.port, undefined);
  const tls = ctx.tls ? await tlsRelaySetup(ctx.relayCmd!) : undefined;
  const cmd = tls?.cmd ?? ctx.relayCmd!;
  const child = await startRelay(cmd, { ...baseSets(tmpDataDir(), ctx.threads), ...(ctx.redis !== undefined ? { "store.redis.url": ctx.redis } : {}), ...extra });
  const port = tls?.port ?? child.stratumPort;
  // startRelay waits for the main port; the [[listeners]] port is bound just after it.
  for (let i = 0; tls !== undefined && i < 500 && !(await tryConnect("127.0.0.1", port)); i++) await sleep(10);
  console.log(`  relay pid ${child.pid} (${cmd.label}) listening on :${port} after ${r1(child.startMs)} ms`);
  try {
    return await fn("127.0.0.1", port, child);
  } finally {
    tls?.cleanup();
    await child.stop();
    rmSync(tmpDataDir(), { recursive: true, force: true });
    const warn = child.output().trim();
    if (warn) console.log(`  relay output (tail):\n    ${warn.split("\n").slice(-8).join("\n    ")}`);
  }
}

export async function openAll(load: Load, n: number): Promise<{ ready: number; ms: number }> {
  const t0 = performance.now();
  await load.open(n, 256);
  const ready = await load.waitReady(n - load.counters.connectFailures, 60_000);
  return { ready, ms: performance.now() - t0 };
}

export async function relayStats(child: RelayChild | undefined): Promise<{ accepted: number; rejected: number; rejectedByReason: Record<string, number> } | undefined> {
  if (!child) return undefined;
  const t = await fetchText(`http://127.0.0.1:${child.httpPort}/api/stats`);
  if (t === undefined) return undefined;
  try {
    const p = (JSON.parse(t) as { pool?: { accepted?: number; rejected?: number; rejectedByReason?: Record<string, number> } }).pool;
    if (!p || typeof p.accepted !== "number") return undefined;
    return { accepted: p.accepted, rejected: p.rejected ?? 0, rejectedByReason: p.rejectedByReason ?? {} };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- shares
