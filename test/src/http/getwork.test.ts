// HTTP getwork routes on hono with a stub pool: URL login handling, anonymous POST /, /api/* never routed to getwork, answers wait for the share sink.
import { describe, expect, test } from "bun:test";
import { Hono } from "hono";
import { createGetwork, mountGetwork } from "../../../src/http/getwork.ts";
import type { ShareSink } from "../../../src/store/share_sink.ts";
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

  test("a submit is answered only once the share sink stored its share; a failed store is no answer (throws)", async () => {
    const seen: { pool: string; address: string; worker: string }[] = [];
    let settle: { resolve: () => void; reject: (e: Error) => void } | undefined;
    const sink: ShareSink = {
      put(share, pool, address) {
        seen.push({ pool, address, worker: share.worker });
        return new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
      },
      close: async () => {},
    };
    const { pool } = stubPool();
    const gw = createGetwork({ ...pool, name: "ethash" } as typeof pool, { now: () => 0 }, {}, sink);
    const submit = JSON.stringify({ id: 7, jsonrpc: "2.0", method: "eth_submitWork", params: ["0x" + "00".repeat(8), "0x" + "ab".repeat(32), "0x" + "00".repeat(32)] });
    const login = "0x" + "12".repeat(20);
    let answered: string | undefined;
    const p = gw.answer(login, "rig1", submit, { remote: "10.1.1.1", shares: [], abuse: [] }).then((t) => (answered = t));
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toEqual([{ pool: "ethash", address: "10.1.1.1", worker: `${login}.rig1` }]);
    expect(answered).toBeUndefined();
    settle!.resolve();
    await p;
    expect(JSON.parse(answered!).id).toBe(7);

    const q = gw.answer(login, "rig1", submit.replace('"id":7', '"id":8'), { remote: "10.1.1.1", shares: [], abuse: [] });
    await new Promise((r) => setTimeout(r, 10));
    settle!.reject(new Error("disk full"));
    await expect(q).rejects.toThrow("disk full");
  });
});
