// `bench --mode shares`: valid shares/s and submit→reply latency at N connections, RSS and CPU while loaded; no relay logic.
import { createLoad } from "../../loadgen/load_client.ts";
import { fetchText, readCpuSeconds, readRss, type RelayChild } from "../../loadgen/relay_child.ts";
import { roundSummary, summarizeSorted, type Summary } from "../../loadgen/stats.ts";
import { TARGETS, type Ctx, sleep, r1, r3, fmtInt, verdict, cpuSelf, systemCpu, withRelay, openAll, relayStats } from "./common.ts";

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
  /** Relay VmRSS (MB): before the first miner, with every miner connected, and under load (mean and peak of 4 readings/s). */
  rssMb: { before: number | null; connected: number | null; loadedMean: number | null; loadedPeak: number | null };
  /** --redis: entries the relay wrote to the share stream, what was still buffered when submitting stopped, and how long it took to empty. */
  redis?: { publishedDuringMeasurePerSecond: number; backlogAtStop: number; drainMs: number | null; dropped: number };
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

export async function runShares(ctx: Ctx, n: number): Promise<SharesFigures> {
  console.log(`\n== shares: ${fmtInt(n)} connections, distinct valid shares (password d=1e-12) ==`);
  // No new blocks during the run: blockInterval 1 h, and nBits 1d00ffff (difficulty 1) so a share is a block
  // with odds 2^-32 instead of 2^-20 at the devnet default (a block every ~17 s at 60k shares/s would flush jobs).
  const extra = { "upstream.devnet.blockIntervalSeconds": "3600", "upstream.devnet.bits": "1d00ffff" };
  return withRelay(ctx, extra, async (host, port, child) => {
    const load = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12" });
    const mb = (b: number | undefined) => (b === undefined ? null : r1(b / 1048576));
    try {
      const rssBefore = child ? readRss(child.pid) : undefined;
      const { ready, ms } = await openAll(load, n);
      await sleep(500);
      const rssConnected = child ? readRss(child.pid) : undefined;
      console.log(`  ${fmtInt(ready)}/${fmtInt(n)} connections subscribed+authorized+notified in ${fmtInt(ms)} ms (connect failures ${load.counters.connectFailures})`);
      if (ready === 0) throw new Error("no connection became ready");
      const window = defaultWindow(n);
      const warmup = n >= 5000 ? 3 : 2;
      const seconds = ctx.seconds ?? 10;
      load.startSubmitting(window);
      await sleep(warmup * 1000);
      const a0 = load.counters.accepted;
      const s0 = await relayStats(child);
      const p0 = ctx.redis !== undefined && child ? await relayMetric(child, "stratum_edge_redis_published_total", 'kind="share"') : 0;
      const t0 = performance.now();
      const rc0 = child ? readCpuSeconds(child.pid) : undefined;
      const lc0 = cpuSelf();
      const sc0 = systemCpu();
      load.measuring = true;
      // RSS sampled while loaded: mean and peak (a single reading lands anywhere in the GC cycle).
      const rss: number[] = [];
      const sampler = child ? setInterval(() => {
        const v = readRss(child.pid);
        if (v !== undefined) rss.push(v);
      }, 250) : undefined;
      await sleep(seconds * 1000);
      if (sampler !== undefined) clearInterval(sampler);
      load.measuring = false;
      const t1 = performance.now();
      const a1 = load.counters.accepted;
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
        rssMb: {
          before: mb(rssBefore),
          connected: mb(rssConnected),
          loadedMean: rss.length > 0 ? mb(rss.reduce((a, b) => a + b, 0) / rss.length) : null,
          loadedPeak: rss.length > 0 ? mb(Math.max(...rss)) : null,
        },
        ...(redisFig !== undefined ? { redis: redisFig } : {}),
      };
      console.log(`  window ${window} submits/connection, warm-up ${warmup} s, measured ${r1(elapsed)} s`);
      console.log(`  valid shares/s: ${fmtInt(fig.sharesPerSecond)} (relay counted ${fig.relayCountedPerSecond === null ? "n/a" : fmtInt(fig.relayCountedPerSecond)})   target ≥ ${fmtInt(TARGETS.sharesPerSecond)}: ${verdict(fig.sharesPerSecond >= TARGETS.sharesPerSecond)}`);
      console.log(`  submit→reply latency ms: p50 ${lat.p50.toFixed(2)}  p99 ${lat.p99.toFixed(2)}  max ${lat.max.toFixed(2)}  (${fmtInt(lat.count)} samples)`);
      console.log(`  replies: ${fmtInt(c.accepted)} true, ${fmtInt(c.rejected)} other ${JSON.stringify(c.rejectedByCode)}; relay rejects by reason ${JSON.stringify(fig.relayRejectedByReason)}; closed by relay ${c.closedByPeer}`);
      const m = fig.rssMb;
      console.log(`  relay RSS MB: before ${m.before ?? "n/a"}, ${fmtInt(ready)} connected ${m.connected ?? "n/a"}, under load mean ${m.loadedMean ?? "n/a"} / peak ${m.loadedPeak ?? "n/a"}   baseline target ≤ ${TARGETS.baselineRssMb} MB: ${m.before === null ? "n/a" : verdict(m.before <= TARGETS.baselineRssMb)}`);
      if (redisFig !== undefined) console.log(`  redis: ${fmtInt(redisFig.publishedDuringMeasurePerSecond)} share entries/s written while measured; backlog ${fmtInt(redisFig.backlogAtStop)} when submitting stopped, empty after ${redisFig.drainMs ?? "n/a (> 60 s)"} ms; dropped ${fmtInt(redisFig.dropped)}`);
      console.log(`  CPU during measurement: relay ${fig.relayCpuPercent ?? "n/a"}%, load generator ${fig.loadCpuPercent}% (100% = one core); whole machine ${fig.machineBusyPercent ?? "n/a"}% busy`);
      return fig;
    } finally {
      load.closeAll();
    }
  });
}


// ---------------------------------------------------------------- idle
