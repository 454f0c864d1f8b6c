// Bitcoin serialization atoms: BIP34 height push, CompactSize varints, little-endian integer writers; no transaction logic.

/**
 * Bytes of Bitcoin Core `CScript() << nHeight` (BIP34 requires the coinbase scriptSig to start with them):
 * 0 → OP_0; 1..16 → OP_1..OP_16; -1 → OP_1NEGATE; else a push of the minimal little-endian CScriptNum
 * (an extra 0x00/0x80 byte when the top bit of the magnitude is set, so the sign bit stays free).
 */
export function encodeHeightPush(height: number): Uint8Array {
  if (height === 0) return Uint8Array.of(0x00);
  if (height === -1) return Uint8Array.of(0x4f);
  if (height >= 1 && height <= 16) return Uint8Array.of(0x50 + height);
  const num: number[] = [];
  const neg = height < 0;
  let abs = Math.abs(Math.trunc(height));
  while (abs > 0) {
    num.push(abs % 256);
    abs = Math.floor(abs / 256);
  }
  const last = num[num.length - 1] as number;
  if ((last & 0x80) !== 0) num.push(neg ? 0x80 : 0x00);
  else if (neg) num[num.length - 1] = last | 0x80;
  return Uint8Array.from([num.length, ...num]);
}

/** Size in bytes of a CompactSize varint for n. */
export function varIntSize(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;
}

/** Writes n as a CompactSize varint at offset; returns the offset after it. n must be a safe non-negative integer. */
export function writeVarInt(out: Uint8Array, offset: number, n: number): number {
  if (n < 0xfd) {
    out[offset] = n;
    return offset + 1;
  }
  if (n <= 0xffff) {
    out[offset] = 0xfd;
    out[offset + 1] = n & 0xff;
    out[offset + 2] = n >>> 8;
    return offset + 3;
  }
  if (n <= 0xffffffff) {
    out[offset] = 0xfe;
    writeU32LE(out, offset + 1, n);
    return offset + 5;
  }
  out[offset] = 0xff;
  writeU64LE(out, offset + 1, BigInt(n));
  return offset + 9;
}

/** CompactSize varint for n as a new array. */
export function encodeVarInt(n: number): Uint8Array {
  const out = new Uint8Array(varIntSize(n));
  writeVarInt(out, 0, n);
  return out;
}

/** Writes a u32 little-endian at offset (no allocation); returns the offset after it. */
export function writeU32LE(out: Uint8Array, offset: number, v: number): number {
  out[offset] = v & 0xff;
  out[offset + 1] = (v >>> 8) & 0xff;
  out[offset + 2] = (v >>> 16) & 0xff;
  out[offset + 3] = (v >>> 24) & 0xff;
  return offset + 4;
}

/** Writes a u64 little-endian at offset (satoshi amounts); returns the offset after it. */
export function writeU64LE(out: Uint8Array, offset: number, v: bigint): number {
  let x = BigInt.asUintN(64, v);
  for (let i = 0; i < 8; i++) {
    out[offset + i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return offset + 8;
}

/** Reads a u32 little-endian at offset. */
export function readU32LE(b: Uint8Array, offset: number): number {
  return (
    ((b[offset] as number) |
      ((b[offset + 1] as number) << 8) |
      ((b[offset + 2] as number) << 16) |
      ((b[offset + 3] as number) << 24)) >>>
    0
  );
}
