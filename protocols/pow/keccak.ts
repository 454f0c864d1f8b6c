// Keccak-f[1600] permutation on 32-bit lane halves, unrolled and allocation-free; no padding or hashing modes here (see ethash.ts).

/*
 * Why our own: @noble/hashes keccak_512 allocates a hasher and output per call, and ethash light
 * verification runs 256 keccak512 calls per share (2 per dataset item, 128 items) plus ~1M per cache
 * build. This is FIPS 202 §3.2 (theta, rho, pi, chi, iota; 24 rounds) mechanically unrolled: the
 * state lives in 50 locals for all 24 rounds, one load and one store per call. Lane k is the pair
 * (s[2k] = low 32 bits, s[2k+1] = high 32 bits) of the little-endian 64-bit lane, which is the same
 * layout as @noble's keccakP over its state32; test/protocols/pow/ethash.test.ts checks both agree
 * on random states. Rotation offsets and round constants were generated from the spec's LFSR and
 * (x, y) → (y, 2x+3y) walk, not copied.
 */

/** Iota round constants as (low, high) 32-bit halves, rounds 0..23. */
const RC = new Int32Array([
  0x00000001, 0x00000000,
  0x00008082, 0x00000000,
  0x0000808a, 0x80000000,
  0x80008000, 0x80000000,
  0x0000808b, 0x00000000,
  0x80000001, 0x00000000,
  0x80008081, 0x80000000,
  0x00008009, 0x80000000,
  0x0000008a, 0x00000000,
  0x00000088, 0x00000000,
  0x80008009, 0x00000000,
  0x8000000a, 0x00000000,
  0x8000808b, 0x00000000,
  0x0000008b, 0x80000000,
  0x00008089, 0x80000000,
  0x00008003, 0x80000000,
  0x00008002, 0x80000000,
  0x00000080, 0x80000000,
  0x0000800a, 0x00000000,
  0x8000000a, 0x80000000,
  0x80008081, 0x80000000,
  0x00008080, 0x80000000,
  0x80000001, 0x00000000,
  0x80008008, 0x80000000
]);

/** Applies Keccak-f[1600] in place to a 50-word state (lane k = s[2k] low, s[2k+1] high). */
export function keccakF1600(s: Uint32Array): void {
  let a0 = s[0]! | 0;
  let a1 = s[1]! | 0;
  let a2 = s[2]! | 0;
  let a3 = s[3]! | 0;
  let a4 = s[4]! | 0;
  let a5 = s[5]! | 0;
  let a6 = s[6]! | 0;
  let a7 = s[7]! | 0;
  let a8 = s[8]! | 0;
  let a9 = s[9]! | 0;
  let a10 = s[10]! | 0;
  let a11 = s[11]! | 0;
  let a12 = s[12]! | 0;
  let a13 = s[13]! | 0;
  let a14 = s[14]! | 0;
  let a15 = s[15]! | 0;
  let a16 = s[16]! | 0;
  let a17 = s[17]! | 0;
  let a18 = s[18]! | 0;
  let a19 = s[19]! | 0;
  let a20 = s[20]! | 0;
  let a21 = s[21]! | 0;
  let a22 = s[22]! | 0;
  let a23 = s[23]! | 0;
  let a24 = s[24]! | 0;
  let a25 = s[25]! | 0;
  let a26 = s[26]! | 0;
  let a27 = s[27]! | 0;
  let a28 = s[28]! | 0;
  let a29 = s[29]! | 0;
  let a30 = s[30]! | 0;
  let a31 = s[31]! | 0;
  let a32 = s[32]! | 0;
  let a33 = s[33]! | 0;
  let a34 = s[34]! | 0;
  let a35 = s[35]! | 0;
  let a36 = s[36]! | 0;
  let a37 = s[37]! | 0;
  let a38 = s[38]! | 0;
  let a39 = s[39]! | 0;
  let a40 = s[40]! | 0;
  let a41 = s[41]! | 0;
  let a42 = s[42]! | 0;
  let a43 = s[43]! | 0;
  let a44 = s[44]! | 0;
  let a45 = s[45]! | 0;
  let a46 = s[46]! | 0;
  let a47 = s[47]! | 0;
  let a48 = s[48]! | 0;
  let a49 = s[49]! | 0;
  for (let r = 0; r < 48; r += 2) {
    const c0l = a0 ^ a10 ^ a20 ^ a30 ^ a40;
    const c0h = a1 ^ a11 ^ a21 ^ a31 ^ a41;
    const c1l = a2 ^ a12 ^ a22 ^ a32 ^ a42;
    const c1h = a3 ^ a13 ^ a23 ^ a33 ^ a43;
    const c2l = a4 ^ a14 ^ a24 ^ a34 ^ a44;
    const c2h = a5 ^ a15 ^ a25 ^ a35 ^ a45;
    const c3l = a6 ^ a16 ^ a26 ^ a36 ^ a46;
    const c3h = a7 ^ a17 ^ a27 ^ a37 ^ a47;
    const c4l = a8 ^ a18 ^ a28 ^ a38 ^ a48;
    const c4h = a9 ^ a19 ^ a29 ^ a39 ^ a49;
    const d0l = c4l ^ ((c1l << 1) | (c1h >>> 31));
    const d0h = c4h ^ ((c1h << 1) | (c1l >>> 31));
    const d1l = c0l ^ ((c2l << 1) | (c2h >>> 31));
    const d1h = c0h ^ ((c2h << 1) | (c2l >>> 31));
    const d2l = c1l ^ ((c3l << 1) | (c3h >>> 31));
    const d2h = c1h ^ ((c3h << 1) | (c3l >>> 31));
    const d3l = c2l ^ ((c4l << 1) | (c4h >>> 31));
    const d3h = c2h ^ ((c4h << 1) | (c4l >>> 31));
    const d4l = c3l ^ ((c0l << 1) | (c0h >>> 31));
    const d4h = c3h ^ ((c0h << 1) | (c0l >>> 31));
    const b0 = (a0 ^ d0l);
    const b1 = (a1 ^ d0h);
    const t32 = (a10 ^ d0l);
    const t33 = (a11 ^ d0h);
    const b32 = (t33 << 4) | (t32 >>> 28);
    const b33 = (t32 << 4) | (t33 >>> 28);
    const t14 = (a20 ^ d0l);
    const t15 = (a21 ^ d0h);
    const b14 = (t14 << 3) | (t15 >>> 29);
    const b15 = (t15 << 3) | (t14 >>> 29);
    const t46 = (a30 ^ d0l);
    const t47 = (a31 ^ d0h);
    const b46 = (t47 << 9) | (t46 >>> 23);
    const b47 = (t46 << 9) | (t47 >>> 23);
    const t28 = (a40 ^ d0l);
    const t29 = (a41 ^ d0h);
    const b28 = (t28 << 18) | (t29 >>> 14);
    const b29 = (t29 << 18) | (t28 >>> 14);
    const t20 = (a2 ^ d1l);
    const t21 = (a3 ^ d1h);
    const b20 = (t20 << 1) | (t21 >>> 31);
    const b21 = (t21 << 1) | (t20 >>> 31);
    const t2 = (a12 ^ d1l);
    const t3 = (a13 ^ d1h);
    const b2 = (t3 << 12) | (t2 >>> 20);
    const b3 = (t2 << 12) | (t3 >>> 20);
    const t34 = (a22 ^ d1l);
    const t35 = (a23 ^ d1h);
    const b34 = (t34 << 10) | (t35 >>> 22);
    const b35 = (t35 << 10) | (t34 >>> 22);
    const t16 = (a32 ^ d1l);
    const t17 = (a33 ^ d1h);
    const b16 = (t17 << 13) | (t16 >>> 19);
    const b17 = (t16 << 13) | (t17 >>> 19);
    const t48 = (a42 ^ d1l);
    const t49 = (a43 ^ d1h);
    const b48 = (t48 << 2) | (t49 >>> 30);
    const b49 = (t49 << 2) | (t48 >>> 30);
    const t40 = (a4 ^ d2l);
    const t41 = (a5 ^ d2h);
    const b40 = (t41 << 30) | (t40 >>> 2);
    const b41 = (t40 << 30) | (t41 >>> 2);
    const t22 = (a14 ^ d2l);
    const t23 = (a15 ^ d2h);
    const b22 = (t22 << 6) | (t23 >>> 26);
    const b23 = (t23 << 6) | (t22 >>> 26);
    const t4 = (a24 ^ d2l);
    const t5 = (a25 ^ d2h);
    const b4 = (t5 << 11) | (t4 >>> 21);
    const b5 = (t4 << 11) | (t5 >>> 21);
    const t36 = (a34 ^ d2l);
    const t37 = (a35 ^ d2h);
    const b36 = (t36 << 15) | (t37 >>> 17);
    const b37 = (t37 << 15) | (t36 >>> 17);
    const t18 = (a44 ^ d2l);
    const t19 = (a45 ^ d2h);
    const b18 = (t19 << 29) | (t18 >>> 3);
    const b19 = (t18 << 29) | (t19 >>> 3);
    const t10 = (a6 ^ d3l);
    const t11 = (a7 ^ d3h);
    const b10 = (t10 << 28) | (t11 >>> 4);
    const b11 = (t11 << 28) | (t10 >>> 4);
    const t42 = (a16 ^ d3l);
    const t43 = (a17 ^ d3h);
    const b42 = (t43 << 23) | (t42 >>> 9);
    const b43 = (t42 << 23) | (t43 >>> 9);
    const t24 = (a26 ^ d3l);
    const t25 = (a27 ^ d3h);
    const b24 = (t24 << 25) | (t25 >>> 7);
    const b25 = (t25 << 25) | (t24 >>> 7);
    const t6 = (a36 ^ d3l);
    const t7 = (a37 ^ d3h);
    const b6 = (t6 << 21) | (t7 >>> 11);
    const b7 = (t7 << 21) | (t6 >>> 11);
    const t38 = (a46 ^ d3l);
    const t39 = (a47 ^ d3h);
    const b38 = (t39 << 24) | (t38 >>> 8);
    const b39 = (t38 << 24) | (t39 >>> 8);
    const t30 = (a8 ^ d4l);
    const t31 = (a9 ^ d4h);
    const b30 = (t30 << 27) | (t31 >>> 5);
    const b31 = (t31 << 27) | (t30 >>> 5);
    const t12 = (a18 ^ d4l);
    const t13 = (a19 ^ d4h);
    const b12 = (t12 << 20) | (t13 >>> 12);
    const b13 = (t13 << 20) | (t12 >>> 12);
    const t44 = (a28 ^ d4l);
    const t45 = (a29 ^ d4h);
    const b44 = (t45 << 7) | (t44 >>> 25);
    const b45 = (t44 << 7) | (t45 >>> 25);
    const t26 = (a38 ^ d4l);
    const t27 = (a39 ^ d4h);
    const b26 = (t26 << 8) | (t27 >>> 24);
    const b27 = (t27 << 8) | (t26 >>> 24);
    const t8 = (a48 ^ d4l);
    const t9 = (a49 ^ d4h);
    const b8 = (t8 << 14) | (t9 >>> 18);
    const b9 = (t9 << 14) | (t8 >>> 18);
    a0 = b0 ^ (~b2 & b4);
    a1 = b1 ^ (~b3 & b5);
    a2 = b2 ^ (~b4 & b6);
    a3 = b3 ^ (~b5 & b7);
    a4 = b4 ^ (~b6 & b8);
    a5 = b5 ^ (~b7 & b9);
    a6 = b6 ^ (~b8 & b0);
    a7 = b7 ^ (~b9 & b1);
    a8 = b8 ^ (~b0 & b2);
    a9 = b9 ^ (~b1 & b3);
    a10 = b10 ^ (~b12 & b14);
    a11 = b11 ^ (~b13 & b15);
    a12 = b12 ^ (~b14 & b16);
    a13 = b13 ^ (~b15 & b17);
    a14 = b14 ^ (~b16 & b18);
    a15 = b15 ^ (~b17 & b19);
    a16 = b16 ^ (~b18 & b10);
    a17 = b17 ^ (~b19 & b11);
    a18 = b18 ^ (~b10 & b12);
    a19 = b19 ^ (~b11 & b13);
    a20 = b20 ^ (~b22 & b24);
    a21 = b21 ^ (~b23 & b25);
    a22 = b22 ^ (~b24 & b26);
    a23 = b23 ^ (~b25 & b27);
    a24 = b24 ^ (~b26 & b28);
    a25 = b25 ^ (~b27 & b29);
    a26 = b26 ^ (~b28 & b20);
    a27 = b27 ^ (~b29 & b21);
    a28 = b28 ^ (~b20 & b22);
    a29 = b29 ^ (~b21 & b23);
    a30 = b30 ^ (~b32 & b34);
    a31 = b31 ^ (~b33 & b35);
    a32 = b32 ^ (~b34 & b36);
    a33 = b33 ^ (~b35 & b37);
    a34 = b34 ^ (~b36 & b38);
    a35 = b35 ^ (~b37 & b39);
    a36 = b36 ^ (~b38 & b30);
    a37 = b37 ^ (~b39 & b31);
    a38 = b38 ^ (~b30 & b32);
    a39 = b39 ^ (~b31 & b33);
    a40 = b40 ^ (~b42 & b44);
    a41 = b41 ^ (~b43 & b45);
    a42 = b42 ^ (~b44 & b46);
    a43 = b43 ^ (~b45 & b47);
    a44 = b44 ^ (~b46 & b48);
    a45 = b45 ^ (~b47 & b49);
    a46 = b46 ^ (~b48 & b40);
    a47 = b47 ^ (~b49 & b41);
    a48 = b48 ^ (~b40 & b42);
    a49 = b49 ^ (~b41 & b43);
    a0 ^= RC[r] as number;
    a1 ^= RC[r + 1] as number;
  }

  s[0] = a0;
  s[1] = a1;
  s[2] = a2;
  s[3] = a3;
  s[4] = a4;
  s[5] = a5;
  s[6] = a6;
  s[7] = a7;
  s[8] = a8;
  s[9] = a9;
  s[10] = a10;
  s[11] = a11;
  s[12] = a12;
  s[13] = a13;
  s[14] = a14;
  s[15] = a15;
  s[16] = a16;
  s[17] = a17;
  s[18] = a18;
  s[19] = a19;
  s[20] = a20;
  s[21] = a21;
  s[22] = a22;
  s[23] = a23;
  s[24] = a24;
  s[25] = a25;
  s[26] = a26;
  s[27] = a27;
  s[28] = a28;
  s[29] = a29;
  s[30] = a30;
  s[31] = a31;
  s[32] = a32;
  s[33] = a33;
  s[34] = a34;
  s[35] = a35;
  s[36] = a36;
  s[37] = a37;
  s[38] = a38;
  s[39] = a39;
  s[40] = a40;
  s[41] = a41;
  s[42] = a42;
  s[43] = a43;
  s[44] = a44;
  s[45] = a45;
  s[46] = a46;
  s[47] = a47;
  s[48] = a48;
  s[49] = a49;
}
