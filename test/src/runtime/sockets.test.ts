// Real-socket tests on 127.0.0.1 for the Bun and node:net runtime adapters (same suite, parametrized): ports, ordering under backpressure, end/close semantics, HTTP, hashing, files.
import { describe, expect, test } from "bun:test";
import { connect as netConnect } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBunRuntime, userArgs } from "../../../src/runtime/bun.ts";
import { createNodeNetRuntime } from "../../../src/runtime/node_net.ts";
import type { Runtime, SocketHandle, SocketHandlers } from "../../../src/runtime/types.ts";

const FIVE_MB = 5 * 1024 * 1024;

/** Byte i of the test stream: position-dependent so a reorder, loss or duplication changes the content. */
function pattern(start: number, len: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let k = 0; k < len; k++) {
    const i = start + k;
    b[k] = (i * 7 + (i >>> 10) * 13) & 0xff;
  }
  return b;
}

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

const runtimes: [string, () => Runtime][] = [
  ["bun", createBunRuntime],
  ["node_net (under bun)", () => createNodeNetRuntime("node")],
];

for (const [label, make] of runtimes) {
  describe(`runtime ${label}`, () => {
    const rt = make();

    test("listen on port 0 reports the real port; echo round trip; metadata", async () => {
      const serverSide = deferred<SocketHandle>();
      const l = await rt.listen("127.0.0.1", 0, {
        open: (s) => serverSide.resolve(s),
        data: (s, chunk) => s.write(chunk),
        close: () => {},
      });
      expect(l.port).toBeGreaterThan(0);
      const got = deferred<string>();
      const c = await rt.connect("127.0.0.1", l.port, {
        open: () => {},
        data: (_s, chunk) => got.resolve(new TextDecoder().decode(chunk)),
        close: () => {},
      });
      expect(c.write(new TextEncoder().encode("ping\n"))).toBe(0);
      expect(await got.promise).toBe("ping\n");
      const s = await serverSide.promise;
      expect(s.remoteAddress).toBe("127.0.0.1");
      expect(s.remotePort).toBeGreaterThan(0);
      expect(c.remotePort).toBe(l.port);
      expect(s.id).not.toBe(c.id);
      s.ctx = { mine: 1 };
      expect(s.ctx).toEqual({ mine: 1 });
      c.destroy();
      l.close();
    });

    test("5 MB to a slow reader arrives complete and in order; end() flushes before close; close fires once", async () => {
      let serverCloses = 0;
      let maxBuffered = 0;
      const l = await rt.listen("127.0.0.1", 0, {
        open(s) {
          // Uneven chunk sizes so queue boundaries never line up with write boundaries.
          let off = 0;
          let n = 0;
          while (off < FIVE_MB) {
            const len = Math.min(FIVE_MB - off, 1000 + ((n++ * 7919) % 60000));
            maxBuffered = Math.max(maxBuffered, s.write(pattern(off, len)));
            off += len;
          }
          s.end();
          // Writes after end() are ignored, never appended after the FIN.
          s.write(new Uint8Array([1, 2, 3]));
        },
        data() {},
        close: () => serverCloses++,
      });
      const chunks: Uint8Array[] = [];
      let received = 0;
      let clientCloses = 0;
      const closed = deferred<void>();
      let slowReads = 0;
      await rt.connect("127.0.0.1", l.port, {
        open() {},
        data(_s, chunk) {
          // Slow reader: stall the first reads so the sender's kernel buffer fills and its queue must drain later.
          if (slowReads++ < 20) sleepSync(5);
          chunks.push(chunk.slice());
          received += chunk.byteLength;
        },
        close() {
          clientCloses++;
          closed.resolve();
        },
      });
      await closed.promise;
      await Bun.sleep(50);
      expect(maxBuffered).toBeGreaterThan(0); // the user-space queue was really exercised
      expect(received).toBe(FIVE_MB);
      const all = new Uint8Array(FIVE_MB);
      let o = 0;
      for (const c of chunks) {
        all.set(c, o);
        o += c.byteLength;
      }
      expect(Buffer.compare(all, pattern(0, FIVE_MB))).toBe(0);
      expect(clientCloses).toBe(1);
      expect(serverCloses).toBe(1);
      l.close();
    });

    test("5 MB to a paused raw node:net reader: queue drains in order after resume", async () => {
      const serverSide = deferred<SocketHandle>();
      let serverCloses = 0;
      const l = await rt.listen("127.0.0.1", 0, {
        open: (s) => serverSide.resolve(s),
        data() {},
        close: () => serverCloses++,
      });
      const raw = netConnect({ host: "127.0.0.1", port: l.port });
      raw.pause();
      const parts: Buffer[] = [];
      raw.on("data", (d: Buffer) => parts.push(d));
      const ended = deferred<void>();
      raw.on("close", () => ended.resolve());
      const s = await serverSide.promise;
      let off = 0;
      while (off < FIVE_MB) {
        const len = Math.min(FIVE_MB - off, 4096);
        s.write(pattern(off, len));
        off += len;
      }
      s.end();
      await Bun.sleep(200);
      expect(s.buffered).toBeGreaterThan(0); // kernel full while paused: the rest waits in user space
      raw.resume();
      await ended.promise;
      const all = Buffer.concat(parts);
      expect(all.byteLength).toBe(FIVE_MB);
      expect(Buffer.compare(all, pattern(0, FIVE_MB))).toBe(0);
      await Bun.sleep(20);
      expect(serverCloses).toBe(1);
      expect(s.buffered).toBe(0);
      l.close();
    });

    test("destroy() drops the queue and closes both sides once; writes after close are harmless", async () => {
      const serverSide = deferred<SocketHandle>();
      let serverCloses = 0;
      let clientCloses = 0;
      const clientClosed = deferred<void>();
      const l = await rt.listen("127.0.0.1", 0, {
        open: (s) => serverSide.resolve(s),
        data() {},
        close: () => serverCloses++,
      });
      const c = await rt.connect("127.0.0.1", l.port, {
        open() {},
        data() {},
        close() {
          clientCloses++;
          clientClosed.resolve();
        },
      });
      const s = await serverSide.promise;
      s.write(pattern(0, 8 * 1024 * 1024));
      s.destroy();
      s.destroy();
      await clientClosed.promise;
      await Bun.sleep(20);
      expect(serverCloses).toBe(1);
      expect(clientCloses).toBe(1);
      expect(s.buffered).toBe(0);
      expect(() => s.write(new Uint8Array([1]))).not.toThrow();
      expect(() => c.end()).not.toThrow();
      l.close();
    });

    test("listener close stops accepting; connect to a closed port rejects", async () => {
      const h: SocketHandlers = { open() {}, data() {}, close() {} };
      const l = await rt.listen("127.0.0.1", 0, h);
      const port = l.port;
      l.close();
      await Bun.sleep(20);
      await expect(rt.connect("127.0.0.1", port, h)).rejects.toThrow();
    });

    test("serveHttp on port 0 serves the fetch handler", async () => {
      const srv = await rt.serveHttp("127.0.0.1", 0, async (req) => {
        const body = req.method === "POST" ? await req.text() : "";
        return new Response(`${req.method} ${new URL(req.url).pathname} ${body}`, { status: 201, headers: { "x-t": "1" } });
      });
      expect(srv.port).toBeGreaterThan(0);
      const r = await fetch(`http://127.0.0.1:${srv.port}/a/b?q=1`, { method: "POST", body: "hi" });
      expect(r.status).toBe(201);
      expect(r.headers.get("x-t")).toBe("1");
      expect(await r.text()).toBe("POST /a/b hi");
      await srv.close();
    });

    test("sha256 writes into a subarray of a bigger buffer and nowhere else", () => {
      const out = new Uint8Array(64).fill(0xaa);
      rt.sha256(new TextEncoder().encode("abc"), out.subarray(16, 48));
      expect(hex(out.subarray(16, 48))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
      expect(out.subarray(0, 16).every((b) => b === 0xaa)).toBe(true);
      expect(out.subarray(48).every((b) => b === 0xaa)).toBe(true);
      // A 1 MB input (multi-block) against a second implementation.
      const big = pattern(0, 1 << 20);
      const o = new Uint8Array(32);
      rt.sha256(big, o);
      expect(hex(o)).toBe(new Bun.CryptoHasher("sha256").update(big).digest("hex"));
    });

    test("files: mkdirp, appendDurable, readText, writeText", () => {
      const dir = mkdtempSync(join(tmpdir(), "se-files-"));
      try {
        const d = join(dir, "a/b/c");
        rt.files.mkdirp(d);
        rt.files.mkdirp(d);
        const p = join(d, "blocks.jsonl");
        expect(rt.files.readText(p)).toBeUndefined();
        rt.files.appendDurable(p, "one\n");
        rt.files.appendDurable(p, "two ✓\n");
        expect(rt.files.readText(p)).toBe("one\ntwo ✓\n");
        rt.files.writeText(p, "over");
        expect(rt.files.readText(p)).toBe("over");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test("clock, rss, env", async () => {
      const t0 = rt.clock.now();
      expect(Math.abs(t0 - Date.now())).toBeLessThan(50);
      const fired = deferred<number>();
      rt.clock.setTimeout(() => fired.resolve(rt.clock.now()), 20);
      const cleared = rt.clock.setTimeout(() => {
        throw new Error("cleared timer fired");
      }, 5);
      rt.clock.clearTimeout(cleared);
      expect((await fired.promise) - t0).toBeGreaterThanOrEqual(19);
      expect(rt.rss()).toBeGreaterThan(1_000_000);
      expect(rt.env("PATH")).toBeTruthy();
      expect(rt.env("SURELY_NOT_SET_STRATUM_EDGE_X")).toBeUndefined();
    });
  });
}

describe("bun args", () => {
  test("`bun src/main.ts a b`: argv[1] is the script", () => {
    expect(userArgs(["/usr/bin/bun", "/w/src/main.ts", "--set", "x=1"], "/w/src/main.ts")).toEqual(["--set", "x=1"]);
  });
  test("compiled binary: argv is [bun, /$bunfs/root/name, ...] (observed on Bun 1.4.5)", () => {
    expect(userArgs(["bun", "/$bunfs/root/stratum-edge", "a", "--b"], "/$bunfs/root/stratum-edge")).toEqual(["a", "--b"]);
  });
  test("an argument equal to the script path after it is kept", () => {
    expect(userArgs(["bun", "/w/src/main.ts", "/w/src/main.ts"], "/w/src/main.ts")).toEqual(["/w/src/main.ts"]);
  });
  test("fallbacks: main.ts suffix, else drop argv[0]", () => {
    expect(userArgs(["bun", "run", "src/main.ts", "x"], "/elsewhere")).toEqual(["x"]);
    expect(userArgs(["prog", "x", "y"], "/elsewhere")).toEqual(["x", "y"]);
  });
  test("live Bun.argv of this test process is stripped of bun and the script", () => {
    const a = createBunRuntime().args();
    expect(a.includes(Bun.main)).toBe(false);
    // `bun test FILE` puts the script in argv (bun and the script are stripped); a bare `bun test` run
    // (test/run.sh) does not, and only argv[0] goes (the documented fallback).
    const scripted = Bun.argv.slice(1).includes(Bun.main);
    expect(a.length).toBe(Math.max(0, Bun.argv.length - (scripted ? 2 : 1)));
  });
});
