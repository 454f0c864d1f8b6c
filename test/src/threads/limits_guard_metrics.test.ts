// Per-thread limits from config, the main guard's onKick(key, until)/onLift hooks, and relay metrics summed over connection cores; no sockets.
import { describe, expect, test } from "bun:test";
import { threadLimits } from "../../../src/threads/limits.ts";
import { DEFAULT_CONFIG, type Config } from "../../../src/config/schema.ts";
import { createGuard } from "../../../src/server/guard.ts";
import { createLogger } from "../../../src/observe/log.ts";
import { createRelayMetrics } from "../../../src/observe/relay_metrics.ts";
import type { Runtime } from "../../../src/runtime/types.ts";

const T0 = 1_800_000_000_000;

function config(stratum: Partial<Config["stratum"]>): Config {
  return { ...DEFAULT_CONFIG, stratum: { ...DEFAULT_CONFIG.stratum, ...stratum } };
}

describe("thread limits", () => {
  test("maxConnections is split over threads, rounded up; per-address and line limits are copied", () => {
    const c = config({ maxConnections: 20000, maxConnectionsPerAddress: 7, maxLineBytes: 4096, maxWriteBufferBytes: 65536 });
    expect(threadLimits(c, 1).maxConnections).toBe(20000);
    expect(threadLimits(c, 3).maxConnections).toBe(6667);
    expect(threadLimits(c, 4).maxConnections).toBe(5000);
    expect(threadLimits(config({ maxConnections: 10 }), 4).maxConnections).toBe(3);
    expect(threadLimits(config({ maxConnections: 1 }), 8).maxConnections).toBe(1);
    const l = threadLimits(c, 3);
    expect(l.maxConnectionsPerAddress).toBe(7);
    expect(l.maxLineBytes).toBe(4096);
    expect(l.maxWriteBufferBytes).toBe(65536);
  });

  test("loginTimeoutMs 0 means never (Infinity); other values pass through", () => {
    expect(threadLimits(config({ loginTimeoutMs: 0 }), 2).loginTimeoutMs).toBe(Infinity);
    expect(threadLimits(config({ loginTimeoutMs: 5000 }), 2).loginTimeoutMs).toBe(5000);
  });
});

function guard() {
  const lines: string[] = [];
  const log = createLogger({ format: "json", level: "debug", write: (l) => void lines.push(l), now: () => T0 });
  const g = createGuard({ enabled: true, policy: {}, rate: { perSecond: 10, burst: 10 }, log, hooks: { banned() {}, active() {} }, now: T0 });
  return { g, lines };
}

describe("guard onKick / onLift", () => {
  test("a manual ban kicks with the ban key and its until", () => {
    const { g } = guard();
    const kicks: [string, number][] = [];
    g.onKick((key, until) => void kicks.push([key, until]));
    const r = g.banManually("1.2.3.4", 60, T0);
    expect(r).toEqual({ ok: true, until: T0 + 60_000, key: "1.2.3.4" });
    expect(kicks).toEqual([["1.2.3.4", T0 + 60_000]]);
    const r6 = g.banManually("2001:db8:0:1::77", 1.5, T0);
    expect(r6.ok).toBe(true);
    expect(kicks[1]).toEqual(["2001:db8:0:1::/64", T0 + 1500]);
    expect(g.admit("1.2.3.4", T0 + 59_999)).toBe(false);
  });

  test("a policy ban (repeated oversize lines) kicks with a future until", () => {
    const { g } = guard();
    const kicks: [string, number][] = [];
    g.onKick((key, until) => void kicks.push([key, until]));
    for (let i = 0; i < 5 && kicks.length === 0; i++) g.oversize("10.0.0.1", T0 + i);
    expect(kicks.length).toBe(1);
    expect(kicks[0]![0]).toBe("10.0.0.1");
    expect(kicks[0]![1]).toBeGreaterThan(T0);
  });

  test("lift calls onLift once per successful lift, never for an unknown address", () => {
    const { g } = guard();
    let lifts = 0;
    g.onLift(() => void lifts++);
    expect(g.lift("7.7.7.7")).toBe(false);
    expect(lifts).toBe(0);
    g.banManually("7.7.7.7", 60, T0);
    expect(lifts).toBe(0);
    expect(g.lift("7.7.7.7")).toBe(true);
    expect(lifts).toBe(1);
    expect(g.admit("7.7.7.7", T0)).toBe(true);
    expect(g.lift("7.7.7.7")).toBe(false); // already lifted
    expect(lifts).toBe(1);
  });
});

/** Only rss() is read by the metrics (sampled at render). */
const runtime = { rss: () => 4096 } as unknown as Runtime;

function sample(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  if (m === null) throw new Error(`${name} not in exposition`);
  return Number(m[1]);
}

describe("relay metrics over several connection cores", () => {
  test("stratum_edge_connections is the sum over slots; a slot's update replaces its old value", () => {
    const m = createRelayMetrics(runtime);
    const a = m.serverHooksFor("t1");
    const b = m.serverHooksFor("t2");
    a.connections(3);
    b.connections(4);
    expect(sample(m.registry.render(), "stratum_edge_connections")).toBe(7);
    a.connections(1);
    expect(sample(m.registry.render(), "stratum_edge_connections")).toBe(5);
    m.serverHooks.connections(10); // the main thread's own listener is a slot too
    expect(sample(m.registry.render(), "stratum_edge_connections")).toBe(15);
    // A second hooks object for an existing slot name updates that slot, not a new one.
    m.serverHooksFor("t2").connections(0);
    expect(sample(m.registry.render(), "stratum_edge_connections")).toBe(11);
  });

  test("with a fanout function the slot's fan-out goes there, not to the histogram", () => {
    const m = createRelayMetrics(runtime);
    const routed: [number, number][] = [];
    const h = m.serverHooksFor("t1", (s, n) => void routed.push([s, n]));
    h.fanout(0.004, 12);
    expect(routed).toEqual([[0.004, 12]]);
    const text = m.registry.render();
    expect(sample(text, "stratum_edge_notify_fanout_seconds_count")).toBe(0);
    expect(sample(text, "stratum_edge_notify_fanout_sockets")).toBe(0);
  });

  test("observeFanout (and hooks without a fanout function) observe the histogram and set the sockets gauge", () => {
    const m = createRelayMetrics(runtime);
    m.observeFanout(0.02, 9);
    let text = m.registry.render();
    expect(sample(text, "stratum_edge_notify_fanout_seconds_count")).toBe(1);
    expect(sample(text, "stratum_edge_notify_fanout_seconds_sum")).toBeCloseTo(0.02, 12);
    expect(text).toContain('stratum_edge_notify_fanout_seconds_bucket{le="0.01"} 0\n');
    expect(text).toContain('stratum_edge_notify_fanout_seconds_bucket{le="0.025"} 1\n');
    expect(sample(text, "stratum_edge_notify_fanout_sockets")).toBe(9);
    m.serverHooksFor("t3").fanout(0.5, 3);
    text = m.registry.render();
    expect(sample(text, "stratum_edge_notify_fanout_seconds_count")).toBe(2);
    expect(sample(text, "stratum_edge_notify_fanout_sockets")).toBe(3);
  });
});
