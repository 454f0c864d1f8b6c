// GET /api/workers (every worker in the share log, last hour's hashrate buckets) and GET /api/workers/:name (1 h and 24 h buckets, rejects by reason); routes only, the figures come from worker_history.ts.
import type { Hono } from "hono";
import type { WorkerHistory } from "../store/worker_history.ts";

export function mountWorkers(app: Hono, deps: { history: WorkerHistory; clock: { now(): number } }): void {
  // The dashboard reads {workers: [{name, buckets: [{at, hashrate}]}]} from the list.
  app.get("/api/workers", (c) => c.json({ workers: deps.history.list(deps.clock.now()) }));
  app.get("/api/workers/:name", (c) => {
    const name = c.req.param("name");
    const w = deps.history.worker(name, deps.clock.now());
    return w === undefined ? c.json({ error: "no shares from this worker in the share log", worker: name }, 404) : c.json(w);
  });
}
