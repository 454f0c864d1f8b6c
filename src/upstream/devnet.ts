// Embedded simulated sha256d chain (the default work source): templates, timed "network" blocks, bitcoind-like submitblock checks; no networking.
import type { BlockTemplate, TemplateTx } from "../../protocols/bitcoin/template.ts";
import type { Sha256Into } from "../../protocols/pow/types.ts";
import type { Clock, TimerId } from "../runtime/types.ts";
import type { BitcoinWorkSource, SubmitBlockResult, TemplateReason } from "./types.ts";
import { bytesToHex, bytesToHexReversed, hexToBytes } from "../../protocols/pow/hex.ts";
import { sha256d } from "../../protocols/pow/sha256d.ts";
import { bitsToTarget, hashMeetsTarget, targetToLE } from "../../protocols/pow/target.ts";
import { encodeHeightPush } from "../../protocols/bitcoin/script.ts";
import { merkleRootFromTxids } from "../../protocols/bitcoin/merkle.ts";
import {
  concat,
  findCommitmentOutput,
  parseBlock,
  syntheticTx,
  u32leBytes,
  witnessCommitmentScript,
  type ParsedBlock,
} from "./devnet_block.ts";

export interface DevnetOptions {
  /** Compact target, 8 hex chars; '1e0ffff0' ≈ 2^20 hashes per block, '207fffff' ≈ 2 (regtest). */
  bits: string;
  /** The devnet "finds" a block itself this often (moving the tip so miners get clean jobs); 0 disables. */
  blockIntervalSeconds: number;
  transactionsPerBlock: number;
  /** Height of the first template. */
  startHeight: number;
  coinbaseValueSats: bigint;
  sha: Sha256Into;
  clock: Clock;
  log?: (msg: string, fields?: object) => void;
}

export type Devnet = BitcoinWorkSource & {
  /** Current tip: height and display-order hash (before any block: startHeight-1 and the derived genesis hash). */
  tip(): { height: number; hash: string };
  /** Blocks added since start (miners' and the devnet's own). */
  blocks(): number;
};

/** Bitcoin Core: a block's time must be above the median of the previous 11 (BIP113 median time past). */
const MTP_SPAN = 11;
/** Bitcoin Core MAX_FUTURE_BLOCK_TIME: 2 hours. */
const MAX_FUTURE_SECONDS = 2 * 60 * 60;
/** Bitcoin Core MAX_COINBASE_SCRIPTSIG_SIZE / minimum (CheckTransaction "bad-cb-length"). */
const CB_SCRIPTSIG_MIN = 2;
const CB_SCRIPTSIG_MAX = 100;

const ASCII = new TextEncoder();

function hashBytes(sha: Sha256Into, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256d(sha, data, out);
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  return a.length >= prefix.length && equalBytes(a.subarray(0, prefix.length), prefix);
}

function isNullPrevout(p: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (p[i] !== 0) return false;
  for (let i = 32; i < 36; i++) if (p[i] !== 0xff) return false;
  return true;
}

/** What the devnet keeps per template besides the public shape: binary txs for the exact-match check. */
interface TemplateState {
  template: BlockTemplate;
  txRaw: Uint8Array[];
}

export function createDevnet(opts: DevnetOptions): Devnet {
  const { sha, clock } = opts;
  const bitsNum = Number.parseInt(opts.bits, 16);
  if (!/^[0-9a-fA-F]{8}$/.test(opts.bits) || bitsToTarget(bitsNum) <= 0n) {
    throw new Error(`devnet: bits must be 8 hex chars of a positive compact target, got '${opts.bits}'`);
  }
  const targetLE = targetToLE(bitsToTarget(bitsNum));
  const bitsHex = opts.bits.toLowerCase();

  // Genesis hash derived from the parameters, so two devnets with the same options agree and different ones don't.
  let tipHash = hashBytes(sha, ASCII.encode(`stratum-edge devnet genesis ${bitsHex} ${opts.startHeight}`));
  let tipHeight = opts.startHeight - 1;
  /**
   * Times of the latest 11 blocks (median time past). Seeded with a made-up history 10 minutes apart before
   * creation, so MTP lags like on a real chain and templates can use the clock's time as curtime.
   */
  const createdAt = Math.floor(clock.now() / 1000);
  const times: number[] = [];
  for (let i = MTP_SPAN; i >= 1; i--) times.push(createdAt - 600 * i);
  /** Display hashes of every block added: a resubmission answers "duplicate" like bitcoind. */
  const known = new Set<string>();
  let added = 0;
  let state: TemplateState | undefined;
  let running = false;
  let timer: TimerId | undefined;
  const listeners: Array<(t: BlockTemplate, reason: TemplateReason) => void> = [];

  const nowSeconds = (): number => Math.floor(clock.now() / 1000);

  function medianTimePast(): number {
    const sorted = times.slice(-MTP_SPAN).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] as number;
  }

  function buildTemplate(): TemplateState {
    const height = tipHeight + 1;
    const seed = concat([tipHash, u32leBytes(height)]);
    const txs: TemplateTx[] = [];
    const txRaw: Uint8Array[] = [];
    const txids: Uint8Array[] = [];
    for (let i = 0; i < opts.transactionsPerBlock; i++) {
      const tx = syntheticTx(seed, i, sha);
      txRaw.push(tx.raw);
      txids.push(tx.txid);
      txs.push({ data: bytesToHex(tx.raw), txid: bytesToHexReversed(tx.txid) });
    }
    const mtp = medianTimePast();
    // Non-witness txs: wtxid == txid (BIP141); reserved value is 32 zero bytes as getblocktemplate assumes.
    const commitment = witnessCommitmentScript(txids, new Uint8Array(32), sha);
    const template: BlockTemplate = {
      height,
      version: 0x20000000,
      previousBlockHash: bytesToHexReversed(tipHash),
      bits: bitsHex,
      curtime: Math.max(nowSeconds(), mtp + 1),
      coinbaseValue: opts.coinbaseValueSats,
      transactions: txs,
      witnessCommitment: bytesToHex(commitment),
    };
    return { template, txRaw };
  }

  function emit(reason: TemplateReason): void {
    state = buildTemplate();
    const t = state.template;
    for (const cb of listeners) cb(t, reason);
  }

  function scheduleNetworkBlock(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    if (!running || !(opts.blockIntervalSeconds > 0)) return;
    timer = clock.setTimeout(networkBlock, opts.blockIntervalSeconds * 1000);
  }

  /** Moves the tip and hands out new work; the timer restarts so the next network block is a full interval away. */
  function advance(hash: Uint8Array, time: number): void {
    tipHash = hash;
    tipHeight += 1;
    times.push(time);
    if (times.length > MTP_SPAN) times.shift();
    known.add(bytesToHexReversed(hash));
    added += 1;
    emit("new_block");
    scheduleNetworkBlock();
  }

  /** "Someone else on the network" found a block: a synthetic hash (no PoW is simulated for it). */
  function networkBlock(): void {
    timer = undefined;
    if (!running) return;
    const height = tipHeight + 1;
    const hash = hashBytes(sha, concat([ASCII.encode("stratum-edge devnet network block"), tipHash, u32leBytes(height)]));
    const mtp = medianTimePast();
    opts.log?.("devnet: network block", { height, hash: bytesToHexReversed(hash) });
    advance(hash, Math.max(nowSeconds(), mtp + 1));
  }

  /** bitcoind's checks in its order of cost, each failing with bitcoind's reject reason string. */
  function check(b: ParsedBlock, cur: TemplateState): string | undefined {
    if (!equalBytes(b.prevhash, tipHash)) return "prev-blk-not-found";
    if (b.bits !== bitsNum) return "bad-diffbits";
    if (!hashMeetsTarget(b.hash, targetLE)) return "high-hash";
    const mtp = medianTimePast();
    if (b.time <= mtp) return "time-too-old";
    if (b.time > nowSeconds() + MAX_FUTURE_SECONDS) return "time-too-new";
    // BIP9/BIP65: versions below 4 are obsolete on any chain with those rules active.
    if (b.version < 4) return "bad-version";

    const cb = b.txs[0];
    if (!cb || cb.inputCount !== 1 || !isNullPrevout(cb.firstPrevout)) return "bad-cb-missing";
    for (let i = 1; i < b.txs.length; i++) {
      const tx = b.txs[i];
      if (tx && isNullPrevout(tx.firstPrevout)) return "bad-cb-multiple";
    }
    if (cb.firstScriptSig.length < CB_SCRIPTSIG_MIN || cb.firstScriptSig.length > CB_SCRIPTSIG_MAX) return "bad-cb-length";
    const root = merkleRootFromTxids(
      b.txs.map((t) => t.txid),
      sha,
    );
    if (!root || !equalBytes(root, b.merkleRoot)) return "bad-txnmrklroot";
    if (!startsWith(cb.firstScriptSig, encodeHeightPush(tipHeight + 1))) return "bad-cb-height";

    // The devnet has no mempool or UTXO set: the only valid non-coinbase txs are the template's, in order.
    if (b.txs.length - 1 !== cur.txRaw.length) return "bad-txns";
    for (let i = 0; i < cur.txRaw.length; i++) {
      const tx = b.txs[i + 1];
      const want = cur.txRaw[i];
      if (!tx || !want || !equalBytes(tx.raw, want)) return "bad-txns";
    }
    let out = 0n;
    for (const o of cb.outputs) out += o.value;
    if (out > cur.template.coinbaseValue) return "bad-cb-amount";

    // BIP141 as Bitcoin Core applies it in submitblock (UpdateUncommittedBlockStructures adds a missing
    // coinbase witness nonce of 32 zero bytes before checking): verify the commitment when there is one.
    const pos = findCommitmentOutput(cb);
    const anyWitness = b.txs.some((t) => t.hasWitness);
    if (pos >= 0) {
      let reserved: Uint8Array = new Uint8Array(32);
      if (cb.firstWitness.length > 0) {
        const w = cb.firstWitness[0];
        if (cb.firstWitness.length !== 1 || !w || w.length !== 32) return "bad-witness-nonce-size";
        reserved = w;
      }
      const want = witnessCommitmentScript(
        b.txs.slice(1).map((t) => t.wtxid),
        reserved,
        sha,
      );
      const script = cb.outputs[pos]?.script ?? new Uint8Array(0);
      if (!equalBytes(script.subarray(0, 38), want)) return "bad-witness-merkle-match";
    } else if (anyWitness) {
      return "unexpected-witness";
    }
    return undefined;
  }

  async function submitBlock(blockHex: string): Promise<SubmitBlockResult> {
    const bytes = hexToBytes(blockHex);
    if (!bytes) return { accepted: false, reason: "decode-failed" };
    const parsed = parseBlock(bytes, sha);
    if (!parsed.ok) return { accepted: false, reason: "decode-failed" };
    const b = parsed.block;
    const display = bytesToHexReversed(b.hash);
    // bitcoind answers "duplicate" for a block it already has; the contract counts that as accepted (it is in the chain).
    if (known.has(display)) return { accepted: true, reason: "duplicate" };
    const cur = state;
    if (!cur) return { accepted: false, reason: "not-started" };
    const reason = check(b, cur);
    if (reason) {
      opts.log?.("devnet: block rejected", { hash: display, reason });
      return { accepted: false, reason };
    }
    opts.log?.("devnet: block accepted", { height: tipHeight + 1, hash: display });
    advance(b.hash, b.time);
    return { accepted: true };
  }

  return {
    kind: "devnet",
    async start() {
      if (running) return;
      running = true;
      emit("initial");
      scheduleNetworkBlock();
    },
    async stop() {
      running = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
    onTemplate(cb) {
      listeners.push(cb);
    },
    current: () => state?.template,
    submitBlock,
    tip: () => ({ height: tipHeight, hash: bytesToHexReversed(tipHash) }),
    blocks: () => added,
  };
}
