// `bench --mode fanout`: one job to every connected miner, last − first receipt per broadcast; no relay logic.
import { createLoad } from "../../loadgen/load_client.ts";
import { fetchText } from "../../loadgen/relay_child.ts";
import { histogramFigures, parsePromHistogram, roundSummary, summarize, type Summary } from "../../loadgen/stats.ts";
import { TARGETS, type Ctx, sleep, fmtInt, verdict, withRelay, openAll } from "./common.ts";

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

export async function runFanout(ctx: Ctx, n: number): Promise<FanoutFigures> {
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
      const relayFanout = h1 ? histogramFigures(h1, h0) : null;
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
