// Prometheus gauges for the main thread's share log (shares committed, failed batches, time in commits, queue); sampled at render, no I/O.
import type { Registry } from "../observe/metrics.ts";
import type { ShareLogFigures } from "./share_log.ts";

export function registerShareLogMetrics(r: Registry, figures: () => ShareLogFigures): void {
  const committed = r.gauge("stratum_edge_share_log_committed_shares", "Shares committed to the share log since start (main thread's connection; session threads commit their own).");
  const failed = r.gauge("stratum_edge_share_log_failed_batches", "Share log batches that could not be written (their shares were not acknowledged) since start.");
  const seconds = r.gauge("stratum_edge_share_log_commit_seconds", "Wall time spent committing share log batches since start (what the log costs the event loop).");
  const queued = r.gauge("stratum_edge_share_log_queued_shares", "Shares waiting for the next share log commit.");
  r.onCollect(() => {
    const f = figures();
    committed.set(f.committedShares);
    failed.set(f.failedBatches);
    seconds.set(f.commitMs / 1000);
    queued.set(f.queued);
  });
}
