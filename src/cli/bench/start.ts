// `bench` start figure: spawn → first accepted TCP connect on the Stratum port, over several spawns; no relay logic.
import { rmSync } from "node:fs";
import { startRelay } from "../../loadgen/relay_child.ts";
import { spawn } from "node:child_process";
import { roundSummary, summarize, type Summary } from "../../loadgen/stats.ts";
import { TARGETS, type Ctx, baseSets, verdict, tmpDataDir } from "./common.ts";

export interface StartFigures {
  trials: number;
  ms: Summary;
}

export async function runStart(ctx: Ctx, trials: number): Promise<StartFigures> {
  console.log(`\n== start: spawn → Stratum port accepts (${trials} trials, ${ctx.relayCmd!.label}) ==`);
  const times: number[] = [];
  for (let i = 0; i < trials; i++) {
    const child = await startRelay(ctx.relayCmd!, baseSets(tmpDataDir(), ctx.threads));
    times.push(child.startMs);
    await child.stop();
    rmSync(tmpDataDir(), { recursive: true, force: true });
  }
  const s = roundSummary(summarize(times));
  console.log(`  ms: min ${s.min}  median ${s.p50}  max ${s.max}   target ≤ ${TARGETS.startMs} ms: ${verdict(s.p50 <= TARGETS.startMs)}`);
  return { trials, ms: s };
}

// ---------------------------------------------------------------- abuse

/** Abusive connections per second and their source; env overrides because the CLI's flag set is fixed in args.ts. */
