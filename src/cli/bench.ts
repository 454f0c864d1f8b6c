// `stratum-edge bench`: drives a relay (a child process, or --target) with load connections and prints figures against the targets; no relay logic.
import type { Runtime } from "../runtime/types.ts";
import { resolveRelayCommand } from "../loadgen/relay_child.ts";
import { runBlocksBench } from "../loadgen/blocks_bench.ts";
import { TARGETS, type Mode, type Ctx, baseSets, tmpDataDir, fmtInt, verdict } from "./bench/common.ts";
import { runShares, type SharesFigures } from "./bench/shares.ts";
import { runIdle } from "./bench/idle.ts";
import { runFanout } from "./bench/fanout.ts";
import { runFanoutFloor } from "./bench/fanout_floor.ts";
import { runStart } from "./bench/start.ts";
import { runAbuseSource, runAbuseBench } from "./bench/abuse.ts";

export { TARGETS } from "./bench/common.ts";
export type { SharesFigures } from "./bench/shares.ts";
export type { IdleFigures } from "./bench/idle.ts";
export type { FanoutFigures } from "./bench/fanout.ts";
export type { StartFigures } from "./bench/start.ts";
export type { AbuseFigures } from "./bench/abuse.ts";

/**
 * What turning the share log on cost: shares/s lost (percent of the log-off figure), p99 added, and
 * relay CPU per share both ways (steadier than shares/s when other processes share the cores).
 */
function shareLogCost(off: SharesFigures, on: SharesFigures): { throughputCostPercent: number; p99AddedMs: number; relayCpuUsPerShare: { off: number | null; on: number | null } } {
  const pct = off.sharesPerSecond > 0 ? ((off.sharesPerSecond - on.sharesPerSecond) / off.sharesPerSecond) * 100 : 0;
  const us = (f: SharesFigures) => (f.relayCpuPercent === null || f.sharesPerSecond === 0 ? null : Math.round((f.relayCpuPercent / 100 / f.sharesPerSecond) * 1e7) / 10);
  return { throughputCostPercent: Math.round(pct * 10) / 10, p99AddedMs: Math.round((on.latencyMs.p99 - off.latencyMs.p99) * 100) / 100, relayCpuUsPerShare: { off: us(off), on: us(on) } };
}

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
  let shareLogRuns: (boolean | undefined)[] = [undefined];
  try {
    const m = flags.mode ?? "shares";
    // abuse-source and fanout-floor are internal: the processes that --mode abuse and --mode fanout spawn.
    if (m !== "shares" && m !== "idle" && m !== "fanout" && m !== "all" && m !== "abuse" && m !== "abuse-source" && m !== "fanout-floor" && m !== "blocks") {
      throw new Error(`--mode expects shares|idle|fanout|all|abuse|blocks, got "${String(m)}"`);
    }
    mode = m;
    if (mode === "blocks" && flags.target !== undefined) throw new Error("--mode blocks starts its own relay with a bitcoind upstream (the simulated node in this process); --target is not supported");
    if (mode === "abuse" && flags.target !== undefined) throw new Error("--mode abuse starts its own relay (bans on, bans.maxMalformed=1) and reads its /metrics; --target is not supported");
    if ((mode === "abuse-source" || mode === "fanout-floor") && typeof flags.target !== "string") throw new Error(`--mode ${mode} needs --target HOST:PORT`);
    const target = typeof flags.target === "string" ? parseTarget(flags.target) : undefined;
    const tls = flags.tls === true;
    if (tls && mode !== "shares" && mode !== "idle") throw new Error(`--tls is for --mode shares and --mode idle (TLS vs plain cost per share and per idle miner), not ${mode}`);
    if (flags.redis !== undefined && (typeof flags.redis !== "string" || !/^rediss?:\/\//.test(flags.redis))) throw new Error(`--redis expects redis://HOST:PORT, got "${String(flags.redis)}"`);
    if (flags.redis !== undefined && target !== undefined) throw new Error("--redis configures the relay the bench starts; with --target configure store.redis.url on that relay");
    const sl = flags["share-log"] ?? "default";
    if (sl !== "default" && sl !== "on" && sl !== "off" && sl !== "both") throw new Error(`--share-log expects on|off|both, got "${String(sl)}"`);
    if (sl !== "default" && flags.target !== undefined) throw new Error("--share-log configures the relay the bench starts; with --target, configure that relay's store.shareLog yourself");
    shareLogRuns = sl === "both" ? [false, true] : sl === "on" ? [true] : sl === "off" ? [false] : [undefined];
    ctx = {
      runtime,
      target,
      relayCmd: target || mode === "abuse-source" || mode === "fanout-floor" ? undefined : resolveRelayCommand(typeof flags.binary === "string" ? flags.binary : undefined),
      seconds: positiveInt(flags.seconds, "--seconds"),
      connections: positiveInt(flags.connections, "--connections"),
      threads: positiveInt(flags.threads, "--threads"),
      tls,
      ...(typeof flags.redis === "string" ? { redis: flags.redis } : {}),
    };
  } catch (e) {
    console.error(`stratum-edge bench: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
  if (mode === "abuse-source") return runAbuseSource(ctx);
  if (mode === "fanout-floor") return runFanoutFloor(ctx);
  const figures: Record<string, unknown> = {
    runtime: runtime.name,
    relay: ctx.target ? `${ctx.target.host}:${ctx.target.port}` : ctx.relayCmd!.label,
    transport: ctx.tls ? "tls" : "tcp",
    cpus: (await import("node:os")).cpus().length,
    ...(ctx.redis !== undefined ? { redis: ctx.redis } : {}),
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
      const runs: SharesFigures[] = [];
      for (const log of shareLogRuns) {
        try {
          const f = await runShares(ctx, n, log);
          runs.push(f);
          out.push(f);
        } catch (e) {
          failed = true;
          const msg = e instanceof Error ? e.message : String(e);
          console.log(`  shares ${n} FAILED: ${msg}`);
          out.push({ connections: n, error: msg });
        }
      }
      const [off, on] = runs;
      if (runs.length === 2 && off !== undefined && on !== undefined) {
        const cost = shareLogCost(off, on);
        console.log(`\n  share log cost at ${fmtInt(n)} connections: shares/s ${fmtInt(off.sharesPerSecond)} off → ${fmtInt(on.sharesPerSecond)} on (${cost.throughputCostPercent}% less, target ≤ ${TARGETS.shareLogCostPercent}%: ${verdict(cost.throughputCostPercent <= TARGETS.shareLogCostPercent)}); p99 submit→reply ${off.latencyMs.p99} → ${on.latencyMs.p99} ms; relay CPU per share ${cost.relayCpuUsPerShare.off ?? "n/a"} → ${cost.relayCpuUsPerShare.on ?? "n/a"} µs`);
        out.push({ connections: n, shareLogCost: cost });
      }
    }
    figures.shares = out;
  }
  if (mode === "idle" || mode === "all") {
    // --share-log on|off|both: the idle figure with and without the log's writer thread.
    for (const log of shareLogRuns) await step(log === undefined ? "idle" : `idle-share-log-${log ? "on" : "off"}`, () => runIdle(ctx, ctx.connections ?? 10000, log));
  }
  if (mode === "fanout" || mode === "all") await step("fanout", () => runFanout(ctx, ctx.connections ?? 10000));
  if (mode === "abuse") await step("abuse", () => runAbuseBench(ctx));
  if (mode === "blocks") {
    const miners = positiveInt(flags.miners, "--miners");
    await step("blocks", () =>
      runBlocksBench({
        runtime,
        relayCmd: ctx.relayCmd!,
        sets: baseSets(tmpDataDir(), ctx.threads),
        dataDir: tmpDataDir(),
        ...(miners !== undefined ? { miners } : {}),
        ...(ctx.connections !== undefined ? { connections: ctx.connections } : {}),
      }));
  }
  console.log("\n" + JSON.stringify({ bench: figures }));
  return failed ? 1 : 0;
}
