// Robustness suite against the compiled binary: hostile input per case (random bytes, bad UTF-8, truncated/deep JSON, wrong param types, long lines, floods, slowloris, connection storms, invalid shares); asserts the reaction, liveness, bounded RSS and an unharmed honest miner. No unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { prng } from "../support/prng.ts";
import fixtures from "../fixtures/stratum-messages.json";
import {
  alive,
  authorizedConn,
  honestMiner,
  httpGet,
  line,
  lowDifficultySubmits,
  metric,
  rawConnect,
  refusedAtAccept,
  rssMb,
  sleep,
  startAbuseRelay,
  type AbuseRelay,
  type HonestMiner,
  type RawConn,
} from "./abuse_helpers.ts";
import type { Msg } from "./helpers.ts";

// maxLineBytes at its 1 MiB maximum so 100k-level JSON (≤ 600 KB) reaches the parser instead of the
// line cap; loginTimeoutMs 3 s bounds slowloris; refreshSeconds 2 gives the honest miner a job stream;
// blockIntervalSeconds 3600: no clean jobs, so a share on the latest job is never stale.
const BASE = {
  "difficulty.suggestFloor": "1e-12",
  "upstream.devnet.blockIntervalSeconds": "3600",
  "jobs.refreshSeconds": "2",
  "stratum.maxLineBytes": "1048576",
  "stratum.loginTimeoutMs": "3000",
};
const MAX_RSS_MB = 300;
const MAX_GROWTH_MB = 50;
const ETH_ADDR = "0xb85150eb365e7df0941f0cf08235f987ba91506a";

let R: AbuseRelay; // maxConnectionsPerAddress 100
let R2: AbuseRelay; // no per-address limit
let honest: HonestMiner;
let honest2: HonestMiner;
let cases = 0;
let connections = 0;
let crashes = 0;

beforeAll(async () => {
  [R, R2] = await Promise.all([
    startAbuseRelay({ sets: { ...BASE, "stratum.maxConnectionsPerAddress": "100" } }),
    startAbuseRelay({ sets: BASE }),
  ]);
  // Honest miners come from 127.0.0.1; every abuser below from its own 127.x.y.z.
  [honest, honest2] = await Promise.all([honestMiner(R.mainPort), honestMiner(R2.mainPort)]);
}, 60_000);

afterAll(async () => {
  console.log(`robustness: ${cases} cases, ${connections} connections, ${crashes} crashes`);
  honest?.close();
  honest2?.close();
  await Promise.all([R, R2].filter((r) => r !== undefined).map((r) => r.stop()));
});

/**
 * Runs one case: the relay must stay up with RSS under MAX_RSS_MB and growing by less than
 * MAX_GROWTH_MB over the case, and the honest miner must still get a valid share accepted.
 */
async function runCase(relay: AbuseRelay, miner: HonestMiner, fn: () => Promise<number>): Promise<void> {
  const before = rssMb(relay.pid);
  const n = await fn();
  connections += n;
  cases++;
  const up = alive(relay.pid) && (await httpGet(relay.httpPort, "/healthz")).status === 200;
  if (!up) crashes++;
  expect(up).toBe(true);
  const after = rssMb(relay.pid);
  expect(after).toBeLessThan(MAX_RSS_MB);
  expect(after - before).toBeLessThan(MAX_GROWTH_MB);
  expect(await miner.submitValid()).toBe(true);
}

/** Loopback source address number i of a /16 block (127.B.x.y), never .0 or .255 in the last byte. */
const addr = (block: number, i: number) => `127.${block}.${(i / 250) | 0}.${(i % 250) + 1}`;

const errCode = (m: Msg): unknown => (Array.isArray(m.error) ? m.error[0] : (m.error as { code?: unknown } | null)?.code);

/** Waits until the connection has answered id `id` (resolve the message) or closed (resolve "closed"); "silent" after ms. */
async function replyOrClose(c: RawConn, id: unknown, ms: number): Promise<Msg | "closed" | "silent"> {
  try {
    return await c.next((m) => m.id === id && m.method === undefined, ms, `reply ${String(id)}`);
  } catch {
    return c.isClosed() ? "closed" : "silent";
  }
}

describe("robustness (compiled binary)", () => {
  test("random bytes: 300 connections × 1-4 random chunks → error 20 and/or close, nothing else", async () => {
    await runCase(R, honest, async () => {
      const rnd = prng(0x5eed_0004);
      const N = 300;
      const results = await Promise.all(
        Array.from({ length: N }, async (_, i) => {
          const c = await rawConnect(R.mainPort, { localAddress: addr(2, i) });
          const chunks = 1 + Math.floor(rnd() * 4);
          for (let k = 0; k < chunks; k++) {
            const b = new Uint8Array(1 + Math.floor(rnd() * 1500));
            for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
            c.write(b);
          }
          // Without a newline the line is simply incomplete: the 3 s login timeout closes it.
          await c.waitClosed(7000);
          const codes = c.received.map(errCode);
          c.close();
          return codes;
        }),
      );
      for (const codes of results) for (const code of codes) expect(code).toBe(20);
      // Most random chunks hold a newline, so most connections were answered before the close.
      expect(results.filter((codes) => codes.length > 0).length).toBeGreaterThan(N / 2);
      return N;
    });
  }, 20_000);

  test("invalid UTF-8 inside and outside JSON strings → an answer (result or error 20) or a close", async () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const cat = (...parts: Uint8Array[]) => {
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let o = 0;
      for (const p of parts) (out.set(p, o), (o += p.length));
      return out;
    };
    const bad = [
      Uint8Array.of(0xff, 0xfe),
      Uint8Array.of(0xc0, 0x80), // overlong NUL
      Uint8Array.of(0xed, 0xa0, 0x80), // lone surrogate D800
      Uint8Array.of(0xe2, 0x82), // truncated 3-byte sequence
      Uint8Array.of(0xf8, 0x88, 0x80, 0x80, 0x80), // 5-byte form
      Uint8Array.of(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
    ];
    const lines: Uint8Array[] = [];
    for (const b of bad) {
      lines.push(cat(enc('{"id":1,"method":"mining.subscribe","params":["'), b, enc('"]}\n'))); // in a string
      lines.push(cat(enc('{"id":1,"method":"mining.sub'), b, enc('scribe","params":[]}\n'))); // in the method
      lines.push(cat(enc('{"id":1,'), b, enc('"method":"mining.subscribe","params":[]}\n'))); // between tokens
      lines.push(cat(b, enc("\n")));
    }
    await runCase(R, honest, async () => {
      const out = await Promise.all(
        lines.map(async (l, i) => {
          const c = await rawConnect(R.mainPort, { localAddress: addr(3, i) });
          c.write(l);
          const r = await replyOrClose(c, 1, 3000);
          const nullId = c.received.find((m) => m.id === null);
          c.close();
          return r === "silent" && nullId !== undefined ? nullId : r;
        }),
      );
      for (const r of out) {
        expect(r).not.toBe("silent");
        if (typeof r === "object" && r.error !== null && r.error !== undefined) expect(errCode(r)).toBe(20);
      }
      return lines.length;
    });
  }, 20_000);

  test("truncated JSON of every real client message (3 cut points) → [20, Malformed request] and close", async () => {
    const msgs = fixtures.messages.map((m) => JSON.stringify(m.json)).filter((t) => t.includes('"method"'));
    const cuts: string[] = [];
    for (const t of msgs) for (const at of [1, Math.floor(t.length / 2), t.length - 1]) cuts.push(t.slice(0, at));
    await runCase(R, honest, async () => {
      const out = await Promise.all(
        cuts.map(async (t, i) => {
          const c = await rawConnect(R.mainPort, { localAddress: addr(4, i) });
          c.write(t + "\n");
          await c.waitClosed(3000);
          const r = c.received;
          c.close();
          return r;
        }),
      );
      for (const r of out) {
        expect(r).toHaveLength(1);
        expect(r[0]!.error).toEqual([20, "Malformed request", null]);
      }
      return cuts.length;
    });
  }, 20_000);

  test("100k-level nested JSON (arrays, objects, inside params) → error 20, no stack overflow", async () => {
    const D = 100_000;
    const docs = [
      "[".repeat(D) + "]".repeat(D),
      '{"a":'.repeat(D) + "1" + "}".repeat(D),
      '{"id":7,"method":"mining.subscribe","params":' + "[".repeat(D) + "]".repeat(D) + "}",
      '{"id":7,"method":"mining.subscribe","params":[' + '{"a":'.repeat(D) + "1" + "}".repeat(D) + "]}",
    ];
    await runCase(R, honest, async () => {
      for (const [i, d] of docs.entries()) {
        const c = await rawConnect(R.mainPort, { localAddress: addr(5, i) });
        c.write(d + "\n");
        const m = await c.next((x) => x.error !== undefined && x.error !== null, 5000, "an error answer");
        expect(errCode(m)).toBe(20);
        c.close();
      }
      return docs.length;
    });
  }, 20_000);

  test("wrong types and huge numbers in every param position of every method → an answer or a close, never silence", async () => {
    // Raw JSON texts: 1e400 parses to Infinity, the 30-digit integer loses precision, "__proto__" tries prototype pollution.
    const values = [
      "null", "true", "-1", "0", "1.5", "1e308", "1e400", "-1e400", "123456789012345678901234567890", '""', '"zz"',
      JSON.stringify("x".repeat(5000)), "{}", "[]", "[[[[1]]]]", '{"__proto__":{"polluted":1}}',
    ];
    const H64 = '"0x' + "ab".repeat(32) + '"';
    const sv1 = line({ id: 1, method: "mining.subscribe", params: ["abuse/1"] });
    const sv1auth = sv1 + line({ id: 2, method: "mining.authorize", params: ["abuse.w", "x"] });
    const eth = line({ id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ETH_ADDR], worker: "rig" });
    const es = line({ id: 1, method: "mining.subscribe", params: ["ethminer-0.19.0", "EthereumStratum/1.0.0"] });
    const esAuth = es + line({ id: 2, method: "mining.authorize", params: [ETH_ADDR + ".rig", "x"] });
    const methods: { method: string; opening: string; params: string[] }[] = [
      { method: "mining.subscribe", opening: "", params: ['"agent"', '"deadbeef"'] },
      { method: "mining.authorize", opening: sv1, params: ['"w"', '"x"'] },
      { method: "mining.submit", opening: sv1auth, params: ['"abuse.w"', '"1"', '"00000000"', '"5f5e1000"', '"00000000"', '"00000000"'] },
      { method: "mining.configure", opening: "", params: ['["version-rolling"]', '{"version-rolling.mask":"1fffe000","version-rolling.min-bit-count":2}'] },
      { method: "mining.suggest_difficulty", opening: sv1, params: ["1000"] },
      { method: "eth_submitLogin", opening: "", params: [`"${ETH_ADDR}"`, '"x"'] },
      { method: "eth_getWork", opening: eth, params: [] },
      { method: "eth_submitWork", opening: eth, params: ['"0x0000000000000001"', H64, H64] },
      { method: "eth_submitHashrate", opening: eth, params: ['"0x1"', H64] },
      { method: "mining.subscribe", opening: "", params: ['"ethminer-0.19.0"', '"EthereumStratum/1.0.0"'] },
      { method: "mining.authorize", opening: es, params: [`"${ETH_ADDR}.rig"`, '"x"'] },
      { method: "mining.submit", opening: esAuth, params: [`"${ETH_ADDR}.rig"`, '"1"', '"000000000000"'] },
    ];
    const cases: string[] = [];
    for (const m of methods) {
      const opening = m.opening === "es" ? "" : m.opening;
      const msg = (params: string, id = "99") => `${opening}{"id":${id},"method":"${m.method}","params":${params}}\n`;
      for (let pos = 0; pos < m.params.length; pos++) {
        for (const v of values) cases.push(msg("[" + m.params.map((p, i) => (i === pos ? v : p)).join(",") + "]"));
      }
      // The params member itself of the wrong type, and a huge params array.
      for (const v of ["null", '"str"', "{}", "1e400", "[" + "1,".repeat(5000) + "1]"]) cases.push(msg(v));
    }
    // Odd ids on a valid opening message (an id is echoed back, so it must be encodable).
    for (const id of ["{}", "[]", "1e400", "-0", "true", JSON.stringify("i".repeat(2000))]) cases.push(`{"id":${id},"method":"mining.subscribe","params":[]}\n`);
    await runCase(R, honest, async () => {
      let silent: string[] = [];
      const tally: Record<string, number> = {};
      const BATCH = 150;
      for (let b = 0; b < cases.length; b += BATCH) {
        const out = await Promise.all(
          cases.slice(b, b + BATCH).map(async (text, k) => {
            const c = await rawConnect(R.mainPort, { localAddress: addr(6, b + k) });
            c.write(text);
            const id99 = text.includes('"id":99');
            const r = id99 ? await replyOrClose(c, 99, 3000) : await (async () => {
              // Odd ids: the reply's id is whatever the relay echoes; any line or a close will do.
              try {
                await c.next(() => true, 3000);
                return "answered" as const;
              } catch {
                return c.isClosed() ? ("closed" as const) : ("silent" as const);
              }
            })();
            c.close();
            return { text, r };
          }),
        );
        silent = silent.concat(out.filter((x) => x.r === "silent").map((x) => x.text.slice(-160)));
        for (const x of out) tally[typeof x.r === "string" ? x.r : `error ${String(errCode(x.r) ?? "none")}`] = (tally[typeof x.r === "string" ? x.r : `error ${String(errCode(x.r) ?? "none")}`] ?? 0) + 1;
      }
      console.log(`wrong-type matrix: ${cases.length} messages → ${JSON.stringify(tally)}`);
      expect(silent).toEqual([]);
      return cases.length;
    });
  }, 40_000);

  test("a 1 MiB line without newline → close and an oversize ban; the address is then refused at accept", async () => {
    const a = addr(7, 0);
    const bansBefore = await metric(R.httpPort, "stratum_edge_bans_issued_total", 'reason="oversize"');
    await runCase(R, honest, async () => {
      const c = await rawConnect(R.mainPort, { localAddress: a });
      c.write(new Uint8Array(1_048_576 + 16).fill(0x61));
      await c.waitClosed(5000);
      c.close();
      await R.waitForLog((l) => l.msg === "banned" && l.address === a && l.reason === "oversize", 3000, "oversize ban log");
      expect(await metric(R.httpPort, "stratum_edge_bans_issued_total", 'reason="oversize"')).toBe(bansBefore + 1);
      const again = await refusedAtAccept(R.mainPort, { localAddress: a });
      expect(again).toEqual({ refused: true, bytes: 0, closed: true });
      return 2;
    });
  }, 20_000);

  test("the over-long line is answered with [20, \"Line longer than 1048576 bytes\"] before the close", async () => {
    // Separate from the case above so a missing error line does not hide the ban/close behaviour.
    const c = await rawConnect(R.mainPort, { localAddress: addr(7, 1) });
    c.write(new Uint8Array(1_048_576 + 16).fill(0x61));
    await c.waitClosed(5000);
    connections++;
    expect(c.received).toEqual([{ id: null, result: null, error: [20, "Line longer than 1048576 bytes", null] }]);
  }, 20_000);

  test("10,000 tiny messages in one write → [20, Rate limited] and close, at most burst answers before it", async () => {
    await runCase(R, honest, async () => {
      const c = await rawConnect(R.mainPort, { localAddress: addr(8, 0) });
      c.write(line({ id: 1, method: "mining.subscribe", params: [] }).repeat(10_000));
      await c.waitClosed(5000);
      const last = c.received[c.received.length - 1];
      expect(last).toEqual({ id: null, result: null, error: [20, "Rate limited", null] });
      // Default stratum.messageBurst is 200: that many subscribes are answered, then the limit.
      expect(c.received.length).toBeLessThanOrEqual(201);
      c.close();
      return 1;
    });
  }, 20_000);

  test("slowloris: one byte per second → closed by the 3 s login timeout, no answer, no ban", async () => {
    const bansBefore = (await httpGet(R.httpPort, "/metrics")).text.split("\n").filter((l) => l.startsWith("stratum_edge_bans_issued_total")).join("\n");
    await runCase(R, honest, async () => {
      const c = await rawConnect(R.mainPort, { localAddress: addr(9, 0) });
      const text = line({ id: 1, method: "mining.subscribe", params: [] });
      let sent = 0;
      const t0 = Date.now();
      while (!c.isClosed() && sent < 8) {
        c.write(text[sent++]!);
        await sleep(1000);
      }
      const elapsed = Date.now() - t0;
      expect(c.isClosed()).toBe(true);
      expect(c.bytes()).toBe(0);
      // Ticks are 1 s apart: closed between the timeout and timeout + one tick (+ scheduling slack).
      expect(elapsed).toBeGreaterThanOrEqual(3000);
      expect(elapsed).toBeLessThan(6500);
      c.close();
      return 1;
    });
    const bansAfter = (await httpGet(R.httpPort, "/metrics")).text.split("\n").filter((l) => l.startsWith("stratum_edge_bans_issued_total")).join("\n");
    expect(bansAfter).toBe(bansBefore);
  }, 20_000);

  test("1,000 connections from one address: with maxConnectionsPerAddress=100 the rest are refused at accept", async () => {
    const a = addr(10, 0);
    const refusedBefore = await metric(R.httpPort, "stratum_edge_connections_refused_total", 'reason="max_per_address"');
    await runCase(R, honest, async () => {
      // A socket destroyed at accept may be reset before the client even sees "connect": undefined.
      const all = await Promise.all(Array.from({ length: 1000 }, () => rawConnect(R.mainPort, { localAddress: a }).catch(() => undefined)));
      await sleep(800);
      const conns = all.filter((c): c is RawConn => c !== undefined);
      const closedEarly = conns.filter((c) => c.isClosed());
      expect(closedEarly.length + (all.length - conns.length)).toBe(900);
      for (const c of closedEarly) expect(c.bytes()).toBe(0);
      expect(await metric(R.httpPort, "stratum_edge_connections_refused_total", 'reason="max_per_address"')).toBe(refusedBefore + 900);
      // The 100 admitted ones say nothing and are closed by the login timeout.
      await Promise.all(conns.map((c) => c.waitClosed(6000)));
      for (const c of conns) c.close();
      return 1000;
    });
  }, 30_000);

  test("1,000 connections from one address without a per-address limit: all accepted, all closed by the login timeout", async () => {
    const a = addr(10, 1);
    await runCase(R2, honest2, async () => {
      const conns = await Promise.all(Array.from({ length: 1000 }, () => rawConnect(R2.mainPort, { localAddress: a })));
      await sleep(1000);
      expect(conns.filter((c) => c.isClosed()).length).toBe(0);
      const stats = (await httpGet(R2.httpPort, "/api/stats")).json() as { connections: number };
      expect(stats.connections).toBeGreaterThanOrEqual(1000);
      const t = await Promise.all(conns.map((c) => c.waitClosed(7000)));
      expect(Math.min(...t)).toBeGreaterThanOrEqual(2500);
      for (const c of conns) expect(c.bytes()).toBe(0);
      for (const c of conns) c.close();
      return 1000;
    });
  }, 30_000);

  test("submit flood: ~1000 submits per second → [20, Rate limited] and close", async () => {
    await runCase(R, honest, async () => {
      const s = await authorizedConn(R.mainPort, { localAddress: addr(11, 0) });
      const c = s.conn;
      let id = 1000;
      // Unknown job id: answered 21 (stale), which the ban policy does not count as invalid.
      const burst = () => Array.from({ length: 100 }, () => line({ id: id++, method: "mining.submit", params: ["abuser.w1", "ffff", "00000000", s.job.ntime, "00000000"] })).join("");
      for (let k = 0; k < 20 && !c.isClosed(); k++) {
        c.write(burst());
        await sleep(100);
      }
      await c.waitClosed(3000);
      expect(c.received.some((m) => Array.isArray(m.error) && m.error[1] === "Rate limited")).toBe(true);
      c.close();
      return 1;
    });
  }, 20_000);

  test("invalid-share flood: 20 low-difficulty shares → invalid_shares ban; reconnecting is closed at accept before any answer", async () => {
    const a = addr(12, 0);
    await runCase(R, honest, async () => {
      const s = await authorizedConn(R.mainPort, { localAddress: a });
      s.conn.write(lowDifficultySubmits(s, 20));
      await s.conn.waitClosed(5000);
      s.conn.close();
      await R.waitForLog((l) => l.msg === "banned" && l.address === a && l.reason === "invalid_shares", 3000, "invalid_shares ban");
      const again = await refusedAtAccept(R.mainPort, { localAddress: a });
      expect(again).toEqual({ refused: true, bytes: 0, closed: true });
      return 2;
    });
  }, 20_000);

  test("the honest miners kept receiving jobs throughout (refresh every 2 s)", () => {
    // Both miners have been connected since beforeAll; the cases above took well over 10 s.
    expect(honest.jobs()).toBeGreaterThanOrEqual(5);
    expect(honest2.jobs()).toBeGreaterThanOrEqual(3);
    expect(honest.conn.isClosed()).toBe(false);
    expect(honest2.conn.isClosed()).toBe(false);
  });
});
