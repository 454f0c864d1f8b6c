// Real TLS sockets on 127.0.0.1 for the Bun and node:net adapters (parametrized), and the certificate-file checks: echo, 5 MB in order, setTls swaps the certificate for new connections only, port-in-use, loadTlsFiles errors.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { X509Certificate } from "node:crypto";
import { createBunRuntime } from "../../../src/runtime/bun.ts";
import { createNodeNetRuntime } from "../../../src/runtime/node_net.ts";
import { nodeFiles } from "../../../src/runtime/shared.ts";
import { loadTlsFiles } from "../../../src/server/tls_files.ts";
import type { Runtime, SocketHandle, TlsPem } from "../../../src/runtime/types.ts";

const dir = mkdtempSync(join(tmpdir(), "stratum-edge-tls-unit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pair(name: string): TlsPem & { certPath: string; keyPath: string; fingerprint: string } {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", keyPath, "-out", certPath], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  const cert = readFileSync(certPath, "utf8");
  return { cert, key: readFileSync(keyPath, "utf8"), certPath, keyPath, fingerprint: new X509Certificate(cert).fingerprint256 };
}
const A = pair("a");
const B = pair("b");

function fingerprintOf(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      const fp = s.getPeerX509Certificate()!.fingerprint256;
      s.destroy();
      resolve(fp);
    });
    s.once("error", reject);
  });
}

const echo = { open: () => {}, data: (s: SocketHandle, c: Uint8Array) => void s.write(c), close: () => {} };

/** Connects with the adapter's own TLS client and resolves with everything read until `want` bytes arrived. */
async function roundTrip(rt: Runtime, port: number, payload: Uint8Array): Promise<{ got: Uint8Array; sock: SocketHandle }> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  let done!: () => void;
  const all = new Promise<void>((r) => (done = r));
  const sock = await rt.connect("127.0.0.1", port, {
    open: () => {},
    data: (_s, c) => {
      chunks.push(c);
      n += c.byteLength;
      if (n >= payload.byteLength) done();
    },
    close: () => done(),
  }, { tls: { rejectUnauthorized: false } });
  sock.write(payload);
  await all;
  return { got: new Uint8Array(Buffer.concat(chunks)), sock };
}

/** A TLS client through the adapter: everything it read, as text, and a wait for an exact total. */
async function client(rt: Runtime, port: number) {
  let text = "";
  let closed = false;
  const waiters = new Set<() => void>();
  const sock = await rt.connect("127.0.0.1", port, {
    open: () => {},
    data: (_s, d) => {
      text += new TextDecoder().decode(d);
      for (const w of [...waiters]) w();
    },
    close: () => {
      closed = true;
      for (const w of [...waiters]) w();
    },
  }, { tls: { rejectUnauthorized: false } });
  const until = (want: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (text === want) return waiters.delete(check), resolve();
        if (closed || text.length > want.length) return waiters.delete(check), reject(new Error(`read ${JSON.stringify(text)}, closed=${closed}; wanted ${JSON.stringify(want)}`));
      };
      waiters.add(check);
      check();
    });
  return { sock, until, closed: () => closed };
}

const runtimes: [string, () => Runtime][] = [
  ["bun", createBunRuntime],
  ["node_net (under bun)", () => createNodeNetRuntime("node")],
];

for (const [label, make] of runtimes) {
  describe(`TLS, runtime ${label}`, () => {
    const rt = make();

    test("echo over TLS; 5 MB comes back complete and in order", async () => {
      const l = await rt.listen("127.0.0.1", 0, echo, { tls: A });
      try {
        expect(typeof l.setTls).toBe("function");
        expect(await fingerprintOf(l.port)).toBe(A.fingerprint);
        const big = new Uint8Array(5 * 1024 * 1024);
        for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >>> 10) * 13) & 0xff;
        const { got, sock } = await roundTrip(rt, l.port, big);
        expect(got.byteLength).toBe(big.byteLength);
        expect(Buffer.compare(got, big)).toBe(0);
        sock.destroy();
      } finally {
        l.close();
      }
    }, 30_000);

    test("setTls: new connections get the new certificate, an open one keeps working", async () => {
      const l = await rt.listen("127.0.0.1", 0, echo, { tls: A });
      try {
        const old = await client(rt, l.port);
        old.sock.write(new TextEncoder().encode("one\n"));
        await old.until("one\n");
        l.setTls!(B);
        expect(await fingerprintOf(l.port)).toBe(B.fingerprint);
        // The connection made before the swap is still served (by the old certificate's session).
        old.sock.write(new TextEncoder().encode("two\n"));
        await old.until("one\ntwo\n");
        expect(old.closed()).toBe(false);
        const fresh = await client(rt, l.port);
        fresh.sock.write(new TextEncoder().encode("three\n"));
        await fresh.until("three\n");
        // A pair the runtime refuses throws, and the listener keeps the one it had.
        expect(() => l.setTls!({ cert: "junk", key: "junk" })).toThrow();
        expect(await fingerprintOf(l.port)).toBe(B.fingerprint);
        old.sock.destroy();
        fresh.sock.destroy();
      } finally {
        l.close();
      }
    }, 30_000);

    test("a plain listener has no setTls; a TLS listen on a port in use fails", async () => {
      const plain = await rt.listen("127.0.0.1", 0, echo);
      expect(plain.setTls).toBeUndefined();
      // The holder itself uses SO_REUSEPORT (as another relay's TLS port would): Bun's TLS listeners
      // need it for reloads, so only the adapter's first plain bind keeps this an error.
      const holder = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} }, ...{ reusePort: true } });
      try {
        await expect(rt.listen("127.0.0.1", holder.port, echo, { tls: A })).rejects.toThrow();
      } finally {
        holder.stop(true);
        plain.close();
      }
    });
  });
}

describe("loadTlsFiles", () => {
  const now = Date.now();
  test("a good pair: PEM text, fingerprint, validTo, not expired; expired judged against `now`", () => {
    const t = loadTlsFiles(nodeFiles, { cert: A.certPath, key: A.keyPath }, "listeners[0].tls", now);
    expect(t.cert).toBe(A.cert);
    expect(t.key).toBe(A.key);
    expect(t.fingerprint).toBe(A.fingerprint);
    expect(Date.parse(t.validTo)).toBeGreaterThan(now);
    expect(t.expired).toBe(false);
    expect(loadTlsFiles(nodeFiles, { cert: A.certPath, key: A.keyPath }, "x", now + 3 * 86_400_000).expired).toBe(true);
  });
  const bad = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  test.each([
    ["missing cert", () => ({ cert: join(dir, "none.crt"), key: A.keyPath }), `listeners[2].tls.cert: ${join(dir, "none.crt")}: no such file`],
    ["missing key", () => ({ cert: A.certPath, key: join(dir, "none.key") }), `listeners[2].tls.key: ${join(dir, "none.key")}: no such file`],
    ["cert is a directory", () => ({ cert: dir, key: A.keyPath }), `listeners[2].tls.cert: cannot read ${dir} (EISDIR)`],
    ["cert not PEM", () => ({ cert: bad("x.crt", "hello"), key: A.keyPath }), "is not a PEM certificate"],
    ["key not PEM", () => ({ cert: A.certPath, key: A.certPath }), "is not a PEM private key"],
    ["cert PEM armour around garbage", () => ({ cert: bad("g.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), key: A.keyPath }), "is not a valid PEM certificate"],
    ["key PEM armour around garbage", () => ({ cert: A.certPath, key: bad("g.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }), "is not a valid private key"],
    ["key of another cert", () => ({ cert: A.certPath, key: B.keyPath }), `listeners[2].tls.key: ${B.keyPath} does not match the certificate in ${A.certPath}`],
  ])("%s", (_what, paths, message) => {
    expect(() => loadTlsFiles(nodeFiles, paths(), "listeners[2].tls", now)).toThrow(message);
  });
});
