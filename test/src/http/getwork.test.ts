// HTTP getwork routes on hono with a stub pool: URL login handling, anonymous POST /, and /api/* never routed to getwork.
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { mountGetwork } from "../../../src/http/getwork.ts";
import { stubEthPool } from "../../support/eth_stub.ts";

const stubPool = () => stubEthPool("0x" + "ab".repeat(32), (share) => share as unknown);

async function rpc(app: Hono, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await app.request(path, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

describe("HTTP getwork", () => {
  test("POST /:login/:worker with a valid address: eth_getWork answers the current work", async () => {
    const app = new Hono();
    mountGetwork(app, stubPool().pool, { now: () => 0 });
    const r = await rpc(app, "/0x" + "12".repeat(20) + "/rig1", { id: 1, jsonrpc: "2.0", method: "eth_getWork", params: [] });
    expect(r.status).toBe(200);
    expect((r.json.result as string[])[0]).toBe("0x" + "ab".repeat(32));
    expect((r.json.result as string[])[3]).toBe("0x5");
  });

  test("a URL login that is not an address answers -1 Invalid login on every call", async () => {
    const app = new Hono();
    mountGetwork(app, stubPool().pool, { now: () => 0 });
    const r = await rpc(app, "/notanaddress/rig1", { id: 2, jsonrpc: "2.0", method: "eth_getWork", params: [] });
    expect((r.json.error as { code: number; message: string }).code).toBe(-1);
    expect((r.json.error as { message: string }).message).toContain("Invalid login");
  });

  test("plain POST / works without a login (solo getwork)", async () => {
    const app = new Hono();
    mountGetwork(app, stubPool().pool, { now: () => 0 });
    const r = await rpc(app, "/", { id: 3, jsonrpc: "2.0", method: "eth_getWork", params: [] });
    expect(Array.isArray(r.json.result)).toBe(true);
  });

  test("/api/* is never taken for getwork (e.g. POST /api/bans without an admin token is 404)", async () => {
    const app = new Hono();
    mountGetwork(app, stubPool().pool, { now: () => 0 });
    const r = await app.request("/api/bans", { method: "POST", body: "{}" });
    expect(r.status).toBe(404);
  });

  test("a body over 16 KiB is refused with 413", async () => {
    const app = new Hono();
    mountGetwork(app, stubPool().pool, { now: () => 0 });
    const r = await app.request("/", { method: "POST", body: "x".repeat(20000) });
    expect(r.status).toBe(413);
  });
});
