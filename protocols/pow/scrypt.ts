// Litecoin-family scrypt proof of work: scrypt(header80, salt=header80, N=1024, r=1, p=1, dkLen=32), specialised and allocation-free; no target logic beyond DIFF1_SCRYPT.
import type { Sha256Into } from "./types.ts";
import { nobleSha256Into } from "./sha256d.ts";

/**
 * Scrypt miners' difficulty 1: target 0xffff·2^224, i.e. 65,536 × the sha256d one (0xffff·2^208).
 * This is how cpuminer (minerd), cgminer/sgminer and Litecoin pools read a stratum "mining.set_difficulty"
 * for scrypt coins, so share difficulty D means target DIFF1_SCRYPT / D. Pass it as `diff1` to target.ts.
 */
export const DIFF1_SCRYPT = 0xffffn << 224n;

/** scrypt parameters fixed by Litecoin (src/crypto/scrypt.cpp, scrypt_1024_1_1_256): N=1024, r=1, p=1. */
const N = 1024;

// Module-level scratch: calls are synchronous and never interleave, so one set serves every call and the
// hot path allocates nothing. V is N·128 bytes = 128 KiB, the ROMix table.
const V = new Uint32Array(32 * N);
const X = new Uint32Array(32);
const KEY = new Uint8Array(32);
const IPAD = new Uint8Array(64);
const OPAD_MSG = new Uint8Array(64 + 32); // opad‖innerHash: the outer HMAC input
const INNER1 = new Uint8Array(64 + 80 + 4); // ipad‖header‖INT(i): first PBKDF2 block i
const INNER2 = new Uint8Array(64 + 128 + 4); // ipad‖B'‖INT(1): the final PBKDF2
const DIGEST = new Uint8Array(32);

/**
 * HMAC-SHA256 whose key was prepared by setKey() and whose inner input (ipad‖message) is already in `inner`;
 * writes the tag into out. RFC 2104 with a one-shot hash: H(opad‖H(ipad‖m)).
 */
function hmacInto(sha: Sha256Into, inner: Uint8Array, out: Uint8Array): void {
  sha(inner, OPAD_MSG.subarray(64));
  sha(OPAD_MSG, out);
}

/**
 * Prepares ipad/opad from the password (the header). An 80-byte key exceeds SHA-256's 64-byte block, so
 * HMAC uses sha256(key) (RFC 2104 §2); shorter keys (only in tests) are zero-padded as they are.
 */
function setKey(sha: Sha256Into, key: Uint8Array): void {
  let k: Uint8Array = key;
  if (key.length > 64) {
    sha(key, KEY);
    k = KEY;
  }
  for (let i = 0; i < 64; i++) {
    const b = i < k.length ? (k[i] as number) : 0;
    IPAD[i] = b ^ 0x36;
    OPAD_MSG[i] = b ^ 0x5c;
  }
}

/**
 * B[d..d+16] = Salsa20/8(B[d..d+16] ^ B[s..s+16]) — the xor-then-core step of scrypt's BlockMix (RFC 7914 §3-4).
 * The state lives in 16 locals so the JIT keeps it in registers; Uint32Array stores wrap mod 2^32.
 */
function salsaXor(B: Uint32Array, d: number, s: number): void {
  const j0 = (B[d] as number) ^ (B[s] as number);
  const j1 = (B[d + 1] as number) ^ (B[s + 1] as number);
  const j2 = (B[d + 2] as number) ^ (B[s + 2] as number);
  const j3 = (B[d + 3] as number) ^ (B[s + 3] as number);
  const j4 = (B[d + 4] as number) ^ (B[s + 4] as number);
  const j5 = (B[d + 5] as number) ^ (B[s + 5] as number);
  const j6 = (B[d + 6] as number) ^ (B[s + 6] as number);
  const j7 = (B[d + 7] as number) ^ (B[s + 7] as number);
  const j8 = (B[d + 8] as number) ^ (B[s + 8] as number);
  const j9 = (B[d + 9] as number) ^ (B[s + 9] as number);
  const j10 = (B[d + 10] as number) ^ (B[s + 10] as number);
  const j11 = (B[d + 11] as number) ^ (B[s + 11] as number);
  const j12 = (B[d + 12] as number) ^ (B[s + 12] as number);
  const j13 = (B[d + 13] as number) ^ (B[s + 13] as number);
  const j14 = (B[d + 14] as number) ^ (B[s + 14] as number);
  const j15 = (B[d + 15] as number) ^ (B[s + 15] as number);
  let x0 = j0, x1 = j1, x2 = j2, x3 = j3, x4 = j4, x5 = j5, x6 = j6, x7 = j7;
  let x8 = j8, x9 = j9, x10 = j10, x11 = j11, x12 = j12, x13 = j13, x14 = j14, x15 = j15;
  let t = 0;
  for (let i = 0; i < 8; i += 2) {
    // column round
    t = (x0 + x12) | 0; x4 ^= (t << 7) | (t >>> 25);
    t = (x4 + x0) | 0; x8 ^= (t << 9) | (t >>> 23);
    t = (x8 + x4) | 0; x12 ^= (t << 13) | (t >>> 19);
    t = (x12 + x8) | 0; x0 ^= (t << 18) | (t >>> 14);
    t = (x5 + x1) | 0; x9 ^= (t << 7) | (t >>> 25);
    t = (x9 + x5) | 0; x13 ^= (t << 9) | (t >>> 23);
    t = (x13 + x9) | 0; x1 ^= (t << 13) | (t >>> 19);
    t = (x1 + x13) | 0; x5 ^= (t << 18) | (t >>> 14);
    t = (x10 + x6) | 0; x14 ^= (t << 7) | (t >>> 25);
    t = (x14 + x10) | 0; x2 ^= (t << 9) | (t >>> 23);
    t = (x2 + x14) | 0; x6 ^= (t << 13) | (t >>> 19);
    t = (x6 + x2) | 0; x10 ^= (t << 18) | (t >>> 14);
    t = (x15 + x11) | 0; x3 ^= (t << 7) | (t >>> 25);
    t = (x3 + x15) | 0; x7 ^= (t << 9) | (t >>> 23);
    t = (x7 + x3) | 0; x11 ^= (t << 13) | (t >>> 19);
    t = (x11 + x7) | 0; x15 ^= (t << 18) | (t >>> 14);
    // row round
    t = (x0 + x3) | 0; x1 ^= (t << 7) | (t >>> 25);
    t = (x1 + x0) | 0; x2 ^= (t << 9) | (t >>> 23);
    t = (x2 + x1) | 0; x3 ^= (t << 13) | (t >>> 19);
    t = (x3 + x2) | 0; x0 ^= (t << 18) | (t >>> 14);
    t = (x5 + x4) | 0; x6 ^= (t << 7) | (t >>> 25);
    t = (x6 + x5) | 0; x7 ^= (t << 9) | (t >>> 23);
    t = (x7 + x6) | 0; x4 ^= (t << 13) | (t >>> 19);
    t = (x4 + x7) | 0; x5 ^= (t << 18) | (t >>> 14);
    t = (x10 + x9) | 0; x11 ^= (t << 7) | (t >>> 25);
    t = (x11 + x10) | 0; x8 ^= (t << 9) | (t >>> 23);
    t = (x8 + x11) | 0; x9 ^= (t << 13) | (t >>> 19);
    t = (x9 + x8) | 0; x10 ^= (t << 18) | (t >>> 14);
    t = (x15 + x14) | 0; x12 ^= (t << 7) | (t >>> 25);
    t = (x12 + x15) | 0; x13 ^= (t << 9) | (t >>> 23);
    t = (x13 + x12) | 0; x14 ^= (t << 13) | (t >>> 19);
    t = (x14 + x13) | 0; x15 ^= (t << 18) | (t >>> 14);
  }
  B[d] = j0 + x0; B[d + 1] = j1 + x1; B[d + 2] = j2 + x2; B[d + 3] = j3 + x3;
  B[d + 4] = j4 + x4; B[d + 5] = j5 + x5; B[d + 6] = j6 + x6; B[d + 7] = j7 + x7;
  B[d + 8] = j8 + x8; B[d + 9] = j9 + x9; B[d + 10] = j10 + x10; B[d + 11] = j11 + x11;
  B[d + 12] = j12 + x12; B[d + 13] = j13 + x13; B[d + 14] = j14 + x14; B[d + 15] = j15 + x15;
}

/**
 * scrypt ROMix with r=1 on X (32 words) in place (RFC 7914 §5). BlockMix for r=1 is Y0 = Salsa(B1^B0),
 * Y1 = Salsa(Y0^B1), output Y0‖Y1 — done in place as salsaXor(X,0,16) then salsaXor(X,16,0).
 */
function roMix(): void {
  for (let i = 0; i < N; i++) {
    V.set(X, i * 32);
    salsaXor(X, 0, 16);
    salsaXor(X, 16, 0);
  }
  for (let i = 0; i < N; i++) {
    const off = ((X[16] as number) & (N - 1)) * 32; // Integerify: first word of the last 64-byte block, mod N
    for (let k = 0; k < 32; k++) X[k] = (X[k] as number) ^ (V[off + k] as number);
    salsaXor(X, 0, 16);
    salsaXor(X, 16, 0);
  }
}

/**
 * Litecoin's PoW hash of an 80-byte block header, written into out (32 bytes, little-endian integer order,
 * compared against the target like raw sha256d output: see hashMeetsTarget in target.ts).
 * = PBKDF2-HMAC-SHA256(header, header, 1, 128) → ROMix(N=1024) → PBKDF2-HMAC-SHA256(header, B', 1, 32).
 * `sha` is the injected hash (the runtime's native SHA-256 on Bun); it runs ~11 times per call, the 4096 Salsa20/8 cores dominate.
 * A header of any other length is hashed all the same (scrypt accepts any password); callers validate length.
 */
export function scryptPow(header: Uint8Array, out: Uint8Array, sha: Sha256Into = nobleSha256Into): void {
  setKey(sha, header);
  const hl = header.length;
  const inner1 = hl === 80 ? INNER1 : new Uint8Array(64 + hl + 4);
  inner1.set(IPAD, 0);
  inner1.set(header, 64);
  // B = T1‖T2‖T3‖T4 with Ti = HMAC(header, header‖INT(i)): c=1, so no further iterations (RFC 8018 §5.2).
  for (let blk = 0; blk < 4; blk++) {
    inner1[64 + hl] = 0;
    inner1[64 + hl + 1] = 0;
    inner1[64 + hl + 2] = 0;
    inner1[64 + hl + 3] = blk + 1;
    hmacInto(sha, inner1, DIGEST);
    for (let w = 0; w < 8; w++) {
      const o = w * 4;
      X[blk * 8 + w] =
        (DIGEST[o] as number) | ((DIGEST[o + 1] as number) << 8) | ((DIGEST[o + 2] as number) << 16) | ((DIGEST[o + 3] as number) << 24);
    }
  }
  roMix();
  // Output = PBKDF2(header, B', 1, 32) = HMAC(header, B'‖INT(1)); B' serialised little-endian (RFC 7914 §6).
  INNER2.set(IPAD, 0);
  for (let w = 0; w < 32; w++) {
    const v = X[w] as number;
    const o = 64 + w * 4;
    INNER2[o] = v & 0xff;
    INNER2[o + 1] = (v >>> 8) & 0xff;
    INNER2[o + 2] = (v >>> 16) & 0xff;
    INNER2[o + 3] = v >>> 24;
  }
  INNER2[192] = 0;
  INNER2[193] = 0;
  INNER2[194] = 0;
  INNER2[195] = 1;
  hmacInto(sha, INNER2, out);
}
