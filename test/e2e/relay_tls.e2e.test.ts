// End-to-end upstream TLS in relay mode against the compiled binary: a scripted pool behind stratum+ssl:// with a self-signed certificate, trusted by tls.ca or tls.pin, refused without them (failover to a plain backup) or with a wrong pin, a bad CA file stopping start-up, and Ethereum relay mode through a TLS forwarder into another stratum-edge; no unit logic.
import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  byId,
  connectStratum,
  ensureBinary,
  findShare,
  handshake,
  httpGet,
  runBinary,
  shareTarget,
  startRelay,
  submitParams,
  tempDir,
  until,
  zeroExtranonce2,
  type RelayProcess,
  type StratumClient,
} from "./helpers.ts";
import { startScriptedPool, type ScriptedPool } from "./scripted_pool.ts";
import { makeCert, startTlsForwarder, type TestCert } from "../support/tls_certs.ts";
import { ADDRESS, ethCacheReady, ethProxyOpen, ethSubmit, findEthShare } from "./eth_helpers.ts";
import { difficultyToTarget } from "../../protocols/pow/target.ts";

const T = 30_000;
const procs: RelayProcess[] = [];
const pools: ScriptedPool[] = [];
const clients: StratumClient[] = [];
const cert: TestCert = makeCert();
const other: TestCert = makeCert("other.example", "DNS:other.example");

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
afterAll(async () => {
  await Promise.all(procs.map((p) => p.stop()));
  await Promise.all(pools.map((p) => p.kill().catch(() => {})));
});

interface PoolEntry {
  url: string;
  priority?: number;
  tls?: Record<string, string | boolean>;
}

function configFile(entries: PoolEntry[]): string {
  const file = join(tempDir("stratum-edge-relay-tls-"), "relay.toml");
  const toml = (v: string | boolean) => (typeof v === "string" ? JSON.stringify(v) : String(v));
  writeFileSync(
    file,
    `[upstream]\ntype = "pool"\n` +
      entries
        .map((e) => `[[upstream.pool.pools]]\nurl = "${e.url}"\nuser = "farm.tls"\npriority = ${e.priority ?? 0}\n` + (e.tls ? `[upstream.pool.pools.tls]\n${Object.entries(e.tls).map(([k, v]) => `${k} = ${toml(v)}`).join("\n")}\n` : ""))
        .join(""),
  );
  return file;
}

const SETS = {
  "ethash.enabled": "false",
  "difficulty.initial": "1e-9",
  "difficulty.min": "1e-12",
  "difficulty.suggestFloor": "1e-12",
  "upstream.pool.submitTimeoutMs": "2000",
  "upstream.pool.retryMinMs": "200",
  "upstream.pool.retryMaxMs": "1000",
  "upstream.pool.failbackSeconds": "1",
};

async function relayTo(entries: PoolEntry[]): Promise<RelayProcess> {
  const r = await startRelay({ command: [await ensureBinary(), "--config", configFile(entries)], sets: SETS });
  procs.push(r);
  return r;
}

async function tlsPool(tag: string): Promise<ScriptedPool> {
  const p = await startScriptedPool({ tag, tls: { cert: cert.cert, key: cert.key } });
  pools.push(p);
  return p;
}

async function plainPool(tag: string): Promise<ScriptedPool> {
  const p = await startScriptedPool({ tag });
  pools.push(p);
  return p;
}

type Upstream = { url: string; state: string; accepted: number; connections: number; lastError?: string };
const upstreams = async (r: RelayProcess) => ((await httpGet(r.httpPort, "/api/stats")).json() as { upstreams: Upstream[] }).upstreams;

let nextId = 1000;
/** A miner through the relay: handshake (a job must arrive), then one share at the pool's difficulty, answered with the pool's verdict. */
async function mineOneShare(relay: RelayProcess, pool: ScriptedPool): Promise<unknown> {
  const c = await connectStratum(relay.stratumPort, relay);
  clients.push(c);
  const h = await handshake(c, { user: "rig1" });
  const s = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size, nextId), { target: shareTarget(pool.difficulty), meets: true });
  const id = nextId++;
  c.send({ id, method: "mining.submit", params: submitParams("rig1", h.job, s) });
  return c.next(byId(id), 5000, `answer to submit ${id}`);
}

describe("relay → stratum+ssl:// upstream pool", () => {
  test("tls.ca = the pool's self-signed certificate: the relay connects over TLS, a miner gets a job, and its share is accepted by the pool", async () => {
    const pool = await tlsPool("t");
    const relay = await relayTo([{ url: `stratum+ssl://127.0.0.1:${pool.port}`, tls: { ca: cert.certFile } }]);
    expect(await mineOneShare(relay, pool)).toMatchObject({ result: true, error: null });
    // The pool re-hashed the share itself: it really travelled through the TLS connection.
    expect(pool.submits.filter((x) => x.answered === "accepted").length).toBe(1);
    expect(pool.subscribes.length).toBe(1);
    const up = await upstreams(relay);
    expect(up[0]).toMatchObject({ state: "active", connections: 1, accepted: 1 });
  }, T);

  test("no tls settings (system CAs only): the self-signed pool is refused, the reason is in /api/stats and the log, and miners mine on the plain backup", async () => {
    const secure = await tlsPool("t");
    const backup = await plainPool("b");
    const relay = await relayTo([
      { url: `stratum+ssl://127.0.0.1:${secure.port}` },
      { url: `stratum+tcp://127.0.0.1:${backup.port}`, priority: 1 },
    ]);
    expect(await mineOneShare(relay, backup)).toMatchObject({ result: true, error: null });
    expect(backup.submits.length).toBe(1);
    // The TLS pool never got past the handshake: no subscribe, no login, no share.
    expect(secure.subscribes.length).toBe(0);
    expect(secure.submits.length).toBe(0);
    const up = await upstreams(relay);
    expect(up[0]!.state).toBe("backoff");
    expect(up[0]!.lastError).toContain("TLS certificate refused: DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(up[1]).toMatchObject({ state: "active", accepted: 1 });
    await relay.waitForLog((l) => String(l.why ?? l.error ?? "").includes("DEPTH_ZERO_SELF_SIGNED_CERT"), 5000, "a log line with the certificate error");
  }, T);

  test("a wrong tls.pin is refused (the error names the key the pool showed) and the backup is used", async () => {
    const secure = await tlsPool("t");
    const backup = await plainPool("b");
    const relay = await relayTo([
      { url: `stratum+ssl://127.0.0.1:${secure.port}`, tls: { pin: other.pin } },
      { url: `stratum+tcp://127.0.0.1:${backup.port}`, priority: 1 },
    ]);
    expect(await mineOneShare(relay, backup)).toMatchObject({ result: true, error: null });
    expect(secure.subscribes.length).toBe(0);
    const up = await upstreams(relay);
    expect(up[0]!.lastError).toContain(`pin mismatch (the server's key is ${cert.pin}`);
  }, T);

  test("the right tls.pin (computed by openssl) connects with no CA, and the relay prefers it over the backup", async () => {
    const secure = await tlsPool("t");
    const backup = await plainPool("b");
    const relay = await relayTo([
      { url: `stratum+tls://127.0.0.1:${secure.port}`, tls: { pin: cert.pin } },
      { url: `stratum+tcp://127.0.0.1:${backup.port}`, priority: 1 },
    ]);
    expect(await mineOneShare(relay, secure)).toMatchObject({ result: true, error: null });
    expect(secure.submits.filter((x) => x.answered === "accepted").length).toBe(1);
    expect(backup.submits.length).toBe(0);
    expect((await upstreams(relay))[0]).toMatchObject({ state: "active", accepted: 1 });
  }, T);

  test("tls.insecure = true connects to the self-signed pool and logs a warning", async () => {
    const secure = await tlsPool("t");
    const relay = await relayTo([{ url: `stratum+ssl://localhost:${secure.port}`, tls: { insecure: true } }]);
    await relay.waitForLog((l) => l.level === "warn" && String(l.msg).includes("NOT verified"), 5000, "the insecure warning");
    expect(await mineOneShare(relay, secure)).toMatchObject({ result: true, error: null });
  }, T);

  test("fail-back over TLS: a stratum+ssl:// primary that comes up after the relay started is taken back from the backup", async () => {
    const backup = await plainPool("b");
    // Reserve a port, start the relay towards it (nothing there yet), then bring the TLS pool up on it.
    const probe = await startScriptedPool({ tag: "x" });
    const port = probe.port;
    await probe.kill();
    const relay = await relayTo([
      { url: `stratum+ssl://127.0.0.1:${port}`, tls: { ca: cert.certFile } },
      { url: `stratum+tcp://127.0.0.1:${backup.port}`, priority: 1 },
    ]);
    await until(async () => ((await upstreams(relay))[1]?.state === "active" ? true : undefined), 10_000, "backup active");
    const secure = await startScriptedPool({ tag: "t", port, tls: { cert: cert.cert, key: cert.key } });
    pools.push(secure);
    await until(async () => ((await upstreams(relay))[0]?.state === "active" ? true : undefined), 15_000, "TLS primary taken back");
    expect(await mineOneShare(relay, secure)).toMatchObject({ result: true, error: null });
    expect(secure.submits.filter((x) => x.answered === "accepted").length).toBe(1);
  }, T);
});

describe("relay → another stratum-edge's TLS listener", () => {
  test("stratum+ssl:// to a [[listeners]] tls port of a devnet stratum-edge, trusted by tls.ca: the upstream accepts the forwarded share under the relay's worker", async () => {
    const file = join(tempDir("stratum-edge-tls-up-"), "upstream.toml");
    writeFileSync(file, `[upstream.devnet]\nblockIntervalSeconds = 3600\n[[listeners]]\nhost = "127.0.0.1"\nport = 0\ntls = { cert = "${cert.certFile}", key = "${cert.keyFile}" }\n`);
    const up = await startRelay({ command: [await ensureBinary(), "--config", file], sets: { "ethash.enabled": "false", "difficulty.initial": "1e-6", "difficulty.min": "1e-12", "difficulty.suggestFloor": "1e-12" } });
    procs.push(up);
    const line = up.logs().find((l) => l.msg === "stratum listening" && l.tls === true);
    expect(line).toBeDefined();
    const relay = await relayTo([{ url: `stratum+ssl://127.0.0.1:${line!.port as number}`, tls: { ca: cert.certFile } }]);
    const c = await connectStratum(relay.stratumPort, relay);
    clients.push(c);
    const h = await handshake(c, { user: "rig1" });
    const s = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size, 1), { target: shareTarget(1e-6), meets: true });
    c.send({ id: 5, method: "mining.submit", params: submitParams("rig1", h.job, s) });
    expect(await c.next(byId(5), 5000, "submit answer")).toMatchObject({ result: true, error: null });
    const st = await until(async () => {
      const x = (await httpGet(up.httpPort, "/api/stats")).json() as { pool: { accepted: number }; workers: { name: string }[] };
      return x.pool.accepted >= 1 ? x : undefined;
    }, 5000, "the upstream accepted the share");
    expect(st.workers.map((w) => w.name)).toEqual(["farm.tls"]);
  }, T);
});

describe("upstream TLS settings that cannot be used stop start-up with the config key named", () => {
  const start = async (entries: PoolEntry[]) => runBinary(["--config", configFile(entries), "--set", "stratum.port=0", "--set", "http.port=0", "--set", "ethash.enabled=false"], 15_000);

  test("a CA file that does not exist", async () => {
    const r = await start([{ url: "stratum+ssl://127.0.0.1:1", tls: { ca: "/nonexistent/ca.pem" } }]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('upstream.pool.pools[0].tls.ca = "/nonexistent/ca.pem": no such file');
  }, T);

  test("a CA file without a certificate (a key file by mistake)", async () => {
    const r = await start([{ url: "stratum+ssl://127.0.0.1:1" }, { url: "stratum+ssl://127.0.0.1:2", tls: { ca: cert.keyFile } }]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`upstream.pool.pools[1].tls.ca = "${cert.keyFile}": no PEM certificate`);
  }, T);

  test("tls settings on a plain stratum+tcp:// URL", async () => {
    const r = await start([{ url: "stratum+tcp://127.0.0.1:1", tls: { ca: cert.certFile } }]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("upstream.pool.pools[0].tls is set but stratum+tcp://127.0.0.1:1 is not a TLS URL");
  }, T);

  test("a pin that is not sha256/BASE64 is refused by the config schema", async () => {
    const r = await start([{ url: "stratum+ssl://127.0.0.1:1", tls: { pin: "AB:CD:EF" } }]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("pin");
    expect(r.stderr).toContain("expected sha256/BASE64");
  }, T);
});

describe("Ethereum relay → stratum1+ssl:// (a TLS forwarder in front of another stratum-edge)", () => {
  test("eth-proxy miner through the relay: with tls.ca the pool's verdict comes back over TLS; without, the refusal reason is in ethUpstreams", async () => {
    const UP_DIFF = 4e-9;
    const up = await startRelay({ sets: { "ethash.suggestFloor": "1e-12", "ethash.minDifficulty": "1e-12", "ethash.upstream.devnet.blockIntervalSeconds": "3600", "upstream.devnet.blockIntervalSeconds": "3600" } });
    procs.push(up);
    const fwd = await startTlsForwarder(cert, () => up.stratumPort);
    const file = join(tempDir("stratum-edge-eth-tls-"), "relay.toml");
    const entry = (tls: string) => `[[ethash.upstream.pool.pools]]\nurl = "stratum1+ssl://127.0.0.1:${fwd.port}"\nuser = "${ADDRESS}"\npassword = "d=${UP_DIFF}"\nworker = "edge"\n${tls}`;
    writeFileSync(file, `[ethash.upstream]\ntype = "pool"\n` + entry(`[ethash.upstream.pool.pools.tls]\nca = ${JSON.stringify(cert.certFile)}\n`));
    const sets = { "ethash.suggestFloor": "1e-12", "ethash.minDifficulty": "1e-12", "ethash.initialDifficulty": "1e-9", "upstream.devnet.blockIntervalSeconds": "3600", "ethash.upstream.pool.submitTimeoutMs": "3000", "ethash.upstream.pool.retryMinMs": "200" };
    const r = await startRelay({ command: [await ensureBinary(), "--config", file], sets });
    procs.push(r);
    await Promise.all([ethCacheReady(up), ethCacheReady(r)]);
    const c = await connectStratum(r.stratumPort, r);
    clients.push(c);
    const { login, work } = await ethProxyOpen(c, { worker: "rig1" });
    expect(login.result).toBe(true);
    const s = findEthShare(work[0], { atMost: difficultyToTarget(UP_DIFF) });
    expect((await ethSubmit(c, 10, [s.nonce, work[0], s.mix])).result).toBe(true);
    const u = await until(async () => {
      const x = (await httpGet(up.httpPort, "/api/stats")).json() as { eth: { accepted: number; workers: { name: string }[] } };
      return x.eth.accepted >= 1 ? x : undefined;
    }, 5000, "the upstream accepted the share sent over TLS");
    expect(u.eth.workers.map((w) => w.name)).toEqual([`${ADDRESS}.edge`]);
    expect(fwd.handshakes).toBeGreaterThanOrEqual(1);

    // The same pool without tls settings: refused by the default checks, the reason in ethUpstreams.
    const file2 = join(tempDir("stratum-edge-eth-tls-"), "relay.toml");
    writeFileSync(file2, `[ethash.upstream]\ntype = "pool"\n` + entry(""));
    const r2 = await startRelay({ command: [await ensureBinary(), "--config", file2], sets });
    procs.push(r2);
    const eu = await until(async () => {
      const x = ((await httpGet(r2.httpPort, "/api/stats")).json() as { ethUpstreams?: { state: string; lastError?: string }[] }).ethUpstreams;
      return x?.[0]?.lastError !== undefined ? x : undefined;
    }, 10_000, "the Ethereum upstream's TLS error");
    expect(eu[0]!.lastError).toContain("TLS certificate refused: DEPTH_ZERO_SELF_SIGNED_CERT");
    fwd.close();
  }, 60_000);
});
