// `stratum-edge bench`: checks the flags and loads only the chosen mode (the internal floor and abuse-source processes load no load generator, no relay code); the modes are in src/cli/bench/.
import type { Runtime } from "../runtime/types.ts";
import type { Ctx } from "./bench/common.ts";
import { MODES, positiveInt, type Mode } from "./bench/flags.ts";

function parseTarget(t: string): { host: string; port: number } {
  const i = t.lastIndexOf(":");
  const port = Number(t.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--target expects HOST:PORT, got "${t}"`);
  return { host: t.slice(0, i).replace(/^\[|\]$/g, ""), port };
}

export async function runBench(runtime: Runtime, flags: Record<string, string | boolean>): Promise<number> {
  let ctx: Ctx;
  let mode: Mode;
  let shareLogRuns: (boolean | undefined)[] = [undefined];
  try {
    const m = flags.mode ?? "shares";
    if (!(MODES as readonly unknown[]).includes(m)) {
      const shown = MODES.filter((x) => x !== "abuse-source" && x !== "fanout-floor").join("|");
      throw new Error(`--mode expects ${shown}, got "${String(m)}"`);
    }
    mode = m as Mode;
    if (mode === "blocks" && flags.target !== undefined) throw new Error("--mode blocks starts its own relay with a bitcoind upstream (the simulated node in this process); --target is not supported");
    if (mode === "baseline" && flags.target !== undefined) throw new Error("--mode baseline starts the relay binary itself (5 times in each page cache state); --target is not supported");
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
      relayCmd: target || mode === "abuse-source" || mode === "fanout-floor" ? undefined : (await import("../loadgen/relay_child.ts")).resolveRelayCommand(typeof flags.binary === "string" ? flags.binary : undefined),
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
  // The floor is what the relay's figures are divided by: it loads nothing but its listener.
  if (mode === "fanout-floor") return (await import("./bench/fanout_floor.ts")).runFanoutFloor(ctx);
  if (mode === "abuse-source") return (await import("./bench/abuse.ts")).runAbuseSource(ctx);
  return (await import("./bench/run_modes.ts")).runModes(runtime, ctx, mode, flags, shareLogRuns);
}
