// `bench --mode idle`: resident memory per 1,000 idle (subscribed, authorized) miners; no relay logic.
import { createLoad } from "../../loadgen/load_client.ts";
import { fetchText, readRss, readRssAnon } from "../../loadgen/relay_child.ts";
import { TARGETS, type Ctx, sleep, r1, r3, fmtInt, verdict, withRelay, openAll, loadTls } from "./common.ts";

export interface IdleFigures {
  connections: number;
  ready: number;
  rssBeforeMb: number | null;
  /** With the first half of the miners connected. */
  rssMidMb: number | null;
  rssAfterMb: number | null;
  /** The target's figure: RSS per 1k miners over the second half (mid → after), what one more miner costs. */
  mbPer1k: number | null;
  /** The same over the whole ramp (before → after), one-off costs of the first connections included. */
  mbPer1kWholeRamp: number | null;
  /**
   * The anonymous part of mbPer1k (the rest: pages of the binary's code first used). Runs of one build
   * differ here, not in the file-backed part: 1.32–2.22 MB in 6 runs on 2026-12-07, flat for 20 s after
   * the ramp in each, so what a run keeps is what its collections happened to leave.
   */
  anonMbPer1k: number | null;
  connectMs: number;
}

/** Until /api/stats shows no ethash cache being built (none is, unless ethash.prebuild or an Ethereum miner asked), or timeoutMs. */
async function waitSettled(httpPort: number, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const t = await fetchText(`http://127.0.0.1:${httpPort}/api/stats`);
    if (t !== undefined) {
      try {
        const eth = (JSON.parse(t) as { eth?: { lightCache?: string } }).eth;
        if (eth === undefined || eth.lightCache !== "building") return;
      } catch {
        // not JSON yet: keep polling
      }
    }
    await sleep(100);
  }
}

/** `shareLog`: store.shareLog for the relay started here (undefined: the relay's default, on). */
export async function runIdle(ctx: Ctx, n: number, shareLog?: boolean): Promise<IdleFigures> {
  console.log(`\n== idle: ${fmtInt(n)} subscribed+authorized connections${ctx.tls ? " over TLS" : ""}${shareLog === undefined ? "" : `, share log ${shareLog ? "on" : "off"}`}, relay RSS ==`);
  return withRelay(ctx, shareLog === undefined ? {} : { "store.shareLog": String(shareLog) }, async (host, port, child) => {
    const load = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12", ...loadTls(ctx) });
    const more = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12", userPrefix: "more.", ...loadTls(ctx) });
    const warm = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12", userPrefix: "warmup.", ...loadTls(ctx) });
    try {
      // The baseline must include the one-off start-up allocations: the ethash light cache (16 MiB
      // at epoch 0) is built in a worker during the first 1-3 s; read before it is done, its pages
      // were counted as per-miner memory (+0.6 MB per 1k).
      if (child) await waitSettled(child.httpPort, 20_000);
      // And the code: the first handshakes page in the binary's code for them (measured +3.6 MB of
      // file-backed pages once), which is not per-miner memory. 50 warm-up miners stay connected
      // through every reading.
      await openAll(warm, 50);
      await sleep(1000);
      const before = child ? readRss(child.pid) : undefined;
      // Per miner is read over the second half: the first thousands also pay one-off costs (the JIT
      // compiling the handshake path once it is hot, pages of code first used), which a relay pays
      // once, not per miner. Measured at 10k, 2 runs: 2.13–2.16 MB per 1k over the whole ramp, 1.25–1.33
      // over its second half; the build before the JIT policy and lazy start-up: 2.11–2.24 and 1.90–2.24.
      const half = Math.max(1, Math.floor(n / 2));
      const first = await openAll(load, half);
      // Let allocation settle (handshake garbage collected) before each reading.
      await sleep(3000);
      const mid = child ? readRss(child.pid) : undefined;
      const midAnon = child ? readRssAnon(child.pid) : undefined;
      const second = n > half ? await openAll(more, n - half) : { ready: 0, ms: 0 };
      await sleep(3000);
      const after = child ? readRss(child.pid) : undefined;
      const afterAnon = child ? readRssAnon(child.pid) : undefined;
      const ready = first.ready + second.ready;
      const ms = first.ms + second.ms;
      const mb = (b: number | undefined) => (b === undefined ? null : r1(b / 1048576));
      const per = (a: number | undefined, b: number | undefined, k: number) => (a !== undefined && b !== undefined && k > 0 ? r3(((b - a) / k) * 1000 / 1048576) : null);
      const per1k = per(mid, after, second.ready);
      const whole = per(before, after, ready);
      const anon1k = per(midAnon, afterAnon, second.ready);
      console.log(`  ${fmtInt(ready)}/${fmtInt(n)} ready in ${fmtInt(ms)} ms; relay VmRSS ${mb(before) ?? "n/a"} MB → ${mb(mid) ?? "n/a"} MB (${fmtInt(first.ready)}) → ${mb(after) ?? "n/a"} MB`);
      console.log(`  RSS per 1k idle miners (second half): ${per1k ?? "n/a"} MB   target ≤ ${TARGETS.idleRssMbPer1k} MB: ${per1k === null ? "n/a" : verdict(per1k <= TARGETS.idleRssMbPer1k)}   (anonymous ${anon1k ?? "n/a"} MB; whole ramp: ${whole ?? "n/a"} MB)`);
      return { connections: n, ready, rssBeforeMb: mb(before), rssMidMb: mb(mid), rssAfterMb: mb(after), mbPer1k: per1k, mbPer1kWholeRamp: whole, anonMbPer1k: anon1k, connectMs: Math.round(ms) };
    } finally {
      load.closeAll();
      more.closeAll();
      warm.closeAll();
    }
  });
}

// ---------------------------------------------------------------- fanout
