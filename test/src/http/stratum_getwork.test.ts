// The Stratum ports' getwork dispatch with a stub pool: framed request → the same getwork routes and sessions as the HTTP port → answer data with the shares and abuse for the ban guard.
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { createGetwork, mountGetworkRoutes } from "../../../src/http/getwork.ts";
import { createGetworkApp, createGetworkDispatch } from "../../../src/http/stratum_getwork.ts";
import { stubEthPool } from "../../support/eth_stub.ts";
import type { HttpRequest } from "../../../protocols/http/parse_request.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const HEADER = "0x" + "ab".repeat(32);

/** Shares kept as (remote, reason): what the ban guard is handed. */
const stubPool = () => stubEthPool(HEADER, (share, remote) => ({ remote, reason: share.reason }));

const rpc = (id: number, method: string, params: unknown[] = []) => JSON.stringify({ id, jsonrpc: "2.0", method, params });

function request(path: string, body: string, o: { method?: string; headers?: [string, string][] } = {}): HttpRequest {
  const method = o.method ?? "POST";
  return { method, target: path, path, version: "HTTP/1.1", headers: [["content-type", "application/json"], ...(o.headers ?? [])], body: enc.encode(body), keepAlive: true };
}

function setup(limits?: { maxBodyBytes?: number }) {
  const { pool, shares } = stubPool();
  const gw = createGetwork(pool, { now: () => 0 }, limits);
  const dispatch = createGetworkDispatch(createGetworkApp(gw));
  // The HTTP port's app, mounted with the same Getwork as relay.ts does.
  const httpPort = new Hono();
  mountGetworkRoutes(httpPort, gw);
  return { dispatch, httpPort, shares };
}

describe("Stratum-port getwork dispatch", () => {
  test("eth_getWork on POST / and POST /:login/:worker answers the current work as JSON", async () => {
    const { dispatch } = setup();
    for (const path of ["/", "/0x" + "12".repeat(20) + "/rig1"]) {
      const a = await dispatch(request(path, rpc(1, "eth_getWork")), "10.0.0.1");
      expect(a.status).toBe(200);
      expect(a.headers).toContainEqual(["content-type", "application/json"]);
      const j = JSON.parse(dec.decode(a.body)) as { id: number; result: string[] };
      expect(j.id).toBe(1);
      expect(j.result[0]).toBe(HEADER);
      expect(a.shares).toEqual([]);
    }
  });

  test("shares carry the socket's address (to the pool and back for the guard); a miner's X-Forwarded-For is not believed", async () => {
    const { dispatch, shares } = setup();
    const params = ["0x" + "00".repeat(7) + "01", HEADER, "0x" + "cd".repeat(32)];
    const a = await dispatch(request("/", rpc(2, "eth_submitWork", params), { headers: [["x-forwarded-for", "6.6.6.6"]] }), "10.0.0.2");
    expect(JSON.parse(dec.decode(a.body)).id).toBe(2);
    expect(shares.map((s) => s.remote)).toEqual(["10.0.0.2"]);
    expect(a.shares).toHaveLength(1);
    expect(a.shares[0]!.accepted).toBe(false);
  });

  test("a malformed body is a JSON-RPC error and is reported as abuse", async () => {
    const { dispatch } = setup();
    const a = await dispatch(request("/", "{not json"), "10.0.0.3");
    expect(a.status).toBe(200);
    expect(JSON.parse(dec.decode(a.body)).error.code).toBe(-1);
    expect(a.abuse).toEqual(["malformed"]);
  });

  test("one set of sessions with the HTTP port: a nonce sent there is a duplicate here", async () => {
    const { dispatch, httpPort } = setup();
    const login = "/0x" + "34".repeat(20) + "/rig9";
    const params = ["0x" + "00".repeat(7) + "07", HEADER, "0x" + "cd".repeat(32)];
    await httpPort.request(login, { method: "POST", body: rpc(3, "eth_submitWork", params) });
    const a = await dispatch(request(login, rpc(4, "eth_submitWork", params)), "10.0.0.4");
    expect(JSON.parse(dec.decode(a.body))).toEqual({ id: 4, jsonrpc: "2.0", result: null, error: { code: 22, message: "Duplicate share" } });
    expect(a.shares.map((s) => s.reason)).toEqual(["duplicate"]);
  });

  test("only getwork is served: other paths and methods get the HTTP port's JSON 404; /api/* never reaches getwork", async () => {
    const { dispatch } = setup();
    const health = await dispatch(request("/healthz", "", { method: "GET" }), "10.0.0.5");
    expect(health.status).toBe(404);
    expect(JSON.parse(dec.decode(health.body))).toEqual({ error: "not found", path: "/healthz" });
    expect((await dispatch(request("/api/bans", "{}"), "10.0.0.5")).status).toBe(404);
    expect((await dispatch(request("/", rpc(1, "eth_getWork"), { method: "PUT" }), "10.0.0.5")).status).toBe(404);
    expect((await dispatch(request("*", "", { method: "OPTIONS" }), "10.0.0.5")).status).toBe(404);
  });

  test("getwork.maxBodyBytes applies here as on the HTTP port (413), and a request fetch cannot express is a 400", async () => {
    const { dispatch } = setup({ maxBodyBytes: 300 });
    const big = await dispatch(request("/", "x".repeat(301)), "10.0.0.6");
    expect(big.status).toBe(413);
    expect(JSON.parse(dec.decode(big.body)).error.message).toBe("Request too large");
    // The framer never emits such a header; the dispatch still refuses it rather than throwing.
    const odd = await dispatch(request("/", "{}", { headers: [["bad name", "x"]] }), "10.0.0.6");
    expect(odd.status).toBe(400);
    expect(JSON.parse(dec.decode(odd.body)).error.message).toStartWith("Bad request: ");
  });
});
