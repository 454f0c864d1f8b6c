// End-to-end Ethereum relay mode against the compiled binary: eth-proxy, EthereumStratum and HTTP getwork miners through a relay into an upstream stratum-edge (eth-proxy upstream), verdicts relayed, local-only shares, failover; no unit logic.
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectStratum, ensureBinary, httpGet, startRelay, tempDir, until, type RelayProcess, type StratumClient } from "./helpers.ts";
import { ADDRESS, ethCacheReady, ethProxyOpen, ethStratumOpen, ethStratumSubmit, ethSubmit, findEthShare, isWorkPush, postRpc } from "./eth_helpers.ts";
import { difficultyToTarget } from "../../protocols/pow/target.ts";

const procs: RelayProcess[] = [];
const clients: StratumClient[] = [];
afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(procs.map((p) => p.stop()));
});

/** The upstream relay's Ethereum devnet: shares judged at the difficulty its login asks for (d=…). */
async function upstream(): Promise<RelayProcess> {
  const r = await startRelay({
    sets: {
      "ethash.suggestFloor": "1e-12",
      "ethash.minDifficulty": "1e-12",
      "ethash.upstream.devnet.blockIntervalSeconds": "3600",
      "upstream.devnet.blockIntervalSeconds": "3600",
    },
  });
  procs.push(r);
  await ethCacheReady(r);
  return r;
}

/** UP_DIFF: what the relay's upstream login asks for; miners at the relay mine at MINER_DIFF (lower). */
const UP_DIFF = 4e-9;
const MINER_DIFF = 1e-9;

async function relayTo(ports: number[], sets: Record<string, string> = {}, protocol = "eth-proxy"): Promise<RelayProcess> {
  const dir = tempDir("stratum-edge-eth-relay-cfg-");
  const file = join(dir, "relay.toml");
  writeFileSync(file, `[ethash.upstream]\ntype = "pool"\n` + ports.map((p, i) => `[[ethash.upstream.pool.pools]]\nurl = "stratum+tcp://127.0.0.1:${p}"\nuser = "${ADDRESS}"\npassword = "d=${UP_DIFF}"\nworker = "edge"\nprotocol = "${protocol}"\npriority = ${i}\n`).join(""));
  const r = await startRelay({
    command: [await ensureBinary(), "--config", file],
    sets: {
      "ethash.suggestFloor": "1e-12",
      "ethash.minDifficulty": "1e-12",
      "ethash.initialDifficulty": String(MINER_DIFF),
      "upstream.devnet.blockIntervalSeconds": "3600",
      "ethash.upstream.pool.submitTimeoutMs": "3000",
      "ethash.upstream.pool.retryMinMs": "200",
      ...sets,
    },
  });
  procs.push(r);
  await ethCacheReady(r);
  return r;
}

type EthStats = { eth: { accepted: number; rejected: number; rejectedByReason: Record<string, number>; workers: { name: string }[] }; ethUpstreams?: { state: string; accepted: number; rejected: number; unconfirmed: number }[] };
const stats = async (r: RelayProcess) => (await httpGet(r.httpPort, "/api/stats")).json() as EthStats;

const upTarget = difficultyToTarget(UP_DIFF);
const minerTarget = difficultyToTarget(MINER_DIFF);

describe("Ethereum relay in front of another stratum-edge (eth-proxy upstream)", () => {
  let U: RelayProcess;
  let R: RelayProcess;
  let start = 0;

  test("eth-proxy miner: shares reaching the pool's boundary get its verdict, the others are answered here", async () => {
    U = await upstream();
    R = await relayTo([U.stratumPort]);
    const c = await connectStratum(R.stratumPort, R);
    clients.push(c);
    const { login, work } = await ethProxyOpen(c, { worker: "rig1" });
    expect(login.result).toBe(true);
    // The miner's boundary is its own (MINER_DIFF), never above the pool's.
    expect(BigInt(work[2])).toBe(minerTarget);
    const header = work[0];
    const fwd = findEthShare(header, { atMost: upTarget, start });
    start = parseInt(fwd.minerNonce, 16) + 1;
    expect((await ethSubmit(c, 10, [fwd.nonce, header, fwd.mix])).result).toBe(true);
    const u = await until(async () => {
      const s = (await httpGet(U.httpPort, "/api/stats")).json() as EthStats;
      return s.eth.accepted >= 1 ? s : undefined;
    }, 5000, "the upstream accepted the forwarded share");
    expect(u.eth.workers.map((w) => w.name)).toEqual([`${ADDRESS}.edge`]);

    const local = findEthShare(header, { atMost: minerTarget, above: upTarget, start });
    start = parseInt(local.minerNonce, 16) + 1;
    expect((await ethSubmit(c, 11, [local.nonce, header, local.mix])).result).toBe(true);
    const bad = findEthShare(header, { atMost: minerTarget, meets: false, start });
    start = parseInt(bad.minerNonce, 16) + 1;
    expect((await ethSubmit(c, 12, [bad.nonce, header, bad.mix])).error).toMatchObject({ code: 23 });

    const s = await stats(R);
    expect(s.eth.accepted).toBe(2);
    expect(s.ethUpstreams?.[0]).toMatchObject({ state: "active", accepted: 1, rejected: 0, unconfirmed: 0 });
    expect(((await httpGet(U.httpPort, "/api/stats")).json() as EthStats).eth.accepted).toBe(1);
  }, 30_000);

  test("EthereumStratum miner: its extranonce prefix, the pool's verdict", async () => {
    const c = await connectStratum(R.stratumPort, R);
    clients.push(c);
    const o = await ethStratumOpen(c, { user: `${ADDRESS}.rig2` });
    const [jobId, , headerNo0x] = o.notify;
    const s = findEthShare("0x" + headerNo0x, { atMost: upTarget, prefix: o.extranonce, start });
    start = parseInt(s.minerNonce, 16) + 1;
    expect((await ethStratumSubmit(c, 20, `${ADDRESS}.rig2`, jobId, s.minerNonce)).result).toBe(true);
    await until(async () => (((await httpGet(U.httpPort, "/api/stats")).json() as EthStats).eth.accepted >= 2 ? true : undefined), 5000, "upstream accepted 2");
  }, 30_000);

  test("HTTP getwork miner through the relay: POST eth_getWork and eth_submitWork, answered with the pool's verdict", async () => {
    const w = await postRpc(R.httpPort, `/${ADDRESS}/rig3`, { id: 1, jsonrpc: "2.0", method: "eth_getWork", params: [] });
    const work = w.json.result as string[];
    expect(work).toHaveLength(4);
    const s = findEthShare(work[0]!, { atMost: upTarget, start });
    start = parseInt(s.minerNonce, 16) + 1;
    const r = await postRpc(R.httpPort, `/${ADDRESS}/rig3`, { id: 2, jsonrpc: "2.0", method: "eth_submitWork", params: [s.nonce, work[0], s.mix] });
    expect(r.json.result).toBe(true);
    // The same share again: a duplicate, refused here before it could reach the pool twice.
    const again = await postRpc(R.httpPort, `/${ADDRESS}/rig3`, { id: 3, jsonrpc: "2.0", method: "eth_submitWork", params: [s.nonce, work[0], s.mix] });
    expect(again.json.error).toMatchObject({ code: 22 });
    await until(async () => (((await httpGet(U.httpPort, "/api/stats")).json() as EthStats).eth.accepted >= 3 ? true : undefined), 5000, "upstream accepted 3");
    expect((await stats(R)).ethUpstreams?.[0]).toMatchObject({ accepted: 3 });
  }, 30_000);

  test("a dead upstream: the backup's work is pushed to the miners within seconds", async () => {
    const U1 = await upstream();
    const U2 = await upstream();
    const R2 = await relayTo([U1.stratumPort, U2.stratumPort], { "ethash.upstream.pool.failbackSeconds": "3600" });
    const c = await connectStratum(R2.stratumPort, R2);
    clients.push(c);
    await ethProxyOpen(c, { worker: "rig4" });
    const before = c.received.length;
    const t0 = performance.now();
    await U1.stop();
    // Two devnets started alike may hand out the same header: any push after the death counts.
    const push = await c.next((m) => isWorkPush()(m) && c.received.indexOf(m) >= before, 5000, "work from the backup");
    expect(performance.now() - t0).toBeLessThan(2000);
    const header = (push.result as string[])[0]!;
    const s = findEthShare(header, { atMost: upTarget, start });
    start = parseInt(s.minerNonce, 16) + 1;
    expect((await ethSubmit(c, 30, [s.nonce, header, s.mix])).result).toBe(true);
    await until(async () => (((await httpGet(U2.httpPort, "/api/stats")).json() as EthStats).eth.accepted >= 1 ? true : undefined), 5000, "backup accepted");
    const st = await stats(R2);
    expect(st.ethUpstreams?.map((u) => u.state)).toEqual(["backoff", "active"]);
  }, 40_000);
});

describe("Ethereum relay in front of another stratum-edge (EthereumStratum upstream)", () => {
  let start = 0;
  test("the pool's extranonce prefixes every miner's: EthereumStratum miners get it plus their own byte, shares reconstruct upstream", async () => {
    const U = await upstream();
    const R = await relayTo([U.stratumPort], {}, "ethereum-stratum");
    const a = await connectStratum(R.stratumPort, R);
    const b = await connectStratum(R.stratumPort, R);
    clients.push(a, b);
    const oa = await ethStratumOpen(a, { user: `${ADDRESS}.rig5` });
    const ob = await ethStratumOpen(b, { user: `${ADDRESS}.rig6` });
    // The upstream gives 2 bytes (its ethash.extranonceBytes); each miner here 1 more, same pool prefix.
    expect(oa.extranonce).toMatch(/^[0-9a-f]{6}$/);
    expect(oa.extranonce.slice(0, 4)).toBe(ob.extranonce.slice(0, 4));
    expect(oa.extranonce).not.toBe(ob.extranonce);
    for (const [c, o, w, id] of [[a, oa, "rig5", 40], [b, ob, "rig6", 41]] as const) {
      const [jobId, , headerNo0x] = o.notify;
      const s = findEthShare("0x" + headerNo0x, { atMost: upTarget, prefix: o.extranonce, start });
      start = parseInt(s.minerNonce, 16) + 1;
      expect((await ethStratumSubmit(c, id, `${ADDRESS}.${w}`, jobId, s.minerNonce)).result).toBe(true);
    }
    const u = await until(async () => {
      const st = (await httpGet(U.httpPort, "/api/stats")).json() as EthStats;
      return st.eth.accepted >= 2 ? st : undefined;
    }, 5000, "upstream accepted both");
    expect(u.eth.rejected).toBe(0);
    expect((await stats(R)).ethUpstreams?.[0]).toMatchObject({ state: "active", accepted: 2 });
    // An eth-proxy miner picks whole nonces: one outside the pool's prefix is refused as such, not counted accepted.
    const c = await connectStratum(R.stratumPort, R);
    clients.push(c);
    const { work } = await ethProxyOpen(c, { worker: "rig7" });
    const wrongPrefix = (parseInt(oa.extranonce.slice(0, 4), 16) ^ 0xffff).toString(16).padStart(4, "0");
    const s = findEthShare(work[0], { atMost: upTarget, prefix: wrongPrefix, start });
    start = parseInt(s.minerNonce, 16) + 1;
    expect((await ethSubmit(c, 42, [s.nonce, work[0], s.mix])).error).toMatchObject({ code: -1, message: "Rejected by upstream pool: upstream: nonce outside the pool's extranonce" });
  }, 40_000);
});
