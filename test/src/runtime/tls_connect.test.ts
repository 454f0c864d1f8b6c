// Real TLS handshakes on 127.0.0.1 through both runtime adapters' connect(…, { tls }) with options built by resolveUpstreamTls: CA file, system CAs only, host name, pins (openssl's value), insecure; no relay.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:tls";
import { createServer as createNetServer } from "node:net";
import { until } from "../../e2e/helpers.ts";
import { createBunRuntime } from "../../../src/runtime/bun.ts";
import { createNodeNetRuntime } from "../../../src/runtime/node_net.ts";
import type { Runtime, SocketHandle } from "../../../src/runtime/types.ts";
import { resolveUpstreamTls, tlsDeps, type UpstreamTlsConfig } from "../../../src/upstream/tls_config.ts";
import { makeCert, type TestCert } from "../../support/tls_certs.ts";

let cert: TestCert;
let other: TestCert;
let server: Server;
let port = 0;
let handshakes = 0;

beforeAll(async () => {
  cert = makeCert();
  other = makeCert("other.example", "DNS:other.example");
  // An echo server that greets first: a client that reads "hello" went through the whole TLS handshake.
  server = createServer({ cert: cert.cert, key: cert.key }, (s) => {
    handshakes++;
    s.write("hello\n");
    s.on("data", (d) => s.write(d));
    s.on("error", () => {});
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as { port: number }).port;
});
afterAll(() => server.close());

const warnings: string[] = [];
const tlsOf = (rt: Runtime, t: Partial<UpstreamTlsConfig>) =>
  resolveUpstreamTls("upstream.pool.pools[0]", `stratum+ssl://127.0.0.1:${port}`, true, { ca: "", pin: "", serverName: "", insecure: false, ...t }, tlsDeps(rt, { warn: (m) => warnings.push(m) }))!;

/** Connects, sends "ping\n", resolves with everything read until "ping" came back. */
async function echo(rt: Runtime, t: Partial<UpstreamTlsConfig>): Promise<{ text: string; opened: boolean }> {
  let text = "";
  let opened = false;
  let sock: SocketHandle | undefined;
  const done = new Promise<void>((resolve) => {
    void rt
      .connect("127.0.0.1", port, {
        open: () => (opened = true),
        data: (_s, c) => {
          text += new TextDecoder().decode(c);
          if (text.includes("ping")) resolve();
        },
        close: () => resolve(),
      }, { tls: tlsOf(rt, t) })
      .then((s) => {
        sock = s;
        s.write(new TextEncoder().encode("ping\n"));
      });
  });
  await done;
  sock?.destroy();
  return { text, opened };
}

const runtimes: [string, () => Runtime][] = [
  ["bun", createBunRuntime],
  ["node_net (node:tls under bun)", () => createNodeNetRuntime("node")],
];

for (const [label, make] of runtimes) {
  describe(`${label}: connect with tls`, () => {
    const rt = make();

    test("the pool's own certificate as tls.ca: handshake, then the greeting and our echo", async () => {
      const r = await echo(rt, { ca: cert.certFile });
      expect(r.opened).toBe(true);
      expect(r.text).toBe("hello\nping\n");
    });

    test("default checks (system CAs only) refuse a self-signed certificate, naming OpenSSL's reason; open is never called", async () => {
      let opened = false;
      const p = rt.connect("127.0.0.1", port, { open: () => (opened = true), data() {}, close() {} }, { tls: tlsOf(rt, {}) });
      await expect(p).rejects.toThrow(/TLS certificate refused: DEPTH_ZERO_SELF_SIGNED_CERT/);
      expect(opened).toBe(false);
    });

    test("another CA's certificate as tls.ca is refused too", async () => {
      await expect(rt.connect("127.0.0.1", port, { open() {}, data() {}, close() {} }, { tls: tlsOf(rt, { ca: other.certFile }) })).rejects.toThrow(/TLS certificate refused/);
    });

    test("the right CA but a name the certificate does not carry (tls.serverName) is refused", async () => {
      await expect(rt.connect("127.0.0.1", port, { open() {}, data() {}, close() {} }, { tls: tlsOf(rt, { ca: cert.certFile, serverName: "pool.example.com" }) })).rejects.toThrow(/ALTNAME|does not match|altnames/i);
    });

    test("tls.pin equal to openssl's SPKI pin connects without any CA (the pin is the check)", async () => {
      const r = await echo(rt, { pin: cert.pin });
      expect(r.text).toBe("hello\nping\n");
    });

    test("a wrong tls.pin is refused, and the error names the key the server presented", async () => {
      let opened = false;
      const p = rt.connect("127.0.0.1", port, { open: () => (opened = true), data() {}, close() {} }, { tls: tlsOf(rt, { pin: other.pin }) });
      await expect(p).rejects.toThrow(`pin mismatch (the server's key is ${cert.pin}, upstream.pool.pools[0].tls.pin is ${other.pin})`);
      expect(opened).toBe(false);
    });

    test("ca and pin together: both must hold (right CA + wrong pin refused, right CA + right pin connects)", async () => {
      await expect(rt.connect("127.0.0.1", port, { open() {}, data() {}, close() {} }, { tls: tlsOf(rt, { ca: cert.certFile, pin: other.pin }) })).rejects.toThrow(/pin mismatch/);
      expect((await echo(rt, { ca: cert.certFile, pin: cert.pin })).text).toBe("hello\nping\n");
    });

    test("tls.insecure connects to the self-signed server and warns", async () => {
      warnings.length = 0;
      expect((await echo(rt, { insecure: true })).text).toBe("hello\nping\n");
      expect(warnings.join("\n")).toContain("NOT verified");
    });

    test("a server that accepts TCP and never speaks TLS: refused after handshakeTimeoutMs, and the socket is closed", async () => {
      let closed = 0;
      // resume(): a paused socket never sees the end, so it would never close.
      const silent = createNetServer((s) => s.resume().on("close", () => closed++));
      await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
      const p = (silent.address() as { port: number }).port;
      try {
        await expect(rt.connect("127.0.0.1", p, { open() {}, data() {}, close() {} }, { tls: { ...tlsOf(rt, { ca: cert.certFile }), handshakeTimeoutMs: 200 } })).rejects.toThrow("no TLS handshake within 200 ms");
        await until(() => (closed === 1 ? true : undefined), 2000, "the silent server to see the socket close");
      } finally {
        silent.close();
      }
    });

    test("nothing listening: the TCP error, not a TLS one", async () => {
      const free = createServer();
      await new Promise<void>((r) => free.listen(0, "127.0.0.1", () => r()));
      const dead = (free.address() as { port: number }).port;
      await new Promise<void>((r) => free.close(() => r()));
      await expect(rt.connect("127.0.0.1", dead, { open() {}, data() {}, close() {} }, { tls: tlsOf(rt, { ca: cert.certFile }) })).rejects.toThrow(/ECONNREFUSED|refused/i);
    });
  });
}

test("the server saw a completed handshake for every connection that was let through", () => {
  // 2 runtimes × (ca, pin, ca+pin, insecure) echo connections at least.
  expect(handshakes).toBeGreaterThanOrEqual(8);
});
