// Writes the 80-byte Bitcoin block header into a caller's buffer (no allocation); does not hash or validate it.
import { writeU32LE } from "./script.ts";

/** Header size in bytes. */
export const HEADER_SIZE = 80;

/**
 * Layout: version u32 LE | prevhash internal (32) | merkle root internal (32) | time u32 LE | bits u32 LE | nonce u32 LE.
 * out must hold 80 bytes; prevhash and merkleRoot are copied byte by byte (no subarray views created).
 */
export function writeHeader(
  out: Uint8Array,
  version: number,
  prevhash: Uint8Array,
  merkleRoot: Uint8Array,
  time: number,
  bits: number,
  nonce: number,
): void {
  writeU32LE(out, 0, version);
  for (let i = 0; i < 32; i++) out[4 + i] = prevhash[i] as number;
  for (let i = 0; i < 32; i++) out[36 + i] = merkleRoot[i] as number;
  writeU32LE(out, 68, time);
  writeU32LE(out, 72, bits);
  writeU32LE(out, 76, nonce);
}
