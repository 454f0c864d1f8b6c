// Tests the https:// node fetch over both runtime adapters against a local Bun.serve TLS echo server (HTTP behaviour only: what we send, Content-Length and chunked answers, abort, TLS refusals); no node logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createBunRuntime } from "../../../src/runtime/bun.ts";
import { createNodeNetRuntime } from "../../../src/runtime/node_net.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import { httpsRequest, upstreamFetch } from "../../../src/upstream/https_fetch.ts";
import { resolveUpstreamTls, type UpstreamTlsConfig } from "../../../src/upstream/tls_config.ts";
import { makeCert } from "../../support/tls_certs.ts";
import { sha } from "../../e2e/helpers.ts";

const cert = makeCert();
const other = makeCert("other.example", "DNS:other.example");
let server: ReturnType<typeof Bun.serve>;
let base = "";
const big = "x".repeat(3 * 1024 * 1024);

beforeAll(() => {
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: cert.cert, key: cert.key },
    async fetch(req) {
      const u = new URL(req.url);
      if (u.pathname === "/chunked") {
        // A streamed body: Bun sends it with Transfer-Encoding: chunked.
        const parts = ["{\"a\":", "1,", "\"b\":[1,2,3]}"];
        return new Response(new ReadableStream({ async pull(c) { const p = parts.shift(); if (p === undefined) return c.close(); await Bun.sleep(5); c.enqueue(new TextEncoder().encode(p)); } }));
      }
      if (u.pathname === "/big") return new Response(big);
      if (u.pathname === "/slow") {
        await Bun.sleep(3000);
        return new Response("late");
      }
      return Response.json({ method: req.method, path: u.pathname + u.search, auth: req.headers.get("authorization"), type: req.headers.get("content-type"), body: await req.text() }, { status: 201 });
    },
  });
  base = `https://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

const none: UpstreamTlsConfig = { ca: "", pin: "", serverName: "", insecure: false };
const tlsFor = (t: Partial<UpstreamTlsConfig>) => resolveUpstreamTls("upstream.bitcoind.nodes[0]", base, true, { ...none, ...t }, { readText: (p) => require("node:fs").readFileSync(p, "utf8"), sha, warn() {} })!;

for (const [label, make] of [["bun", createBunRuntime], ["node_net", () => createNodeNetRuntime("node")]] as [string, () => Runtime][]) {
  describe(`${label}: httpsRequest`, () => {
    const rt = make();

    test("POST with headers and body; status, headers and JSON body come back", async () => {
      const r = await httpsRequest(rt, `${base}/rpc?x=1`, { method: "POST", headers: { "content-type": "application/json", authorization: "Basic abc" }, body: '{"id":1}' }, tlsFor({ ca: cert.certFile }));
      expect(r.status).toBe(201);
      expect(r.headers.get("content-type")).toContain("application/json");
      expect(await r.json()).toEqual({ method: "POST", path: "/rpc?x=1", auth: "Basic abc", type: "application/json", body: '{"id":1}' });
    });

    test("a chunked answer is put back together", async () => {
      const r = await httpsRequest(rt, `${base}/chunked`, { method: "GET" }, tlsFor({ pin: cert.pin }));
      expect(r.headers.get("transfer-encoding")).toBe("chunked");
      expect(await r.json()).toEqual({ a: 1, b: [1, 2, 3] });
    });

    test("a 3 MB answer (a getblocktemplate's size) arrives whole", async () => {
      const r = await httpsRequest(rt, `${base}/big`, { method: "GET" }, tlsFor({ ca: cert.certFile }));
      expect((await r.text()).length).toBe(big.length);
    });

    test("abort while the server is thinking rejects with AbortError", async () => {
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 100);
      const err = await httpsRequest(rt, `${base}/slow`, { method: "GET", signal: ctl.signal }, tlsFor({ ca: cert.certFile })).catch((e) => e);
      // The server answers "late" after 3 s: an error here means the abort ended the request first.
      expect((err as Error).name).toBe("AbortError");
    });

    test("TLS refusals: system CAs only, and a wrong pin", async () => {
      await expect(httpsRequest(rt, `${base}/`, { method: "GET" }, tlsFor({}))).rejects.toThrow("DEPTH_ZERO_SELF_SIGNED_CERT");
      await expect(httpsRequest(rt, `${base}/`, { method: "GET" }, tlsFor({ pin: other.pin }))).rejects.toThrow("pin mismatch");
    });
  });
}

test("upstreamFetch sends https origins with settings through httpsRequest and plain http through fetch", async () => {
  const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("plain") });
  try {
    const f = upstreamFetch(createBunRuntime(), new Map([[base, tlsFor({ ca: cert.certFile })]]));
    expect((await f(`${base}/x`, { method: "POST", body: "b" })).status).toBe(201);
    expect(await (await f(`http://127.0.0.1:${plain.port}/`, { method: "GET" })).text()).toBe("plain");
  } finally {
    plain.stop(true);
  }
});
