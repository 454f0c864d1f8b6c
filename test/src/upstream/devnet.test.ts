// Devnet work source: template shape, timed network blocks, a brute-forced block accepted, every submitblock rejection reason.
import { describe, expect, test } from "bun:test";
import { createDevnet, type Devnet } from "../../../src/upstream/devnet.ts";
import { parseBlock } from "../../../src/upstream/devnet_block.ts";
import { createManualClock, type ManualClock } from "../../../src/runtime/manual_clock.ts";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import type { TemplateReason } from "../../../src/upstream/types.ts";
import { nobleSha256Into, sha256d } from "../../../protocols/pow/sha256d.ts";
import { bytesToHex, bytesToHexReversed, hexToBytes, reverseHex } from "../../../protocols/pow/hex.ts";
import { bitsToTarget, hashMeetsTarget, targetToLE } from "../../../protocols/pow/target.ts";
import { merkleBranchFromTxids, merkleRootFromBranch, merkleRootFromTxids } from "../../../protocols/bitcoin/merkle.ts";
import { encodeHeightPush, encodeVarInt, writeU64LE } from "../../../protocols/bitcoin/script.ts";
import { writeHeader } from "../../../protocols/bitcoin/header.ts";
import fixtures from "../../fixtures/bitcoin.json";

const sha = nobleSha256Into;
const EASY = "207fffff"; // regtest bits: about every second hash meets the target

function h(hex: string): Uint8Array {
  const b = hexToBytes(hex);
  if (!b) throw new Error(`bad hex ${hex}`);
  return b;
}
function d(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256d(sha, data, out);
  return out;
}
function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
function u64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  writeU64LE(out, 0, v);
  return out;
}
function varBytes(b: Uint8Array): Uint8Array {
  return cat(encodeVarInt(b.length), b);
}

interface BuildOpts {
  height?: number;
  prevhashDisplay?: string;
  txs?: string[];
  coinbaseValue?: bigint;
  commitment?: string | null;
  witnessNonce?: Uint8Array;
  bits?: string;
  corruptRoot?: boolean;
  time?: number;
  version?: number;
  wantHighHash?: boolean;
  tag?: string;
}

/** Builds a block the way a pool would (branch from template txids, root folded from the branch) and grinds the nonce. */
function buildBlock(t: BlockTemplate, o: BuildOpts = {}): { hex: string; hash: string } {
  const scriptSig = cat(encodeHeightPush(o.height ?? t.height), new TextEncoder().encode(o.tag ?? "/devnet-test/"));
  const outputs: Uint8Array[] = [cat(u64(o.coinbaseValue ?? t.coinbaseValue), varBytes(Uint8Array.of(0x51)))];
  const commitment = o.commitment === undefined ? t.witnessCommitment : o.commitment;
  if (commitment) outputs.push(cat(u64(0n), varBytes(h(commitment))));
  const body = cat(
    Uint8Array.of(1),
    new Uint8Array(32),
    Uint8Array.of(0xff, 0xff, 0xff, 0xff),
    varBytes(scriptSig),
    Uint8Array.of(0xff, 0xff, 0xff, 0xff),
    encodeVarInt(outputs.length),
    ...outputs,
  );
  const version = Uint8Array.of(1, 0, 0, 0);
  const lock = new Uint8Array(4);
  const stripped = cat(version, body, lock);
  const coinbase = o.witnessNonce
    ? cat(version, Uint8Array.of(0, 1), body, Uint8Array.of(1), varBytes(o.witnessNonce), lock)
    : stripped;
  const txHex = o.txs ?? t.transactions.map((x) => x.data);
  const txids = txHex.map((x) => d(h(x)));
  const branch = merkleBranchFromTxids(txids, sha);
  const root = new Uint8Array(32);
  merkleRootFromBranch(d(stripped), cat(...branch), sha, root);
  if (o.corruptRoot) root[0] = (root[0] as number) ^ 1;
  const bits = Number.parseInt(o.bits ?? t.bits, 16);
  const targetLE = targetToLE(bitsToTarget(Number.parseInt(t.bits, 16)));
  const header = new Uint8Array(80);
  const prev = h(reverseHex(o.prevhashDisplay ?? t.previousBlockHash) as string);
  for (let nonce = 0; nonce < 1_000_000; nonce++) {
    writeHeader(header, o.version ?? t.version, prev, root, o.time ?? t.curtime, bits, nonce);
    const hash = d(header);
    if (hashMeetsTarget(hash, targetLE) === Boolean(o.wantHighHash)) continue;
    const txBytes = txHex.map(h);
    const block = cat(header, encodeVarInt(1 + txBytes.length), coinbase, ...txBytes);
    return { hex: bytesToHex(block), hash: bytesToHexReversed(hash) };
  }
  throw new Error("no nonce found");
}

function setup(over: Partial<Parameters<typeof createDevnet>[0]> = {}): {
  dev: Devnet;
  clock: ManualClock;
  seen: Array<{ t: BlockTemplate; reason: TemplateReason }>;
} {
  const clock = createManualClock(1_700_000_000_000);
  const dev = createDevnet({
    bits: EASY,
    blockIntervalSeconds: 30,
    transactionsPerBlock: 5,
    startHeight: 1000,
    coinbaseValueSats: 5_000_000_000n,
    sha,
    clock,
    ...over,
  });
  const seen: Array<{ t: BlockTemplate; reason: TemplateReason }> = [];
  dev.onTemplate((t, reason) => seen.push({ t, reason }));
  return { dev, clock, seen };
}

describe("devnet templates", () => {
  test("initial template is well-formed with real txs, a non-empty branch and a BIP141 commitment", async () => {
    const { dev, seen } = setup();
    expect(dev.current()).toBeUndefined();
    await dev.start();
    expect(seen.length).toBe(1);
    expect(seen[0]?.reason).toBe("initial");
    const t = dev.current() as BlockTemplate;
    expect(t).toBe(seen[0]?.t as BlockTemplate);
    expect(t.height).toBe(1000);
    expect(t.version).toBe(0x20000000);
    expect(t.bits).toBe(EASY);
    expect(t.curtime).toBe(1_700_000_000);
    expect(t.coinbaseValue).toBe(5_000_000_000n);
    expect(t.previousBlockHash).toMatch(/^[0-9a-f]{64}$/);
    expect(dev.tip()).toEqual({ height: 999, hash: t.previousBlockHash });
    expect(t.transactions.length).toBe(5);
    const txids = new Set<string>();
    for (const tx of t.transactions) {
      expect(bytesToHexReversed(d(h(tx.data)))).toBe(tx.txid);
      txids.add(tx.txid);
    }
    expect(txids.size).toBe(5);
    const internal = t.transactions.map((x) => h(reverseHex(x.txid) as string));
    expect(merkleBranchFromTxids(internal, sha).length).toBe(3); // 6 leaves → depth 3
    // Commitment recomputed here: root over [0…0, txids…] (wtxid = txid without witness), sha256d(root ‖ 0³²).
    const wroot = merkleRootFromTxids([new Uint8Array(32), ...internal], sha) as Uint8Array;
    expect(t.witnessCommitment).toBe(`6a24aa21a9ed${bytesToHex(d(cat(wroot, new Uint8Array(32))))}`);
    await dev.stop();
  });

  test("same options give the same chain; different start heights differ", async () => {
    const a = setup();
    const b = setup();
    const c = setup({ startHeight: 5 });
    await Promise.all([a.dev.start(), b.dev.start(), c.dev.start()]);
    expect(a.dev.current()).toEqual(b.dev.current() as BlockTemplate);
    expect(c.dev.current()?.previousBlockHash).not.toBe(a.dev.current()?.previousBlockHash);
  });

  test("network blocks arrive every interval with clean new work, and stop() ends them", async () => {
    const { dev, clock, seen } = setup();
    await dev.start();
    clock.advance(29_999);
    expect(seen.length).toBe(1);
    clock.advance(1);
    expect(seen.length).toBe(2);
    expect(seen[1]?.reason).toBe("new_block");
    expect(seen[1]?.t.height).toBe(1001);
    expect(seen[1]?.t.previousBlockHash).toBe(dev.tip().hash);
    expect(seen[1]?.t.previousBlockHash).not.toBe(seen[0]?.t.previousBlockHash);
    expect(seen[1]?.t.transactions[0]?.txid).not.toBe(seen[0]?.t.transactions[0]?.txid);
    expect(seen[1]?.t.curtime).toBe(1_700_000_030);
    clock.advance(60_000);
    expect(dev.blocks()).toBe(3);
    expect(dev.tip().height).toBe(1002);
    await dev.stop();
    clock.advance(300_000);
    expect(dev.blocks()).toBe(3);
    expect(clock.pending()).toBe(0);
  });

  test("interval 0 disables network blocks", async () => {
    const { dev, clock } = setup({ blockIntervalSeconds: 0 });
    await dev.start();
    clock.advance(3_600_000);
    expect(dev.blocks()).toBe(0);
  });
});

describe("devnet submitblock", () => {
  test("a brute-forced block is accepted, moves the tip, emits new_block and restarts the interval", async () => {
    const { dev, clock, seen } = setup();
    await dev.start();
    clock.advance(20_000);
    const t = dev.current() as BlockTemplate;
    const blk = buildBlock(t);
    expect(await dev.submitBlock(blk.hex)).toEqual({ accepted: true });
    expect(dev.tip()).toEqual({ height: 1000, hash: blk.hash });
    expect(seen.at(-1)?.reason).toBe("new_block");
    expect(dev.current()?.height).toBe(1001);
    expect(dev.current()?.previousBlockHash).toBe(blk.hash);
    // The interval restarted at the accepted block: nothing at +10 s (old schedule), a network block at +30 s.
    clock.advance(10_000);
    expect(dev.blocks()).toBe(1);
    clock.advance(20_000);
    expect(dev.blocks()).toBe(2);
    // bitcoind answers "duplicate" for a block it has; the contract counts it as accepted.
    expect(await dev.submitBlock(blk.hex)).toEqual({ accepted: true, reason: "duplicate" });
  });

  test("1e0ffff0-style default bits reject a 207fffff-grade hash as high-hash", async () => {
    const { dev } = setup({ bits: "1e0ffff0" });
    await dev.start();
    const t = dev.current() as BlockTemplate;
    // Grind against the easy target but declare the template's bits: the hash almost surely misses 2^-20.
    const easy = { ...t, bits: EASY };
    const blk = buildBlock(easy, { bits: t.bits });
    expect(await dev.submitBlock(blk.hex)).toEqual({ accepted: false, reason: "high-hash" });
  });

  test("a witness-serialized coinbase (32-byte nonce) is accepted; txids strip the witness", async () => {
    const { dev } = setup();
    await dev.start();
    const blk = buildBlock(dev.current() as BlockTemplate, { witnessNonce: new Uint8Array(32) });
    expect(await dev.submitBlock(blk.hex)).toEqual({ accepted: true });
  });

  test("a block without the optional commitment (no witness data) is accepted, as bitcoind does", async () => {
    const { dev } = setup();
    await dev.start();
    const blk = buildBlock(dev.current() as BlockTemplate, { commitment: null });
    expect(await dev.submitBlock(blk.hex)).toEqual({ accepted: true });
  });

  test("every rejection reason", async () => {
    const { dev } = setup({ blockIntervalSeconds: 0 });
    await dev.start();
    const old = dev.current() as BlockTemplate;
    expect(await dev.submitBlock(buildBlock(old).hex)).toEqual({ accepted: true });
    const t = dev.current() as BlockTemplate;
    const reject = async (hex: string) => dev.submitBlock(hex);
    const txs = t.transactions.map((x) => x.data);

    expect(await reject("zz")).toEqual({ accepted: false, reason: "decode-failed" });
    expect(await reject(`${buildBlock(t).hex}00`)).toEqual({ accepted: false, reason: "decode-failed" });
    expect(await reject(buildBlock(t).hex.slice(0, 200))).toEqual({ accepted: false, reason: "decode-failed" });
    expect(await reject(buildBlock(old, { tag: "stale" }).hex)).toEqual({ accepted: false, reason: "prev-blk-not-found" });
    expect(await reject(buildBlock(t, { wantHighHash: true }).hex)).toEqual({ accepted: false, reason: "high-hash" });
    expect(await reject(buildBlock(t, { bits: "207ffffe" }).hex)).toEqual({ accepted: false, reason: "bad-diffbits" });
    expect(await reject(buildBlock(t, { corruptRoot: true }).hex)).toEqual({ accepted: false, reason: "bad-txnmrklroot" });
    expect(await reject(buildBlock(t, { height: t.height + 1 }).hex)).toEqual({ accepted: false, reason: "bad-cb-height" });
    expect(await reject(buildBlock(t, { txs: txs.slice(1) }).hex)).toEqual({ accepted: false, reason: "bad-txns" });
    expect(await reject(buildBlock(t, { txs: [...txs].reverse() }).hex)).toEqual({ accepted: false, reason: "bad-txns" });
    expect(await reject(buildBlock(t, { txs: old.transactions.map((x) => x.data), commitment: null }).hex)).toEqual({
      accepted: false,
      reason: "bad-txns",
    });
    expect(await reject(buildBlock(t, { coinbaseValue: t.coinbaseValue + 1n }).hex)).toEqual({
      accepted: false,
      reason: "bad-cb-amount",
    });
    expect(await reject(buildBlock(t, { commitment: old.witnessCommitment }).hex)).toEqual({
      accepted: false,
      reason: "bad-witness-merkle-match",
    });
    expect(await reject(buildBlock(t, { witnessNonce: new Uint8Array(31) }).hex)).toEqual({
      accepted: false,
      reason: "bad-witness-nonce-size",
    });
    expect(await reject(buildBlock(t, { commitment: null, witnessNonce: new Uint8Array(32) }).hex)).toEqual({
      accepted: false,
      reason: "unexpected-witness",
    });
    expect(await reject(buildBlock(t, { time: old.curtime - 3 * 3600 }).hex)).toEqual({ accepted: false, reason: "time-too-old" });
    expect(await reject(buildBlock(t, { time: t.curtime + 7201 }).hex)).toEqual({ accepted: false, reason: "time-too-new" });
    expect(await reject(buildBlock(t, { version: 3 }).hex)).toEqual({ accepted: false, reason: "bad-version" });
    expect(await reject(buildBlock(t, { tag: "" , height: 1 }).hex)).toEqual({ accepted: false, reason: "bad-cb-length" });
    // None of those moved the tip; the honest block still goes in.
    expect(dev.tip().height).toBe(1000);
    expect(await dev.submitBlock(buildBlock(t).hex)).toEqual({ accepted: true });
    expect(dev.tip().height).toBe(1001);
  });
});

describe("devnet block parser", () => {
  test("real segwit block 542213: txids strip witnesses, wtxids and commitment match", () => {
    const f = fixtures.blocks.find((b) => b.name === "block_542213_segwit") as (typeof fixtures.blocks)[number] & {
      block_hex: string;
      txids: string[];
      wtxids: string[];
      witness: { commitment_script_hex: string };
    };
    const r = parseBlock(h(f.block_hex), sha);
    if (!r.ok) throw new Error(r.error);
    expect(bytesToHexReversed(r.block.hash)).toBe(f.hash);
    expect(r.block.txs.map((t) => bytesToHexReversed(t.txid))).toEqual(f.txids);
    expect(r.block.txs.slice(1).map((t) => bytesToHexReversed(t.wtxid))).toEqual(f.wtxids.slice(1));
    expect(r.block.txs[0]?.hasWitness).toBe(true);
    const root = merkleRootFromTxids(
      r.block.txs.map((t) => t.txid),
      sha,
    );
    expect(bytesToHex(root as Uint8Array)).toBe(bytesToHex(r.block.merkleRoot));
  });
});
