// Dashboard routes through createHttpApp with app.request(): the page, its assets with their content types, the CSP on each, and that the page references only served same-origin assets.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRegistry } from "../../../src/observe/metrics.ts";
import { createHttpApp } from "../../../src/http/app.ts";
import { DASHBOARD_ASSETS } from "../../../src/http/dashboard_assets.ts";
import { DASHBOARD_CSP } from "../../../src/http/dashboard.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const app = createHttpApp({ metrics: createRegistry(), stats: () => ({}), health: () => ({ ok: true }), version: "0.1.0-test" });

describe("dashboard routes", () => {
  test("GET / serves the HTML page with a same-origin-only CSP and nosniff", async () => {
    const r = await app.request("/");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(r.headers.get("content-security-policy")).toBe("default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await r.text();
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain('<div id="chart"></div>');
    expect(html).toContain('<table id="workers">');
  });

  test.each([
    ["/dashboard/page.js", "text/javascript; charset=utf-8", "setInterval(tick, POLL_MS)"],
    ["/dashboard/page.css", "text/css; charset=utf-8", ".cards"],
    ["/dashboard/uplot.js", "text/javascript; charset=utf-8", "uPlot (v1.6.32)"],
    ["/dashboard/uplot.css", "text/css; charset=utf-8", ".uplot"],
    ["/dashboard/icon.svg", "image/svg+xml", "<svg"],
  ])("GET %s → %s with the CSP", async (path, type, marker) => {
    const r = await app.request(path);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe(type);
    expect(r.headers.get("content-security-policy")).toBe(DASHBOARD_CSP);
    expect(await r.text()).toContain(marker);
  });

  test("the embedded uPlot is the pinned package's file, byte for byte", () => {
    const pinned = (JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")) as { dependencies: Record<string, string> }).dependencies.uplot;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    const served = DASHBOARD_ASSETS.find((a) => a.path === "/dashboard/uplot.js")!.body;
    expect(served).toBe(readFileSync(`${ROOT}node_modules/uplot/dist/uPlot.iife.min.js`, "utf8"));
    expect(served).toContain(`(v${pinned})`);
  });

  test("every src/href in the page names a served asset on this origin, and there is no inline script or style", async () => {
    const html = await (await app.request("/")).text();
    const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBe(5);
    const served = new Set(DASHBOARD_ASSETS.map((a) => a.path));
    for (const ref of refs) expect(served.has(ref)).toBe(true);
    expect(html).not.toMatch(/<script>|<script(?![^>]*\bsrc=)[^>]*>|<style|style="/);
  });

  test("the API routes are unchanged next to the page: /api/stats JSON, unknown paths JSON 404", async () => {
    expect((await app.request("/api/stats")).headers.get("content-type")).toContain("application/json");
    const r = await app.request("/dashboard/nope.js");
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: "not found", path: "/dashboard/nope.js" });
  });
});
