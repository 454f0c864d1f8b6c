// Public entry point of the proof-of-work primitives (hex, sha256d, targets); re-exports only, no logic.
export type { Sha256Into } from "./types.ts";
export { bytesToHex, bytesToHexReversed, hexIntoBytes, hexToBytes, hexToU32, isHex, reverseHex, u32ToHex } from "./hex.ts";
export { makeSha256d, nobleSha256Into, sha256d } from "./sha256d.ts";
export {
  bitsToTarget,
  bytesLEToBigInt,
  DIFF1_SHA256,
  difficultyToTarget,
  hashMeetsTarget,
  hashToDifficulty,
  MAX_TARGET,
  targetToBits,
  targetToDifficulty,
  targetToLE,
} from "./target.ts";
export { DIFF1_SCRYPT, scryptPow } from "./scrypt.ts";
