// `bench --mode shares`: valid (or, BENCH_REJECT=1, rejected) shares/s and submit→reply latency at N connections, RSS and CPU while loaded, then the same load on a bare-listener floor; no relay logic.
import { createLoad, type Load } from "../../loadgen/load_client.ts";
import { fetchText, readCpuSeconds, readRss, type RelayChild } from "../../loadgen/relay_child.ts";
import { roundSummary, summarizeSorted, type Summary } from "../../loadgen/stats.ts";
import { TARGETS, type Ctx, sleep, r1, r3, fmtInt, verdict, cpuSelf, systemCpu, withRelay, openAll, relayStats, loadTls } from "./common.ts";
import { startFloor } from "./fanout.ts";

export interface SharesFigures {
  connections: number;
  /** store.shareLog of the relay under test (null: its default, or a --target relay). */
  shareLog: boolean | null;
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
  /** Relay VmRSS (MB): before the first miner, with every miner connected, and under load (mean and peak of 4 readings/s). */
  rssMb: RssMb;
  /** Shares fully checked and rejected (BENCH_REJECT=1: the relay's difficulty floor is 1, so every share is hashed and refused as low difficulty). */
  rejectMode: boolean;
  /** BENCH_RATE: the paced submit rate (null: as fast as replies come). */
  pacedPerSecond: number | null;
  /**
   * The same load on a bare listener of the same binary (`bench --mode fanout-floor` answering every
   * submit with a fixed reply, nothing parsed or checked): what the runtime needs for this I/O alone.
   */
  floor: { repliesPerSecond: number; latencyMs: Summary; rssMb: RssMb } | null;
  /** relay / floor RSS, before miners and under load (mean, peak). */
  rssOverFloor: { before: number | null; loadedMean: number | null; loadedPeak: number | null } | null;
  /** --redis: entries the relay wrote to the share stream, what was still buffered when submitting stopped, and how long it took to empty. */
  redis?: { publishedDuringMeasurePerSecond: number; backlogAtStop: number; drainMs: number | null; dropped: number };
}

/** VmRSS (MB): before the first miner, with every miner connected, and under load (mean and peak of 4 readings/s). */
export interface RssMb {
  before: number | null;
  connected: number | null;
  loadedMean: number | null;
  loadedPeak: number | null;
}

const mb = (b: number | undefined) => (b === undefined ? null : r1(b / 1048576));

/** RSS samples of `pid` every 250 ms until stopped: a single reading lands anywhere in the GC cycle. */
function sampleRss(pid: number | undefined): { stop(): { mean: number | null; peak: number | null } } {
  const rss: number[] = [];
  const t = pid === undefined ? undefined : setInterval(() => {
    const v = readRss(pid);
    if (v !== undefined) rss.push(v);
  }, 250);
  return {
    stop() {
      if (t !== undefined) clearInterval(t);
      return rss.length === 0 ? { mean: null, peak: null } : { mean: mb(rss.reduce((a, b) => a + b, 0) / rss.length), peak: mb(Math.max(...rss)) };
    },
  };
}

/** BENCH_RATE=N: submit N shares/s in all (paced) instead of as fast as replies come, for relay and floor alike. */
function pacedRate(): number | undefined {
  const v = Number(process.env.BENCH_RATE);
  return Number.isFinite(v) && v > 0 ? v : undefined;
}

function rejectMode(): boolean {
  return process.env.BENCH_REJECT === "1";
}

/** The floor under the same load: connect n miners, submit with the same window for the same time, sample its RSS. */
async function runFloor(ctx: Ctx, n: number, window: number, warmup: number, seconds: number): Promise<SharesFigures["floor"]> {
  const floor = await startFloor(1, { BENCH_FLOOR_SHARES: rejectMode() ? "reject" : "accept", BENCH_FLOOR_INTERVAL_MS: "3600000" });
  const pid = floor.pids[0];
  const load = createLoad({ runtime: ctx.runtime, host: "127.0.0.1", port: floor.port, password: "d=1e-12" });
  try {
    await sleep(300);
    const before = pid === undefined ? undefined : readRss(pid);
    const { ready } = await openAll(load, n);
    await sleep(500);
    const connected = pid === undefined ? undefined : readRss(pid);
    load.startSubmitting(window, pacedRate());
    await sleep(warmup * 1000);
    const c0 = load.counters.accepted + load.counters.rejected;
    const sampler = sampleRss(pid);
    load.measuring = true;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    load.measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    const rss = sampler.stop();
    const replies = load.counters.accepted + load.counters.rejected - c0;
    load.stopSubmitting();
    const lat = summarizeSorted(load.latencies.sorted());
    const fig = { repliesPerSecond: Math.round(replies / elapsed), latencyMs: roundSummary(lat), rssMb: { before: mb(before), connected: mb(connected), loadedMean: rss.mean, loadedPeak: rss.peak } };
    console.log(`  floor (bare listener, same binary, fixed replies): ${fmtInt(ready)}/${fmtInt(n)} connected; ${fmtInt(fig.repliesPerSecond)} replies/s; latency p50 ${lat.p50.toFixed(2)} p99 ${lat.p99.toFixed(2)} ms`);
    console.log(`  floor RSS MB: before ${fig.rssMb.before ?? "n/a"}, connected ${fig.rssMb.connected ?? "n/a"}, under load mean ${fig.rssMb.loadedMean ?? "n/a"} / peak ${fig.rssMb.loadedPeak ?? "n/a"}`);
    return fig;
  } finally {
    load.closeAll();
    await floor.stop();
  }
}

/** One sample of the relay's /metrics (no labels or exact labels), 0 when absent. */
async function relayMetric(child: RelayChild, name: string, labels = ""): Promise<number> {
  const text = (await fetchText(`http://127.0.0.1:${child.httpPort}/metrics`)) ?? "";
  const key = labels === "" ? `${name} ` : `${name}{${labels}} `;
  const line = text.split("\n").find((l) => l.startsWith(key));
  return line === undefined ? 0 : Number(line.slice(key.length));
}

function defaultWindow(n: number): number {
  const env = Number(process.env.BENCH_WINDOW);
  if (Number.isInteger(env) && env > 0) return env;
  // 4 per connection keeps every pipe full; with many connections latency is then mostly queueing
  // (Little's law: latency ≈ submits in flight / rate). BENCH_WINDOW=1 gives the one-at-a-time pattern.
  void n;
  return 4;
}

/** `shareLog`: store.shareLog for the relay started here (undefined: the relay's default, on). */
export async function runShares(ctx: Ctx, n: number, shareLog?: boolean): Promise<SharesFigures> {
  const logLabel = shareLog === undefined ? "" : `, share log ${shareLog ? "on" : "off"}`;
  console.log(`\n== shares: ${fmtInt(n)} connections${ctx.tls ? " over TLS" : ""}, distinct valid shares (password d=1e-12)${logLabel} ==`);
  // No new blocks during the run: blockInterval 1 h, and nBits 1d00ffff (difficulty 1) so a share is a block
  // with odds 2^-32 instead of 2^-20 at the devnet default (a block every ~17 s at 60k shares/s would flush jobs).
  const extra: Record<string, string> = { "upstream.devnet.blockIntervalSeconds": "3600", "upstream.devnet.bits": "1d00ffff" };
  if (shareLog !== undefined) extra["store.shareLog"] = String(shareLog);
  const reject = rejectMode();
  // Reject mode: the difficulty the miners ask for (d=1e-12) is lifted to 1, so every share is hashed and refused (code 23).
  if (reject) Object.assign(extra, { "difficulty.min": "1", "difficulty.suggestFloor": "1", "difficulty.initial": "1" });
  const window = defaultWindow(n);
  const paced = pacedRate();
  if (paced !== undefined) console.log(`  paced: ${fmtInt(paced)} submits/s in all (BENCH_RATE), at most ${window} outstanding per connection`);
  const warmup = n >= 5000 ? 3 : 2;
  const seconds = ctx.seconds ?? 10;
  const fig = await withRelay(ctx, extra, async (host, port, child) => {
    const load = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12", ...loadTls(ctx) });
    try {
      const rssBefore = child ? readRss(child.pid) : undefined;
      const { ready, ms } = await openAll(load, n);
      await sleep(500);
      const rssConnected = child ? readRss(child.pid) : undefined;
      console.log(`  ${fmtInt(ready)}/${fmtInt(n)} connections subscribed+authorized+notified in ${fmtInt(ms)} ms (connect failures ${load.counters.connectFailures})`);
      if (ready === 0) throw new Error("no connection became ready");
      load.startSubmitting(window, pacedRate());
      await sleep(warmup * 1000);
      const a0 = load.counters.accepted;
      const r0 = load.counters.rejected;
      const s0 = await relayStats(child);
      const p0 = ctx.redis !== undefined && child ? await relayMetric(child, "stratum_edge_redis_published_total", 'kind="share"') : 0;
      const t0 = performance.now();
      const rc0 = child ? readCpuSeconds(child.pid) : undefined;
      const lc0 = cpuSelf();
      const sc0 = systemCpu();
      load.measuring = true;
      const sampler = sampleRss(child?.pid);
      await sleep(seconds * 1000);
      const rss = sampler.stop();
      load.measuring = false;
      const t1 = performance.now();
      const a1 = load.counters.accepted;
      const rj1 = load.counters.rejected;
      const rc1 = child ? readCpuSeconds(child.pid) : undefined;
      const lc1 = cpuSelf();
      const sc1 = systemCpu();
      const s1 = await relayStats(child);
      const p1 = ctx.redis !== undefined && child ? await relayMetric(child, "stratum_edge_redis_published_total", 'kind="share"') : 0;
      const elapsed = (t1 - t0) / 1000;
      load.stopSubmitting();
      let redisFig: SharesFigures["redis"];
      if (ctx.redis !== undefined && child) {
        const backlog = await relayMetric(child, "stratum_edge_redis_buffered");
        const d0 = performance.now();
        let drainMs: number | null = null;
        while (performance.now() - d0 < 60_000) {
          if ((await relayMetric(child, "stratum_edge_redis_buffered")) === 0) {
            drainMs = Math.round(performance.now() - d0);
            break;
          }
          await sleep(50);
        }
        redisFig = { publishedDuringMeasurePerSecond: Math.round((p1 - p0) / elapsed), backlogAtStop: backlog, drainMs, dropped: await relayMetric(child, "stratum_edge_redis_dropped_total", 'kind="share"') };
      }
      await sleep(500);
      const lat = summarizeSorted(load.latencies.sorted());
      const c = load.counters;
      const relayRate = s0 && s1 ? (s1.accepted - s0.accepted) / elapsed : null;
      const fig: SharesFigures = {
        connections: n,
        shareLog: shareLog ?? null,
        ready,
        window,
        warmupSeconds: warmup,
        measuredSeconds: r3(elapsed),
        sharesPerSecond: Math.round((reject ? rj1 - r0 : a1 - a0) / elapsed),
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
        rssMb: { before: mb(rssBefore), connected: mb(rssConnected), loadedMean: rss.mean, loadedPeak: rss.peak },
        rejectMode: reject,
        pacedPerSecond: paced ?? null,
        floor: null,
        rssOverFloor: null,
        ...(redisFig !== undefined ? { redis: redisFig } : {}),
      };
      console.log(`  window ${window} submits/connection, warm-up ${warmup} s, measured ${r1(elapsed)} s`);
      console.log(`  ${reject ? "checked and rejected" : "valid"} shares/s: ${fmtInt(fig.sharesPerSecond)} (relay counted ${fig.relayCountedPerSecond === null ? "n/a" : fmtInt(fig.relayCountedPerSecond)})   target ≥ ${fmtInt(TARGETS.sharesPerSecond)}: ${verdict(fig.sharesPerSecond >= TARGETS.sharesPerSecond)}`);
      console.log(`  submit→reply latency ms: p50 ${lat.p50.toFixed(2)}  p99 ${lat.p99.toFixed(2)}  max ${lat.max.toFixed(2)}  (${fmtInt(lat.count)} samples)`);
      console.log(`  replies: ${fmtInt(c.accepted)} true, ${fmtInt(c.rejected)} other ${JSON.stringify(c.rejectedByCode)}; relay rejects by reason ${JSON.stringify(fig.relayRejectedByReason)}; closed by relay ${c.closedByPeer}`);
      const m = fig.rssMb;
      console.log(`  relay RSS MB: before ${m.before ?? "n/a"}, ${fmtInt(ready)} connected ${m.connected ?? "n/a"}, under load mean ${m.loadedMean ?? "n/a"} / peak ${m.loadedPeak ?? "n/a"}   ("before" depends on how the binary file was written: --mode baseline measures each case against its ≤ ${TARGETS.baselineRssMb} MB target)`);
      if (redisFig !== undefined) console.log(`  redis: ${fmtInt(redisFig.publishedDuringMeasurePerSecond)} share entries/s written while measured; backlog ${fmtInt(redisFig.backlogAtStop)} when submitting stopped, empty after ${redisFig.drainMs ?? "n/a (> 60 s)"} ms; dropped ${fmtInt(redisFig.dropped)}`);
      console.log(`  CPU during measurement: relay ${fig.relayCpuPercent ?? "n/a"}%, load generator ${fig.loadCpuPercent}% (100% = one core); whole machine ${fig.machineBusyPercent ?? "n/a"}% busy`);
      return fig;
    } finally {
      load.closeAll();
    }
  });
  // The floor is a plain listener: with --tls the relay/floor ratio would mix TLS's own cost into it.
  if (ctx.target !== undefined || loadTls(ctx).tls !== undefined) return fig;
  try {
    fig.floor = await runFloor(ctx, n, window, warmup, seconds);
  } catch (e) {
    console.log(`  floor FAILED: ${e instanceof Error ? e.message : String(e)}`);
  }
  const f = fig.floor?.rssMb;
  if (f) {
    const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100);
    fig.rssOverFloor = { before: ratio(fig.rssMb.before, f.before), loadedMean: ratio(fig.rssMb.loadedMean, f.loadedMean), loadedPeak: ratio(fig.rssMb.loadedPeak, f.loadedPeak) };
    console.log(`  relay / floor RSS: before ${fig.rssOverFloor.before ?? "n/a"}×, under load mean ${fig.rssOverFloor.loadedMean ?? "n/a"}× / peak ${fig.rssOverFloor.loadedPeak ?? "n/a"}×`);
  }
  return fig;
}


// ---------------------------------------------------------------- idle
