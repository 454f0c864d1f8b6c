// End-to-end solo mode (upstream.bitcoind.payout = "miner") against real Litecoin Core regtest nodes: a worker named by an address mines blocks paying that address, another worker's blocks pay the pool; no unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BINARY, HOST, ensureBinary, httpGet, startRelay, until, type RelayProcess } from "./helpers.ts";
import { createStratumMiner, type StratumMiner } from "../../src/client/stratum_miner.ts";
import { createBunRuntime } from "../../src/runtime/bun.ts";
import { LTC_RULES, MISSING_LITECOIND, RPC_PASSWORD, RPC_USER, findLitecoind, setupWallet, startLitecoindPair, type LitecoindPair } from "../support/litecoind.ts";

const runtime = createBunRuntime();
type PoolBlock = { height: number; hash: string; worker: string; result?: { accepted: boolean; reason?: string } };

describe("solo mode: workers named by an address are paid by their own blocks (Litecoin Core regtest)", () => {
  const bin = findLitecoind();
  let pair: LitecoindPair | undefined;
  let relay: RelayProcess | undefined;
  let dir = "";
  let poolAddress = "";
  let minerAddress = "";
  const miners: StratumMiner[] = [];

  beforeAll(async () => {
    await ensureBinary();
    if (!bin) return;
    pair = await startLitecoindPair(bin);
    await setupWallet(pair.a, 0);
    await pair.waitPeered();
    poolAddress = await pair.a.rpc("getnewaddress", ["", "bech32"]);
    // A legacy (base58) address for the miner: both encodings pass through the same decoder.
    minerAddress = await pair.a.rpc("getnewaddress", ["", "legacy"]);
    dir = mkdtempSync(join(tmpdir(), "edge-solo-"));
    const file = join(dir, "solo.toml");
    writeFileSync(file, [
      "[upstream]",
      'type = "bitcoind"',
      "[upstream.bitcoind]",
      'chain = "litecoin-regtest"',
      'algorithm = "scrypt"',
      `payoutAddress = "${poolAddress}"`,
      'payout = "miner"',
      `rules = ${JSON.stringify(LTC_RULES)}`,
      "pollIntervalMs = 500",
      "[[upstream.bitcoind.nodes]]",
      `url = "${pair.a.url}"`,
      `user = "${RPC_USER}"`,
      `password = "${RPC_PASSWORD}"`,
      "",
    ].join("\n"));
    relay = await startRelay({ command: [BINARY, "--config", file], sets: { dataDir: join(dir, "data") }, startTimeoutMs: 30_000 });
  }, 90_000);

  afterAll(async () => {
    for (const m of miners) m.stop();
    await relay?.stop();
    await pair?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("each block's coinbase pays the address its finder is named by, or the pool's", async () => {
    if (!bin) throw new Error(MISSING_LITECOIND);
    const r = relay as RelayProcess;
    for (const user of [`${minerAddress}.bitaxe`, "someone.rig"]) {
      const m = createStratumMiner({ runtime, host: HOST, port: r.stratumPort, user, sha: runtime.sha256, algo: "scrypt", maxHashesPerSecond: 3 });
      await m.start();
      miners.push(m);
    }
    const blocks = await until(async () => {
      const s = (await httpGet(r.httpPort, "/api/stats")).json() as { pool: { blocks: PoolBlock[] } };
      const good = s.pool.blocks.filter((b) => b.result?.accepted === true && b.result.reason === undefined);
      const solo = good.filter((b) => b.worker.startsWith(minerAddress));
      const pooled = good.filter((b) => b.worker === "someone.rig");
      return solo.length >= 1 && pooled.length >= 1 ? { solo, pooled } : undefined;
    }, 60_000, "an accepted block from each worker", () => r.tail());
    // Output scripts of the coinbase that carry value, compared with the wallet's script for each address.
    const paidTo = async (hash: string): Promise<string[]> => {
      const b = await pair!.a.rpc("getblock", [hash, 2]);
      return b.tx[0].vout.filter((o: { value: number }) => o.value > 0).map((o: { scriptPubKey: { hex: string } }) => o.scriptPubKey.hex);
    };
    const scriptOf = async (a: string): Promise<string> => (await pair!.a.rpc("getaddressinfo", [a])).scriptPubKey;
    const minerScript = await scriptOf(minerAddress);
    const poolScript = await scriptOf(poolAddress);
    expect(minerScript).toMatch(/^76a914[0-9a-f]{40}88ac$/); // P2PKH: the base58 address decoded
    for (const b of blocks.solo) expect(await paidTo(b.hash)).toEqual([minerScript]);
    for (const b of blocks.pooled) expect(await paidTo(b.hash)).toEqual([poolScript]);
  }, 90_000);
});
