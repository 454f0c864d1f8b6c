// The CPU miner's hashing side: a notify turned into header pieces, headers filled per nonce, share hashes, version-bit rolling; pure, no sockets.
import type { Sha256Into } from "../../protocols/pow/types.ts";
import { hexToBytes, hexToU32 } from "../../protocols/pow/hex.ts";
import { sha256d } from "../../protocols/pow/sha256d.ts";
import { DIFF1_SCRYPT, scryptPow } from "../../protocols/pow/scrypt.ts";
import { DIFF1_SHA256, bitsToTarget, targetToLE } from "../../protocols/pow/target.ts";
import { merkleRootFromBranch } from "../../protocols/bitcoin/merkle.ts";
import { writeHeader } from "../../protocols/bitcoin/header.ts";
import { writeU32LE } from "../../protocols/bitcoin/script.ts";
import { type NotifyJob, type PowAlgo } from "./miner_types.ts";

/** BIP320 general-purpose version bits, what ASIC firmware asks for. */
export const BIP320_MASK = 0x1fffe000;
export const DEFAULT_SLICE = 20_000;
/** scrypt is ~100x dearer than sha256d (~200 µs a hash measured on Bun): 200 hashes ≈ 40 ms per slice. */
export const DEFAULT_SCRYPT_SLICE = 200;

/** Difficulty-1 target of each proof of work, as miners of that coin read mining.set_difficulty. */
export function diff1Of(algo: PowAlgo): bigint {
  return algo === "scrypt" ? DIFF1_SCRYPT : DIFF1_SHA256;
}

/** The proof-of-work hash of an 80-byte header, raw (little-endian integer order, like sha256d output). */
export function powHash(algo: PowAlgo, sha: Sha256Into, header: Uint8Array, out: Uint8Array): void {
  if (algo === "scrypt") scryptPow(header, out, sha);
  else sha256d(sha, header, out);
}

/** A notify decoded once into bytes: everything the inner loop needs, no hex work per hash. */
export interface Work {
  job: NotifyJob;
  coinbase: Uint8Array;
  /** Where extranonce2 goes inside coinbase. */
  en2Offset: number;
  en2Size: number;
  branchBytes: Uint8Array;
  prevhash: Uint8Array;
  version: number;
  bits: number;
  ntime: number;
  networkTargetLE: Uint8Array;
  /** Difficulty in force when the job arrived. */
  difficulty: number;
}

/** notify prevhash → header order: each 4-byte word byte-swapped back (bitcoin.json _meta.conventions). */
export function unswapPrevhash(notifyHex: string): Uint8Array | undefined {
  const b = hexToBytes(notifyHex);
  if (!b || b.length !== 32) return undefined;
  const out = new Uint8Array(32);
  for (let w = 0; w < 32; w += 4) {
    out[w] = b[w + 3] as number;
    out[w + 1] = b[w + 2] as number;
    out[w + 2] = b[w + 1] as number;
    out[w + 3] = b[w] as number;
  }
  return out;
}

export function prepareWork(job: NotifyJob, en1Hex: string, en2Size: number, difficulty: number): Work | undefined {
  const c1 = hexToBytes(job.coinb1);
  const c2 = hexToBytes(job.coinb2);
  const en1 = hexToBytes(en1Hex);
  const prevhash = unswapPrevhash(job.prevhash);
  const version = hexToU32(job.version);
  const bits = hexToU32(job.nbits);
  const ntime = hexToU32(job.ntime);
  if (!c1 || !c2 || !en1 || !prevhash || version < 0 || bits < 0 || ntime < 0) return undefined;
  const branchBytes = new Uint8Array(32 * job.branch.length);
  for (let i = 0; i < job.branch.length; i++) {
    const step = hexToBytes(job.branch[i] as string);
    if (!step || step.length !== 32) return undefined;
    branchBytes.set(step, 32 * i);
  }
  const coinbase = new Uint8Array(c1.length + en1.length + en2Size + c2.length);
  coinbase.set(c1, 0);
  coinbase.set(en1, c1.length);
  coinbase.set(c2, c1.length + en1.length + en2Size);
  return {
    job,
    coinbase,
    en2Offset: c1.length + en1.length,
    en2Size,
    branchBytes,
    prevhash,
    version,
    bits,
    ntime,
    networkTargetLE: targetToLE(bitsToTarget(bits)),
    difficulty,
  };
}

/** extranonce2 counter as fixed-width big-endian hex (any fixed mapping works; this one reads naturally in logs). */
export function en2Hex(counter: number, size: number): string {
  return counter.toString(16).padStart(size * 2, "0").slice(-size * 2);
}

/** Writes the header for (work, extranonce2, version) into header; nonce is filled per hash. */
export function fillHeader(w: Work, en2: Uint8Array, version: number, ntime: number, sha: Sha256Into, header: Uint8Array): void {
  w.coinbase.set(en2, w.en2Offset);
  const cbHash = new Uint8Array(32);
  sha256d(sha, w.coinbase, cbHash);
  const root = new Uint8Array(32);
  merkleRootFromBranch(cbHash, w.branchBytes, sha, root);
  writeHeader(header, version, w.prevhash, root, ntime, w.bits, 0);
}

/**
 * Proof-of-work hash (sha256d by default, or scrypt) of the share's header, raw (internal) byte order: coinbase = coinb1‖en1‖en2‖coinb2, root folded
 * up the branch, header with prevhash un-swapped and version/ntime/nonce as u32 LE. Throws RangeError on
 * malformed hex (a test helper; the miner itself validates notify fields first).
 */
export function computeShareHash(
  job: Pick<NotifyJob, "prevhash" | "coinb1" | "coinb2" | "branch" | "version" | "nbits" | "ntime"> & Partial<NotifyJob>,
  en1: string,
  en2: string,
  ntime: number,
  nonce: number,
  version: number,
  sha: Sha256Into,
  algo: PowAlgo = "sha256d",
): Uint8Array {
  const full: NotifyJob = { type: "notify", jobId: "", clean: false, ...job };
  const en2Bytes = hexToBytes(en2);
  const w = en2Bytes ? prepareWork(full, en1, en2Bytes.length, 1) : undefined;
  if (!w || !en2Bytes) throw new RangeError("computeShareHash: malformed hex in job or extranonce");
  const header = new Uint8Array(80);
  fillHeader(w, en2Bytes, version >>> 0, ntime >>> 0, sha, header);
  writeU32LE(header, 76, nonce >>> 0);
  const out = new Uint8Array(32);
  powHash(algo, sha, header, out);
  return out;
}

/** Spreads the low bits of n over the set bits of mask (PDEP): distinct n → distinct rolled versions inside the mask. */
export function depositBits(n: number, mask: number): number {
  let out = 0;
  let bit = 1;
  for (let m = mask >>> 0; m !== 0; m &= m - 1) {
    const low = m & -m;
    if (n & bit) out |= low;
    bit *= 2;
    if (bit > 0x40000000) break;
  }
  return out >>> 0;
}
