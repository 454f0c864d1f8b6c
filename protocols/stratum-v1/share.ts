// Stratum v1 share check: validates mining.submit fields, hashes the share allocation-free, and assembles full blocks; no difficulty policy, duplicates or I/O.
import type { Reason } from "../errors/reasons.ts";
import type { Sha256Into } from "../pow/types.ts";
import type { StratumJob } from "./job_types.ts";
import { HEADER_SIZE, writeHeader } from "../bitcoin/header.ts";
import { merkleRootFromBranch } from "../bitcoin/merkle.ts";
import { encodeVarInt } from "../bitcoin/script.ts";
import { bytesToHex, bytesToHexReversed, hexIntoBytes, hexToU32, isHex } from "../pow/hex.ts";
import { sha256d } from "../pow/sha256d.ts";

/**
 * How far past the job's ntime a miner may roll ntime, in seconds. Bitcoin Core rejects blocks more than
 * 7200 s ahead of network-adjusted time (MAX_FUTURE_BLOCK_TIME); 7000 leaves margin for clock skew.
 */
export const NTIME_MAX_AHEAD = 7000;

export interface SubmitFields {
  ok: true;
  ntime: number;
  nonce: number;
  /** Final header version after BIP310 version rolling. */
  version: number;
  /** Lowercased, canonical: usable as (part of) a duplicate-share key. */
  extranonce2: string;
}

export interface SubmitReject {
  ok: false;
  reason: Reason;
  message: string;
}

export interface SubmitInput {
  extranonce2: string;
  ntime: string;
  nonce: string;
  versionBits?: string;
}

function reject(reason: Reason, message: string): SubmitReject {
  return { ok: false, reason, message };
}

/**
 * Checks mining.submit fields against the job, in this order: hex shape ('malformed'), ntime window
 * job.ntime..job.ntime+7000 ('bad_ntime'), version bits inside the negotiated mask ('bad_version').
 * Nonces shorter than 8 hex chars are left-padded (NerdMiner sends them unpadded). Final version per
 * BIP310: (job.version & ~mask) | (bits & mask); without versionBits it is job.version.
 */
export function validateSubmit(job: StratumJob, f: SubmitInput, versionMask: number): SubmitFields | SubmitReject {
  const en2 = f.extranonce2;
  if (typeof en2 !== "string" || en2.length !== job.extranonce2Size * 2 || !isHex(en2)) {
    return reject("malformed", `extranonce2 must be ${job.extranonce2Size} bytes of hex`);
  }
  if (typeof f.ntime !== "string" || f.ntime.length !== 8) return reject("malformed", "ntime must be 8 hex chars");
  const ntime = hexToU32(f.ntime);
  if (ntime < 0) return reject("malformed", "ntime is not hex");
  const nonce = typeof f.nonce === "string" ? hexToU32(f.nonce) : -1;
  if (nonce < 0) return reject("malformed", "nonce must be 1..8 hex chars");
  let bits = -1;
  if (f.versionBits !== undefined) {
    bits = typeof f.versionBits === "string" ? hexToU32(f.versionBits) : -1;
    if (bits < 0) return reject("malformed", "version bits must be 1..8 hex chars");
  }
  if (ntime < job.ntime || ntime > job.ntime + NTIME_MAX_AHEAD) {
    return reject("bad_ntime", `ntime outside ${job.ntime}..${job.ntime + NTIME_MAX_AHEAD}`);
  }
  let version = job.version;
  if (bits >= 0) {
    const mask = versionMask >>> 0;
    if ((bits & ~mask) !== 0) return reject("bad_version", "version bits outside the negotiated mask");
    version = ((job.version & ~mask) | (bits & mask)) >>> 0;
  }
  return { ok: true, ntime, nonce, version, extranonce2: en2.toLowerCase() };
}

// --- hot-path scratch: one share at a time (synchronous), so module-level buffers are safe and allocation-free ---
let coinbase = new Uint8Array(512);
let coinbaseView = coinbase.subarray(0, 0);
const coinbaseHash = new Uint8Array(32);
const merkleRoot = new Uint8Array(32);
const header = new Uint8Array(HEADER_SIZE);

/** Writes coinb1 ‖ en1 ‖ en2 ‖ coinb2 into the scratch and returns its length, or -1 when en2 does not fit the job. */
function fillCoinbase(job: StratumJob, extranonce1: Uint8Array, extranonce2: string): number {
  const n2 = extranonce2.length >> 1;
  if (n2 !== job.extranonce2Size) return -1;
  const c1 = job.coinb1Bytes;
  const c2 = job.coinb2Bytes;
  const len = c1.length + extranonce1.length + n2 + c2.length;
  if (coinbase.length < len) coinbase = new Uint8Array(Math.max(len, coinbase.length * 2)); // grows, never shrinks
  coinbase.set(c1, 0);
  coinbase.set(extranonce1, c1.length);
  const o = c1.length + extranonce1.length;
  if (!hexIntoBytes(extranonce2, coinbase, o)) return -1;
  coinbase.set(c2, o + n2);
  // The view is cached per length (constant within a job), so steady state creates no subarray objects.
  if (coinbaseView.buffer !== coinbase.buffer || coinbaseView.length !== len) coinbaseView = coinbase.subarray(0, len);
  return len;
}

/** Fills the header scratch for this share; false when extranonce2 does not match the job. */
function fillHeader(job: StratumJob, extranonce1: Uint8Array, s: SubmitFields, sha: Sha256Into): boolean {
  if (fillCoinbase(job, extranonce1, s.extranonce2) < 0) return false;
  sha256d(sha, coinbaseView, coinbaseHash);
  merkleRootFromBranch(coinbaseHash, job.branchBytes, sha, merkleRoot);
  writeHeader(header, s.version, job.prevhash, merkleRoot, s.ntime, job.bits, s.nonce);
  return true;
}

/**
 * Hashes a validated share: coinbase → sha256d → merkle fold → 80-byte header → sha256d, written raw
 * (internal order, compare with targetToLE/hashMeetsTarget) into outHash. Allocation-free after warm-up.
 * Returns false (outHash untouched) when s.extranonce2 is not job.extranonce2Size bytes of hex,
 * which cannot happen for fields from validateSubmit on the same job.
 */
export function hashShare(job: StratumJob, extranonce1: Uint8Array, s: SubmitFields, sha: Sha256Into, outHash: Uint8Array): boolean {
  if (!fillHeader(job, extranonce1, s, sha)) return false;
  sha256d(sha, header, outHash);
  return true;
}

/** Fields that did not come from validateSubmit on this job: a caller bug, not miner input, hence a throw. */
function mismatch(fn: string, job: StratumJob): RangeError {
  return new RangeError(`${fn}: extranonce2 is not ${job.extranonce2Size} bytes of hex for job ${job.id}`);
}

/** The 80-byte header of a share (new array, for block assembly and logs). Throws RangeError where hashShare returns false. */
export function buildHeader(job: StratumJob, extranonce1: Uint8Array, s: SubmitFields, sha: Sha256Into): Uint8Array {
  if (!fillHeader(job, extranonce1, s, sha)) throw mismatch("buildHeader", job);
  return header.slice();
}

/** Coinbase txid in display order (byte-reversed sha256d of the stripped coinbase). Throws RangeError when extranonce2Hex does not fit the job. */
export function coinbaseTxid(job: StratumJob, extranonce1: Uint8Array, extranonce2Hex: string, sha: Sha256Into): string {
  if (fillCoinbase(job, extranonce1, extranonce2Hex) < 0) throw mismatch("coinbaseTxid", job);
  sha256d(sha, coinbaseView, coinbaseHash);
  return bytesToHexReversed(coinbaseHash);
}

/** The coinbase as it goes into the block: stripped, or (with a witness commitment) BIP144 form with the 32-zero-byte reserved value. */
function blockCoinbaseHex(job: StratumJob, stripped: Uint8Array): string {
  if (job.template.witnessCommitment === undefined) return bytesToHex(stripped);
  // version(4) ‖ marker 00 flag 01 ‖ inputs+outputs ‖ witness: 1 item of 32 zero bytes (BIP141 reserved value) ‖ locktime(4)
  const n = stripped.length;
  return (
    bytesToHex(stripped.subarray(0, 4)) +
    "0001" +
    bytesToHex(stripped.subarray(4, n - 4)) +
    "0120" +
    "00".repeat(32) +
    bytesToHex(stripped.subarray(n - 4))
  );
}

/**
 * Full block hex for submitblock: header ‖ varint(1 + txs) ‖ coinbase ‖ template transactions' data
 * [‖ 01 ‖ MWEB block, when the template has one (Litecoin: the extension block follows the tx list as a
 * present optional, its HogEx being the template's last tx; see BlockTemplate.mweb)].
 * The merkle root was computed from the stripped coinbase (txid); the block carries the witness form
 * when the template has a witness commitment. Throws RangeError where hashShare returns false.
 */
export function assembleBlock(job: StratumJob, extranonce1: Uint8Array, s: SubmitFields, sha: Sha256Into): string {
  if (!fillHeader(job, extranonce1, s, sha)) throw mismatch("assembleBlock", job);
  const txs = job.template.transactions;
  const parts: string[] = [bytesToHex(header), bytesToHex(encodeVarInt(1 + txs.length)), blockCoinbaseHex(job, coinbaseView)];
  for (const tx of txs) parts.push(tx.data);
  if (job.template.mweb !== undefined) parts.push("01", job.template.mweb);
  return parts.join("");
}
