// Block bytes for the devnet: parse a submitted block (witness-aware), txids/wtxids, merkle and BIP141 commitment; no chain state.
import type { Sha256Into } from "../../protocols/pow/types.ts";
import { sha256d } from "../../protocols/pow/sha256d.ts";
import { merkleRootFromTxids } from "../../protocols/bitcoin/merkle.ts";
import { readU32LE } from "../../protocols/bitcoin/script.ts";

export interface ParsedTx {
  /** sha256d of the non-witness serialization, internal order. */
  txid: Uint8Array;
  /** sha256d of the full serialization (== txid when the tx has no witness), internal order. */
  wtxid: Uint8Array;
  /** Full bytes as they appear in the block. */
  raw: Uint8Array;
  hasWitness: boolean;
  /** Input 0's scriptSig (the coinbase's is where BIP34 puts the height). */
  firstScriptSig: Uint8Array;
  /** Input 0's outpoint (36 bytes): all-zero txid and index 0xffffffff marks a coinbase. */
  firstPrevout: Uint8Array;
  /** Input 0's witness stack (empty when none). */
  firstWitness: Uint8Array[];
  outputs: Array<{ value: bigint; script: Uint8Array }>;
  inputCount: number;
}

export interface ParsedBlock {
  header: Uint8Array;
  /** sha256d(header), internal order. */
  hash: Uint8Array;
  version: number;
  prevhash: Uint8Array;
  merkleRoot: Uint8Array;
  time: number;
  bits: number;
  nonce: number;
  txs: ParsedTx[];
}

export type ParseResult = { ok: true; block: ParsedBlock } | { ok: false; error: string };

/** A cursor over bytes; every read checks bounds and returns undefined past the end (no exceptions). */
interface Cursor {
  b: Uint8Array;
  p: number;
}

function take(c: Cursor, n: number): Uint8Array | undefined {
  if (n < 0 || c.p + n > c.b.length) return undefined;
  const out = c.b.subarray(c.p, c.p + n);
  c.p += n;
  return out;
}

/** Bitcoin CompactSize (varint); values past 2^53 are refused since no real count gets near them. */
function readVarint(c: Cursor): number | undefined {
  const first = take(c, 1);
  if (!first) return undefined;
  const v = first[0] ?? 0;
  if (v < 0xfd) return v;
  const len = v === 0xfd ? 2 : v === 0xfe ? 4 : 8;
  const bytes = take(c, len);
  if (!bytes) return undefined;
  let n = 0;
  for (let i = len - 1; i >= 0; i--) n = n * 256 + (bytes[i] ?? 0);
  return Number.isSafeInteger(n) ? n : undefined;
}

function readVarBytes(c: Cursor): Uint8Array | undefined {
  const n = readVarint(c);
  return n === undefined ? undefined : take(c, n);
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function hashOf(sha: Sha256Into, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256d(sha, data, out);
  return out;
}

/** One transaction at the cursor, BIP144 witness serialization included (marker 00, flag 01). */
function parseTx(c: Cursor, sha: Sha256Into): ParsedTx | string {
  const start = c.p;
  const version = take(c, 4);
  if (!version) return "truncated tx version";
  let segwit = false;
  if (c.b[c.p] === 0x00 && c.b[c.p + 1] === 0x01) {
    segwit = true;
    c.p += 2;
  }
  const bodyStart = c.p;
  const nIn = readVarint(c);
  if (nIn === undefined || nIn === 0) return "bad input count";
  let firstScriptSig: Uint8Array | undefined;
  let firstPrevout: Uint8Array | undefined;
  for (let i = 0; i < nIn; i++) {
    const prevout = take(c, 36);
    if (!prevout) return "truncated prevout";
    if (i === 0) firstPrevout = prevout;
    const ss = readVarBytes(c);
    if (!ss) return "truncated scriptSig";
    if (i === 0) firstScriptSig = ss;
    if (!take(c, 4)) return "truncated sequence";
  }
  const nOut = readVarint(c);
  if (nOut === undefined) return "bad output count";
  const outputs: Array<{ value: bigint; script: Uint8Array }> = [];
  for (let i = 0; i < nOut; i++) {
    const v = take(c, 8);
    if (!v) return "truncated output value";
    const script = readVarBytes(c);
    if (!script) return "truncated scriptPubKey";
    const value = BigInt(readU32LE(v, 0)) + (BigInt(readU32LE(v, 4)) << 32n);
    outputs.push({ value, script });
  }
  const bodyEnd = c.p;
  const firstWitness: Uint8Array[] = [];
  if (segwit) {
    for (let i = 0; i < nIn; i++) {
      const items = readVarint(c);
      if (items === undefined) return "truncated witness";
      for (let j = 0; j < items; j++) {
        const item = readVarBytes(c);
        if (!item) return "truncated witness item";
        if (i === 0) firstWitness.push(item);
      }
    }
  }
  const lock = take(c, 4);
  if (!lock) return "truncated locktime";
  const raw = c.b.subarray(start, c.p);
  // txid covers version ‖ inputs ‖ outputs ‖ locktime only (BIP141: witness data is excluded).
  const stripped = segwit ? concat([version, c.b.subarray(bodyStart, bodyEnd), lock]) : raw;
  const txid = hashOf(sha, stripped);
  return {
    txid,
    wtxid: segwit ? hashOf(sha, raw) : txid,
    raw,
    hasWitness: segwit,
    firstScriptSig: firstScriptSig ?? new Uint8Array(0),
    firstPrevout: firstPrevout ?? new Uint8Array(36),
    firstWitness,
    outputs,
    inputCount: nIn,
  };
}

/** Full block: 80-byte header, CompactSize tx count, transactions; trailing bytes are an error like in bitcoind. */
export function parseBlock(bytes: Uint8Array, sha: Sha256Into): ParseResult {
  const c: Cursor = { b: bytes, p: 0 };
  const header = take(c, 80);
  if (!header) return { ok: false, error: "short header" };
  const n = readVarint(c);
  if (n === undefined || n === 0) return { ok: false, error: "bad tx count" };
  const txs: ParsedTx[] = [];
  for (let i = 0; i < n; i++) {
    const tx = parseTx(c, sha);
    if (typeof tx === "string") return { ok: false, error: `tx ${i}: ${tx}` };
    txs.push(tx);
  }
  if (c.p !== bytes.length) return { ok: false, error: "trailing bytes" };
  return {
    ok: true,
    block: {
      header,
      hash: hashOf(sha, header),
      version: readU32LE(header, 0),
      prevhash: header.subarray(4, 36),
      merkleRoot: header.subarray(36, 68),
      time: readU32LE(header, 68),
      bits: readU32LE(header, 72),
      nonce: readU32LE(header, 76),
      txs,
    },
  };
}

export const WITNESS_COMMITMENT_PREFIX = Uint8Array.of(0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed);

/**
 * BIP141 commitment script: witness root over wtxids with the coinbase's taken as 32 zero bytes,
 * commitment = sha256d(root ‖ witness reserved value), script = 6a24aa21a9ed ‖ commitment.
 */
export function witnessCommitmentScript(nonCoinbaseWtxids: Uint8Array[], reserved: Uint8Array, sha: Sha256Into): Uint8Array {
  const root = merkleRootFromTxids([new Uint8Array(32), ...nonCoinbaseWtxids], sha) as Uint8Array;
  const commitment = hashOf(sha, concat([root, reserved]));
  return concat([WITNESS_COMMITMENT_PREFIX, commitment]);
}

/** BIP141: the commitment is the LAST output whose script starts with the 38-byte pattern; -1 when none. */
export function findCommitmentOutput(tx: ParsedTx): number {
  for (let i = tx.outputs.length - 1; i >= 0; i--) {
    const s = tx.outputs[i]?.script;
    if (s && s.length >= 38 && WITNESS_COMMITMENT_PREFIX.every((v, k) => s[k] === v)) return i;
  }
  return -1;
}

function u32leBytes(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
}

/**
 * A well-formed non-witness tx spending a made-up outpoint: version 1, one input, one OP_TRUE output, locktime 0.
 * The outpoint comes from the seed so every tx in every block spends something distinct (distinct txids).
 */
export function syntheticTx(seed: Uint8Array, index: number, sha: Sha256Into): { raw: Uint8Array; txid: Uint8Array } {
  const prevTxid = hashOf(sha, concat([seed, u32leBytes(index)]));
  const value = 1000 + index;
  const raw = concat([
    u32leBytes(1), // version
    Uint8Array.of(1), // one input
    prevTxid,
    u32leBytes(index % 4), // vout
    Uint8Array.of(5, 4), // scriptSig: one 4-byte push of the index
    u32leBytes(index),
    u32leBytes(0xffffffff), // sequence
    Uint8Array.of(1), // one output
    u32leBytes(value),
    u32leBytes(0),
    Uint8Array.of(1, 0x51), // OP_TRUE
    u32leBytes(0), // locktime
  ]);
  return { raw, txid: hashOf(sha, raw) };
}

export { concat, u32leBytes };
