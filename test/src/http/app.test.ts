// HTTP app routes exercised with app.request(): health 200/503, Prometheus text, stats JSON (bigint-safe), 404 and 500 as JSON.
import { describe, expect, test } from "bun:test";
import { createRegistry } from "../../../src/observe/metrics.ts";
import { createHttpApp } from "../../../src/http/app.ts";

function setup(over: { ok?: boolean; stats?: () => unknown } = {}) {
  const metrics = createRegistry();
  metrics.counter("stratum_shares_total", "Shares.", ["result"]).labels({ result: "accepted" }).inc(3);
  const app = createHttpApp({
    metrics,
    stats: over.stats ?? (() => ({ connections: 2, difficulty: 2n ** 64n })),
    health: () => ({ ok: over.ok ?? true, upstream: "devnet" }),
    version: "0.1.0-test",
  });
  return app;
}

describe("http app", () => {
  test("GET /healthz healthy → 200 JSON with version", async () => {
    const r = await setup().request("/healthz");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("application/json");
    expect(await r.json()).toEqual({ ok: true, upstream: "devnet", version: "0.1.0-test" });
  });

  test("GET /healthz unhealthy → 503", async () => {
    const r = await setup({ ok: false }).request("/healthz");
    expect(r.status).toBe(503);
    expect((await r.json()).ok).toBe(false);
  });

  test("GET /metrics → Prometheus text 0.0.4", async () => {
    const r = await setup().request("/metrics");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await r.text()).toBe('# HELP stratum_shares_total Shares.\n# TYPE stratum_shares_total counter\nstratum_shares_total{result="accepted"} 3\n');
  });

  test("GET /api/stats → JSON, bigint as decimal string", async () => {
    const r = await setup().request("/api/stats");
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ connections: 2, difficulty: "18446744073709551616" });
  });

  test("unknown path → 404 JSON; POST to a GET route → 404; handler throwing → 500 JSON", async () => {
    const app = setup({
      stats: () => {
        throw new Error("boom");
      },
    });
    const r = await app.request("/nope");
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: "not found", path: "/nope" });
    expect((await app.request("/metrics", { method: "POST" })).status).toBe(404);
    const e = await app.request("/api/stats");
    expect(e.status).toBe(500);
    expect(await e.json()).toEqual({ error: "internal error" });
  });
});
