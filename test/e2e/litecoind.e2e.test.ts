// End-to-end: the compiled relay mines scrypt blocks into two real Litecoin Core regtest nodes with the project's own miner (blocks, payout, wallet txs), survives a node outage, and resubmits a journalled candidate after SIGKILL; no unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, HOST, ensureBinary, httpGet, startRelay, until, type LogLine, type RelayProcess } from "./helpers.ts";
import { createStratumMiner, type MinerEvent, type StratumMiner } from "../../src/client/stratum_miner.ts";
import { createBunRuntime } from "../../src/runtime/bun.ts";
import {
  LTC_RULES,
  MISSING_LITECOIND,
  RPC_PASSWORD,
  RPC_USER,
  findLitecoind,
  sendPayments,
  setupWallet,
  startLitecoindPair,
  waitUntil,
  type LitecoindPair,
} from "../support/litecoind.ts";

const runtime = createBunRuntime();
/**
 * Regtest bits 207fffff: about half of all scrypt hashes are blocks, and share difficulty is capped at that
 * network difficulty (≈3.05e-5 in scrypt units), so every share is a block. 3 hashes/s per miner ≈ 1.5 blocks/s
 * each: enough blocks quickly, rarely two for one height before the new template reaches the miners.
 */
const HASHES_PER_SECOND = 3;
const WITNESS_COMMITMENT = /^6a24aa21a9ed[0-9a-f]{64}$/;

type BlockResult = { accepted: boolean; reason?: string };
type PoolBlock = { height: number; hash: string; worker: string; foundAt: string; result?: BlockResult };
interface Stats {
  connections: number;
  pool: { height: number; accepted: number; rejected: number; rejectedByReason: Record<string, number>; blocks: PoolBlock[] };
}

/** A block the node made its tip: submitblock answered null. "inconclusive"/"duplicate" mean a sibling for an already-filled height. */
const extendedChain = (b: PoolBlock) => b.result?.accepted === true && b.result.reason === undefined;

function relayConfig(payoutAddress: string, pair: LitecoindPair): string {
  const node = (url: string, priority: number) =>
    `[[upstream.bitcoind.nodes]]\nurl = "${url}"\nuser = "${RPC_USER}"\npassword = "${RPC_PASSWORD}"\npriority = ${priority}\n`;
  return [
    "[upstream]",
    'type = "bitcoind"',
    "[upstream.bitcoind]",
    'chain = "litecoin-regtest"',
    'algorithm = "scrypt"',
    `payoutAddress = "${payoutAddress}"`,
    `rules = ${JSON.stringify(LTC_RULES)}`,
    "longpoll = true",
    "pollIntervalMs = 500",
    "mempoolRefreshSeconds = 5",
    "maxJobAgeSeconds = 90",
    node(pair.a.url, 0),
    node(pair.b.url, 1),
  ].join("\n");
}

interface Miner {
  miner: StratumMiner;
  events: MinerEvent[];
  closed: () => number;
}

async function startMiner(port: number, name: string): Promise<Miner> {
  const events: MinerEvent[] = [];
  const miner = createStratumMiner({
    runtime,
    host: HOST,
    port,
    user: `ltc-e2e.${name}`,
    sha: runtime.sha256,
    algo: "scrypt",
    maxHashesPerSecond: HASHES_PER_SECOND,
    onEvent: (e) => events.push(e),
  });
  await miner.start();
  return { miner, events, closed: () => events.filter((e) => e.type === "closed").length };
}

describe("relay ⇄ Litecoin Core regtest (real nodes, scrypt)", () => {
  const bin = findLitecoind();
  let pair: LitecoindPair | undefined;
  let configFile = "";
  let dataDir = "";
  let relay: RelayProcess | undefined;
  let payoutAddress = "";
  let payoutScript = "";
  const miners: Miner[] = [];
  /** Accepted-and-extending blocks counted so far, and the node height they started from. */
  let startHeight = 0;
  const timings: Record<string, number> = {};

  const need = (): LitecoindPair => {
    if (!bin) throw new Error(MISSING_LITECOIND);
    if (!pair) throw new Error("litecoind pair did not start (see beforeAll)");
    return pair;
  };
  const stats = async (): Promise<Stats> => (await httpGet((relay as RelayProcess).httpPort, "/api/stats")).json() as Stats;
  const launch = async (): Promise<RelayProcess> =>
    startRelay({ command: [BINARY, "--config", configFile], sets: { dataDir }, startTimeoutMs: 30_000 });
  /** Miner-side totals over every miner so far (for the report: stale shares after a new block are expected). */
  const minerTotals = { accepted: 0, rejected: 0, hashes: 0, reasons: {} as Record<string, number> };
  const stopMiners = () => {
    for (const m of miners.splice(0)) {
      m.miner.stop();
      const st = m.miner.stats();
      minerTotals.accepted += st.accepted;
      minerTotals.rejected += st.rejected;
      minerTotals.hashes += st.hashes;
      for (const [k, v] of Object.entries(st.rejectReasons)) minerTotals.reasons[k] = (minerTotals.reasons[k] ?? 0) + v;
    }
  };
  /** Every block the relay found has its final answer (submission settled). */
  const settled = async (): Promise<Stats> =>
    until(async () => {
      const s = await stats();
      return s.pool.blocks.every((b) => b.result !== undefined) ? s : undefined;
    }, 20_000, "every found block to have an answer", () => relay?.tail() ?? "");
  const msgs = (r: RelayProcess, msg: string) => r.logs().filter((l: LogLine) => l.msg === msg);

  beforeAll(async () => {
    await ensureBinary();
    if (!bin) return; // each test fails with MISSING_LITECOIND
    const t0 = Date.now();
    pair = await startLitecoindPair(bin);
    await setupWallet(pair.a, 0);
    await pair.waitPeered();
    payoutAddress = await pair.a.rpc("getnewaddress", ["", "bech32"]);
    payoutScript = (await pair.a.rpc("getaddressinfo", [payoutAddress])).scriptPubKey;
    dataDir = mkdtempSync(join(tmpdir(), "edge-ltc-relay-"));
    configFile = join(dataDir, "..", `${dataDir.split("/").pop()}.toml`);
    writeFileSync(configFile, relayConfig(payoutAddress, pair));
    timings.nodesReadyMs = Date.now() - t0;
  }, 60_000);

  afterAll(async () => {
    stopMiners();
    await relay?.stop();
    await pair?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (configFile && existsSync(configFile)) rmSync(configFile);
    console.log("litecoind e2e timings (ms) and counts:", JSON.stringify(timings), "miners:", JSON.stringify(minerTotals));
  }, 60_000);

  test("two scrypt miners find ≥ 5 blocks through Stratum: node height matches, coinbase pays the address, wallet txs mined", async () => {
    const p = need();
    const sent = await sendPayments(p.a, 3);
    startHeight = await p.a.rpc("getblockcount");
    relay = await launch();
    const t0 = Date.now();
    for (const name of ["m1", "m2"]) miners.push(await startMiner(relay.stratumPort, name));
    await until(async () => ((await stats()).pool.blocks.filter(extendedChain).length >= 5 ? true : undefined), 60_000, "5 blocks accepted", () => relay?.tail() ?? "");
    stopMiners();
    const s = await settled();
    timings.fiveBlocksMs = Date.now() - t0;
    const blocks = s.pool.blocks;
    const tips = blocks.filter(extendedChain);
    timings.phase1Found = blocks.length;
    timings.phase1Extended = tips.length;
    timings.phase1Siblings = blocks.length - tips.length;
    // Nothing refused: every candidate either extended the chain or was a valid sibling for a filled height.
    expect(blocks.filter((b) => b.result?.accepted !== true)).toEqual([]);
    for (const b of blocks.filter((x) => !extendedChain(x))) expect(["inconclusive", "duplicate"]).toContain(b.result?.reason ?? "(none)");
    // Height rose by exactly the blocks the nodes took as their tip; both nodes agree.
    const height = await p.a.rpc("getblockcount");
    expect(height - startHeight).toBe(tips.length);
    await waitUntil("node B on A's tip", async () => (await p.b.rpc("getbestblockhash")) === (await p.a.rpc("getbestblockhash")), 10_000);

    let withTxs = 0;
    for (const b of tips) {
      const blk = await p.a.rpc("getblock", [b.hash, 2]);
      expect(blk.confirmations).toBeGreaterThanOrEqual(1); // on the main chain
      expect(blk.height).toBe(b.height);
      const cb = blk.tx[0];
      expect(cb.vout[0].scriptPubKey.hex).toBe(payoutScript);
      expect(cb.vout[0].scriptPubKey.addresses ?? [cb.vout[0].scriptPubKey.address]).toContain(payoutAddress);
      if (blk.tx.length > 1) {
        withTxs++;
        expect(cb.vout.some((o: { scriptPubKey: { hex: string } }) => WITNESS_COMMITMENT.test(o.scriptPubKey.hex))).toBe(true);
        expect(sent.every((id) => blk.tx.some((t: { txid: string }) => t.txid === id))).toBe(true);
      }
    }
    expect(withTxs).toBe(1); // the three payments went into the first block, and only there
    // Siblings were stored by the node off the main chain, never silently lost.
    for (const b of blocks.filter((x) => !extendedChain(x))) expect((await p.a.rpc("getblock", [b.hash, 1])).confirmations).toBe(-1);
  }, 90_000);

  test("node outage: A stopped and restarted; miners stay connected, mining resumes, the log says it once", async () => {
    const p = need();
    const r = relay as RelayProcess;
    if (!r) throw new Error("relay not running (first test failed)");
    for (const name of ["m3", "m4"]) miners.push(await startMiner(r.stratumPort, name));
    const before = (await stats()).pool.blocks.filter(extendedChain).length;
    await until(async () => ((await stats()).pool.blocks.filter(extendedChain).length >= before + 1 ? true : undefined), 20_000, "a block before the outage");

    const heightAtOutage = await p.a.rpc("getblockcount");
    const t0 = Date.now();
    await p.a.stop("SIGTERM");
    timings.nodeAStopMs = Date.now() - t0;
    await r.waitForLog((l) => l.msg === "bitcoind: node down", 15_000, '"bitcoind: node down"');
    // B alone has no peer: getblocktemplate answers -9, so the relay keeps the last template and blocks go to B.
    await new Promise((res) => setTimeout(res, 4000));
    const outageBlocks = (await stats()).pool.blocks.length;
    const t1 = Date.now();
    await p.a.start();
    await p.waitPeered();
    timings.nodeARestartMs = Date.now() - t1;
    await waitUntil("A to catch up with B", async () => (await p.a.rpc("getbestblockhash")) === (await p.b.rpc("getbestblockhash")), 15_000);
    const tipAfterRestart: number = await p.a.rpc("getblockcount");
    // Mining resumes on fresh templates from A: two more blocks above the height A came back at.
    await until(async () => {
      const s = await stats();
      return s.pool.blocks.filter((b) => extendedChain(b) && b.height > tipAfterRestart).length >= 2 ? true : undefined;
    }, 30_000, "2 blocks after node A is back", () => r.tail());
    timings.outageResumeMs = Date.now() - t1;
    expect(miners.map((m) => m.closed())).toEqual([0, 0]);
    stopMiners();
    const s = await settled();
    const phase2 = s.pool.blocks.slice(timings.phase1Found);
    timings.phase2Found = phase2.length;
    timings.phase2Extended = phase2.filter(extendedChain).length;
    timings.phase2FoundByOutageEnd = outageBlocks - (timings.phase1Found ?? 0);
    expect(s.pool.blocks.filter((b) => b.result?.accepted !== true)).toEqual([]);
    // While B alone could not make templates, candidates for the already-filled height were siblings.
    for (const b of phase2.filter((x) => !extendedChain(x))) expect(["inconclusive", "duplicate"]).toContain(b.result?.reason ?? "(none)");
    const height = await p.a.rpc("getblockcount");
    expect(height - startHeight).toBe(s.pool.blocks.filter(extendedChain).length);
    // One line per state change, not one per poll (every 500 ms) or health check: A's outage reads
    // "cannot serve work" (-9 Shutting down), "node down" once per distinct error (HTTP 503 while Core shuts
    // down, then ECONNREFUSED), "node back" once; the work source's outage and return once each.
    const a = p.a.url;
    if (process.env.LTC_E2E_VERBOSE) for (const l of r.logs()) if (String(l.msg).startsWith("bitcoind:") && l.msg !== "bitcoind: block accepted") console.log(JSON.stringify(l));
    const down = msgs(r, "bitcoind: node down").filter((l) => l.node === a);
    expect(down.length).toBeGreaterThanOrEqual(1);
    expect(new Set(down.map((l) => l.error)).size).toBe(down.length);
    expect(down.length).toBeLessThanOrEqual(3);
    expect(msgs(r, "bitcoind: node back").filter((l) => l.node === a).length).toBe(1);
    expect(msgs(r, "bitcoind: no node serves work; keeping the last template until it is too old").length).toBe(1);
    expect(msgs(r, "bitcoind: work source back").length).toBe(1);
    timings.nodeADownLines = down.length;
    timings.stateLogLines = r.logs().filter((l) => String(l.msg).startsWith("bitcoind:") && l.msg !== "bitcoind: block accepted").length;
  }, 90_000);

  test("a journalled candidate survives SIGKILL of the relay and is accepted after restart", async () => {
    const p = need();
    const r = relay as RelayProcess;
    if (!r) throw new Error("relay not running");
    // Quiet point: no miner, relay's template on the node's tip.
    const tip: number = await p.a.rpc("getblockcount");
    await until(async () => ((await stats()).pool.height === tip + 1 ? true : undefined), 15_000, "relay template on the tip");
    // Both nodes gone: no submitblock can reach them, so the candidate stays unanswered in the journal.
    await Promise.all([p.a.stop("SIGTERM"), p.b.stop("SIGTERM")]);
    const journal = join(dataDir, "blocks.jsonl");
    const lines = () => (existsSync(journal) ? readFileSync(journal, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)) : []);
    const known = new Set(lines().map((l: { hash: string }) => l.hash));
    const m = await startMiner(r.stratumPort, "m5");
    miners.push(m);
    await r.waitForLog((l) => l.msg === "block candidate found" && !known.has(l.hash as string), 20_000, '"block candidate found"');
    // The journal line is fsynced before submitblock; wait for it rather than race the log line.
    await until(() => (lines().some((l: { type: string; hash: string }) => l.type === "candidate" && !known.has(l.hash)) ? true : undefined), 5000, "candidate in blocks.jsonl");
    r.child.kill("SIGKILL");
    await r.exited;
    stopMiners();
    const fresh = lines().filter((l: { type: string; hash: string }) => !known.has(l.hash));
    const candidates = fresh.filter((l: { type: string }) => l.type === "candidate") as { hash: string; height: number }[];
    expect(fresh.filter((l: { type: string }) => l.type === "result")).toEqual([]); // never answered
    expect(candidates.every((c) => c.height === tip + 1)).toBe(true);
    timings.journalledCandidates = candidates.length;
    await r.stop(); // removes only startRelay's own unused temp dir; ours (dataDir) stays
    relay = undefined;

    await Promise.all([p.a.start(), p.b.start()]);
    await p.waitPeered();
    expect(await p.a.rpc("getblockcount")).toBe(tip);
    const t0 = Date.now();
    relay = await launch();
    const r2 = relay;
    for (const c of candidates) {
      await r2.waitForLog((l) => l.msg === "resubmitted block accepted" && l.hash === c.hash, 15_000, `resubmission of ${c.hash}`);
    }
    timings.resubmitMs = Date.now() - t0;
    expect(await p.a.rpc("getblockcount")).toBe(tip + 1);
    const best: string = await p.a.rpc("getbestblockhash");
    expect(candidates.map((c) => c.hash)).toContain(best);
    for (const c of candidates) expect((await p.a.rpc("getblock", [c.hash, 1])).hash).toBe(c.hash);
    const blk = await p.a.rpc("getblock", [best, 2]);
    expect(blk.tx[0].vout[0].scriptPubKey.hex).toBe(payoutScript);
    // Answered now: nothing left to resubmit on a further restart.
    const unanswered = new Set(lines().filter((l: { type: string }) => l.type === "candidate").map((l: { hash: string }) => l.hash));
    for (const l of lines()) if (l.type === "result") unanswered.delete(l.hash);
    expect([...unanswered]).toEqual([]);
  }, 90_000);
});
