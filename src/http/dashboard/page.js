// stratum-edge dashboard script: polls /api/stats, /healthz, /api/workers (when /api/stats says workerHistory: true) and /api/bans (with the admin token) every 2 s and renders them; plain browser JS, no build step.
"use strict";

const POLL_MS = 2000;
// The page keeps at most one hour of its own samples (1800 at 2 s) when the relay has no worker history.
const MAX_POINTS = 1800;

const $ = (id) => document.getElementById(id);
const ui = { sortKey: "hashrate", sortDir: "desc", token: sessionStorage.getItem("stratum-edge-admin-token") || "" };
const series = { times: [], byWorker: new Map() };
let history = "unknown"; // "unknown" until the first poll, then "relay" (GET /api/workers) or "page" (own samples)
let chart;
let chartKey = "";
let lastRows = [];

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function rate(h) {
  const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s", "EH/s"];
  let i = 0;
  while (h >= 1000 && i < units.length - 1) { h /= 1000; i++; }
  return `${h.toFixed(h < 10 ? 2 : 1)} ${units[i]}`;
}

function num(x) {
  const n = Number(x);
  if (!Number.isFinite(n)) return String(x);
  if (n !== 0 && (Math.abs(n) >= 1e9 || Math.abs(n) < 1e-3)) return n.toExponential(3);
  return n.toLocaleString(undefined, { maximumFractionDigits: 4 });
}

function ago(iso) {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return "—";
  const s = Math.max(0, Math.round((Date.now() - t) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.floor(s / 60)}m ago` : `${Math.floor(s / 3600)}h ago`;
}

async function getJson(path, headers) {
  const r = await fetch(path, { headers: headers || {}, cache: "no-store" });
  const body = r.headers.get("content-type")?.includes("json") ? await r.json() : undefined;
  return { status: r.status, body };
}

function poolsOf(stats) {
  const out = [{ ...stats.pool, workers: stats.workers }];
  if (stats.eth) out.push(stats.eth);
  return out;
}

function renderPools(stats, health) {
  const box = $("pools");
  box.replaceChildren();
  for (const p of poolsOf(stats)) {
    const card = el("article", undefined, "card");
    card.dataset.pool = p.name;
    card.append(el("h3", `${p.name} · ${p.algorithm}`));
    const dl = el("dl");
    const rejects = Object.entries(p.rejectedByReason || {}).map(([r, n]) => `${r} ${n}`).join(", ");
    const answered = p.blocks.filter((b) => b.result);
    const rows = [
      ["Height", p.height],
      ["Network difficulty", num(p.networkDifficulty)],
      ["Hashrate", rate(p.hashrate)],
      ["Accepted", p.accepted],
      ["Rejected", p.rejected + (rejects ? ` (${rejects})` : "")],
      ["Blocks found", `${p.blocks.length} (node accepted ${answered.filter((b) => b.result.accepted).length}, rejected ${answered.filter((b) => !b.result.accepted).length}, waiting ${p.blocks.length - answered.length})`],
      ["Upstream", p.upstream],
    ];
    if (p.lightCache) rows.push(["Light cache", p.lightCache]);
    for (const [k, v] of rows) dl.append(el("dt", k), el("dd", v));
    card.append(dl);
    box.append(card);
  }
  const node = el("article", undefined, "card");
  node.append(el("h3", "Relay"));
  const dl = el("dl");
  const rows = [
    ["State", health.ok ? "work ready" : "no work from upstream"],
    ["Version", `${stats.version} (${stats.runtime})`],
    ["Uptime", `${stats.uptimeSeconds}s`],
    ["Connections", stats.connections],
    ["Active bans", stats.activeBans ?? "—"],
  ];
  for (const [k, v] of rows) dl.append(el("dt", k), el("dd", v, k === "State" ? (health.ok ? "ok" : "bad") : undefined));
  node.append(dl);
  box.append(node);
}

function workerRows(stats) {
  const rows = [];
  for (const p of poolsOf(stats)) for (const w of p.workers || []) rows.push({ ...w, pool: p.name });
  return rows;
}

function renderWorkers(rows) {
  const k = ui.sortKey;
  const dir = ui.sortDir === "asc" ? 1 : -1;
  rows.sort((a, b) => {
    const x = a[k], y = b[k];
    const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return c * dir || a.name.localeCompare(b.name);
  });
  for (const th of document.querySelectorAll("#workers th[data-key]")) {
    if (th.dataset.key === k) th.dataset.sort = ui.sortDir; else delete th.dataset.sort;
  }
  const body = document.querySelector("#workers tbody");
  body.replaceChildren(...rows.map((w) => {
    const tr = el("tr");
    tr.dataset.worker = w.name;
    tr.append(el("td", w.name), el("td", w.pool), el("td", rate(w.hashrate), "num"), el("td", w.accepted, "num"),
      el("td", w.rejected, "num" + (w.rejected > 0 ? " bad" : "")), el("td", num(w.bestShareDifficulty), "num"), el("td", ago(w.lastShareAt)));
    return tr;
  }));
}

function renderBlocks(stats) {
  const all = [];
  for (const p of poolsOf(stats)) for (const b of p.blocks) all.push({ ...b, pool: p.name });
  all.sort((a, b) => Date.parse(b.foundAt) - Date.parse(a.foundAt));
  const body = document.querySelector("#blocks tbody");
  body.replaceChildren(...all.slice(0, 50).map((b) => {
    const tr = el("tr");
    tr.dataset.hash = b.hash;
    const answer = b.result ? (b.result.accepted ? "accepted" : `rejected: ${b.result.reason || "?"}`) : "waiting";
    tr.append(el("td", b.pool), el("td", b.height, "num"), el("td", `${b.hash.slice(0, 16)}…`), el("td", b.worker), el("td", ago(b.foundAt)),
      el("td", answer, b.result ? (b.result.accepted ? "ok" : "bad") : "muted"));
    return tr;
  }));
}

function renderUpstreams(stats) {
  const box = $("upstreams");
  const list = [...(stats.upstreams || []), ...(stats.ethUpstreams || [])];
  if (list.length === 0) {
    box.replaceChildren(el("p", `Mining on the ${stats.pool.upstream} upstream directly (no upstream pools); height ${stats.pool.height}, current job ${stats.pool.currentJob ?? "none"}.`));
    return;
  }
  // Show each upstream's scalar fields as they are named in /api/stats, so a new field needs no page change.
  const keys = [...new Set(list.flatMap((u) => Object.keys(u).filter((k) => typeof u[k] !== "object" || u[k] === null)))];
  const table = el("table");
  const head = el("tr");
  for (const k of keys) head.append(el("th", k));
  table.append(el("thead"), el("tbody"));
  table.tHead.append(head);
  for (const u of list) {
    const tr = el("tr");
    for (const k of keys) tr.append(el("td", typeof u[k] === "number" ? num(u[k]) : u[k] ?? ""));
    table.tBodies[0].append(tr);
  }
  box.replaceChildren(table);
}

async function renderBans() {
  const note = $("bans-note");
  const body = document.querySelector("#bans tbody");
  if (!ui.token) {
    note.textContent = "Type the admin token (http.adminToken) above to list bans and lift them.";
    body.replaceChildren();
    return;
  }
  const r = await getJson("/api/bans", { authorization: `Bearer ${ui.token}` });
  if (r.status === 404) note.textContent = "The admin API is off on this relay (http.adminToken is empty).";
  else if (r.status === 401) note.textContent = "The admin token was refused.";
  else note.textContent = r.body.bans.length === 0 ? "No address is banned." : "";
  const bans = r.status === 200 ? r.body.bans : [];
  body.replaceChildren(...bans.map((b) => {
    const tr = el("tr");
    const btn = el("button", "Unban");
    btn.type = "button";
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      await fetch(`/api/bans/${encodeURIComponent(b.key)}`, { method: "DELETE", headers: { authorization: `Bearer ${ui.token}` } });
      await renderBans();
    });
    const cell = el("td");
    cell.append(btn);
    tr.append(el("td", b.key), el("td", b.reason), el("td", b.offence, "num"), el("td", `${b.until} (${b.secondsLeft}s)`), cell);
    return tr;
  }));
}

/** Worker history from the relay (GET /api/workers, when this relay has a share log): [{name, buckets: [{at|start, hashrate}]}]. */
function historyFrom(body) {
  const list = Array.isArray(body) ? body : body && Array.isArray(body.workers) ? body.workers : undefined;
  if (!list) return undefined;
  const out = new Map();
  for (const w of list) {
    const buckets = w.buckets || w.hashrate1h || w.history;
    if (typeof w.name !== "string" || !Array.isArray(buckets)) return undefined;
    out.set(w.name, buckets.map((b) => [Date.parse(b.at ?? b.start ?? b.t) / 1000, Number(b.hashrate)]).filter(([t, h]) => Number.isFinite(t) && Number.isFinite(h)));
  }
  return out;
}

async function chartData(rows, stats) {
  // Only a relay whose /api/stats says it keeps worker history is asked for it: probing a relay without one
  // would put a 404 in the browser console.
  if (history !== "page" && stats.workerHistory === true) {
    const r = await getJson("/api/workers").catch(() => ({ status: 0 }));
    const h = r.status === 200 ? historyFrom(r.body) : undefined;
    if (h) {
      history = "relay";
      const times = [...new Set([...h.values()].flatMap((pts) => pts.map((p) => p[0])))].sort((a, b) => a - b);
      const names = [...h.keys()].sort();
      const cols = names.map((n) => { const m = new Map(h.get(n)); return times.map((t) => m.get(t) ?? null); });
      return { source: "Worker history from the relay's share log (GET /api/workers).", names, data: [times, ...cols] };
    }
    // 404 (no share log on this relay) or a shape this page does not know: sample /api/stats from here on.
    history = "page";
  }
  const now = Date.now() / 1000;
  series.times.push(now);
  for (const w of rows) {
    const key = `${w.pool}/${w.name}`;
    if (!series.byWorker.has(key)) series.byWorker.set(key, series.times.slice(0, -1).map(() => null));
  }
  const current = new Map(rows.map((w) => [`${w.pool}/${w.name}`, w.hashrate]));
  for (const [key, pts] of series.byWorker) pts.push(current.get(key) ?? null);
  if (series.times.length > MAX_POINTS) {
    series.times.shift();
    for (const pts of series.byWorker.values()) pts.shift();
  }
  const names = [...series.byWorker.keys()].sort();
  return { source: "Sampled by this page from /api/stats every 2 s since it was opened (this relay has no worker history).", names, data: [series.times, ...names.map((n) => series.byWorker.get(n))] };
}

const PALETTE = ["#2f81f7", "#e5534b", "#57ab5a", "#c69026", "#986ee2", "#39c5cf", "#e275ad", "#8b949e"];

function renderChart(c) {
  $("chart-source").textContent = c.source;
  const box = $("chart");
  const key = c.names.join("\n");
  const width = Math.max(280, box.clientWidth - 16);
  if (!chart || key !== chartKey) {
    if (chart) chart.destroy();
    chartKey = key;
    chart = new uPlot({
      width,
      height: 260,
      series: [{}, ...c.names.map((n, i) => ({ label: n, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false, value: (_u, v) => (v == null ? "—" : rate(v)) }))],
      axes: [{}, { values: (_u, ticks) => ticks.map(rate), size: 80 }],
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    }, c.data, box);
  } else {
    chart.setData(c.data);
  }
  if (chart.width !== width) chart.setSize({ width, height: 260 });
}

async function tick() {
  try {
    const [stats, health] = await Promise.all([getJson("/api/stats"), getJson("/healthz")]);
    if (stats.status !== 200) throw new Error(`/api/stats answered ${stats.status}`);
    renderPools(stats.body, health.body || { ok: false });
    const rows = workerRows(stats.body);
    lastRows = rows;
    renderWorkers(rows.slice());
    renderBlocks(stats.body);
    renderUpstreams(stats.body);
    renderChart(await chartData(rows, stats.body));
    await renderBans();
    $("status").textContent = `updated ${new Date().toLocaleTimeString()}`;
    $("status").className = "muted";
  } catch (e) {
    $("status").textContent = `relay unreachable: ${e instanceof Error ? e.message : String(e)}`;
    $("status").className = "bad";
  }
}

for (const th of document.querySelectorAll("#workers th[data-key]")) {
  th.addEventListener("click", () => {
    const k = th.dataset.key;
    ui.sortDir = ui.sortKey === k && ui.sortDir === "desc" ? "asc" : "desc";
    ui.sortKey = k;
    renderWorkers(lastRows.slice());
  });
}

$("admin-token").value = ui.token;
$("admin-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  ui.token = $("admin-token").value.trim();
  // Kept for this tab only: closing it forgets the token.
  if (ui.token) sessionStorage.setItem("stratum-edge-admin-token", ui.token); else sessionStorage.removeItem("stratum-edge-admin-token");
  renderBans();
});

tick();
setInterval(tick, POLL_MS);
