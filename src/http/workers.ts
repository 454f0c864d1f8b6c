// GET /api/workers (every worker in the share log, last hour's hashrate buckets) and GET /api/workers/:name (1 h and 24 h buckets, rejects by reason); routes only, the figures come from worker_history.ts.
import type { Hono } from "hono";
import type { WorkerHistory } from "../store/worker_history.ts";

/** `history` is asked per request: the share log opens its file on the first share or read, not at start-up. */
export function mountWorkers(app: Hono, deps: { history: () => Promise<WorkerHistory>; clock: { now(): number } }): void {
  const history = async (): Promise<WorkerHistory | string> => {
    try {
      return await deps.history();
    } catch (e) {
      return `share log unavailable: ${e instanceof Error ? e.message : String(e)}`;
    }
  };
  // The dashboard reads {workers: [{name, buckets: [{at, hashrate}]}]} from the list.
  app.get("/api/workers", async (c) => {
    const h = await history();
    return typeof h === "string" ? c.json({ error: h }, 503) : c.json({ workers: h.list(deps.clock.now()) });
  });
  app.get("/api/workers/:name", async (c) => {
    const name = c.req.param("name");
    const h = await history();
    if (typeof h === "string") return c.json({ error: h, worker: name }, 503);
    const w = h.worker(name, deps.clock.now());
    return w === undefined ? c.json({ error: "no shares from this worker in the share log", worker: name }, 404) : c.json(w);
  });
}
