// `bench --mode fanout`: one job to every connected miner, last − first receipt per broadcast, for the relay and then for a bare-listener floor in the same run; no relay logic.
import { spawn, type ChildProcess } from "node:child_process";
import { createLoad, type Load } from "../../loadgen/load_client.ts";
import { fetchText, freePort } from "../../loadgen/relay_child.ts";
import { histogramFigures, parsePromHistogram, roundSummary, summarize, type Summary } from "../../loadgen/stats.ts";
import { TARGETS, type Ctx, sleep, r3, fmtInt, verdict, withRelay, openAll, selfCommand } from "./common.ts";

/** What one side (relay or floor) measured. */
export interface SpreadRun {
  connections: number;
  ready: number;
  broadcasts: number;
  incompleteBroadcasts: number;
  /** Client side: last − first receipt of one clean job across all connections, ms. */
  spreadMs: Summary;
}

export interface FanoutFigures extends SpreadRun {
  blockIntervalSeconds: number;
  relayFanout: { count: number; meanMs: number; p50BoundMs: number; p99BoundMs: number } | null;
  /**
   * The floor: a bare listener on the same runtime (`bench --mode fanout-floor`, one process per relay
   * session thread, sharing the port) writing a notify of the same size to the same number of sockets,
   * measured by the same client right after the relay. null when it could not be run.
   */
  floor: FloorRun | null;
  /** relay / floor, from the client-side spreads (goal: p99 ≤ TARGETS.fanoutFloorRatio). */
  ratio: { p50: number; p99: number } | null;
}

const INTERVAL_S = 2;
// 25 so the p99 is not just the single worst of a dozen (one slow timer wake-up decided the ratio at 12).
const WANT_BROADCASTS = 25;

/** Records clean jobs until WANT_BROADCASTS reached every ready connection (or the time is up). */
async function measureSpreads(load: Load, n: number, ready: number, seconds: number | undefined): Promise<SpreadRun> {
  const perJob = new Map<string, { first: number; last: number; count: number }>();
  const order: string[] = [];
  let recording = true;
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
  try {
    const maxSeconds = Math.max(seconds ?? 0, INTERVAL_S * (WANT_BROADCASTS + 2) + 2);
    const t0 = performance.now();
    const complete = () => order.filter((id) => perJob.get(id)!.count >= ready).length;
    while (performance.now() - t0 < maxSeconds * 1000) {
      await sleep(250);
      if (complete() >= WANT_BROADCASTS && (seconds === undefined || performance.now() - t0 >= seconds * 1000)) break;
    }
    // Let the last broadcast finish arriving.
    await sleep(500);
  } finally {
    recording = false;
    load.onNotify = undefined;
  }
  const spreads: number[] = [];
  let incomplete = 0;
  // The first job seen may have started arriving before recording did: only whole broadcasts count.
  for (const id of order) {
    const r = perJob.get(id)!;
    if (r.count >= ready) spreads.push(r.last - r.first);
    else incomplete++;
  }
  return { connections: n, ready, broadcasts: spreads.length, incompleteBroadcasts: incomplete, spreadMs: roundSummary(summarize(spreads)) };
}

function printSpread(label: string, s: SpreadRun): void {
  console.log(`  ${label}: ${s.broadcasts} complete broadcasts (${s.incompleteBroadcasts} partial, dropped)`);
  console.log(`  ${label} client-side spread (last − first receipt) ms: p50 ${s.spreadMs.p50}  p99 ${s.spreadMs.p99}  max ${s.spreadMs.max}`);
}

/** Starts `processes` floor listeners on one port (SO_REUSEPORT when more than one); resolves once all print FLOOR listening. */
export async function startFloor(processes: number, env: Record<string, string> = {}, binary?: string): Promise<{ port: number; stop: () => Promise<void>; writeMs: number[]; pids: number[] }> {
  const port = await freePort();
  const writeMs: number[] = [];
  // `binary`: another copy of this executable (bench --mode baseline runs the floor from the copy it measures).
  const cmd = binary !== undefined ? { cmd: binary, args: [] as string[] } : selfCommand();
  const procs: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once("exit", () => resolve());
      p.kill("SIGKILL");
    })));
  };
  try {
    await Promise.all(Array.from({ length: processes }, () => new Promise<void>((resolve, reject) => {
      const p = spawn(cmd.cmd, [...cmd.args, "bench", "--mode", "fanout-floor", "--target", `127.0.0.1:${port}`], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, BENCH_FLOOR_INTERVAL_MS: String(INTERVAL_S * 1000), BENCH_FLOOR_REUSE_PORT: processes > 1 ? "1" : "0", ...env },
      });
      procs.push(p);
      let out = "";
      const timer = setTimeout(() => reject(new Error(`floor did not start: ${out.trim().slice(-300)}`)), 15_000);
      let partial = "";
      const seen = (d: Buffer) => {
        out += d.toString();
        partial += d.toString();
        const lines = partial.split("\n");
        partial = lines.pop()!;
        for (const l of lines) {
          const m = /^FLOOR wrote \d+ ([\d.]+) ms/.exec(l);
          if (m) writeMs.push(Number(m[1]));
        }
        if (out.length > 65_536) out = out.slice(-4096);
        if (out.includes("FLOOR listening")) {
          clearTimeout(timer);
          resolve();
        }
      };
      p.stdout!.on("data", seen);
      p.stderr!.on("data", (d: Buffer) => (out += d.toString()));
      p.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`floor exited (${code}): ${out.trim().slice(-300)}`));
      });
    })));
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, stop, writeMs, pids: procs.map((p) => p.pid ?? 0) };
}

type FloorRun = SpreadRun & { processes: number; writeLoopMs: Summary };

async function runFloor(ctx: Ctx, n: number, processes: number): Promise<FloorRun> {
  const floor = await startFloor(processes);
  const load = createLoad({ runtime: ctx.runtime, host: "127.0.0.1", port: floor.port, password: "d=1e-12" });
  try {
    const { ready, ms } = await openAll(load, n);
    console.log(`  floor (${processes} bare listener process${processes > 1 ? "es sharing the port" : ""}): ${fmtInt(ready)}/${fmtInt(n)} ready in ${fmtInt(ms)} ms`);
    const from = floor.writeMs.length;
    const s = await measureSpreads(load, n, ready, ctx.seconds);
    const writeLoopMs = roundSummary(summarize(floor.writeMs.slice(from)));
    printSpread("floor", s);
    console.log(`  floor-side write loop (one job to each of its sockets, per process) ms: mean ${writeLoopMs.mean}  p50 ${writeLoopMs.p50}  max ${writeLoopMs.max}`);
    return { ...s, processes, writeLoopMs };
  } finally {
    load.closeAll();
    await floor.stop();
  }
}

export async function runFanout(ctx: Ctx, n: number): Promise<FanoutFigures> {
  console.log(`\n== fanout: ${fmtInt(n)} miners, new devnet block every ${INTERVAL_S} s; then the floor (bare listener, same notify size) ==`);
  const relay = await withRelay(ctx, { "upstream.devnet.blockIntervalSeconds": String(INTERVAL_S) }, async (host, port, child) => {
    const load = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12" });
    try {
      const { ready, ms } = await openAll(load, n);
      console.log(`  relay: ${fmtInt(ready)}/${fmtInt(n)} ready in ${fmtInt(ms)} ms`);
      const metricsUrl = child ? `http://127.0.0.1:${child.httpPort}/metrics` : undefined;
      const name = "stratum_edge_notify_fanout_seconds";
      const h0text = metricsUrl ? await fetchText(metricsUrl) : undefined;
      const h0 = h0text ? parsePromHistogram(h0text, name) : undefined;
      const s = await measureSpreads(load, n, ready, ctx.seconds);
      const h1text = metricsUrl ? await fetchText(metricsUrl) : undefined;
      const h1 = h1text ? parsePromHistogram(h1text, name) : undefined;
      const relayFanout = h1 ? histogramFigures(h1, h0) : null;
      printSpread("relay", s);
      if (relayFanout) {
        console.log(`  relay-side ${name}: ${relayFanout.count} broadcasts, mean ${relayFanout.meanMs} ms, p50 ≤ ${relayFanout.p50BoundMs} ms, p99 ≤ ${relayFanout.p99BoundMs} ms (histogram bucket bounds)`);
      }
      return { ...s, relayFanout };
    } finally {
      load.closeAll();
    }
  });
  // Give the kernel a moment to tear down the relay's sockets before the floor's arrive.
  await sleep(1000);
  let floor: FanoutFigures["floor"] = null;
  try {
    floor = await runFloor(ctx, n, ctx.threads ?? 1);
  } catch (e) {
    console.log(`  floor FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }
  let ratio: FanoutFigures["ratio"] = null;
  if (floor && floor.broadcasts > 0 && relay.broadcasts > 0 && floor.spreadMs.p50 > 0 && floor.spreadMs.p99 > 0) {
    ratio = { p50: r3(relay.spreadMs.p50 / floor.spreadMs.p50), p99: r3(relay.spreadMs.p99 / floor.spreadMs.p99) };
    console.log(`  relay / floor: p50 ${ratio.p50}×  p99 ${ratio.p99}×   target p99 ≤ ${TARGETS.fanoutFloorRatio}× floor: ${verdict(ratio.p99 <= TARGETS.fanoutFloorRatio)}`);
  }
  console.log(`  (absolute: relay p99 ${relay.spreadMs.p99} ms against issue 2's ${TARGETS.fanoutP99Ms} ms; the floor shows what this machine allows)`);
  return { ...relay, blockIntervalSeconds: INTERVAL_S, floor, ratio };
}
