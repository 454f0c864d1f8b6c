// Relay-mode benchmark: the binary in front of another stratum-edge, against the same load sent straight to that upstream in the same run; prints shares/s, added verdict latency, upstream connections, RSS per 1k miners and failover time.
// Usage: bun bench/relay.ts [--miners 1000,10000] [--seconds 10] [--window 1] [--binary dist/stratum-edge]
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBunRuntime } from "../src/runtime/bun.ts";
import { createLoad, type Load } from "../src/loadgen/load_client.ts";
import { fetchText, readRss, resolveRelayCommand, startRelay, type RelayChild, type RelayCommand } from "../src/loadgen/relay_child.ts";
import { percentile } from "../src/loadgen/stats.ts";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
};
const MINERS = arg("miners", "1000,10000").split(",").map(Number);
const SECONDS = Number(arg("seconds", "10"));
const WINDOW = Number(arg("window", "1"));
/** Probe shares sent (and not timed) before the timed ones: the first shares on a path run cold code (JIT tiers compile on a background thread). */
const PROBE_WARMUP = Number(arg("probe-warmup", "0"));
const PROBE_SHARES = Number(arg("probe-shares", "1000"));
const cmd = resolveRelayCommand(arg("binary", "dist/stratum-edge"));
const runtime = createBunRuntime();
const dir = mkdtempSync(join(tmpdir(), "edge-bench-relay-"));

// Every share of the load is valid at difficulty 1e-12 and the relay's upstream connection is fixed at
// 1e-12 too (password d=1e-12): every share is checked by the relay AND forwarded to, and checked by,
// the upstream — the heaviest case. Message-rate limits are lifted (the relay's connections carry many miners).
const COMMON: Record<string, string> = {
  "stratum.host": "127.0.0.1",
  "http.host": "127.0.0.1",
  "ethash.enabled": "false",
  "bans.enabled": "false",
  "difficulty.suggestFloor": "1e-12",
  "difficulty.min": "1e-12",
  "stratum.maxMessagesPerSecond": "1000000000",
  "stratum.messageBurst": "1000000000",
  "stratum.maxConnections": "30000",
  "log.level": "warn",
  // RELAY_SHARE_LOG=off: neither process keeps the share log (each reply then skips its commit wait).
  ...(process.env.RELAY_SHARE_LOG === "off" ? { "store.shareLog": "false" } : {}),
};

async function upstream(name: string): Promise<RelayChild> {
  return startRelay(cmd, { ...COMMON, dataDir: join(dir, name), "stratum.maxWriteBufferBytes": "67108864", "upstream.devnet.blockIntervalSeconds": "3600" });
}

async function relayTo(ports: number[]): Promise<RelayChild> {
  const file = join(dir, `relay-${ports.join("-")}.toml`);
  writeFileSync(file, `[upstream]\ntype = "pool"\n` + ports.map((p, i) => `[[upstream.pool.pools]]\nurl = "stratum+tcp://127.0.0.1:${p}"\nuser = "bench.relay"\npassword = "d=1e-12"\npriority = ${i}\n`).join(""));
  const c: RelayCommand = { ...cmd, args: [...cmd.args, "--config", file] };
  return startRelay(c, { ...COMMON, dataDir: join(dir, `relay-${ports[0]}`), "upstream.pool.submitTimeoutMs": "30000", "upstream.pool.retryMinMs": "0" });
}

interface Figures {
  sharesPerSecond: number;
  p50: number;
  p99: number;
  rejected: number;
}

async function loadRun(port: number, miners: number): Promise<{ load: Load; figures: () => Promise<Figures> }> {
  const load = createLoad({ runtime, host: "127.0.0.1", port, password: "d=1e-12" });
  await load.open(miners, 200);
  const ready = await load.waitReady(miners, 60_000);
  if (ready < miners) throw new Error(`only ${ready} of ${miners} miners got a job on :${port}`);
  return {
    load,
    async figures() {
      load.startSubmitting(WINDOW);
      await new Promise((r) => setTimeout(r, 1000)); // warm-up
      const a0 = load.counters.accepted;
      const r0 = load.counters.rejected;
      load.measuring = true;
      const t0 = performance.now();
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      load.measuring = false;
      const secs = (performance.now() - t0) / 1000;
      load.stopSubmitting();
      const s = load.latencies.sorted();
      return { sharesPerSecond: (load.counters.accepted - a0) / secs, p50: percentile(s, 50), p99: percentile(s, 99), rejected: load.counters.rejected - r0 };
    },
  };
}

/**
 * Unloaded latency: one miner submitting one share every 5 ms (its own connection, the other miners connected and idle),
 * submit → answer timed per share. Saturated figures above measure queueing on 2 cores, not the hop.
 */
async function probe(port: number, shares: number): Promise<{ p50: number; p99: number; worst: string }> {
  const sock = connect({ host: "127.0.0.1", port });
  sock.setNoDelay(true);
  sock.setEncoding("utf8");
  let buf = "";
  let job: { id: string; ntime: string } | undefined;
  let en2Size = 4;
  const waiting = new Map<number, (v: unknown) => void>();
  sock.on("data", (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const m = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (m.method === "mining.notify") job = { id: m.params[0], ntime: m.params[7] };
      else if (m.id === 1) en2Size = m.result[2];
      else if (typeof m.id === "number") waiting.get(m.id)?.(m);
    }
  });
  await new Promise((r) => sock.once("connect", r));
  sock.write(JSON.stringify({ id: 1, method: "mining.subscribe", params: [] }) + "\n" + JSON.stringify({ id: 2, method: "mining.authorize", params: ["probe", "d=1e-12"] }) + "\n");
  while (job === undefined) await new Promise((r) => setTimeout(r, 5));
  const times: number[] = [];
  const slow: [number, number][] = [];
  for (let k = -PROBE_WARMUP; k < shares; k++) {
    const id = 100 + PROBE_WARMUP + k;
    const en2 = (0x1000 + k).toString(16).padStart(en2Size * 2, "0").slice(-en2Size * 2);
    const answered = new Promise((r) => waiting.set(id, r));
    const t0 = performance.now();
    sock.write(JSON.stringify({ id, method: "mining.submit", params: ["probe", job.id, en2, job.ntime, "00000000"] }) + "\n");
    await answered;
    const ms = performance.now() - t0;
    if (k >= 0) {
      times.push(ms);
      slow.push([ms, k]);
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  sock.destroy();
  times.sort((a, b) => a - b);
  slow.sort((a, b) => b[0] - a[0]);
  return { p50: percentile(times, 50), p99: percentile(times, 99), worst: slow.slice(0, 12).map(([ms, k]) => `${k}:${ms.toFixed(2)}`).join(" ") };
}

/**
 * The floor for one more hop: a bare TCP forwarder (bytes in, bytes out, nothing parsed) between the
 * probe and the upstream, as its own process like the relay (one more process to schedule on 2 cores).
 * What the relay adds beyond it is its own work.
 */
async function forwarder(upPort: number): Promise<{ port: number; close(): void }> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, "bare_forwarder.ts"), String(upPort)], { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("bare forwarder exited before listening");
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { port: Number(text.trim()), close: () => child.kill() };
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const results: Record<string, unknown>[] = [];

try {
  for (const n of MINERS) {
    // Straight to the upstream: the floor the relay adds to.
    const upD = await upstream(`direct-${n}`);
    const d = await loadRun(upD.stratumPort, n);
    // The unloaded probe runs with every miner connected but before the flood (no GC debt from it).
    const directProbe = await probe(upD.stratumPort, PROBE_SHARES);
    const fwd = await forwarder(upD.stratumPort);
    const forwardedProbe = await probe(fwd.port, PROBE_SHARES);
    fwd.close();
    const direct = await d.figures();
    d.load.closeAll();
    await upD.stop();

    const up = await upstream(`up-${n}`);
    const backup = await upstream(`backup-${n}`);
    const relay = await relayTo([up.stratumPort, backup.stratumPort]);
    await new Promise((r) => setTimeout(r, 500));
    const rssIdle = readRss(relay.pid) ?? 0;
    const r = await loadRun(relay.stratumPort, n);
    const rssConnected = readRss(relay.pid) ?? 0;
    // Read before the probe, whose extra connection may open one more upstream connection.
    const stats = JSON.parse((await fetchText(`http://127.0.0.1:${relay.httpPort}/api/stats`)) ?? "{}") as { upstreams?: { connections: number }[] };
    const upstreamConnections = stats.upstreams?.[0]?.connections ?? 0;
    const relayProbe = await probe(relay.stratumPort, PROBE_SHARES);
    if (process.env.PROBE_DEBUG) console.error(`worst probe samples (index:ms) direct ${directProbe.worst} | forwarder ${forwardedProbe.worst} | relay ${relayProbe.worst}`);
    const relayed = await r.figures();
    const rssLoaded = readRss(relay.pid) ?? 0;


    // Failover: SIGKILL the primary; time until every miner has a clean job from the backup.
    await new Promise((res) => setTimeout(res, 500));
    let got = 0;
    let last = 0;
    const have = new Uint8Array(n);
    const killedAt = performance.now();
    r.load.onNotify = (i, info, t) => {
      if (!info.clean || have[i] === 1) return;
      have[i] = 1;
      got++;
      last = t;
    };
    process.kill(up.pid, "SIGKILL");
    const deadline = performance.now() + 20_000;
    while (got < n && performance.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    const failoverMs = got === n ? last - killedAt : Number.NaN;
    r.load.closeAll();
    await relay.stop();
    await up.stop();
    await backup.stop();

    const row = {
      miners: n,
      direct: { sharesPerSecond: Math.round(direct.sharesPerSecond), p50Ms: round(direct.p50), p99Ms: round(direct.p99) },
      relay: { sharesPerSecond: Math.round(relayed.sharesPerSecond), p50Ms: round(relayed.p50), p99Ms: round(relayed.p99), rejected: relayed.rejected },
      addedLatencyMs: { p50: round(relayed.p50 - direct.p50), p99: round(relayed.p99 - direct.p99) },
      unloadedLatencyMs: { direct: { p50: round(directProbe.p50, 3), p99: round(directProbe.p99, 3) }, relay: { p50: round(relayProbe.p50, 3), p99: round(relayProbe.p99, 3) }, addedP50: round(relayProbe.p50 - directProbe.p50, 3), addedP99: round(relayProbe.p99 - directProbe.p99, 3), bareForwarder: { p50: round(forwardedProbe.p50, 3), p99: round(forwardedProbe.p99, 3) }, floorAddedP50: round(forwardedProbe.p50 - directProbe.p50, 3), floorAddedP99: round(forwardedProbe.p99 - directProbe.p99, 3) },
      upstreamConnections,
      rssMB: { idle: round(rssIdle / 2 ** 20, 1), connected: round(rssConnected / 2 ** 20, 1), loaded: round(rssLoaded / 2 ** 20, 1) },
      rssPer1kMinersMB: round(((rssConnected - rssIdle) / 2 ** 20) / (n / 1000), 2),
      failoverMs: round(failoverMs, 0),
      failoverMiners: `${got}/${n}`,
    };
    results.push(row);
    console.log(
      `relay ${n} miners: ${row.relay.sharesPerSecond} shares/s forwarded and judged upstream (direct to the upstream: ${row.direct.sharesPerSecond}/s); ` +
        `verdict latency p50 ${row.relay.p50Ms} ms / p99 ${row.relay.p99Ms} ms (direct ${row.direct.p50Ms} / ${row.direct.p99Ms}; added ${row.addedLatencyMs.p50} / ${row.addedLatencyMs.p99}); ` +
        `unloaded (one miner, a share every 5 ms): relay p50 ${row.unloadedLatencyMs.relay.p50} / p99 ${row.unloadedLatencyMs.relay.p99} ms vs direct ${row.unloadedLatencyMs.direct.p50} / ${row.unloadedLatencyMs.direct.p99} (added ${row.unloadedLatencyMs.addedP50} / ${row.unloadedLatencyMs.addedP99}; a bare TCP forwarder in the same place: p50 ${row.unloadedLatencyMs.bareForwarder.p50} / p99 ${row.unloadedLatencyMs.bareForwarder.p99}, adding ${row.unloadedLatencyMs.floorAddedP50} / ${row.unloadedLatencyMs.floorAddedP99}); ` +
        `${upstreamConnections} upstream connection(s); RSS ${row.rssMB.idle} → ${row.rssMB.connected} → ${row.rssMB.loaded} MB (${row.rssPer1kMinersMB} MB per 1k miners); ` +
        `failover ${row.failoverMs} ms (${row.failoverMiners} miners re-jobbed)`,
    );
  }
  console.log(JSON.stringify({ bench: "relay", seconds: SECONDS, window: WINDOW, runtime: cmd.label, results }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
