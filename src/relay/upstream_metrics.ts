// Relay mode's per-upstream Prometheus gauges, read at scrape time from the pool's own figures; no counting of its own.
import type { Registry } from "../observe/metrics.ts";
import type { UpstreamSnapshot } from "../pools/relay_figures.ts";

/** `upstreams` lists every upstream pool (Bitcoin and Ethereum relay modes); the pool URL is the label. */
export function registerUpstreamMetrics(r: Registry, upstreams: () => UpstreamSnapshot[]): void {
  const up = r.gauge("stratum_edge_upstream_up", "1 while the upstream pool carries miners (relay mode).", ["pool"]);
  const conns = r.gauge("stratum_edge_upstream_connections", "Open upstream connections per pool (relay mode).", ["pool"]);
  const verdicts = r.gauge("stratum_edge_upstream_shares", "Forwarded shares by the upstream's verdict since start (relay mode; unconfirmed = no verdict, never counted accepted).", ["pool", "verdict"]);
  const latency = r.gauge("stratum_edge_upstream_verdict_latency_seconds", "Submit → verdict latency over the last 1024 verdicts, by quantile (relay mode).", ["pool", "quantile"]);
  const diff = r.gauge("stratum_edge_upstream_difficulty", "Share difficulty the upstream pool set last (relay mode).", ["pool"]);
  r.onCollect(() => {
    for (const u of upstreams()) {
      up.labels({ pool: u.url }).set(u.state === "active" ? 1 : 0);
      conns.labels({ pool: u.url }).set(u.connections);
      verdicts.labels({ pool: u.url, verdict: "accepted" }).set(u.accepted);
      verdicts.labels({ pool: u.url, verdict: "rejected" }).set(u.rejected);
      verdicts.labels({ pool: u.url, verdict: "unconfirmed" }).set(u.unconfirmed);
      latency.labels({ pool: u.url, quantile: "0.5" }).set(u.latencyMs.p50 / 1000);
      latency.labels({ pool: u.url, quantile: "0.99" }).set(u.latencyMs.p99 / 1000);
      diff.labels({ pool: u.url }).set(u.difficulty);
    }
  });
}
