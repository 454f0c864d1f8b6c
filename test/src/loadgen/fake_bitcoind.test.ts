// Tests the benchmark's simulated bitcoind: notify prevhash conversion, template shape, block judging against the relay's own job/assembly code, and longpoll/submitblock over real HTTP.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { buildTemplate, judgeBlock, notifyPrevhash, regtestSubsidy, startFakeBitcoind, type FakeTip } from "../../../src/loadgen/fake_bitcoind.ts";
import { nobleSha256Into as sha } from "../../../protocols/pow/sha256d.ts";
import { parseTemplate } from "../../../src/upstream/bitcoind_rpc.ts";
import { buildJob } from "../../../protocols/stratum-v1/job.ts";
import { assembleBlock, hashShare, type SubmitFields } from "../../../protocols/stratum-v1/share.ts";
import { hexToBytes } from "../../../protocols/pow/hex.ts";
import { createRpcClient } from "../../../src/upstream/bitcoind_rpc.ts";
import { realClock } from "../../../src/runtime/shared.ts";

const fixtures = JSON.parse(readFileSync(new URL("../../fixtures/bitcoin.json", import.meta.url), "utf8")) as {
  stratum_vectors: Array<{ notify_params: unknown[]; expected: { prevhash_display?: string } }>;
};

const TIP: FakeTip = { hash: "11".repeat(16) + "22".repeat(16), height: 200, seq: 7 };

/** A block from the template through the relay's own job builder, nonce searched until it meets bits. */
function mineBlock(tip: FakeTip, txCount = 3, tamper?: (hex: string) => string): { hex: string; tpl: ReturnType<typeof buildTemplate> } {
  const tpl = buildTemplate(tip, { bits: "207fffff", txCount, curtime: 1_700_000_000, sha });
  const p = parseTemplate(tpl.result, ["segwit"]);
  if (!p.ok) throw new Error(p.message);
  const job = buildJob("1", p.template, { payoutScript: Uint8Array.of(0x51), poolTag: "/t/", extranonce1Size: 4, extranonce2Size: 4 }, sha);
  const en1 = hexToBytes("01020304")!;
  const out = new Uint8Array(32);
  for (let nonce = 0; nonce < 1000; nonce++) {
    const f: SubmitFields = { ok: true, ntime: job.ntime, nonce, version: job.version, extranonce2: "00000000" };
    hashShare(job, en1, f, sha, out);
    if (out[31]! < 0x7f) {
      const hex = assembleBlock(job, en1, f, sha);
      return { hex: tamper ? tamper(hex) : hex, tpl };
    }
  }
  throw new Error("no nonce found");
}

describe("fake bitcoind helpers", () => {
  test("notifyPrevhash matches every stratum vector", () => {
    let n = 0;
    for (const v of fixtures.stratum_vectors) {
      const display = v.expected.prevhash_display;
      if (display === undefined) continue;
      expect(notifyPrevhash(display)).toBe(String(v.notify_params[1]).toLowerCase());
      n++;
    }
    expect(n).toBeGreaterThan(0);
  });

  test("template parses as the relay parses it, with a commitment and regtest subsidy", () => {
    const tpl = buildTemplate(TIP, { bits: "207fffff", txCount: 3, curtime: 1_700_000_000, sha });
    const p = parseTemplate(tpl.result, ["segwit"]);
    expect(p.ok).toBe(true);
    if (!p.ok) return;
    expect(p.template.height).toBe(201);
    expect(p.template.transactions.length).toBe(3);
    expect(p.template.witnessCommitment?.startsWith("6a24aa21a9ed")).toBe(true);
    expect(p.longpollid).toBe(TIP.hash + "7");
    // Height 201 is past one halving (every 150 blocks on regtest): 25 BTC.
    expect(regtestSubsidy(201)).toBe(2_500_000_000);
    expect(regtestSubsidy(300)).toBe(1_250_000_000);
    expect(p.template.coinbaseValue).toBe(2_500_000_000n);
  });

  test("judgeBlock accepts a block built by the relay's code and names what is wrong otherwise", () => {
    const o = { bits: "207fffff", sha, known: new Set([TIP.hash]), accepted: new Set<string>() };
    const good = mineBlock(TIP);
    const j = judgeBlock(good.hex, TIP, good.tpl, o);
    expect(j.result).toBeNull();
    expect(j.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(judgeBlock(good.hex, TIP, good.tpl, { ...o, accepted: new Set([j.hash]) }).result).toBe("duplicate");
    // A different tip: known → inconclusive, unknown → prev-blk-not-found.
    const other: FakeTip = { ...TIP, hash: "33".repeat(32) };
    expect(judgeBlock(good.hex, other, good.tpl, { ...o, known: new Set([TIP.hash, other.hash]) }).result).toBe("inconclusive");
    expect(judgeBlock(good.hex, other, good.tpl, { ...o, known: new Set([other.hash]) }).result).toBe("prev-blk-not-found");
    // Last byte of the last tx's locktime changed: its txid, so the merkle root, no longer matches (the header is untouched).
    const bad = good.hex.slice(0, -2) + "01";
    const r = judgeBlock(bad, TIP, good.tpl, o).result;
    expect(r).toBe("bad-txnmrklroot");
    expect(judgeBlock("00", TIP, good.tpl, o).result).toBe("Block decode failed");
  });
});

describe("fake bitcoind over HTTP", () => {
  test("longpoll is held until newTip; submitblock of a valid block advances the tip", async () => {
    const node = await startFakeBitcoind({ sha, user: "u", password: "p" });
    try {
      const rpc = createRpcClient({ url: node.url, user: "u", password: "p" }, { fetch: (u, i) => fetch(u, i), clock: realClock, timeoutMs: 5000 });
      const bad = createRpcClient({ url: node.url, user: "u", password: "x" }, { fetch: (u, i) => fetch(u, i), clock: realClock, timeoutMs: 5000 });
      const denied = await bad.call("getbestblockhash", []);
      expect(denied.ok ? "ok" : denied.error.kind).toBe("auth");
      const t0 = await rpc.call("getblocktemplate", [{ rules: ["segwit"] }]);
      expect(t0.ok).toBe(true);
      if (!t0.ok) return;
      const lpid = (t0.value as { longpollid: string }).longpollid;
      let answered = false;
      const lp = rpc.call("getblocktemplate", [{ rules: ["segwit"], longpollid: lpid }]).then((r) => {
        answered = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 100));
      expect(answered).toBe(false);
      expect(node.heldLongpolls()).toBe(1);
      const change = node.newTip();
      expect(change.longpollsWoken).toBe(1);
      expect(change.writtenAt).toBeGreaterThanOrEqual(change.changedAt);
      const r = await lp;
      expect(r.ok && (r.value as { previousblockhash: string }).previousblockhash).toBe(change.hash);
      const best = await rpc.call("getbestblockhash", []);
      expect(best.ok && best.value).toBe(change.hash);

      const { hex } = mineBlock(node.tip());
      const sub = await rpc.call("submitblock", [hex]);
      expect(sub.ok && sub.value).toBeNull();
      expect(node.submits.length).toBe(1);
      expect(node.submits[0]!.result).toBeNull();
      expect(node.tip().hash).toBe(node.submits[0]!.hash);
      expect(node.tip().height).toBe(change.height + 1);
      const again = await rpc.call("submitblock", [hex]);
      expect(again.ok && again.value).toBe("duplicate");
      const info = await rpc.call("getblockchaininfo", []);
      expect(info.ok && (info.value as { blocks: number }).blocks).toBe(node.tip().height);
      const unknown = await rpc.call("nosuchmethod", []);
      expect(unknown.ok ? "ok" : unknown.error.kind === "rpc" && unknown.error.code).toBe(-32601);
    } finally {
      await node.close();
    }
  });
});

describe("blocks bench helpers", () => {
  test("relayToml is a valid relay config aimed at the node", async () => {
    const { relayToml } = await import("../../../src/loadgen/blocks_bench.ts");
    const { loadConfig } = await import("../../../src/config/load.ts");
    const { encodeP2wpkh } = await import("../../../protocols/bitcoin/address.ts");
    const addr = encodeP2wpkh(new Uint8Array(20).fill(0x11), "bitcoin-regtest")!;
    expect(addr.startsWith("bcrt1q")).toBe(true);
    const c = loadConfig(relayToml({ url: "http://127.0.0.1:1234/", user: "u", password: "p\"q" }, addr), "test.toml");
    expect(c.upstream.type).toBe("bitcoind");
    if (c.upstream.type !== "bitcoind") return;
    expect(c.upstream.bitcoind.chain).toBe("bitcoin-regtest");
    expect(c.upstream.bitcoind.nodes[0]).toMatchObject({ url: "http://127.0.0.1:1234/", user: "u", password: "p\"q" });
  });

  test("solveBlock returns a share whose hash meets nbits, and none when nbits is out of reach", async () => {
    const { solveBlock } = await import("../../../src/loadgen/blocks_bench.ts");
    const { computeShareHash } = await import("../../../src/client/stratum_miner.ts");
    const v = fixtures.stratum_vectors[0]!;
    const p = v.notify_params as [string, string, string, string, string[], string, string, string, boolean];
    const job = { type: "notify" as const, jobId: p[0], prevhash: p[1], coinb1: p[2], coinb2: p[3], branch: p[4], version: p[5], nbits: "207fffff", ntime: p[7], clean: true };
    const sol = solveBlock(job, "08000002", 4, 0, "w", 10, sha);
    expect(sol).toBeDefined();
    const sent = JSON.parse(sol!.line) as { id: number; params: string[] };
    expect(sent.id).toBe(10);
    const h = computeShareHash(job, "08000002", sent.params[2]!, parseInt(p[7], 16), 0, parseInt(p[5], 16), sha);
    expect(h[31]! <= 0x7f).toBe(true);
    expect(Array.from(h).reverse().map((b) => b.toString(16).padStart(2, "0")).join("")).toBe(sol!.hash);
    // Difficulty-1 nbits: 2^-32 odds per hash, so 50 tries find nothing.
    expect(solveBlock({ ...job, nbits: "1d00ffff" }, "08000002", 4, 0, "w", 10, sha, 50)).toBeUndefined();
  });
});
