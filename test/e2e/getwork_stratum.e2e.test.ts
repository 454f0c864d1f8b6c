// End-to-end HTTP getwork on the Stratum port against the compiled binary: eth_getWork / eth_submitWork (real ethash shares) / eth_submitHashrate, keep-alive, malformed HTTP, every dialect on one port, shared sessions, a pinned listener, session threads; no unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { byId, connectStratum, findShare, handshake, httpGet, shareTarget, startRelay, submitParams, until, zeroExtranonce2, type RelayProcess, type StratumClient } from "./helpers.ts";
import { ADDRESS, epoch0Cache, ethBlockTarget, ethCacheReady, ethProxyOpen, findEthShare, postRpc } from "./eth_helpers.ts";
import { startAbuseRelay, type AbuseRelay } from "./abuse_helpers.ts";
import { httpPost, rawHttp, type RawHttp } from "./http_helpers.ts";

const T = 30_000;
const SEED0 = "0x" + "00".repeat(32);
const DEFAULT_BLOCK_TARGET = ethBlockTarget(100_000n);
const GETWORK = { id: 1, jsonrpc: "2.0", method: "eth_getWork", params: [] };

// No simulated blocks during the run (a new job would make shares stale); difficulty 1e-9 for getwork
// (its URL login carries no d=NUMBER); an extra port pinned to eth-proxy.
const TOML = `
[difficulty]
suggestFloor = 1e-12
[upstream.devnet]
blockIntervalSeconds = 3600
[ethash]
initialDifficulty = 1e-9
[ethash.upstream.devnet]
blockIntervalSeconds = 3600

[[listeners]]
host = "127.0.0.1"
port = 0
dialects = ["eth-proxy"]
`;

let A: AbuseRelay;
let P: RelayProcess; // stratum.threads = 2
const sockets: { close(): void }[] = [];
async function raw(port: number): Promise<RawHttp> {
  const c = await rawHttp(port);
  sockets.push(c);
  return c;
}
async function stratum(port: number): Promise<StratumClient> {
  const c = await connectStratum(port, A);
  sockets.push(c);
  return c;
}
/** Nonces handed out so far: every share below uses its own range (the sessions remember what they saw). */
let nextStart = 0;
const share = (work: string[]) => {
  const s = findEthShare(work[0]!, { atMost: BigInt(work[2]!), above: DEFAULT_BLOCK_TARGET, start: nextStart });
  nextStart = Number(BigInt(s.nonce)) + 1;
  return s;
};

beforeAll(async () => {
  const started = Promise.all([
    startAbuseRelay({ toml: TOML, sets: { "bans.enabled": "false" } }),
    startRelay({ sets: { "stratum.threads": "2", "ethash.initialDifficulty": "1e-9", "upstream.devnet.blockIntervalSeconds": "3600", "ethash.upstream.devnet.blockIntervalSeconds": "3600" } }),
  ]);
  epoch0Cache();
  [A, P] = await started;
  await Promise.all([ethCacheReady(A), ethCacheReady(P)]);
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await Promise.all([A, P].filter((r) => r !== undefined).map((r) => r.stop()));
});

describe("HTTP getwork on the Stratum port", () => {
  test("eth_getWork → work; eth_submitWork: valid → true, duplicate → 22, low difficulty → 23, unknown work → false; eth_submitHashrate → true", async () => {
    const port = A.mainPort;
    const path = `/${ADDRESS}/rig1`;
    const gw = await postRpc(port, path, GETWORK);
    expect(gw.status).toBe(200);
    const work = gw.json.result as string[];
    expect(work).toHaveLength(4);
    expect(work[0]).toMatch(/^0x[0-9a-f]{64}$/);
    expect(work[1]).toBe(SEED0);
    const s = share(work);
    const submit = (id: number, params: unknown[]) => postRpc(port, path, { id, jsonrpc: "2.0", method: "eth_submitWork", params });
    expect((await submit(2, [s.nonce, work[0], s.mix])).json).toEqual({ id: 2, jsonrpc: "2.0", result: true });
    expect((await submit(3, [s.nonce, work[0], s.mix])).json).toEqual({ id: 3, jsonrpc: "2.0", result: null, error: { code: 22, message: "Duplicate share" } });
    const low = findEthShare(work[0]!, { atMost: BigInt(work[2]!), meets: false, start: 100_000 });
    expect((await submit(4, [low.nonce, work[0], low.mix])).json).toEqual({ id: 4, jsonrpc: "2.0", result: null, error: { code: 23, message: "Invalid share" } });
    expect((await submit(5, [s.nonce, "0x" + "22".repeat(32), s.mix])).json).toEqual({ id: 5, jsonrpc: "2.0", result: false });
    const hr = await postRpc(port, path, { id: 6, jsonrpc: "2.0", method: "eth_submitHashrate", params: ["0x1dcd6500", "0x" + "aa".repeat(32)] });
    expect(hr.json).toEqual({ id: 6, jsonrpc: "2.0", result: true });
    // The HTTP port serves the same work.
    expect((await postRpc(A.httpPort, path, GETWORK)).json.result).toEqual(work);
  }, T);

  test("keep-alive: two pipelined requests and a third after them on one socket, answered in order; Connection: close ends it", async () => {
    const c = await raw(A.mainPort);
    c.write(httpPost("/", { ...GETWORK, id: 11 }) + httpPost("/", { ...GETWORK, id: 12 }));
    const [r1, r2] = [await c.next(5000, "answer 1"), await c.next(5000, "answer 2")];
    expect([r1.status, r2.status]).toEqual([200, 200]);
    expect([(r1.json as { id: number }).id, (r2.json as { id: number }).id]).toEqual([11, 12]);
    expect(r1.headers.connection).toBe("keep-alive");
    expect(r1.headers["content-type"]).toBe("application/json");
    const work = (r1.json as { result: string[] }).result;
    const s = share(work);
    c.write(httpPost("/", { id: 13, jsonrpc: "2.0", method: "eth_submitWork", params: [s.nonce, work[0], s.mix] }, "Connection: close\r\n"));
    const r3 = await c.next(5000, "answer 3");
    expect(r3.json).toEqual({ id: 13, jsonrpc: "2.0", result: true });
    expect(r3.headers.connection).toBe("close");
    await c.waitClosed(2000);
  }, T);

  test("malformed HTTP gets a clear answer and a close (411, 400, 431, 413, 505); the relay survives and keeps serving", async () => {
    const cases: [string, number, RegExp][] = [
      ["POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 411, /Content-Length/],
      ["POST / HTTP/1.1\r\nContent-Length: twelve\r\n\r\n", 400, /Content-Length/],
      ["GET / HTTP/1.1\r\nX-Big: " + "a".repeat(9000) + "\r\n\r\n", 431, /8192/],
      ["POST / HTTP/1.1\r\nContent-Length: 20000\r\n\r\n", 413, /16384/],
      ["GET / HTTP/3.0\r\n\r\n", 505, /HTTP\/3\.0/],
    ];
    for (const [input, status, text] of cases) {
      const c = await raw(A.mainPort);
      c.write(input);
      const r = await c.next(5000, `answer to ${JSON.stringify(input.slice(0, 40))}`);
      expect(r.status).toBe(status);
      expect(r.headers.connection).toBe("close");
      expect((r.json as { error: { message: string } }).error.message).toMatch(text);
      await c.waitClosed(2000);
    }
    // A body that is not JSON-RPC is answered by getwork itself, and the connection stays usable.
    const c = await raw(A.mainPort);
    c.write(httpPost("/", "{nope") + httpPost("/", GETWORK));
    const bad = await c.next();
    expect(bad.status).toBe(200);
    expect((bad.json as { error: { code: number } }).error.code).toBe(-1);
    expect((await c.next()).status).toBe(200);
    expect(A.child.exitCode).toBeNull();
    expect((await httpGet(A.httpPort, "/healthz")).status).toBe(200);
    expect((await postRpc(A.mainPort, "/", GETWORK)).status).toBe(200);
  }, T);

  test("a Stratum v1 miner, an eth-proxy miner and an HTTP getwork miner on the same port at once: each gets its work and true for a valid share", async () => {
    const [btc, proxy] = await Promise.all([stratum(A.mainPort), stratum(A.mainPort)]);
    const web = await raw(A.mainPort);
    web.write(httpPost("/", GETWORK));
    const [h, p, w] = await Promise.all([
      handshake(btc, { user: "btc.w1", password: "d=1e-12" }),
      ethProxyOpen(proxy, { email: "d=1e-9", worker: "rig2" }),
      web.next(5000, "getwork answer"),
    ]);
    const webWork = (w.json as { result: string[] }).result;
    expect(p.work[0]).toBe(webWork[0]!); // both Ethereum dialects mine the same devnet header
    const btcShare = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size), { target: shareTarget(h.difficulty), meets: true });
    const ps = share(p.work);
    const ws = share(webWork);
    btc.send({ id: 40, method: "mining.submit", params: submitParams("btc.w1", h.job, btcShare) });
    proxy.send({ id: 41, jsonrpc: "2.0", method: "eth_submitWork", params: [ps.nonce, p.work[0], ps.mix] });
    web.write(httpPost("/", { id: 42, jsonrpc: "2.0", method: "eth_submitWork", params: [ws.nonce, webWork[0], ws.mix] }));
    const [rb, rp, rw] = await Promise.all([btc.next(byId(40), 5000, "btc submit"), proxy.next(byId(41), 5000, "eth-proxy submit"), web.next(5000, "getwork submit")]);
    expect(rb).toEqual({ id: 40, result: true, error: null });
    expect(rp).toEqual({ id: 41, jsonrpc: "2.0", result: true });
    expect(rw.json).toEqual({ id: 42, jsonrpc: "2.0", result: true });
    const stats = (await httpGet(A.httpPort, "/api/stats")).json() as { eth?: { accepted?: number } };
    expect(stats.eth?.accepted).toBeGreaterThanOrEqual(3);
  }, T);

  test("one set of getwork sessions for both ports: a share sent to the HTTP port is a duplicate on the Stratum port", async () => {
    const path = `/${ADDRESS}/shared`;
    const work = (await postRpc(A.httpPort, path, GETWORK)).json.result as string[];
    const s = share(work);
    const params = [s.nonce, work[0], s.mix];
    expect((await postRpc(A.httpPort, path, { id: 50, jsonrpc: "2.0", method: "eth_submitWork", params })).json.result).toBe(true);
    expect((await postRpc(A.mainPort, path, { id: 51, jsonrpc: "2.0", method: "eth_submitWork", params })).json).toEqual({ id: 51, jsonrpc: "2.0", result: null, error: { code: 22, message: "Duplicate share" } });
  }, T);

  test("a listener pinned to eth-proxy does not speak HTTP: a POST is a malformed line there; eth-proxy works", async () => {
    expect(A.extraPorts).toHaveLength(1);
    const c = await raw(A.extraPorts[0]!);
    c.write(httpPost("/", GETWORK));
    await c.waitClosed(3000);
    expect(c.rest()).toBe('{"id":null,"result":null,"error":[20,"Malformed request",null]}\n');
    const m = await stratum(A.extraPorts[0]!);
    const { work } = await ethProxyOpen(m);
    expect(work[1]).toBe(SEED0);
  }, T);
});

describe("HTTP getwork with stratum.threads = 2", () => {
  test("connections on both threads are answered (the session thread hands requests to the main thread's sessions), and valid shares are true on each", async () => {
    const conns = await Promise.all(Array.from({ length: 16 }, () => raw(P.stratumPort)));
    for (const c of conns) c.write(httpPost("/", GETWORK));
    const first = await Promise.all(conns.map((c) => c.next(10_000, "getwork answer")));
    expect(first.every((r) => r.status === 200)).toBe(true);
    const perThread = await until(
      async () => {
        const st = (await httpGet(P.httpPort, "/api/stats")).json() as { connectionsByThread?: number[] };
        const t = st.connectionsByThread;
        return t !== undefined && t.length === 2 && t[0]! + t[1]! >= 16 ? t : undefined;
      },
      5000,
      "connectionsByThread counting the 16 connections",
      () => P.tail(),
    );
    expect(perThread[1]).toBeGreaterThan(0); // the kernel put some on the session thread
    const work = (first[0]!.json as { result: string[] }).result;
    const answers = await Promise.all(conns.map((c, i) => {
      const s = share(work);
      c.write(httpPost("/", { id: 100 + i, jsonrpc: "2.0", method: "eth_submitWork", params: [s.nonce, work[0], s.mix] }));
      return c.next(10_000, `submit ${i}`);
    }));
    expect(answers.map((r) => r.json)).toEqual(conns.map((_, i) => ({ id: 100 + i, jsonrpc: "2.0", result: true })));
  }, T);
});
