// Ethash share verification (mix digest, boundary) and Ethereum difficulty ⇄ target conversions (geth's and NiceHash's units); pure.
import { bytesToHex } from "./hex.ts";
import { DIFF1_SHA256, MAX_TARGET, difficultyToTarget } from "./target.ts";
import { ETHASH_MIX_BYTES as MIX_BYTES, hashimotoLight, quickCheck } from "./ethash_light.ts";

// ---- Share verification ----

export type EthashRejectReason = "invalid_solution" | "low_difficulty" | "malformed";

export type EthashVerdict =
  | { ok: true; mixDigest: Uint8Array; result: Uint8Array; meetsBlockTarget: boolean }
  | { ok: false; reason: EthashRejectReason };

export interface EthashShare {
  cache: Uint32Array;
  fullSize: number;
  headerHash: Uint8Array;
  /** u64 bigint, or 8 bytes big-endian as in eth_submitWork. */
  nonce: bigint | Uint8Array;
  /** Miner-claimed mix digest (eth_submitWork params[2]); absent for dialects that do not send one. */
  mixDigest?: Uint8Array;
  /** Share boundary: the final hash as a big-endian uint256 must be ≤ target. */
  target: bigint;
  /** Network boundary; meetsBlockTarget reports result ≤ blockTarget (false when absent). */
  blockTarget?: bigint;
}

/** Big-endian bytes → bigint via hex (one call per share: µs, not the hot path). */
export function uint256BE(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt("0x" + bytesToHex(bytes));
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Full light verification of one share. With a claimed mix digest, the quick check runs first and a
 * value above the target is rejected as low_difficulty at once (whether or not the mix was honest,
 * the claimed solution does not meet the target). Then hashimoto runs: a mix digest differing from
 * the claim is invalid_solution; a result above the target is low_difficulty. Structurally bad
 * inputs (lengths, nonce range, cache shape) are 'malformed'.
 */
export function verifyEthashShare(share: EthashShare): EthashVerdict {
  const { cache, fullSize, headerHash, nonce, mixDigest, target } = share;
  if (
    headerHash.length !== 32 ||
    (typeof nonce === "bigint" ? nonce < 0n || nonce > 0xffffffffffffffffn : nonce.length !== 8) ||
    (mixDigest !== undefined && mixDigest.length !== 32) ||
    cache.length === 0 ||
    cache.length % 16 !== 0 ||
    !Number.isSafeInteger(fullSize) ||
    fullSize < MIX_BYTES ||
    fullSize % MIX_BYTES !== 0
  ) {
    return { ok: false, reason: "malformed" };
  }
  if (mixDigest !== undefined && uint256BE(quickCheck(headerHash, nonce, mixDigest)) > target) {
    return { ok: false, reason: "low_difficulty" };
  }
  const r = hashimotoLight(fullSize, cache, headerHash, nonce);
  if (mixDigest !== undefined && !bytesEqual(r.mixDigest, mixDigest)) return { ok: false, reason: "invalid_solution" };
  const v = uint256BE(r.result);
  if (v > target) return { ok: false, reason: "low_difficulty" };
  const meetsBlockTarget = share.blockTarget !== undefined && v <= share.blockTarget;
  return { ok: true, mixDigest: r.mixDigest, result: r.result, meetsBlockTarget };
}

// ---- Difficulty ⇄ target ----

const TWO_256 = 1n << 256n;

/**
 * Ethereum boundary = floor(2^256 / difficulty), capped at 2^256 − 1 (difficulty 1). This is what
 * eth_getWork returns as result[2]. A number is read through its decimal form (as target.ts does);
 * difficulty ≤ 0, NaN or Infinity yields 0n, which no hash meets.
 */
export function ethTargetFromDifficulty(d: bigint | number): bigint {
  if (typeof d === "number") return difficultyToTarget(d, TWO_256);
  if (d <= 0n) return 0n;
  const t = TWO_256 / d;
  return t > MAX_TARGET ? MAX_TARGET : t;
}

/** Ethereum difficulty a final hash proves: floor(2^256 / uint256_be(hash)); a zero hash → 2^256. */
export function ethDifficultyOfHash(hash: Uint8Array): bigint {
  const v = uint256BE(hash);
  return v === 0n ? TWO_256 : TWO_256 / v;
}

/** Target as 0x + 64 lowercase hex digits (zero-padded; eth_getWork result[2] as geth sends it). */
export function ethTargetToHex(target: bigint): string {
  const t = target < 0n ? 0n : target > MAX_TARGET ? MAX_TARGET : target;
  return "0x" + t.toString(16).padStart(64, "0");
}

/**
 * NiceHash EthereumStratum/1.0.0 share difficulty D ⇄ target 0xffff·2^208 / D (difficulty 1 = the
 * Bitcoin diff1 target 0x00000000ffff0000…; spec section IV: ≈ 4295032833 hashes per share).
 */
export function nicehashDifficultyToTarget(d: number): bigint {
  return difficultyToTarget(d, DIFF1_SHA256);
}

/** NiceHash share difficulty of a big-endian final hash: (0xffff·2^208) / hash as a float; zero hash → Infinity. */
export function nicehashDifficultyOfHash(hash: Uint8Array): number {
  const v = uint256BE(hash);
  if (v === 0n) return Infinity;
  // Scale so both operands fit a double's exponent range with full precision before dividing.
  return Number((DIFF1_SHA256 << 64n) / v) / 2 ** 64;
}
