// Hex ⇄ bytes with lookup tables (no regex, no throw, optional allocation-free decode); does not know about byte order conventions beyond reverseHex.

/** charCode → nibble value, -1 for anything that is not [0-9a-fA-F]. */
const NIBBLE = new Int8Array(256).fill(-1);
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i;
for (let i = 0; i < 6; i++) {
  NIBBLE[65 + i] = 10 + i;
  NIBBLE[97 + i] = 10 + i;
}

/** byte → two lowercase hex chars; string concatenation of table entries beats toString(16)+padStart several-fold. */
const BYTE_HEX: string[] = [];
for (let i = 0; i < 256; i++) BYTE_HEX.push((i < 16 ? "0" : "") + i.toString(16));

function nibble(code: number): number {
  // code > 255 (non-Latin1) is not hex; Int8Array reads past the end as undefined, so guard explicitly.
  return code < 256 ? (NIBBLE[code] as number) : -1;
}

/** True when s is even-length and all hex (empty string included). Allocates nothing. */
export function isHex(s: string): boolean {
  if ((s.length & 1) !== 0) return false;
  for (let i = 0; i < s.length; i++) if (nibble(s.charCodeAt(i)) < 0) return false;
  return true;
}

/** Decodes hex into a new array; undefined on odd length or any non-hex character. Empty string → empty array. */
export function hexToBytes(hex: string): Uint8Array | undefined {
  if ((hex.length & 1) !== 0) return undefined;
  const out = new Uint8Array(hex.length >> 1);
  return hexIntoBytes(hex, out, 0) ? out : undefined;
}

/**
 * Decodes hex into out at offset without allocating. Returns false (out possibly partly written)
 * on odd length, a non-hex character, or when the bytes would not fit.
 */
export function hexIntoBytes(hex: string, out: Uint8Array, offset: number): boolean {
  const n = hex.length;
  if ((n & 1) !== 0 || offset < 0 || offset + (n >> 1) > out.length) return false;
  for (let i = 0, j = offset; i < n; i += 2, j++) {
    const hi = nibble(hex.charCodeAt(i));
    const lo = nibble(hex.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return false;
    out[j] = (hi << 4) | lo;
  }
  return true;
}

/** Lowercase hex of bytes in array order. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += BYTE_HEX[bytes[i] as number];
  return s;
}

/** Lowercase hex of bytes in reverse order: raw sha256d output → display hash/txid. */
export function bytesToHexReversed(bytes: Uint8Array): string {
  let s = "";
  for (let i = bytes.length - 1; i >= 0; i--) s += BYTE_HEX[bytes[i] as number];
  return s;
}

/** Reverses the byte order of a hex string (display ⇄ internal). Odd length → undefined. Characters are not validated. */
export function reverseHex(hex: string): string | undefined {
  if ((hex.length & 1) !== 0) return undefined;
  let s = "";
  for (let i = hex.length - 2; i >= 0; i -= 2) s += hex.slice(i, i + 2);
  return s;
}

/**
 * Parses 1..8 hex chars as a big-endian u32 (Stratum's ntime/nonce/version fields); shorter input is
 * implicitly left-padded with zeros. Returns -1 for empty, longer than 8, or non-hex input.
 */
export function hexToU32(hex: string): number {
  const n = hex.length;
  if (n === 0 || n > 8) return -1;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = nibble(hex.charCodeAt(i));
    if (d < 0) return -1;
    v = v * 16 + d; // multiply, not shift: stays exact above 2^31 without >>> gymnastics
  }
  return v;
}

/** A u32 as 8 lowercase hex chars, big-endian (Stratum's wire form). */
export function u32ToHex(v: number): string {
  const x = v >>> 0;
  return (
    (BYTE_HEX[x >>> 24] as string) +
    (BYTE_HEX[(x >>> 16) & 0xff] as string) +
    (BYTE_HEX[(x >>> 8) & 0xff] as string) +
    (BYTE_HEX[x & 0xff] as string)
  );
}
