// Connection core with a fake listener and a manual clock: fan-out shares bytes, limits, timeouts, dialect detection.
import { describe, expect, test } from "bun:test";
import type { Runtime, SocketHandle, SocketHandlers } from "../../../src/runtime/types.ts";
import { createManualClock } from "../../../src/runtime/manual_clock.ts";
import { startStratumServer, type ServerLimits } from "../../../src/server/server.ts";
import { createBtcPool } from "../../../src/pools/btc_pool.ts";
import { stratumV1, type StratumV1Policy } from "../../../protocols/stratum-v1/session.ts";
import { createLogger } from "../../../src/observe/log.ts";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import type { BitcoinWorkSource, TemplateReason } from "../../../src/upstream/types.ts";
import type { ShareSink } from "../../../src/store/share_sink.ts";

const sha = (i: Uint8Array, o: Uint8Array) => void Bun.SHA256.hash(i, o);

interface FakeSock extends SocketHandle {
  writes: Uint8Array[];
  ended: boolean;
  destroyed: boolean;
  text(): string;
}

function harness(limits: Partial<ServerLimits> = {}, shares?: ShareSink) {
  const clock = createManualClock(1_700_000_000_000);
  let handlers: SocketHandlers | undefined;
  let nextId = 1;
  const runtime = {
    name: "bun",
    clock,
    sha256: sha,
    listen: async (_h: string, _p: number, h: SocketHandlers) => {
      handlers = h;
      return { host: "127.0.0.1", port: 3333, close() {} };
    },
  } as unknown as Runtime;
  let emit: ((t: BlockTemplate, r: TemplateReason) => void) | undefined;
  const template: BlockTemplate = {
    height: 5, version: 0x20000000, previousBlockHash: "11".repeat(32), bits: "1d00ffff", curtime: 1_700_000_000, coinbaseValue: 50n, transactions: [],
  };
  const source: BitcoinWorkSource = {
    kind: "fake",
    start: async () => emit?.(template, "initial"),
    stop: async () => {},
    onTemplate: (cb) => void (emit = cb),
    current: () => template,
    submitBlock: async () => ({ accepted: true }),
  };
  const policy: StratumV1Policy = {
    algo: "sha256d",
  diff1: 0xffffn << 208n,
  versionMask: 0x1fffe000, extranonce2Size: 4, initialDifficulty: 1, suggestFloor: 1e-12,
    vardiff: { targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30, min: 1e-12, max: 1e12 },
    loginTimeoutMs: 30_000, idleTimeoutMs: 600_000, maxMalformed: 3, reconnectHost: "", reconnectPort: 0,
  };
  const log = createLogger({ format: "json", level: "error", write: () => {} });
  const journal = { record() {}, recordResult() {}, list: () => [], unsubmitted: () => [], path: "" };
  const pool = createBtcPool({
    name: "btc", runtime, source, journal: journal as never, policy, coinbase: { payoutScript: new Uint8Array([0x51]), poolTag: "/t/" },
    extranonce1Size: 4, keepJobs: 4, refreshSeconds: 30, log, hooks: { share() {}, block() {}, jobBroadcast() {} },
  });
  const sockets: FakeSock[] = [];
  const connect = (addr = "10.0.0.1"): FakeSock => {
    const s: FakeSock = {
      id: nextId++, remoteAddress: addr, remotePort: 1000, ctx: undefined, buffered: 0, writes: [], ended: false, destroyed: false,
      write(d) { this.writes.push(typeof d === "string" ? new TextEncoder().encode(d) : d); return 0; },
      end() { this.ended = true; handlers!.close(this); },
      destroy() { this.destroyed = true; handlers!.close(this); },
      text() { return this.writes.map((w) => new TextDecoder().decode(w)).join(""); },
    };
    sockets.push(s);
    handlers!.open(s);
    return s;
  };
  const send = (s: FakeSock, text: string) => handlers!.data(s, new TextEncoder().encode(text));
  const full: ServerLimits = { maxLineBytes: 1024, maxConnections: 100, maxConnectionsPerAddress: 0, loginTimeoutMs: 5000, maxWriteBufferBytes: 1 << 20, tickMs: 1000, ...limits };
  return { clock, pool, connect, send, sockets, start: async () => {
    const server = await startStratumServer({ runtime, host: "127.0.0.1", port: 0, routes: [{ dialect: stratumV1, pool }], limits: full, hooks: { connections() {}, refused() {}, closed() {}, fanout() {} }, log, ...(shares ? { shares } : {}) });
    pool.setBroadcast((ev) => server.broadcast(pool, ev));
    await pool.start();
    return server;
  }, emit: (t: BlockTemplate, r: TemplateReason) => emit!(t, r), template };
}

const login = '{"id":1,"method":"mining.subscribe","params":[]}\n{"id":2,"method":"mining.authorize","params":["w","x"]}\n';
/** A submit for an unknown job id: a judged (stale) share whose reply is an error; a sink sees it all the same. */
const staleSubmit = (id: number) => `{"id":${id},"method":"mining.submit","params":["w","nojob","00000000","6553f100","00000000"]}\n`;

/** A started harness with `sink` and one logged-in miner from 10.0.0.9 whose handshake output is cleared; `ids()` lists the reply ids it has read since. */
async function minerWithSink(sink: ShareSink) {
  const h = harness({}, sink);
  await h.start();
  const m = h.connect("10.0.0.9");
  h.send(m, login);
  m.writes.length = 0;
  const ids = () => m.text().trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).id);
  return { h, m, ids };
}

describe("connection core", () => {
  test("one notify encoding is written, as the same bytes, to every miner", async () => {
    const h = harness();
    await h.start();
    const miners = [h.connect(), h.connect(), h.connect()];
    for (const m of miners) h.send(m, login);
    for (const m of miners) m.writes.length = 0;
    h.emit({ ...h.template, height: 6, previousBlockHash: "22".repeat(32) }, "new_block");
    const notifies = miners.map((m) => m.writes.find((w) => new TextDecoder().decode(w).includes("mining.notify")));
    expect(notifies[0]).toBeDefined();
    expect(notifies[1]).toBe(notifies[0]!); // the very same Uint8Array
    expect(notifies[2]).toBe(notifies[0]!);
  });

  test("limits: max connections refused at accept, per-address cap, oversize line closes", async () => {
    const h = harness({ maxConnections: 2, maxConnectionsPerAddress: 1, maxLineBytes: 64 });
    await h.start();
    const a = h.connect("1.1.1.1");
    const b = h.connect("1.1.1.1");
    expect(b.destroyed).toBe(true);
    const c = h.connect("2.2.2.2");
    const d = h.connect("3.3.3.3");
    expect(d.destroyed).toBe(true);
    h.send(c, "x".repeat(100));
    expect(c.ended).toBe(true);
    expect(c.text()).toContain("Line longer than 64 bytes");
    expect(a.destroyed || a.ended).toBe(false);
  });

  test("an unknown first message gets a prompt error and close; silence closes at the login timeout", async () => {
    const h = harness();
    await h.start();
    const hello = h.connect();
    h.send(hello, '{"id":1,"method":"mining.hello","params":[]}\n');
    expect(hello.text()).toContain("Unsupported protocol");
    expect(hello.ended).toBe(true);
    const quiet = h.connect();
    h.clock.advance(4000);
    expect(quiet.destroyed).toBe(false);
    h.clock.advance(2000);
    expect(quiet.destroyed).toBe(true);
  });

  test("subscribe result precedes the first notify even when lines arrive split byte by byte", async () => {
    const h = harness();
    await h.start();
    const m = h.connect();
    for (const ch of login) h.send(m, ch);
    const lines = m.text().trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id ?? l.method)).toEqual([1, 2, "mining.set_difficulty", "mining.notify"]);
  });

  test("graceful shutdown: client.reconnect to every miner, then close", async () => {
    const h = harness();
    const server = await h.start();
    const m = h.connect();
    h.send(m, login);
    await server.shutdown(50);
    expect(m.text()).toContain('"client.reconnect"');
    expect(m.ended).toBe(true);
  });

  test("share sink: replies wait until the sink stored the shares before them, in order; pipelined submits share one wait", async () => {
    // A sink whose batches the test commits by hand: one pending promise until flush().
    const seen: { worker: string; pool: string; address: string; accepted: boolean }[] = [];
    let batch: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined;
    const sink: ShareSink = {
      put(share, pool, address) {
        seen.push({ worker: share.worker, pool, address, accepted: share.accepted });
        if (batch === undefined) {
          let resolve!: () => void, reject!: (e: Error) => void;
          const promise = new Promise<void>((a, b) => ((resolve = a), (reject = b)));
          batch = { promise, resolve, reject };
        }
        return batch.promise;
      },
      close: async () => {},
    };
    const flush = async (fail?: Error) => {
      const b = batch!;
      batch = undefined;
      if (fail) b.reject(fail);
      else b.resolve();
      await new Promise((r) => setTimeout(r, 0));
    };
    const { h, m, ids } = await minerWithSink(sink);
    const submit = staleSubmit;
    h.send(m, submit(10) + submit(11));
    expect(seen).toHaveLength(2);
    expect(seen[0]).toEqual({ worker: "w", pool: "btc", address: "10.0.0.9", accepted: false });
    expect(m.text()).toBe(""); // nothing acknowledged before the store
    h.send(m, submit(12));
    expect(seen).toHaveLength(3); // joined the same pending batch
    expect(m.text()).toBe("");
    await flush();
    expect(ids()).toEqual([10, 11, 12]);
    // A later submit waits for the next batch; a batch that fails to store is never acknowledged.
    h.send(m, submit(13));
    expect(ids()).toEqual([10, 11, 12]);
    await flush(new Error("disk full"));
    expect(ids()).toEqual([10, 11, 12]);
    expect(m.ended).toBe(true);
  });

  test("share sink: a reply parked behind an earlier batch still waits for its own share's batch (no acknowledgement before the store)", async () => {
    // Batches the test posts and commits by hand, as the writer thread does: A is posted (new shares form B) before A commits.
    const batches: { promise: Promise<void>; resolve: () => void }[] = [];
    let open: { promise: Promise<void>; resolve: () => void } | undefined;
    const sink: ShareSink = {
      put() {
        if (open === undefined) {
          let resolve!: () => void;
          const promise = new Promise<void>((a) => (resolve = a));
          batches.push((open = { promise, resolve }));
        }
        return open.promise;
      },
      close: async () => {},
    };
    const { h, m, ids } = await minerWithSink(sink);
    const submit = staleSubmit;
    h.send(m, submit(10));
    open = undefined; // batch A posted: still uncommitted
    h.send(m, submit(11) + submit(12)); // both in batch B, parked behind A
    expect(batches).toHaveLength(2);
    batches[0]!.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(ids()).toEqual([10]); // 11 and 12 are not stored yet
    open = undefined;
    h.send(m, submit(13)); // batch C
    batches[1]!.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(ids()).toEqual([10, 11, 12]);
    batches[2]!.resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(ids()).toEqual([10, 11, 12, 13]);
  });
});
