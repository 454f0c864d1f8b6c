// End-to-end https:// node RPC: real Litecoin Core regtest nodes behind TLS forwarders written here (self-signed openssl certificate), the compiled relay trusting them by tls.ca or tls.pin, refusing default checks and a wrong pin; no unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BINARY, connectStratum, ensureBinary, handshake, httpGet, startRelay, tempDir, until, type LogLine, type RelayProcess, type StratumClient } from "./helpers.ts";
import { LTC_RULES, MISSING_LITECOIND, RPC_PASSWORD, RPC_USER, findLitecoind, setupWallet, startLitecoindPair, type LitecoindPair } from "../support/litecoind.ts";
import { makeCert, startTlsForwarder, type TestCert, type TlsForwarder } from "../support/tls_certs.ts";

const T = 60_000;
const bin = findLitecoind();
let pair: LitecoindPair | undefined;
let payoutAddress = "";
const cert: TestCert = makeCert();
const other: TestCert = makeCert("other.example", "DNS:other.example");
const forwarders: TlsForwarder[] = [];
const procs: RelayProcess[] = [];
const clients: StratumClient[] = [];

/** A TLS terminator in front of node A's RPC port. */
async function forwarder(): Promise<TlsForwarder> {
  const f = await startTlsForwarder(cert, () => pair!.a.rpcPort);
  forwarders.push(f);
  return f;
}

function relayConfig(nodes: { url: string; tls?: Record<string, string> }[]): string {
  const file = join(tempDir("stratum-edge-node-tls-"), "relay.toml");
  const lines = ["[upstream]", 'type = "bitcoind"', "[upstream.bitcoind]", 'chain = "litecoin-regtest"', 'algorithm = "scrypt"', `payoutAddress = "${payoutAddress}"`, `rules = ${JSON.stringify(LTC_RULES)}`, "pollIntervalMs = 500"];
  nodes.forEach((n, i) => {
    lines.push("[[upstream.bitcoind.nodes]]", `url = "${n.url}"`, `user = "${RPC_USER}"`, `password = "${RPC_PASSWORD}"`, `priority = ${i}`);
    if (n.tls) lines.push("[upstream.bitcoind.nodes.tls]", ...Object.entries(n.tls).map(([k, v]) => `${k} = ${JSON.stringify(v)}`));
  });
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

async function relay(nodes: { url: string; tls?: Record<string, string> }[]): Promise<RelayProcess> {
  const r = await startRelay({ command: [BINARY, "--config", relayConfig(nodes)], sets: { "ethash.enabled": "false" }, startTimeoutMs: 30_000 });
  procs.push(r);
  return r;
}

beforeAll(async () => {
  await ensureBinary();
  if (!bin) return;
  pair = await startLitecoindPair(bin);
  await setupWallet(pair.a, 0);
  await pair.waitPeered();
  payoutAddress = await pair.a.rpc("getnewaddress", ["", "bech32"]);
}, 90_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(procs.map((p) => p.stop()));
  for (const f of forwarders) f.close();
  await pair?.cleanup();
}, 60_000);

describe("relay → https:// Litecoin Core RPC (TLS forwarder, self-signed certificate)", () => {
  test("default checks and a wrong pin refuse their nodes (reasons logged); the node trusted by tls.ca serves templates and a miner gets the node's height", async () => {
    if (!pair) throw new Error(MISSING_LITECOIND);
    const [f1, f2, f3] = [await forwarder(), await forwarder(), await forwarder()];
    const r = await relay([
      { url: `https://127.0.0.1:${f1.port}/` },
      { url: `https://127.0.0.1:${f2.port}/`, tls: { pin: other.pin } },
      { url: `https://127.0.0.1:${f3.port}/`, tls: { ca: cert.certFile } },
    ]);
    const down = (n: number) => (l: LogLine) => l.msg === "bitcoind: node down" && String(l.node).includes(`:${n}`);
    expect(String((await r.waitForLog(down(f1.port), 15_000, "node 0 down")).error)).toContain("TLS certificate refused: DEPTH_ZERO_SELF_SIGNED_CERT");
    expect(String((await r.waitForLog(down(f2.port), 15_000, "node 1 down")).error)).toContain(`pin mismatch (the server's key is ${cert.pin}`);
    const c = await connectStratum(r.stratumPort, r);
    clients.push(c);
    const h = await handshake(c, { user: "ltc.tls" });
    expect(h.job.nbits).toBe("207fffff");
    const height = await pair.a.rpc("getblockcount");
    const st = await until(async () => {
      const s = (await httpGet(r.httpPort, "/api/stats")).json() as { pool: { height: number } };
      return s.pool.height === height + 1 ? s : undefined;
    }, 10_000, "relay height = node height + 1", () => r.tail());
    expect(st.pool.height).toBe(height + 1);
    // The templates came through the third forwarder's TLS connections.
    expect(f3.handshakes).toBeGreaterThan(0);
  }, T);

  test("the right tls.pin alone (no CA) is enough to use the node", async () => {
    if (!pair) throw new Error(MISSING_LITECOIND);
    const f = await forwarder();
    const r = await relay([{ url: `https://127.0.0.1:${f.port}/`, tls: { pin: cert.pin } }]);
    const c = await connectStratum(r.stratumPort, r);
    clients.push(c);
    const h = await handshake(c, { user: "ltc.pin" });
    expect(h.job.nbits).toBe("207fffff");
    expect(f.handshakes).toBeGreaterThan(0);
  }, T);
});
