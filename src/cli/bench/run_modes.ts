// The measuring modes of `stratum-edge bench` (shares, idle, fanout, all, abuse, blocks): drive a relay (a child process, or --target) with load connections and print figures against the targets; no relay logic, no flag parsing (src/cli/bench.ts).
import type { Runtime } from "../../runtime/types.ts";
import { runBlocksBench } from "../../loadgen/blocks_bench.ts";
import { TARGETS, type Mode, type Ctx, baseSets, tmpDataDir, fmtInt, verdict } from "./common.ts";
import { runShares, type SharesFigures } from "./shares.ts";
import { runIdle } from "./idle.ts";
import { runFanout } from "./fanout.ts";
import { runStart } from "./start.ts";
import { runAbuseBench } from "./abuse.ts";
import { runBaseline } from "./baseline.ts";
import { positiveInt } from "./flags.ts";

/**
 * What turning the share log on cost: shares/s lost (percent of the log-off figure), p99 added, and
 * relay CPU per share both ways (steadier than shares/s when other processes share the cores).
 */
function shareLogCost(off: SharesFigures, on: SharesFigures): { throughputCostPercent: number; p99AddedMs: number; relayCpuUsPerShare: { off: number | null; on: number | null } } {
  const pct = off.sharesPerSecond > 0 ? ((off.sharesPerSecond - on.sharesPerSecond) / off.sharesPerSecond) * 100 : 0;
  const us = (f: SharesFigures) => (f.relayCpuPercent === null || f.sharesPerSecond === 0 ? null : Math.round((f.relayCpuPercent / 100 / f.sharesPerSecond) * 1e7) / 10);
  return { throughputCostPercent: Math.round(pct * 10) / 10, p99AddedMs: Math.round((on.latencyMs.p99 - off.latencyMs.p99) * 100) / 100, relayCpuUsPerShare: { off: us(off), on: us(on) } };
}

/** Runs the measuring `mode` with flags already checked by bench.ts; returns the exit code. */
export async function runModes(runtime: Runtime, ctx: Ctx, mode: Mode, flags: Record<string, string | boolean>, shareLogRuns: (boolean | undefined)[]): Promise<number> {
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
  if (mode === "baseline") await step("baseline", () => runBaseline(ctx, 5));
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
