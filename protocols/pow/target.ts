// Compact bits ⇄ target ⇄ difficulty (bigint where exactness matters) and allocation-free hash-vs-target checks; no hashing here.

/** 2^256 - 1: the largest target (every hash meets it). */
export const MAX_TARGET = (1n << 256n) - 1n;

/** Bitcoin's difficulty-1 target, bits 0x1d00ffff = 0xffff·2^208 (the "truediffone" of ckpool / ESP-Miner / public-pool). */
export const DIFF1_SHA256 = 0xffffn << 208n;

/**
 * Compact "nBits" → target, as Bitcoin Core arith_uint256::SetCompact. A negative (0x00800000 set with a
 * non-zero mantissa) or overflowing encoding is invalid for proof of work; it yields 0n, which no hash meets.
 */
export function bitsToTarget(bits: number): bigint {
  const b = bits >>> 0;
  const size = b >>> 24;
  const mantissa = b & 0x007fffff;
  if (mantissa !== 0 && (b & 0x00800000) !== 0) return 0n;
  const t = size <= 3 ? BigInt(mantissa >>> (8 * (3 - size))) : BigInt(mantissa) << BigInt(8 * (size - 3));
  return t > MAX_TARGET ? 0n : t;
}

/** Target → compact "nBits", as Bitcoin Core arith_uint256::GetCompact (mantissa kept positive). */
export function targetToBits(target: bigint): number {
  if (target <= 0n) return 0;
  let size = 0;
  for (let t = target; t > 0n; t >>= 8n) size++;
  let compact = size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  // The top mantissa bit is the sign in this encoding: shift it out and grow the exponent instead.
  if ((compact & 0x00800000) !== 0) {
    compact >>>= 8;
    size++;
  }
  return ((size << 24) | compact) >>> 0;
}

/**
 * Share difficulty → target = floor(diff1 / diff), capped at 2^256-1. The float is read through its
 * shortest decimal form (String(diff)), so 0.001 means exactly 1/1000, not the nearest binary double:
 * that is what operators type and what the difficulty_to_share_target vectors floor. NaN, ≤ 0 and
 * Infinity have no meaningful target and yield 0n (nothing meets it); validate difficulties upstream.
 */
export function difficultyToTarget(diff: number, diff1: bigint = DIFF1_SHA256): bigint {
  if (!Number.isFinite(diff) || diff <= 0) return 0n;
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(diff));
  if (m === null) return 0n; // unreachable for finite positive numbers; kept so a surprise cannot fake a target
  const frac = m[2] ?? "";
  const num = BigInt((m[1] ?? "") + frac);
  const exp10 = Number(m[3] ?? "0") - frac.length; // diff = num · 10^exp10
  if (num === 0n) return 0n;
  const t = exp10 >= 0 ? diff1 / (num * 10n ** BigInt(exp10)) : (diff1 * 10n ** BigInt(-exp10)) / num;
  return t > MAX_TARGET ? MAX_TARGET : t;
}

/** Target → difficulty (diff1 / target) as a float; a 0 target is infinitely hard. Within a few ulp of the exact ratio. */
export function targetToDifficulty(target: bigint, diff1: bigint = DIFF1_SHA256): number {
  if (target <= 0n) return Infinity;
  return Number(diff1) / Number(target);
}

/** Target as 32 little-endian bytes: the byte order of raw sha256d output, so hashes compare without conversion. */
export function targetToLE(target: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let t = target > MAX_TARGET ? MAX_TARGET : target < 0n ? 0n : target;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return out;
}

/** 32 little-endian bytes (raw hash or LE target) → bigint; for logs, tests and block-level checks, not the hot path. */
export function bytesLEToBigInt(le: Uint8Array): bigint {
  let v = 0n;
  for (let i = le.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(le[i] as number);
  return v;
}

/** True when the hash, read as a 256-bit little-endian integer, is ≤ the target. Compares from the most significant byte; allocates nothing. */
export function hashMeetsTarget(hashLE: Uint8Array, targetLE: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const h = hashLE[i] as number;
    const t = targetLE[i] as number;
    if (h !== t) return h < t;
  }
  return true;
}

/** 2^(8k) for k = 0..24: exact doubles, indexed by the byte offset of the 64-bit window below. */
const POW256: number[] = [];
for (let k = 0; k <= 24; k++) POW256.push(2 ** (8 * k));

let cachedDiff1 = DIFF1_SHA256;
let cachedDiff1F = Number(DIFF1_SHA256);

/**
 * Share difficulty of a raw (little-endian) hash: diff1 / hash, as a float without bigint. Uses the top
 * 64 bits from the highest non-zero byte down (≥ 57 significant bits), so the relative error is ~1e-16,
 * far inside what difficulty comparisons and statistics need. A zero hash → Infinity.
 */
export function hashToDifficulty(hashLE: Uint8Array, diff1: bigint = DIFF1_SHA256): number {
  if (diff1 !== cachedDiff1) {
    cachedDiff1 = diff1;
    cachedDiff1F = Number(diff1);
  }
  let i = 31;
  while (i >= 0 && hashLE[i] === 0) i--;
  if (i < 0) return Infinity;
  const lo = i >= 7 ? i - 7 : 0;
  let v = 0;
  for (let k = i; k >= lo; k--) v = v * 256 + (hashLE[k] as number);
  return cachedDiff1F / (v * (POW256[lo] as number));
}
