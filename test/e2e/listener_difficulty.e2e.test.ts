// End-to-end per-port difficulty ([listeners.difficulty], [listeners.ethash]) against the compiled binary: what miners on each port are sent, shares judged at the port's difficulty, vardiff and suggestions held to the port's bounds, session threads, start-up errors; no unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { byId, byMethod, connectStratum, findShare, handshake, runBinary, shareTarget, submitParams, zeroExtranonce2, type Msg, type StratumClient } from "./helpers.ts";
import { line, rawConnect, sleep, startAbuseRelay, type AbuseRelay, type RawConn } from "./abuse_helpers.ts";
import { ADDRESS, ethCacheReady, ethProxyOpen, ethStratumOpen } from "./eth_helpers.ts";
import { sliceOf } from "./threads_helpers.ts";
import { difficultyToTarget, hashMeetsTarget, targetToLE } from "../../protocols/pow/target.ts";

const T = 60_000;
// Global: start 2e-6, vardiff every 60 s. Port 1 (Stratum v1): start 1e-5 in [2.5e-6, 1e-3], vardiff
// every second. Port 2 (Ethereum-style): start 4e-6. The devnet's network difficulty (1/256) and
// block difficulty (100000 hashes ≈ 2.3e-5 in the pool unit) sit above all of them.
const GLOBAL = 2e-6;
const PORT = { initial: 1e-5, min: 2.5e-6, max: 1e-3 };
const ETH_PORT = 4e-6;
const ETH_GLOBAL = 7e-7;
const TOML = `
[difficulty]
initial = ${GLOBAL}
min = 1e-9
suggestFloor = 1e-9

[upstream.devnet]
blockIntervalSeconds = 3600

[ethash]
initialDifficulty = ${ETH_GLOBAL}
[ethash.upstream.devnet]
blockIntervalSeconds = 3600

[[listeners]]
host = "127.0.0.1"
port = 0
dialects = ["stratum-v1"]
[listeners.difficulty]
initial = ${PORT.initial}
min = ${PORT.min}
max = ${PORT.max}
retargetSeconds = 1
`;
const ETH_LISTENER = `
[[listeners]]
host = "127.0.0.1"
port = 0
dialects = ["eth-stratum", "eth-stratum2", "eth-proxy"]
[listeners.ethash]
initialDifficulty = ${ETH_PORT}
`;

const clients: { close(): void }[] = [];
const relays: AbuseRelay[] = [];
let A: AbuseRelay;

async function client(port: number): Promise<StratumClient> {
  const c = await connectStratum(port, A);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  A = await startAbuseRelay({ toml: TOML + ETH_LISTENER, sets: { "bans.enabled": "false" } });
  relays.push(A);
}, T);

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(relays.map((r) => r.stop()));
});

const difficulties = (c: StratumClient) => c.received.filter(byMethod("mining.set_difficulty")).map((m) => (m.params as number[])[0]);

describe("Stratum v1 on a port with its own [listeners.difficulty]", () => {
  test("a miner on each port is sent that port's start difficulty", async () => {
    const [main, port] = await Promise.all([client(A.mainPort), client(A.extraPorts[0]!)]);
    const [m, p] = await Promise.all([handshake(main, { user: "main.w1" }), handshake(port, { user: "port.w1" })]);
    expect(m.difficulty).toBe(GLOBAL);
    expect(p.difficulty).toBe(PORT.initial);
  }, T);

  test("shares on the port are judged at its difficulty: one meeting only the global difficulty is low (23), one meeting the port's is accepted", async () => {
    const c = await client(A.extraPorts[0]!);
    const h = await handshake(c, { user: "port.w2" });
    const en2 = zeroExtranonce2(h.extranonce2Size);
    // A share meeting the global start difficulty; searched on until it misses the port's (4 in 5 do).
    let weak = findShare(h.job, h.extranonce1, en2, { target: shareTarget(GLOBAL), meets: true });
    while (hashMeetsTarget(weak.hash, targetToLE(shareTarget(PORT.initial)))) weak = findShare(h.job, h.extranonce1, en2, { target: shareTarget(GLOBAL), meets: true, startNonce: weak.nonce + 1 });
    c.send({ id: 10, method: "mining.submit", params: submitParams("port.w2", h.job, weak) });
    expect((await c.next(byId(10), 5000, "low share answer")).error).toEqual([23, "Low difficulty share", null]);
    const good = findShare(h.job, h.extranonce1, en2, { target: shareTarget(PORT.initial), meets: true, startNonce: weak.nonce + 1 });
    c.send({ id: 11, method: "mining.submit", params: submitParams("port.w2", h.job, good) });
    expect(await c.next(byId(11), 5000, "good share answer")).toEqual({ id: 11, result: true, error: null });
  }, T);

  test("vardiff lowering a quiet miner stops at the port's min (the port retargets every second, the main port does not)", async () => {
    const [main, port] = await Promise.all([client(A.mainPort), client(A.extraPorts[0]!)]);
    await Promise.all([handshake(main, { user: "main.quiet" }), handshake(port, { user: "port.quiet" })]);
    // Halving per quiet second: 1e-5 → 5e-6 → 2.5e-6, then held.
    await port.next((m) => m.method === "mining.set_difficulty" && (m.params as number[])[0] === PORT.min, 15_000, "set_difficulty at the port's min");
    await sleep(3500);
    expect(difficulties(port)).toEqual([1e-5, 5e-6, 2.5e-6]);
    expect(difficulties(main)).toEqual([GLOBAL]);
  }, T);

  test("mining.suggest_difficulty is held inside the port's [min, max]; the main port takes the same suggestion as it is", async () => {
    const suggest = async (port: number, d: number): Promise<number> => {
      const c = await client(port);
      c.sendRaw(line({ id: 1, method: "mining.subscribe", params: [] }) + line({ id: 2, method: "mining.suggest_difficulty", params: [d] }) + line({ id: 3, method: "mining.authorize", params: ["s.w", "x"] }));
      const sd = await c.next(byMethod("mining.set_difficulty"), 5000, "set_difficulty");
      return (sd.params as number[])[0]!;
    };
    const [lowOnPort, highOnPort, lowOnMain] = await Promise.all([suggest(A.extraPorts[0]!, 1e-9), suggest(A.extraPorts[0]!, 1), suggest(A.mainPort, 1e-9)]);
    expect(lowOnPort).toBe(PORT.min);
    expect(highOnPort).toBe(PORT.max);
    expect(lowOnMain).toBe(1e-9);
  }, T);
});

describe("Ethereum-style miners on a port with its own [listeners.ethash]", () => {
  beforeAll(() => ethCacheReady(A), T);

  test("EthereumStratum/1.0.0, EIP-1571 and eth-proxy miners get the port's difficulty / target; on the main port the global one", async () => {
    const ethPort = A.extraPorts[1]!;
    const [es, esMain, e2, proxy, proxyMain] = await Promise.all([client(ethPort), client(A.mainPort), client(ethPort), client(ethPort), client(A.mainPort)]);
    const [o, oMain, p, pMain] = await Promise.all([ethStratumOpen(es), ethStratumOpen(esMain), ethProxyOpen(proxy), ethProxyOpen(proxyMain)]);
    expect(o.difficulty).toBe(ETH_PORT);
    expect(oMain.difficulty).toBe(ETH_GLOBAL);
    expect(BigInt(p.work[2])).toBe(difficultyToTarget(ETH_PORT));
    expect(BigInt(pMain.work[2])).toBe(difficultyToTarget(ETH_GLOBAL));

    e2.send({ id: 0, method: "mining.hello", params: { agent: "ethminer-0.19.0", host: "127.0.0.1", port: ethPort.toString(16), proto: "EthereumStratum/2.0.0" } });
    await e2.next(byId(0), 5000, "hello result");
    e2.send({ id: 1, method: "mining.subscribe" });
    await e2.next(byId(1), 5000, "subscribe result");
    e2.send({ id: 2, method: "mining.authorize", params: [ADDRESS + ".rig1", "x"] });
    const set: Msg = await e2.next(byMethod("mining.set"), 10_000, "mining.set");
    expect((set.params as unknown as { target: string }).target).toBe(difficultyToTarget(ETH_PORT).toString(16));
  }, T);
});

describe("session threads (stratum.threads = 2)", () => {
  test("connections served by either thread get the port's difficulty", async () => {
    // Bitcoin-family only: the Ethereum cache would cost seconds of CPU and is not what this checks.
    const B = await startAbuseRelay({ toml: TOML, sets: { "bans.enabled": "false", "stratum.threads": "2", "ethash.enabled": "false" } });
    relays.push(B);
    const seen = new Map<number, number[]>();
    const conns: RawConn[] = [];
    // The kernel spreads connections over the two SO_REUSEPORT listeners: open until both threads served some.
    for (let i = 0; i < 40 && !(seen.has(0) && seen.has(1)); i++) {
      const c = await rawConnect(B.extraPorts[0]!);
      conns.push(c);
      c.write(line({ id: 1, method: "mining.subscribe", params: [] }) + line({ id: 2, method: "mining.authorize", params: [`t.w${i}`, "x"] }));
      const sub = await c.next(byId(1), 5000, "subscribe result");
      const sd = await c.next(byMethod("mining.set_difficulty"), 5000, "set_difficulty");
      const thread = sliceOf((sub.result as [unknown, string])[1], 2);
      seen.set(thread, [...(seen.get(thread) ?? []), (sd.params as number[])[0]!]);
    }
    for (const c of conns) c.close();
    expect([...seen.keys()].sort()).toEqual([0, 1]);
    for (const ds of seen.values()) expect(new Set(ds)).toEqual(new Set([PORT.initial]));
    // The main port of the same relay keeps the global start.
    const m = await client(B.mainPort);
    expect((await handshake(m, { user: "t.main" })).difficulty).toBe(GLOBAL);
  }, T);
});

describe("start-up errors", () => {
  test("a port whose difficulty breaks min <= initial <= max stops start-up, naming the key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "stratum-edge-listener-diff-"));
    try {
      const file = join(dir, "bad.toml");
      writeFileSync(file, `[[listeners]]\nport = 0\n[listeners.difficulty]\nmin = 5\n`);
      const r = await runBinary(["--config", file], 10_000);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("listeners.0.difficulty.min = 5: expected min (5) <= initial (0.01)");
      expect(r.stdout).not.toContain("listening");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, T);
});
