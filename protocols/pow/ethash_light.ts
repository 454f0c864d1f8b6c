// Ethash light evaluation: legacy-Keccak word modes, seed hashes, the light cache, hashimoto-light (single and paired) and the quick check; pure, no epochs policy, no targets.

/*
 * Spec: ethereum/wiki Ethash.md, go-ethereum and core-geth consensus/ethash/algorithm.go; vectors in
 * test/fixtures/ethash.json. Everything runs on 32-bit word values (the spec's little-endian words),
 * converting to bytes only at the edges (seed, header hash, nonce, outputs), so the flat cache
 * layout is also correct on a big-endian host. Hot-path scratch is module-level: calls are
 * synchronous and never interleave, and each worker has its own module instance. Measured with
 * bench/ethash.ts on the 2-core dev box (Bun, epoch 0): verifyEthashShare median 2.1–2.2 ms per
 * lone call (3.0–3.3 ms before rowOf); hashimotoLightPair ~3.5 ms per call = ~1.85 ms per share
 * amortized; cache build 1.2 s (epoch 0) to 3 s (epoch 176); @ethereumjs/ethash 120–150 ms per
 * verification and 8.4 s per epoch-0 cache.
 */
import { keccakF1600 } from "./keccak.ts";

export const ETHASH_EPOCH_LENGTH = 30000;
export const ETCHASH_EPOCH_LENGTH = 60000;
/** ECIP-1099 activation blocks (fixture constants.ecip1099_activation_block). */
export const ECIP1099_ACTIVATION = { etcMainnet: 11_700_000, mordor: 2_520_000 } as const;

// Spec constants stay module-private: the hot loops read them as constants, where an exported
// binding measured 3-5 % slower (bench/ethash.ts). That is also why this file stays whole (~480 lines,
// over the house limit on purpose): splitting the loops from the constants would cost that again. The two sizes are exported under their own names.
const HASH_BYTES = 64;
const MIX_BYTES = 128;
const DATASET_PARENTS = 256;
const CACHE_ROUNDS = 3;
const ACCESSES = 64;
const FNV_PRIME = 0x01000193;
/** Bytes of a light-cache item and of one hashimoto mix (ethash spec HASH_BYTES, MIX_BYTES). */
export const ETHASH_HASH_BYTES = HASH_BYTES;
export const ETHASH_MIX_BYTES = MIX_BYTES;


// ---- Keccak modes on word arrays (legacy Keccak padding 0x01 … 0x80, NOT SHA-3's 0x06) ----

/** The one Keccak state; every helper below fully re-initialises it. */
const ST = new Uint32Array(50);

/** Clears ST from word `from` on and applies Keccak pad10*1 for a message of `words` words at the given rate (in words). */
function padFrom(from: number, words: number, rateWords: number): void {
  const s = ST;
  for (let k = from; k < 50; k++) s[k] = 0;
  s[words] = (s[words] as number) ^ 0x01;
  s[rateWords - 1] = (s[rateWords - 1] as number) ^ 0x80000000;
}

/** keccak512 of `words` (≤ 17) words of src starting at srcOff; the 16-word digest is left in ST[0..15]. */
function k512(src: Uint32Array, srcOff: number, words: number): void {
  const s = ST;
  for (let k = 0; k < words; k++) s[k] = src[srcOff + k] as number;
  padFrom(words, words, 18); // rate 72 bytes = 18 words
  keccakF1600(s);
}

/** keccak256 of the first `words` (≤ 33) words already written in ST; the 8-word digest is left in ST[0..7]. */
function k256InPlace(words: number): void {
  padFrom(words, words, 34); // rate 136 bytes = 34 words
  keccakF1600(ST);
}

function readWordsLE(bytes: Uint8Array, off: number, out: Uint32Array, outOff: number, words: number): void {
  for (let k = 0; k < words; k++) {
    const b = off + 4 * k;
    out[outOff + k] =
      (bytes[b] as number) | ((bytes[b + 1] as number) << 8) | ((bytes[b + 2] as number) << 16) | ((bytes[b + 3] as number) << 24);
  }
}

function wordsToBytesLE(src: Uint32Array, srcOff: number, words: number): Uint8Array {
  const out = new Uint8Array(words * 4);
  for (let k = 0; k < words; k++) {
    const w = src[srcOff + k] as number;
    out[4 * k] = w & 0xff;
    out[4 * k + 1] = (w >>> 8) & 0xff;
    out[4 * k + 2] = (w >>> 16) & 0xff;
    out[4 * k + 3] = w >>> 24;
  }
  return out;
}

/**
 * Seed hash: keccak256 iterated floor((epoch·epochLength + 1) / 30000) times over 32 zero bytes
 * (fixture _about; core-geth seedHash(epoch·epochLength+1)). Ethash: `epoch` iterations.
 */
export function seedHash(epoch: number, epochLength: number = ETHASH_EPOCH_LENGTH): Uint8Array {
  const iterations = Math.floor((epoch * epochLength + 1) / ETHASH_EPOCH_LENGTH);
  const s = ST;
  for (let k = 0; k < 8; k++) s[k] = 0;
  for (let i = 0; i < iterations; i++) k256InPlace(8); // digest stays in ST[0..7], the next input
  return wordsToBytesLE(s, 0, 8);
}

// ---- Light cache ----

/**
 * Builds the light cache (Sergio Lerner's RandMemoHash, CACHE_ROUNDS = 3) as little-endian words:
 * item i is words [16i, 16i+16). `out` may be a view over a SharedArrayBuffer (cacheSize/4 words)
 * so worker threads can verify against one copy. onProgress gets fractions in (0, 1], about 64 calls.
 * Returns undefined when cacheSize is not a positive multiple of 64, seed is not 32 bytes, or out is too short.
 */
export function makeCache(
  size: number,
  seed: Uint8Array,
  out?: Uint32Array,
  onProgress?: (fraction: number) => void,
): Uint32Array | undefined {
  if (!Number.isSafeInteger(size) || size <= 0 || size % HASH_BYTES !== 0 || seed.length !== 32) return undefined;
  const words = size / 4;
  if (out !== undefined && out.length < words) return undefined;
  const c = out === undefined ? new Uint32Array(words) : out.length === words ? out : out.subarray(0, words);
  const n = size / HASH_BYTES;
  const s = ST;
  const total = n * (1 + CACHE_ROUNDS);
  const step = Math.max(1, Math.floor(total / 64));
  let done = 0;

  readWordsLE(seed, 0, s, 0, 8);
  padFrom(8, 8, 18);
  keccakF1600(s);
  for (let k = 0; k < 16; k++) c[k] = s[k] as number;
  for (let i = 1; i < n; i++) {
    k512(c, (i - 1) * 16, 16);
    const o = i * 16;
    for (let k = 0; k < 16; k++) c[o + k] = s[k] as number;
    if (onProgress !== undefined && ++done % step === 0) onProgress(done / total);
  }
  for (let r = 0; r < CACHE_ROUNDS; r++) {
    for (let i = 0; i < n; i++) {
      const o = i * 16;
      const v = ((c[o] as number) % n) * 16;
      const prev = ((i + n - 1) % n) * 16;
      for (let k = 0; k < 16; k++) s[k] = (c[prev + k] as number) ^ (c[v + k] as number);
      padFrom(16, 16, 18);
      keccakF1600(s);
      for (let k = 0; k < 16; k++) c[o + k] = s[k] as number;
      if (onProgress !== undefined && ++done % step === 0) onProgress(done / total);
    }
  }
  if (onProgress !== undefined) onProgress(1);
  return c;
}

// ---- Hashimoto light ----

const SEED = new Uint32Array(16);
const MIX = new Uint32Array(32);
const ITEM = new Uint32Array(32);

const PA = new Int32Array(16);
const PB = new Int32Array(16);
const PC = new Int32Array(16);
const PD = new Int32Array(16);
/** Second share's state for hashimotoLightPair. */
const SEED_B = new Uint32Array(16);
const MIX_B = new Uint32Array(32);
const ITEM4 = new Uint32Array(64);

/** Int32 view of the caller's cache, memoised per cache: Int32Array loads stay small integers in the JIT (Uint32 words ≥ 2^31 become doubles), measured ~12% faster on the parent loop. */
let lastCache: Uint32Array | undefined;
let lastView: Int32Array = new Int32Array(0);
function int32View(cache: Uint32Array): Int32Array {
  if (cache !== lastCache) {
    lastCache = cache;
    lastView = new Int32Array(cache.buffer, cache.byteOffset, cache.length);
  }
  return lastView;
}

/**
 * x as an unsigned 32-bit value, modulo n (0 < n < 2^31), in int32 arithmetic only; k32 = 2^32 mod n.
 * The spec's `(x >>> 0) % n` makes the JIT divide doubles (a uint32 ≥ 2^31 is no int32), and that
 * division sits on the dependent-read chain of every parent step: the int32 form measured 2.2 ms
 * against 3.0 ms per hashimotoLight (bench/ethash.ts, epoch 0). For x < 0 the int32 remainder is in
 * (−n, 0]; adding 2^32 mod n and then n if still negative gives the unsigned remainder, branch-free.
 */
function rowOf(x: number, n: number, k32: number): number {
  const r = (x % n) + ((x >> 31) & k32);
  return r + ((r >> 31) & n);
}

/** First half of calcDatasetItem: mix = keccak512(cache[i % n] with word 0 ^= i), into dst. */
function itemInit(cache: Int32Array, nItems: number, i: number, dst: Int32Array): void {
  const s = ST;
  const base = (i % nItems) * 16;
  for (let k = 0; k < 16; k++) s[k] = cache[base + k] as number;
  s[0] = (s[0] as number) ^ i;
  padFrom(16, 16, 18);
  keccakF1600(s);
  for (let k = 0; k < 16; k++) dst[k] = s[k] as number;
}

/** Second half: out[outOff..+16) = keccak512(mix). */
function itemFinish(mix: Int32Array, out: Uint32Array, outOff: number): void {
  const s = ST;
  for (let k = 0; k < 16; k++) s[k] = mix[k] as number;
  padFrom(16, 16, 18);
  keccakF1600(s);
  for (let k = 0; k < 16; k++) out[outOff + k] = s[k] as number;
}

/**
 * Dataset items i and i+1 (calcDatasetItem, DATASET_PARENTS = 256) into dst[0..32). The two parent
 * chains are computed interleaved on purpose: each parent step is a dependent random read of the
 * cache, and on the dev box (KVM, 4 KiB pages, no THP) the cost is TLB/cache-miss latency, not
 * arithmetic (sequential addresses: 0.29 ms per 128 items; random dependent: 4.8 ms). Two
 * independent chains let the CPU overlap the misses: 3.2 ms instead of 4.8 ms per 128 items.
 */
function datasetItemPair(cache: Int32Array, nItems: number, i: number, dst: Uint32Array): void {
  const k32 = 2 ** 32 % nItems; // see rowOf
  const a = PA;
  const b = PB;
  const i1 = i + 1;
  itemInit(cache, nItems, i, a);
  itemInit(cache, nItems, i1, b);
  for (let j = 0; j < DATASET_PARENTS; j++) {
    const pa = rowOf(Math.imul(i ^ j, FNV_PRIME) ^ (a[j & 15] as number), nItems, k32) * 16;
    const pb = rowOf(Math.imul(i1 ^ j, FNV_PRIME) ^ (b[j & 15] as number), nItems, k32) * 16;
    a[0] = Math.imul(a[0] as number, FNV_PRIME) ^ (cache[pa] as number);
    b[0] = Math.imul(b[0] as number, FNV_PRIME) ^ (cache[pb] as number);
    a[1] = Math.imul(a[1] as number, FNV_PRIME) ^ (cache[pa + 1] as number);
    b[1] = Math.imul(b[1] as number, FNV_PRIME) ^ (cache[pb + 1] as number);
    a[2] = Math.imul(a[2] as number, FNV_PRIME) ^ (cache[pa + 2] as number);
    b[2] = Math.imul(b[2] as number, FNV_PRIME) ^ (cache[pb + 2] as number);
    a[3] = Math.imul(a[3] as number, FNV_PRIME) ^ (cache[pa + 3] as number);
    b[3] = Math.imul(b[3] as number, FNV_PRIME) ^ (cache[pb + 3] as number);
    a[4] = Math.imul(a[4] as number, FNV_PRIME) ^ (cache[pa + 4] as number);
    b[4] = Math.imul(b[4] as number, FNV_PRIME) ^ (cache[pb + 4] as number);
    a[5] = Math.imul(a[5] as number, FNV_PRIME) ^ (cache[pa + 5] as number);
    b[5] = Math.imul(b[5] as number, FNV_PRIME) ^ (cache[pb + 5] as number);
    a[6] = Math.imul(a[6] as number, FNV_PRIME) ^ (cache[pa + 6] as number);
    b[6] = Math.imul(b[6] as number, FNV_PRIME) ^ (cache[pb + 6] as number);
    a[7] = Math.imul(a[7] as number, FNV_PRIME) ^ (cache[pa + 7] as number);
    b[7] = Math.imul(b[7] as number, FNV_PRIME) ^ (cache[pb + 7] as number);
    a[8] = Math.imul(a[8] as number, FNV_PRIME) ^ (cache[pa + 8] as number);
    b[8] = Math.imul(b[8] as number, FNV_PRIME) ^ (cache[pb + 8] as number);
    a[9] = Math.imul(a[9] as number, FNV_PRIME) ^ (cache[pa + 9] as number);
    b[9] = Math.imul(b[9] as number, FNV_PRIME) ^ (cache[pb + 9] as number);
    a[10] = Math.imul(a[10] as number, FNV_PRIME) ^ (cache[pa + 10] as number);
    b[10] = Math.imul(b[10] as number, FNV_PRIME) ^ (cache[pb + 10] as number);
    a[11] = Math.imul(a[11] as number, FNV_PRIME) ^ (cache[pa + 11] as number);
    b[11] = Math.imul(b[11] as number, FNV_PRIME) ^ (cache[pb + 11] as number);
    a[12] = Math.imul(a[12] as number, FNV_PRIME) ^ (cache[pa + 12] as number);
    b[12] = Math.imul(b[12] as number, FNV_PRIME) ^ (cache[pb + 12] as number);
    a[13] = Math.imul(a[13] as number, FNV_PRIME) ^ (cache[pa + 13] as number);
    b[13] = Math.imul(b[13] as number, FNV_PRIME) ^ (cache[pb + 13] as number);
    a[14] = Math.imul(a[14] as number, FNV_PRIME) ^ (cache[pa + 14] as number);
    b[14] = Math.imul(b[14] as number, FNV_PRIME) ^ (cache[pb + 14] as number);
    a[15] = Math.imul(a[15] as number, FNV_PRIME) ^ (cache[pa + 15] as number);
    b[15] = Math.imul(b[15] as number, FNV_PRIME) ^ (cache[pb + 15] as number);
  }
  itemFinish(a, dst, 0);
  itemFinish(b, dst, 16);
}

/**
 * Four dataset items at once, iA, iA+1 → dst[0..32) and iB, iB+1 → dst[32..64): the access step of two
 * independent shares (hashimotoLightPair). Four parent chains keep four cache misses in flight instead
 * of two: ~1.85 ms per share amortized against ~2.15 ms for lone calls (bench/ethash.ts, epoch 0).
 * Unrolled like datasetItemPair so the four loads of a parent step issue back to back.
 */
function datasetItemQuad(cache: Int32Array, nItems: number, iA: number, iB: number, dst: Uint32Array): void {
  const k32 = 2 ** 32 % nItems; // see rowOf
  const a = PA;
  const b = PB;
  const c = PC;
  const d = PD;
  const iA1 = iA + 1;
  const iB1 = iB + 1;
  itemInit(cache, nItems, iA, a);
  itemInit(cache, nItems, iA1, b);
  itemInit(cache, nItems, iB, c);
  itemInit(cache, nItems, iB1, d);
  for (let j = 0; j < DATASET_PARENTS; j++) {
    const pa = rowOf(Math.imul(iA ^ j, FNV_PRIME) ^ (a[j & 15] as number), nItems, k32) * 16;
    const pb = rowOf(Math.imul(iA1 ^ j, FNV_PRIME) ^ (b[j & 15] as number), nItems, k32) * 16;
    const pc = rowOf(Math.imul(iB ^ j, FNV_PRIME) ^ (c[j & 15] as number), nItems, k32) * 16;
    const pd = rowOf(Math.imul(iB1 ^ j, FNV_PRIME) ^ (d[j & 15] as number), nItems, k32) * 16;
    a[0] = Math.imul(a[0] as number, FNV_PRIME) ^ (cache[pa] as number);
    b[0] = Math.imul(b[0] as number, FNV_PRIME) ^ (cache[pb] as number);
    c[0] = Math.imul(c[0] as number, FNV_PRIME) ^ (cache[pc] as number);
    d[0] = Math.imul(d[0] as number, FNV_PRIME) ^ (cache[pd] as number);
    a[1] = Math.imul(a[1] as number, FNV_PRIME) ^ (cache[pa + 1] as number);
    b[1] = Math.imul(b[1] as number, FNV_PRIME) ^ (cache[pb + 1] as number);
    c[1] = Math.imul(c[1] as number, FNV_PRIME) ^ (cache[pc + 1] as number);
    d[1] = Math.imul(d[1] as number, FNV_PRIME) ^ (cache[pd + 1] as number);
    a[2] = Math.imul(a[2] as number, FNV_PRIME) ^ (cache[pa + 2] as number);
    b[2] = Math.imul(b[2] as number, FNV_PRIME) ^ (cache[pb + 2] as number);
    c[2] = Math.imul(c[2] as number, FNV_PRIME) ^ (cache[pc + 2] as number);
    d[2] = Math.imul(d[2] as number, FNV_PRIME) ^ (cache[pd + 2] as number);
    a[3] = Math.imul(a[3] as number, FNV_PRIME) ^ (cache[pa + 3] as number);
    b[3] = Math.imul(b[3] as number, FNV_PRIME) ^ (cache[pb + 3] as number);
    c[3] = Math.imul(c[3] as number, FNV_PRIME) ^ (cache[pc + 3] as number);
    d[3] = Math.imul(d[3] as number, FNV_PRIME) ^ (cache[pd + 3] as number);
    a[4] = Math.imul(a[4] as number, FNV_PRIME) ^ (cache[pa + 4] as number);
    b[4] = Math.imul(b[4] as number, FNV_PRIME) ^ (cache[pb + 4] as number);
    c[4] = Math.imul(c[4] as number, FNV_PRIME) ^ (cache[pc + 4] as number);
    d[4] = Math.imul(d[4] as number, FNV_PRIME) ^ (cache[pd + 4] as number);
    a[5] = Math.imul(a[5] as number, FNV_PRIME) ^ (cache[pa + 5] as number);
    b[5] = Math.imul(b[5] as number, FNV_PRIME) ^ (cache[pb + 5] as number);
    c[5] = Math.imul(c[5] as number, FNV_PRIME) ^ (cache[pc + 5] as number);
    d[5] = Math.imul(d[5] as number, FNV_PRIME) ^ (cache[pd + 5] as number);
    a[6] = Math.imul(a[6] as number, FNV_PRIME) ^ (cache[pa + 6] as number);
    b[6] = Math.imul(b[6] as number, FNV_PRIME) ^ (cache[pb + 6] as number);
    c[6] = Math.imul(c[6] as number, FNV_PRIME) ^ (cache[pc + 6] as number);
    d[6] = Math.imul(d[6] as number, FNV_PRIME) ^ (cache[pd + 6] as number);
    a[7] = Math.imul(a[7] as number, FNV_PRIME) ^ (cache[pa + 7] as number);
    b[7] = Math.imul(b[7] as number, FNV_PRIME) ^ (cache[pb + 7] as number);
    c[7] = Math.imul(c[7] as number, FNV_PRIME) ^ (cache[pc + 7] as number);
    d[7] = Math.imul(d[7] as number, FNV_PRIME) ^ (cache[pd + 7] as number);
    a[8] = Math.imul(a[8] as number, FNV_PRIME) ^ (cache[pa + 8] as number);
    b[8] = Math.imul(b[8] as number, FNV_PRIME) ^ (cache[pb + 8] as number);
    c[8] = Math.imul(c[8] as number, FNV_PRIME) ^ (cache[pc + 8] as number);
    d[8] = Math.imul(d[8] as number, FNV_PRIME) ^ (cache[pd + 8] as number);
    a[9] = Math.imul(a[9] as number, FNV_PRIME) ^ (cache[pa + 9] as number);
    b[9] = Math.imul(b[9] as number, FNV_PRIME) ^ (cache[pb + 9] as number);
    c[9] = Math.imul(c[9] as number, FNV_PRIME) ^ (cache[pc + 9] as number);
    d[9] = Math.imul(d[9] as number, FNV_PRIME) ^ (cache[pd + 9] as number);
    a[10] = Math.imul(a[10] as number, FNV_PRIME) ^ (cache[pa + 10] as number);
    b[10] = Math.imul(b[10] as number, FNV_PRIME) ^ (cache[pb + 10] as number);
    c[10] = Math.imul(c[10] as number, FNV_PRIME) ^ (cache[pc + 10] as number);
    d[10] = Math.imul(d[10] as number, FNV_PRIME) ^ (cache[pd + 10] as number);
    a[11] = Math.imul(a[11] as number, FNV_PRIME) ^ (cache[pa + 11] as number);
    b[11] = Math.imul(b[11] as number, FNV_PRIME) ^ (cache[pb + 11] as number);
    c[11] = Math.imul(c[11] as number, FNV_PRIME) ^ (cache[pc + 11] as number);
    d[11] = Math.imul(d[11] as number, FNV_PRIME) ^ (cache[pd + 11] as number);
    a[12] = Math.imul(a[12] as number, FNV_PRIME) ^ (cache[pa + 12] as number);
    b[12] = Math.imul(b[12] as number, FNV_PRIME) ^ (cache[pb + 12] as number);
    c[12] = Math.imul(c[12] as number, FNV_PRIME) ^ (cache[pc + 12] as number);
    d[12] = Math.imul(d[12] as number, FNV_PRIME) ^ (cache[pd + 12] as number);
    a[13] = Math.imul(a[13] as number, FNV_PRIME) ^ (cache[pa + 13] as number);
    b[13] = Math.imul(b[13] as number, FNV_PRIME) ^ (cache[pb + 13] as number);
    c[13] = Math.imul(c[13] as number, FNV_PRIME) ^ (cache[pc + 13] as number);
    d[13] = Math.imul(d[13] as number, FNV_PRIME) ^ (cache[pd + 13] as number);
    a[14] = Math.imul(a[14] as number, FNV_PRIME) ^ (cache[pa + 14] as number);
    b[14] = Math.imul(b[14] as number, FNV_PRIME) ^ (cache[pb + 14] as number);
    c[14] = Math.imul(c[14] as number, FNV_PRIME) ^ (cache[pc + 14] as number);
    d[14] = Math.imul(d[14] as number, FNV_PRIME) ^ (cache[pd + 14] as number);
    a[15] = Math.imul(a[15] as number, FNV_PRIME) ^ (cache[pa + 15] as number);
    b[15] = Math.imul(b[15] as number, FNV_PRIME) ^ (cache[pb + 15] as number);
    c[15] = Math.imul(c[15] as number, FNV_PRIME) ^ (cache[pc + 15] as number);
    d[15] = Math.imul(d[15] as number, FNV_PRIME) ^ (cache[pd + 15] as number);
  }
  itemFinish(a, dst, 0);
  itemFinish(b, dst, 16);
  itemFinish(c, dst, 32);
  itemFinish(d, dst, 48);
}

/** Nonce as (low, high) 32-bit halves of the u64 that goes on the wire big-endian and into hashimoto little-endian. */
let nonceLo = 0;
let nonceHi = 0;
function loadNonce(nonce: bigint | Uint8Array): void {
  if (typeof nonce === "bigint") {
    nonceLo = Number(nonce & 0xffffffffn);
    nonceHi = Number((nonce >> 32n) & 0xffffffffn);
  } else {
    nonceHi = (((nonce[0] as number) << 24) | ((nonce[1] as number) << 16) | ((nonce[2] as number) << 8) | (nonce[3] as number)) >>> 0;
    nonceLo = (((nonce[4] as number) << 24) | ((nonce[5] as number) << 16) | ((nonce[6] as number) << 8) | (nonce[7] as number)) >>> 0;
  }
}

/** seed ← keccak512(headerHash ‖ nonce_le64): 40 bytes = 10 words. */
function computeSeed(headerHash: Uint8Array, nonce: bigint | Uint8Array, seed: Uint32Array = SEED): void {
  loadNonce(nonce);
  const s = ST;
  readWordsLE(headerHash, 0, s, 0, 8);
  s[8] = nonceLo;
  s[9] = nonceHi;
  padFrom(10, 10, 18);
  keccakF1600(s);
  for (let k = 0; k < 16; k++) seed[k] = s[k] as number;
}

/** ST ← keccak256(seed ‖ mix words): the final hash, digest in ST[0..7]. */
function finalHash(mix: Uint32Array, mixOff: number, seed: Uint32Array = SEED): void {
  const s = ST;
  for (let k = 0; k < 16; k++) s[k] = seed[k] as number;
  for (let k = 0; k < 8; k++) s[16 + k] = mix[mixOff + k] as number;
  k256InPlace(24);
}

export interface HashimotoResult {
  /** 32-byte mix digest (header mixHash). */
  mixDigest: Uint8Array;
  /** 32-byte final hash, compared big-endian against the boundary. */
  result: Uint8Array;
}

/**
 * Hashimoto with dataset items computed from the light cache (64 accesses × 2 items × 256 parents).
 * Inputs must be well-formed (32-byte header hash, 8-byte big-endian nonce or a u64 bigint, a cache
 * from makeCache for this epoch, fullSize = datasetSize(epoch)); verifyEthashShare validates them.
 */
export function hashimotoLight(
  fullSize: number,
  cache: Uint32Array,
  headerHash: Uint8Array,
  nonce: bigint | Uint8Array,
): HashimotoResult {
  const view = int32View(cache);
  const nItems = Math.floor(cache.length / 16);
  const rows = Math.floor(fullSize / MIX_BYTES);
  computeSeed(headerHash, nonce, SEED);
  for (let k = 0; k < 32; k++) MIX[k] = SEED[k & 15] as number;
  const s0 = SEED[0] as number;
  for (let i = 0; i < ACCESSES; i++) {
    const p = ((Math.imul(i ^ s0, FNV_PRIME) ^ (MIX[i & 31] as number)) >>> 0) % rows;
    datasetItemPair(view, nItems, 2 * p, ITEM);
    mixIn(MIX, ITEM, 0);
  }
  return finish(MIX, SEED);
}

/** mix[k] = fnv(mix[k], items[off + k]) for the 32 words of one access. */
function mixIn(mix: Uint32Array, items: Uint32Array, off: number): void {
  for (let k = 0; k < 32; k++) mix[k] = Math.imul(mix[k] as number, FNV_PRIME) ^ (items[off + k] as number);
}

/** Compresses the 32-word mix to the 8-word digest (fnv(fnv(fnv(a, b), c), d) per group of four), then the final hash. */
function finish(mix: Uint32Array, seed: Uint32Array): HashimotoResult {
  for (let k = 0; k < 8; k++) {
    const o = 4 * k;
    let v = Math.imul(mix[o] as number, FNV_PRIME) ^ (mix[o + 1] as number);
    v = Math.imul(v, FNV_PRIME) ^ (mix[o + 2] as number);
    v = Math.imul(v, FNV_PRIME) ^ (mix[o + 3] as number);
    ITEM[k] = v;
  }
  const mixDigest = wordsToBytesLE(ITEM, 0, 8);
  finalHash(ITEM, 0, seed);
  return { mixDigest, result: wordsToBytesLE(ST, 0, 8) };
}

/**
 * Two independent hashimotoLight computations (same cache and fullSize) run in lockstep: access i of
 * both shares is one datasetItemQuad call, so the two shares' dependent cache reads overlap. Returns
 * exactly [hashimotoLight(A), hashimotoLight(B)] (tested on the fixture vectors and random inputs).
 * This raises throughput, not latency: each share's answer arrives after the whole pair call
 * (~3.5 ms), against ~2.15 ms for a lone call (bench/ethash.ts, epoch 0). Same input contract as
 * hashimotoLight; both shares must use the same cache and fullSize.
 */
export function hashimotoLightPair(
  fullSize: number,
  cache: Uint32Array,
  headerA: Uint8Array,
  nonceA: bigint | Uint8Array,
  headerB: Uint8Array,
  nonceB: bigint | Uint8Array,
): [HashimotoResult, HashimotoResult] {
  const view = int32View(cache);
  const nItems = Math.floor(cache.length / 16);
  const rows = Math.floor(fullSize / MIX_BYTES);
  computeSeed(headerA, nonceA, SEED);
  computeSeed(headerB, nonceB, SEED_B);
  for (let k = 0; k < 32; k++) {
    MIX[k] = SEED[k & 15] as number;
    MIX_B[k] = SEED_B[k & 15] as number;
  }
  const sA = SEED[0] as number;
  const sB = SEED_B[0] as number;
  for (let i = 0; i < ACCESSES; i++) {
    const pA = ((Math.imul(i ^ sA, FNV_PRIME) ^ (MIX[i & 31] as number)) >>> 0) % rows;
    const pB = ((Math.imul(i ^ sB, FNV_PRIME) ^ (MIX_B[i & 31] as number)) >>> 0) % rows;
    datasetItemQuad(view, nItems, 2 * pA, 2 * pB, ITEM4);
    mixIn(MIX, ITEM4, 0);
    mixIn(MIX_B, ITEM4, 32);
  }
  const a = finish(MIX, SEED);
  return [a, finish(MIX_B, SEED_B)];
}

const QMIX = new Uint32Array(8);

/**
 * keccak256(keccak512(header ‖ nonce_le) ‖ mixDigest): equals hashimoto's final hash when the mix
 * digest is right, at ~µs cost. A value above the target rejects the share without hashimoto; a
 * value below proves nothing until hashimoto confirms the mix digest.
 */
export function quickCheck(headerHash: Uint8Array, nonce: bigint | Uint8Array, mixDigest: Uint8Array): Uint8Array {
  computeSeed(headerHash, nonce);
  readWordsLE(mixDigest, 0, QMIX, 0, 8);
  finalHash(QMIX, 0);
  return wordsToBytesLE(ST, 0, 8);
}
