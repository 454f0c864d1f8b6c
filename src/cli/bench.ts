// `stratum-edge bench`: drives a relay (a child process, or --target) with load connections and prints figures against the targets; no relay logic.
import { readFileSync, rmSync } from "node:fs";
import type { Runtime } from "../runtime/types.ts";
import { createLoad, type Load } from "../bench/load_client.ts";
import { fetchText, readCpuSeconds, readRss, resolveRelayCommand, startRelay, type RelayChild, type RelayCommand } from "../bench/relay_child.ts";
import { histogramDelta, histogramPercentileBound, parsePromHistogram, summarize, summarizeSorted, type Summary } from "../bench/stats.ts";

/** The figures README promises; printed next to each measurement. */
export const TARGETS = {
  sharesPerSecond: 60_000,
  idleRssMbPer1k: 2,
  fanoutP99Ms: 60,
  startMs: 50,
} as const;

type Mode = "shares" | "idle" | "fanout" | "all";

interface Ctx {
  runtime: Runtime;
  relayCmd: RelayCommand | undefined;
  target: { host: string; port: number } | undefined;
  seconds: number | undefined;
  connections: number | undefined;
}

/** Base overrides for a relay under load: fixed tiny difficulty allowed, room for 10k+ miners, quiet logs. */
function baseSets(dataDir: string): Record<string, string> {
  return {
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

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const fmtInt = (x: number) => Math.round(x).toLocaleString("en-US");
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");

function cpuSelf(): number {
  return readCpuSeconds(process.pid) ?? (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
}

/** Busy and total jiffies over all CPUs from /proc/stat (busy includes irq/softirq: loopback TCP is paid there). */
function systemCpu(): { busy: number; total: number } | undefined {
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

function tmpDataDir(): string {
  const base = process.env.TMPDIR || "/tmp";
  return `${base}/stratum-edge-bench-${process.pid}`;
}

async function withRelay<T>(ctx: Ctx, extra: Record<string, string>, fn: (host: string, port: number, child: RelayChild | undefined) => Promise<T>): Promise<T> {
  if (ctx.target) return fn(ctx.target.host, ctx.target.port, undefined);
  const child = await startRelay(ctx.relayCmd!, { ...baseSets(tmpDataDir()), ...extra });
  console.log(`  relay pid ${child.pid} (${ctx.relayCmd!.label}) listening on :${child.stratumPort} after ${r1(child.startMs)} ms`);
  try {
    return await fn("127.0.0.1", child.stratumPort, child);
  } finally {
    await child.stop();
    rmSync(tmpDataDir(), { recursive: true, force: true });
    const warn = child.output().trim();
    if (warn) console.log(`  relay output (tail):\n    ${warn.split("\n").slice(-8).join("\n    ")}`);
  }
}

async function openAll(load: Load, n: number): Promise<{ ready: number; ms: number }> {
  const t0 = performance.now();
  await load.open(n, 256);
  const ready = await load.waitReady(n - load.counters.connectFailures, 60_000);
  return { ready, ms: performance.now() - t0 };
}

async function relayStats(child: RelayChild | undefined): Promise<{ accepted: number; rejected: number; rejectedByReason: Record<string, number> } | undefined> {
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

export interface SharesFigures {
  connections: number;
  ready: number;
  window: number;
  warmupSeconds: number;
  measuredSeconds: number;
  sharesPerSecond: number;
  relayCountedPerSecond: number | null;
  latencyMs: Summary;
  submitted: number;
  accepted: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  relayRejectedByReason: Record<string, number> | null;
  closedByPeer: number;
  connectMs: number;
  relayCpuPercent: number | null;
  loadCpuPercent: number;
  /** All CPUs, including kernel time not charged to either process. */
  machineBusyPercent: number | null;
}

function defaultWindow(n: number): number {
  const env = Number(process.env.BENCH_WINDOW);
  if (Number.isInteger(env) && env > 0) return env;
  // 4 per connection keeps every pipe full; with many connections latency is then mostly queueing
  // (Little's law: latency ≈ submits in flight / rate). BENCH_WINDOW=1 gives the one-at-a-time pattern.
  void n;
  return 4;
}

async function runShares(ctx: Ctx, n: number): Promise<SharesFigures> {
  console.log(`\n== shares: ${fmtInt(n)} connections, distinct valid shares (password d=1e-12) ==`);
  // No new blocks during the run: blockInterval 1 h, and nBits 1d00ffff (difficulty 1) so a share is a block
  // with odds 2^-32 instead of 2^-20 at the devnet default (a block every ~17 s at 60k shares/s would flush jobs).
  const extra = { "upstream.devnet.blockIntervalSeconds": "3600", "upstream.devnet.bits": "1d00ffff" };
  return withRelay(ctx, extra, async (host, port, child) => {
    const load = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12" });
    try {
      const { ready, ms } = await openAll(load, n);
      console.log(`  ${fmtInt(ready)}/${fmtInt(n)} connections subscribed+authorized+notified in ${fmtInt(ms)} ms (connect failures ${load.counters.connectFailures})`);
      if (ready === 0) throw new Error("no connection became ready");
      const window = defaultWindow(n);
      const warmup = n >= 5000 ? 3 : 2;
      const seconds = ctx.seconds ?? 10;
      load.startSubmitting(window);
      await sleep(warmup * 1000);
      const a0 = load.counters.accepted;
      const s0 = await relayStats(child);
      const t0 = performance.now();
      const rc0 = child ? readCpuSeconds(child.pid) : undefined;
      const lc0 = cpuSelf();
      const sc0 = systemCpu();
      load.measuring = true;
      await sleep(seconds * 1000);
      load.measuring = false;
      const t1 = performance.now();
      const a1 = load.counters.accepted;
      const rc1 = child ? readCpuSeconds(child.pid) : undefined;
      const lc1 = cpuSelf();
      const sc1 = systemCpu();
      const s1 = await relayStats(child);
      const elapsed = (t1 - t0) / 1000;
      load.stopSubmitting();
      await sleep(500);
      const lat = summarizeSorted(load.latencies.sorted());
      const c = load.counters;
      const relayRate = s0 && s1 ? (s1.accepted - s0.accepted) / elapsed : null;
      const fig: SharesFigures = {
        connections: n,
        ready,
        window,
        warmupSeconds: warmup,
        measuredSeconds: r3(elapsed),
        sharesPerSecond: Math.round((a1 - a0) / elapsed),
        relayCountedPerSecond: relayRate === null ? null : Math.round(relayRate),
        latencyMs: roundSummary(lat),
        submitted: c.submitted,
        accepted: c.accepted,
        rejected: c.rejected,
        rejectedByCode: c.rejectedByCode,
        relayRejectedByReason: s1 ? s1.rejectedByReason : null,
        closedByPeer: c.closedByPeer,
        connectMs: Math.round(ms),
        relayCpuPercent: rc0 !== undefined && rc1 !== undefined ? Math.round(((rc1 - rc0) / elapsed) * 100) : null,
        loadCpuPercent: Math.round(((lc1 - lc0) / elapsed) * 100),
        machineBusyPercent: sc0 && sc1 && sc1.total > sc0.total ? Math.round(((sc1.busy - sc0.busy) / (sc1.total - sc0.total)) * 100) : null,
      };
      console.log(`  window ${window} submits/connection, warm-up ${warmup} s, measured ${r1(elapsed)} s`);
      console.log(`  valid shares/s: ${fmtInt(fig.sharesPerSecond)} (relay counted ${fig.relayCountedPerSecond === null ? "n/a" : fmtInt(fig.relayCountedPerSecond)})   target ≥ ${fmtInt(TARGETS.sharesPerSecond)}: ${verdict(fig.sharesPerSecond >= TARGETS.sharesPerSecond)}`);
      console.log(`  submit→reply latency ms: p50 ${lat.p50.toFixed(2)}  p99 ${lat.p99.toFixed(2)}  max ${lat.max.toFixed(2)}  (${fmtInt(lat.count)} samples)`);
      console.log(`  replies: ${fmtInt(c.accepted)} true, ${fmtInt(c.rejected)} other ${JSON.stringify(c.rejectedByCode)}; relay rejects by reason ${JSON.stringify(fig.relayRejectedByReason)}; closed by relay ${c.closedByPeer}`);
      console.log(`  CPU during measurement: relay ${fig.relayCpuPercent ?? "n/a"}%, load generator ${fig.loadCpuPercent}% (100% = one core); whole machine ${fig.machineBusyPercent ?? "n/a"}% busy`);
      return fig;
    } finally {
      load.closeAll();
    }
  });
}

function roundSummary(s: Summary): Summary {
  return { count: s.count, min: r3(s.min), p50: r3(s.p50), p90: r3(s.p90), p99: r3(s.p99), max: r3(s.max), mean: r3(s.mean) };
}

// ---------------------------------------------------------------- idle

export interface IdleFigures {
  connections: number;
  ready: number;
  rssBeforeMb: number | null;
  rssAfterMb: number | null;
  mbPer1k: number | null;
  connectMs: number;
}

async function runIdle(ctx: Ctx, n: number): Promise<IdleFigures> {
  console.log(`\n== idle: ${fmtInt(n)} subscribed+authorized connections, relay RSS ==`);
  return withRelay(ctx, {}, async (host, port, child) => {
    const load = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12" });
    try {
      await sleep(1000);
      const before = child ? readRss(child.pid) : undefined;
      const { ready, ms } = await openAll(load, n);
      // Let allocation settle (handshake garbage collected) before reading.
      await sleep(3000);
      const after = child ? readRss(child.pid) : undefined;
      const mb = (b: number | undefined) => (b === undefined ? null : r1(b / 1048576));
      const per1k = before !== undefined && after !== undefined && ready > 0 ? r3(((after - before) / ready) * 1000 / 1048576) : null;
      console.log(`  ${fmtInt(ready)}/${fmtInt(n)} ready in ${fmtInt(ms)} ms; relay VmRSS ${mb(before) ?? "n/a"} MB → ${mb(after) ?? "n/a"} MB`);
      console.log(`  RSS per 1k idle miners: ${per1k ?? "n/a"} MB   target ≤ ${TARGETS.idleRssMbPer1k} MB: ${per1k === null ? "n/a" : verdict(per1k <= TARGETS.idleRssMbPer1k)}`);
      return { connections: n, ready, rssBeforeMb: mb(before), rssAfterMb: mb(after), mbPer1k: per1k, connectMs: Math.round(ms) };
    } finally {
      load.closeAll();
    }
  });
}

// ---------------------------------------------------------------- fanout

export interface FanoutFigures {
  connections: number;
  ready: number;
  blockIntervalSeconds: number;
  broadcasts: number;
  incompleteBroadcasts: number;
  /** Client side: last − first receipt of one clean job across all connections, ms. */
  spreadMs: Summary;
  relayFanout: { count: number; meanMs: number; p50BoundMs: number; p99BoundMs: number } | null;
}

async function runFanout(ctx: Ctx, n: number): Promise<FanoutFigures> {
  const interval = 2;
  const wantBroadcasts = 12;
  console.log(`\n== fanout: ${fmtInt(n)} miners, new devnet block every ${interval} s ==`);
  return withRelay(ctx, { "upstream.devnet.blockIntervalSeconds": String(interval) }, async (host, port, child) => {
    const load = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12" });
    try {
      const { ready, ms } = await openAll(load, n);
      console.log(`  ${fmtInt(ready)}/${fmtInt(n)} ready in ${fmtInt(ms)} ms`);
      const perJob = new Map<string, { first: number; last: number; count: number }>();
      const order: string[] = [];
      let recording = false;
      load.onNotify = (_i, info, t) => {
        if (!recording || !info.clean) return;
        let r = perJob.get(info.jobId);
        if (r === undefined) {
          r = { first: t, last: t, count: 0 };
          perJob.set(info.jobId, r);
          order.push(info.jobId);
        }
        if (t < r.first) r.first = t;
        if (t > r.last) r.last = t;
        r.count++;
      };
      const metricsUrl = child ? `http://127.0.0.1:${child.httpPort}/metrics` : undefined;
      const name = "stratum_edge_notify_fanout_seconds";
      const h0text = metricsUrl ? await fetchText(metricsUrl) : undefined;
      const h0 = h0text ? parsePromHistogram(h0text, name) : undefined;
      recording = true;
      const maxSeconds = Math.max(ctx.seconds ?? 0, interval * (wantBroadcasts + 2) + 2);
      const t0 = performance.now();
      const complete = () => order.filter((id) => perJob.get(id)!.count >= ready).length;
      while (performance.now() - t0 < maxSeconds * 1000) {
        await sleep(250);
        if (complete() >= wantBroadcasts && (ctx.seconds === undefined || performance.now() - t0 >= ctx.seconds * 1000)) break;
      }
      // Let the last broadcast finish arriving.
      await sleep(500);
      recording = false;
      const h1text = metricsUrl ? await fetchText(metricsUrl) : undefined;
      const h1 = h1text ? parsePromHistogram(h1text, name) : undefined;
      const spreads: number[] = [];
      let incomplete = 0;
      for (const id of order) {
        const r = perJob.get(id)!;
        if (r.count >= ready) spreads.push(r.last - r.first);
        else incomplete++;
      }
      const spread = roundSummary(summarize(spreads));
      let relayFanout: FanoutFigures["relayFanout"] = null;
      if (h1) {
        const d = histogramDelta(h1, h0);
        relayFanout = {
          count: d.count,
          meanMs: d.count > 0 ? r3((d.sum / d.count) * 1000) : Number.NaN,
          p50BoundMs: histogramPercentileBound(d, 50) * 1000,
          p99BoundMs: histogramPercentileBound(d, 99) * 1000,
        };
      }
      console.log(`  ${spreads.length} complete broadcasts (${incomplete} partial, dropped)`);
      console.log(`  client-side spread (last − first receipt) ms: p50 ${spread.p50}  p99 ${spread.p99}  max ${spread.max}   target p99 ≤ ${TARGETS.fanoutP99Ms} ms: ${spreads.length ? verdict(spread.p99 <= TARGETS.fanoutP99Ms) : "n/a"}`);
      if (relayFanout) {
        console.log(`  relay-side ${name}: ${relayFanout.count} broadcasts, mean ${relayFanout.meanMs} ms, p50 ≤ ${relayFanout.p50BoundMs} ms, p99 ≤ ${relayFanout.p99BoundMs} ms (histogram bucket bounds)`);
      }
      return { connections: n, ready, blockIntervalSeconds: interval, broadcasts: spreads.length, incompleteBroadcasts: incomplete, spreadMs: spread, relayFanout };
    } finally {
      load.onNotify = undefined;
      load.closeAll();
    }
  });
}

// ---------------------------------------------------------------- start

export interface StartFigures {
  trials: number;
  ms: Summary;
}

async function runStart(ctx: Ctx, trials: number): Promise<StartFigures> {
  console.log(`\n== start: spawn → Stratum port accepts (${trials} trials, ${ctx.relayCmd!.label}) ==`);
  const times: number[] = [];
  for (let i = 0; i < trials; i++) {
    const child = await startRelay(ctx.relayCmd!, baseSets(tmpDataDir()));
    times.push(child.startMs);
    await child.stop();
    rmSync(tmpDataDir(), { recursive: true, force: true });
  }
  const s = roundSummary(summarize(times));
  console.log(`  ms: min ${s.min}  median ${s.p50}  max ${s.max}   target ≤ ${TARGETS.startMs} ms: ${verdict(s.p50 <= TARGETS.startMs)}`);
  return { trials, ms: s };
}

// ---------------------------------------------------------------- entry

function parseTarget(t: string): { host: string; port: number } {
  const i = t.lastIndexOf(":");
  const port = Number(t.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--target expects HOST:PORT, got "${t}"`);
  return { host: t.slice(0, i).replace(/^\[|\]$/g, ""), port };
}

function positiveInt(v: string | boolean | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isFinite(n) || n <= 0) throw new Error(`${what} expects a positive number, got "${String(v)}"`);
  return Math.floor(n);
}

export async function runBench(runtime: Runtime, flags: Record<string, string | boolean>): Promise<number> {
  let ctx: Ctx;
  let mode: Mode;
  try {
    const m = flags.mode ?? "shares";
    if (m !== "shares" && m !== "idle" && m !== "fanout" && m !== "all") throw new Error(`--mode expects shares|idle|fanout|all, got "${String(m)}"`);
    mode = m;
    const target = typeof flags.target === "string" ? parseTarget(flags.target) : undefined;
    ctx = {
      runtime,
      target,
      relayCmd: target ? undefined : resolveRelayCommand(typeof flags.binary === "string" ? flags.binary : undefined),
      seconds: positiveInt(flags.seconds, "--seconds"),
      connections: positiveInt(flags.connections, "--connections"),
    };
  } catch (e) {
    console.error(`stratum-edge bench: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  const figures: Record<string, unknown> = {
    runtime: runtime.name,
    relay: ctx.target ? `${ctx.target.host}:${ctx.target.port}` : ctx.relayCmd!.label,
    cpus: (await import("node:os")).cpus().length,
    targets: TARGETS,
  };
  console.log(`stratum-edge bench (load generator on ${runtime.name}, relay: ${figures.relay}, ${figures.cpus} CPUs shared by both)`);
  let failed = false;
  const step = async (name: string, fn: () => Promise<unknown>) => {
    try {
      figures[name] = await fn();
    } catch (e) {
      failed = true;
      const msg = e instanceof Error ? e.message : String(e);
      console.log(`  ${name} FAILED: ${msg}`);
      figures[name] = { error: msg };
    }
  };
  if (mode === "all" && !ctx.target) await step("start", () => runStart(ctx, 5));
  if (mode === "shares" || mode === "all") {
    const counts = ctx.connections !== undefined ? [ctx.connections] : [1000, 10000];
    const out: unknown[] = [];
    for (const n of counts) {
      try {
        out.push(await runShares(ctx, n));
      } catch (e) {
        failed = true;
        const msg = e instanceof Error ? e.message : String(e);
        console.log(`  shares ${n} FAILED: ${msg}`);
        out.push({ connections: n, error: msg });
      }
    }
    figures.shares = out;
  }
  if (mode === "idle" || mode === "all") await step("idle", () => runIdle(ctx, ctx.connections ?? 10000));
  if (mode === "fanout" || mode === "all") await step("fanout", () => runFanout(ctx, ctx.connections ?? 10000));
  console.log("\n" + JSON.stringify({ bench: figures }));
  return failed ? 1 : 0;
}
