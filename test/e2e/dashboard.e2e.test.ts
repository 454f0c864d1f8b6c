// The dashboard in real headless Chromium (Debian's, driven by playwright-core) against the compiled binary running `demo`: table, chart, a new block without reload, unban, no console errors; saves test-artifacts/dashboard.png.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { ensureBinary, HOST, ROOT, startRelay, until, type RelayProcess } from "./helpers.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const TOKEN = "dash-test-token";
const T = 90_000;

let relay: RelayProcess;
let browser: Browser;
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  // No silent skip: without Chromium this suite fails and says how to get it (test/run.sh installs it).
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (test/run.sh and .ci/run do) or set CHROMIUM_PATH`);
  relay = await startRelay({
    command: [await ensureBinary(), "demo", "--miners", "2"],
    // The default devnet target (1e00ffff) gives the two CPU miners a block every few seconds.
    sets: { "http.adminToken": TOKEN },
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  page.on("console", (m) => {
    // Every error counts, a failed load (e.g. a 404 for an API this relay does not serve) included.
    if (m.type() === "error") consoleErrors.push(`${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
}, T);

afterAll(async () => {
  await browser?.close();
  await relay?.stop();
});

const url = () => `http://${HOST}:${relay.httpPort}/`;
const rowCount = (sel: string) => page.locator(sel).count();

describe("dashboard in Chromium against the compiled binary (demo miners)", () => {
  test("worker table and chart fill in, a found block appears without a reload, no console errors", async () => {
    await page.goto(url(), { waitUntil: "load" });
    await page.waitForSelector('#workers tbody tr[data-worker="demo.cpu1"]', { timeout: 30_000 });
    await page.waitForSelector('#workers tbody tr[data-worker="demo.cpu2"]', { timeout: 30_000 });
    // The pool card shows live figures from /api/stats.
    const card = await page.locator('#pools .card[data-pool]').first().innerText();
    expect(card).toContain("Height");
    expect(card).toMatch(/Hashrate\s+\d/);
    // uPlot drew a canvas with one series per worker (its legend lists them).
    await page.waitForSelector("#chart canvas", { timeout: 10_000 });
    // The share log's history trails the live table by up to a second (its rollup step): poll the legend.
    const legend = await until(async () => {
      const t = await page.locator("#chart .u-legend").innerText();
      return t.includes("demo.cpu1") && t.includes("demo.cpu2") ? t : undefined;
    }, 10_000, "both demo workers in the chart legend", relay.tail);
    expect(legend).toContain("demo.cpu1");
    expect(legend).toContain("demo.cpu2");
    const sampled = await page.locator("#chart-source").innerText();
    // The demo relay keeps a share log, so the chart draws GET /api/workers (the page understood its shape).
    expect(sampled).toContain("Worker history from the relay's share log");

    // A block found while the page is open shows up by polling alone.
    const before = await rowCount("#blocks tbody tr");
    // The table shows the newest 50; at the default devnet target the demo finds far fewer in this test's time.
    expect(before).toBeLessThan(50);
    await until(async () => ((await rowCount("#blocks tbody tr")) > before ? true : undefined), 45_000, "a new block row", relay.tail);
    const first = await page.locator("#blocks tbody tr").first().innerText();
    expect(first).toMatch(/accepted|rejected|waiting/);

    // Sorting by a column reorders the table (click twice: desc then asc by name).
    await page.click('#workers th[data-key="name"]');
    await page.click('#workers th[data-key="name"]');
    const names = await page.locator("#workers tbody tr td:first-child").allInnerTexts();
    expect(names).toEqual([...names].sort());

    mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "test-artifacts/dashboard.png"), fullPage: true });
    expect(consoleErrors).toEqual([]);
  }, T);

  test("bans: hidden without the token; with it, listed and lifted by the Unban button", async () => {
    expect(await page.locator("#bans-note").innerText()).toContain("admin token");
    const res = await fetch(`${url()}api/bans`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" }, body: JSON.stringify({ address: "203.0.113.7", seconds: 600 }) });
    expect(res.status).toBe(201);
    // /api/stats counts bans for everyone; the list stays behind the token.
    expect(((await (await fetch(`${url()}api/stats`)).json()) as { activeBans: number }).activeBans).toBe(1);
    await page.waitForFunction(() => document.querySelector("#pools")?.textContent?.includes("Active bans1"), undefined, { timeout: 10_000 });
    await page.fill("#admin-token", TOKEN);
    await page.click("#admin-form button");
    const row = page.locator("#bans tbody tr", { hasText: "203.0.113.7" });
    await row.waitFor({ timeout: 10_000 });
    await row.locator("button").click();
    await row.waitFor({ state: "detached", timeout: 10_000 });
    const list = (await (await fetch(`${url()}api/bans`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { bans: unknown[] };
    expect(list.bans).toEqual([]);
    expect(((await (await fetch(`${url()}api/stats`)).json()) as { activeBans: number }).activeBans).toBe(0);
    expect(consoleErrors).toEqual([]);
  }, T);

  test("a phone-sized viewport lays the page out in one column without horizontal page scroll", async () => {
    const phone = await browser.newPage({ viewport: { width: 375, height: 800 } });
    await phone.goto(url(), { waitUntil: "load" });
    await phone.waitForSelector("#workers tbody tr", { timeout: 10_000 });
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: join(ROOT, "test-artifacts/dashboard-phone.png"), fullPage: true });
    await phone.close();
  }, T);
});
