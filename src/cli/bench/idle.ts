// `bench --mode idle`: resident memory per 1,000 idle (subscribed, authorized) miners; no relay logic.
import { createLoad } from "../../loadgen/load_client.ts";
import { fetchText, readMemory, readRss } from "../../loadgen/relay_child.ts";
import { TARGETS, type Ctx, sleep, r1, r3, fmtInt, verdict, withRelay, openAll, loadTls } from "./common.ts";
import { startFloor } from "./fanout.ts";

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
  /** The same ramp against a bare listener of the same binary (`bench --mode fanout-floor`): what a socket alone costs. */
  floor: { mbPer1k: number | null; anonMbPer1k: number | null } | null;
  /** mbPer1k / floor.mbPer1k. */
  overFloor: number | null;
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

/** One ramp's readings: RSS and its anonymous part at the three points, and how many miners got ready. */
interface Ramp {
  ready: number;
  firstReady: number;
  secondReady: number;
  ms: number;
  before: number | undefined;
  mid: { rss: number; anon: number } | undefined;
  after: { rss: number; anon: number } | undefined;
}

/**
 * 50 warm-up miners, then n/2 and n/2 more, reading `pid`'s memory before, between and after (3 s after
 * each half, so handshake allocation has settled). The same ramp measures the relay and the floor.
 */
async function ramp(ctx: Ctx, host: string, port: number, n: number, pid: number | undefined, beforeWarm?: () => Promise<void>): Promise<Ramp> {
  const load = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12", ...loadTls(ctx) });
  const more = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12", userPrefix: "more.", ...loadTls(ctx) });
  const warm = createLoad({ runtime: ctx.runtime, host, port, password: "d=1e-12", userPrefix: "warmup.", ...loadTls(ctx) });
  try {
    await beforeWarm?.();
    // And the code: the first handshakes page in the binary's code for them (measured +3.6 MB of
    // file-backed pages once), which is not per-miner memory. 50 warm-up miners stay connected
    // through every reading.
    await openAll(warm, 50);
    await sleep(1000);
    const before = pid !== undefined ? readRss(pid) : undefined;
    // Per miner is read over the second half: the first thousands also pay one-off costs (the JIT
    // compiling the handshake path once it is hot, pages of code first used), which a relay pays
    // once, not per miner.
    const half = Math.max(1, Math.floor(n / 2));
    const first = await openAll(load, half);
    // Let allocation settle before each reading. Handshake garbage is not necessarily collected by
    // then (an idle process allocates nothing that would start a collection): see anonMbPer1k.
    await sleep(3000);
    const mid = pid !== undefined ? readMemory(pid) : undefined;
    const second = n > half ? await openAll(more, n - half) : { ready: 0, ms: 0 };
    await sleep(3000);
    const after = pid !== undefined ? readMemory(pid) : undefined;
    return { ready: first.ready + second.ready, firstReady: first.ready, secondReady: second.ready, ms: first.ms + second.ms, before, mid, after };
  } finally {
    load.closeAll();
    more.closeAll();
    warm.closeAll();
  }
}

const mb = (b: number | undefined) => (b === undefined ? null : r1(b / 1048576));
const per = (a: number | undefined, b: number | undefined, k: number) => (a !== undefined && b !== undefined && k > 0 ? r3(((b - a) / k) * 1000 / 1048576) : null);

/** `shareLog`: store.shareLog for the relay started here (undefined: the relay's default, on). */
export async function runIdle(ctx: Ctx, n: number, shareLog?: boolean): Promise<IdleFigures> {
  console.log(`\n== idle: ${fmtInt(n)} subscribed+authorized connections${ctx.tls ? " over TLS" : ""}${shareLog === undefined ? "" : `, share log ${shareLog ? "on" : "off"}`}, relay RSS ==`);
  const fig = await withRelay(ctx, shareLog === undefined ? {} : { "store.shareLog": String(shareLog) }, async (host, port, child): Promise<IdleFigures> => {
    // The baseline must include the one-off start-up allocations: the ethash light cache (16 MiB
    // at epoch 0) is built in a worker during the first 1-3 s; read before it is done, its pages
    // were counted as per-miner memory (+0.6 MB per 1k).
    const r = await ramp(ctx, host, port, n, child?.pid, child ? () => waitSettled(child.httpPort, 20_000) : undefined);
    const per1k = per(r.mid?.rss, r.after?.rss, r.secondReady);
    const whole = per(r.before, r.after?.rss, r.ready);
    const anon1k = per(r.mid?.anon, r.after?.anon, r.secondReady);
    console.log(`  ${fmtInt(r.ready)}/${fmtInt(n)} ready in ${fmtInt(r.ms)} ms; relay VmRSS ${mb(r.before) ?? "n/a"} MB → ${mb(r.mid?.rss) ?? "n/a"} MB (${fmtInt(r.firstReady)}) → ${mb(r.after?.rss) ?? "n/a"} MB`);
    console.log(`  RSS per 1k idle miners (second half): ${per1k ?? "n/a"} MB   target ≤ ${TARGETS.idleRssMbPer1k} MB: ${per1k === null ? "n/a" : verdict(per1k <= TARGETS.idleRssMbPer1k)}   (anonymous ${anon1k ?? "n/a"} MB; whole ramp: ${whole ?? "n/a"} MB)`);
    return { connections: n, ready: r.ready, rssBeforeMb: mb(r.before), rssMidMb: mb(r.mid?.rss), rssAfterMb: mb(r.after?.rss), mbPer1k: per1k, mbPer1kWholeRamp: whole, anonMbPer1k: anon1k, floor: null, overFloor: null, connectMs: Math.round(r.ms) };
  });
  // The floor is a plain listener: over TLS the ratio would mix TLS's own cost in; against --target there is no relay RSS to compare.
  if (ctx.target !== undefined || ctx.tls || fig.mbPer1k === null) return fig;
  const floor = await startFloor(1, { BENCH_FLOOR_INTERVAL_MS: "3600000" });
  try {
    const r = await ramp(ctx, "127.0.0.1", floor.port, n, floor.pids[0]);
    fig.floor = { mbPer1k: per(r.mid?.rss, r.after?.rss, r.secondReady), anonMbPer1k: per(r.mid?.anon, r.after?.anon, r.secondReady) };
    fig.overFloor = fig.floor.mbPer1k !== null && fig.floor.mbPer1k > 0 ? Math.round((fig.mbPer1k / fig.floor.mbPer1k) * 100) / 100 : null;
    console.log(`  floor (bare listener, same binary, same ramp): ${fmtInt(r.ready)}/${fmtInt(n)} ready; RSS per 1k (second half) ${fig.floor.mbPer1k ?? "n/a"} MB (anonymous ${fig.floor.anonMbPer1k ?? "n/a"}); relay / floor ${fig.overFloor ?? "n/a"}×`);
  } catch (e) {
    console.log(`  floor FAILED: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await floor.stop();
  }
  return fig;
}
