// Builds a Stratum v1 job (coinb1/coinb2 around the extranonce slot, merkle branch, notify fields) from a block template; no share checking, no I/O.
import type { BlockTemplate } from "../bitcoin/template.ts";
import type { Sha256Into } from "../pow/types.ts";
import type { CoinbaseOptions, StratumJob } from "./job_types.ts";
import { merkleBranchFromTxids } from "../bitcoin/merkle.ts";
import { encodeHeightPush, varIntSize, writeU32LE, writeU64LE, writeVarInt } from "../bitcoin/script.ts";
import { bytesToHex, hexToBytes, isHex, u32ToHex } from "../pow/hex.ts";
import { bitsToTarget, targetToLE } from "../pow/target.ts";

/** Consensus bounds on the coinbase scriptSig length (Bitcoin Core CheckTransaction "bad-cb-length"). */
export const SCRIPTSIG_MIN = 2;
export const SCRIPTSIG_MAX = 100;

/** Coinbase tx version. 1 as ckpool writes it; miners never look at it and consensus accepts any. */
const COINBASE_TX_VERSION = 1;

/** Largest direct push opcode (0x01..0x4b push that many bytes): the slot and tag are each one direct push. */
const MAX_DIRECT_PUSH = 75;

export type BuildJobResult = { ok: true; job: StratumJob } | { ok: false; message: string };

const HEX64 = /^[0-9a-fA-F]{64}$/;
const HEX8 = /^[0-9a-fA-F]{8}$/;

function isU32(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** Display-order hex → internal-order bytes (undefined unless 32 bytes of valid hex). */
function displayToInternal(hex: string): Uint8Array | undefined {
  if (!HEX64.test(hex)) return undefined;
  const b = hexToBytes(hex);
  return b === undefined ? undefined : b.reverse();
}

/** Internal-order prevhash with each 4-byte word byte-swapped (mining.notify params[1], per the slush doc example). */
function wordSwappedHex(internal: Uint8Array): string {
  const w = new Uint8Array(32);
  for (let i = 0; i < 32; i += 4) {
    w[i] = internal[i + 3] as number;
    w[i + 1] = internal[i + 2] as number;
    w[i + 2] = internal[i + 1] as number;
    w[i + 3] = internal[i] as number;
  }
  return bytesToHex(w);
}

/**
 * Litecoin's HogEx (integrating transaction) as it appears in getblocktemplate data: extended serialization with
 * marker 00 and a flag byte carrying bit 0x08 (the MWEB flag; Litecoin Core writes it only on the HogEx inside a
 * block's tx list, pegins there carry flag 01). A normal tx has a non-zero input count at byte 4, so it cannot match.
 */
export function isHogExTxHex(data: string): boolean {
  if (data.length < 12 || data.slice(8, 10) !== "00") return false;
  const flag = Number.parseInt(data.slice(10, 12), 16);
  return Number.isInteger(flag) && (flag & 0x08) !== 0;
}

/**
 * Why a template's MWEB parts cannot make a block Litecoin Core accepts, or undefined when they can:
 * with "mweb" the last transaction must be the HogEx and no other may be; without it, no HogEx may appear
 * (the block would lack its extension block). Shared with the getblocktemplate mapping.
 */
export function mwebProblem(template: BlockTemplate): string | undefined {
  const txs = template.transactions;
  const last = txs.length - 1;
  for (let i = 0; i < last; i++) {
    if (isHogExTxHex((txs[i] as { data: string }).data)) return `transaction ${i}: MWEB-flagged (HogEx) but not the last one`;
  }
  const lastIsHogEx = last >= 0 && isHogExTxHex((txs[last] as { data: string }).data);
  if (template.mweb === undefined) return lastIsHogEx ? "last transaction is a HogEx but the template has no MWEB block" : undefined;
  if (template.mweb.length === 0 || !isHex(template.mweb)) return "mweb is not hex";
  if (!lastIsHogEx) return "template has an MWEB block but its last transaction is not the HogEx";
  return undefined;
}

/**
 * Builds the job, or says why the template/options cannot make one (bad hex, sizes out of range,
 * scriptSig over 100 bytes before the tag). Coinbase (non-witness form, what miners hash):
 *   version | 1 input: null prevout (32×00, ffffffff) | scriptSig | ffffffff | outputs | locktime 0
 *   scriptSig = heightPush(BIP34) ‖ coinbaseFlags ‖ push(en1Size+en2Size) ‖ [extranonce1 ‖ extranonce2] ‖ push(tag) ‖ tag
 * The slot and tag are written as direct pushes (as ckpool does) so the scriptSig stays a parseable script.
 * Outputs: coinbaseValue → payoutScript, then (when the template has one) the 0-value witness commitment.
 */
export function tryBuildJob(id: string, template: BlockTemplate, opts: CoinbaseOptions, sha: Sha256Into): BuildJobResult {
  const fail = (message: string): BuildJobResult => ({ ok: false, message });
  const { extranonce1Size: en1, extranonce2Size: en2 } = opts;
  if (!Number.isInteger(en1) || en1 < 0 || en1 > 32) return fail(`extranonce1Size ${en1} outside 0..32`);
  if (!Number.isInteger(en2) || en2 < 1 || en2 > 32) return fail(`extranonce2Size ${en2} outside 1..32`);
  const slot = en1 + en2;
  if (slot > MAX_DIRECT_PUSH) return fail(`extranonce slot ${slot} bytes exceeds one direct push`);
  if (!Number.isSafeInteger(template.height) || template.height < 0) return fail(`bad height ${template.height}`);
  if (!isU32(template.version)) return fail(`bad version ${template.version}`);
  if (!isU32(template.curtime)) return fail(`bad curtime ${template.curtime}`);
  if (!HEX8.test(template.bits)) return fail(`bad bits ${JSON.stringify(template.bits)}`);
  if (template.coinbaseValue < 0n || template.coinbaseValue >= 1n << 63n) return fail("coinbaseValue out of range");
  const prevhash = displayToInternal(template.previousBlockHash);
  if (prevhash === undefined) return fail("previousBlockHash is not 32 bytes of hex");
  const flags = hexToBytes(template.coinbaseFlags ?? "");
  if (flags === undefined) return fail("coinbaseFlags is not hex");
  let commitment: Uint8Array | undefined;
  if (template.witnessCommitment !== undefined) {
    commitment = hexToBytes(template.witnessCommitment);
    if (commitment === undefined || commitment.length === 0) return fail("witnessCommitment is not hex");
  }
  const txids: Uint8Array[] = [];
  for (const [i, tx] of template.transactions.entries()) {
    const t = displayToInternal(tx.txid);
    if (t === undefined) return fail(`transaction ${i}: txid is not 32 bytes of hex`);
    if (tx.data.length === 0 || !isHex(tx.data)) return fail(`transaction ${i}: data is not hex`);
    txids.push(t);
  }
  // The HogEx is merkle-hashed by txid like any other tx (it is a normal vtx entry, last); only assembleBlock differs.
  const mweb = mwebProblem(template);
  if (mweb !== undefined) return fail(mweb);

  // --- scriptSig pieces; the tag takes whatever room is left under 100 bytes ---
  const height = encodeHeightPush(template.height);
  const before = height.length + flags.length + 1; // + the slot's push opcode
  if (before + slot > SCRIPTSIG_MAX) return fail(`scriptSig ${before + slot} bytes before the tag exceeds ${SCRIPTSIG_MAX}`);
  const encodedTag = new TextEncoder().encode(opts.poolTag);
  const room = SCRIPTSIG_MAX - before - slot - 1; // - the tag's push opcode; may be -1 (no room at all)
  const tag = encodedTag.subarray(0, Math.max(0, Math.min(encodedTag.length, room, MAX_DIRECT_PUSH)));
  const tagPart = tag.length > 0 ? 1 + tag.length : 0;
  const pad = Math.max(0, SCRIPTSIG_MIN - (before + slot + tagPart)); // defensive: the slot push alone keeps us ≥ 2 today; OP_0 bytes if it ever does not
  const scriptSigLen = before + slot + tagPart + pad;

  // --- coinb1: version … scriptSig up to the slot ---
  const c1 = new Uint8Array(4 + 1 + 32 + 4 + 1 + before);
  let o = writeU32LE(c1, 0, COINBASE_TX_VERSION);
  c1[o++] = 1; // input count
  o += 32; // null prevout hash (already zero)
  o = writeU32LE(c1, o, 0xffffffff); // prevout index
  c1[o++] = scriptSigLen; // ≤ 100: a one-byte varint
  c1.set(height, o);
  o += height.length;
  c1.set(flags, o);
  o += flags.length;
  c1[o++] = slot; // direct push of the extranonce slot

  // --- coinb2: tag … outputs … locktime ---
  const payout = opts.payoutScript;
  const nOut = commitment === undefined ? 1 : 2;
  const outsLen =
    8 + varIntSize(payout.length) + payout.length + (commitment === undefined ? 0 : 8 + varIntSize(commitment.length) + commitment.length);
  const c2 = new Uint8Array(tagPart + pad + 4 + varIntSize(nOut) + outsLen + 4);
  o = 0;
  if (tag.length > 0) {
    c2[o++] = tag.length;
    c2.set(tag, o);
    o += tag.length;
  }
  o += pad; // zero bytes = OP_0
  o = writeU32LE(c2, o, 0xffffffff); // sequence
  o = writeVarInt(c2, o, nOut);
  o = writeU64LE(c2, o, template.coinbaseValue);
  o = writeVarInt(c2, o, payout.length);
  c2.set(payout, o);
  o += payout.length;
  if (commitment !== undefined) {
    o = writeU64LE(c2, o, 0n);
    o = writeVarInt(c2, o, commitment.length);
    c2.set(commitment, o);
    o += commitment.length;
  }
  writeU32LE(c2, o, 0); // locktime

  const branch = merkleBranchFromTxids(txids, sha);
  const branchBytes = new Uint8Array(32 * branch.length);
  branch.forEach((b, i) => branchBytes.set(b, 32 * i));
  const bits = Number.parseInt(template.bits, 16) >>> 0;
  const networkTarget = bitsToTarget(bits);

  const job: StratumJob = {
    id,
    height: template.height,
    template,
    extranonce1Size: en1,
    extranonce2Size: en2,
    prevhashNotify: wordSwappedHex(prevhash),
    coinb1: bytesToHex(c1),
    coinb2: bytesToHex(c2),
    merkleBranch: branch.map(bytesToHex),
    versionHex: u32ToHex(template.version),
    nbitsHex: template.bits.toLowerCase(),
    ntimeHex: u32ToHex(template.curtime),
    coinb1Bytes: c1,
    coinb2Bytes: c2,
    branchBytes,
    prevhash,
    version: template.version >>> 0,
    bits,
    ntime: template.curtime >>> 0,
    networkTarget,
    networkTargetLE: targetToLE(networkTarget),
  };
  return { ok: true, job };
}

/**
 * tryBuildJob for templates already validated upstream (schema-checked getblocktemplate / devnet).
 * Throws RangeError with tryBuildJob's message otherwise: a bad template is the upstream's bug, not miner input.
 */
export function buildJob(id: string, template: BlockTemplate, opts: CoinbaseOptions, sha: Sha256Into): StratumJob {
  const r = tryBuildJob(id, template, opts, sha);
  if (!r.ok) throw new RangeError(`buildJob: ${r.message}`);
  return r.job;
}
