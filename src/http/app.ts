// HTTP routes on hono: / (dashboard page and assets), /healthz, /metrics (Prometheus text 0.0.4), /api/stats, JSON 404/500 (shared with the Stratum ports' getwork app); no listening (the runtime's serveHttp does that).
import { Hono } from "hono";
import type { Registry } from "../observe/metrics.ts";
import { mountDashboard } from "./dashboard.ts";

export interface HttpAppDeps {
  metrics: Registry;
  stats: () => unknown;
  /** store.redis: every instance's figures summed (/api/stats?scope=cluster). */
  clusterStats?: () => Promise<unknown>;
  health: () => { ok: boolean; [k: string]: unknown };
  version: string;
}

/** JSON that tolerates bigint (difficulties, targets) by writing it as a decimal string. */
function json(body: unknown, status = 200): Response {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  return new Response(text, { status, headers: { "content-type": "application/json; charset=utf-8" } });
}

export function createHttpApp(deps: HttpAppDeps): Hono {
  const app = new Hono();

  app.get("/healthz", () => {
    const h = deps.health();
    // 503 lets a load balancer take this instance out of rotation.
    return json({ ...h, version: deps.version }, h.ok ? 200 : 503);
  });

  app.get("/metrics", () => new Response(deps.metrics.render(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));

  app.get("/api/stats", async (c) => {
    if (c.req.query("scope") !== "cluster") return json(deps.stats());
    if (deps.clusterStats === undefined) return json({ error: "no cluster: store.redis.url is not set" }, 404);
    try {
      return json(await deps.clusterStats());
    } catch (e) {
      return json({ error: "redis did not answer", detail: String((e as Error).message ?? e) }, 503);
    }
  });

  mountDashboard(app);

  installJsonFallbacks(app);
  return app;
}

/** JSON 404 and 500 answers; every app the relay serves (HTTP port, Stratum ports' getwork) has the same. */
export function installJsonFallbacks(app: Hono): void {
  app.notFound((c) => json({ error: "not found", path: c.req.path }, 404));
  app.onError(() => json({ error: "internal error" }, 500));
}
