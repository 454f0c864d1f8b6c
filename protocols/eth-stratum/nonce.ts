// EthereumStratum/1.0.0 nonce helpers: extranonce formatting and extranonce ‖ miner nonce → the 8-byte eth nonce; no difficulty math.

/** An Ethereum PoW nonce is 8 bytes = 16 hex digits. */
export const NONCE_HEX_DIGITS = 16;

/** The NiceHash spec lets the pool own at most 3 bytes of the nonce, leaving the miner ≥ 5 bytes (2^40 per job). */
export const MAX_EXTRANONCE_BYTES = 3;

const HEX_RE = /^[0-9a-fA-F]*$/;

/** True for an even-length hex string of 0..3 bytes: a usable EthereumStratum extranonce. */
export function isValidExtranonce(extranonceHex: string): boolean {
  return (extranonceHex.length & 1) === 0 && extranonceHex.length <= 2 * MAX_EXTRANONCE_BYTES && HEX_RE.test(extranonceHex);
}

/** Hex digits the miner must submit for this extranonce: 16 − 2·bytes (spec: a2eea0 → 10 digits, "cfae7df760"). */
export function minerNonceDigits(extranonceHex: string): number {
  return NONCE_HEX_DIGITS - extranonceHex.length;
}

/**
 * counter → lowercase hex of exactly `bytes` bytes (big-endian, zero-padded), for handing out a unique
 * extranonce per connection. undefined when bytes is not 1..3 or counter is not an integer in 0..256^bytes − 1.
 */
export function formatExtranonce(counter: number, bytes: number): string | undefined {
  if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_EXTRANONCE_BYTES) return undefined;
  if (!Number.isInteger(counter) || counter < 0 || counter >= 256 ** bytes) return undefined;
  return counter.toString(16).padStart(2 * bytes, "0");
}

/**
 * The full nonce for eth_submitWork / the share check: "0x" + extranonce ‖ miner nonce, lowercase, 16 hex
 * digits, big-endian as written (spec section IV: a2eea0 + cfae7df760 = 0xa2eea0cfae7df760).
 * undefined when either part is not hex, the extranonce is not a valid 0..3-byte value, or the lengths do not
 * add up to exactly 8 bytes (so a miner nonce of the wrong length is refused here too).
 */
export function fullNonce(extranonceHex: string, minerNonceHex: string): string | undefined {
  if (!isValidExtranonce(extranonceHex)) return undefined;
  if (extranonceHex.length + minerNonceHex.length !== NONCE_HEX_DIGITS || !HEX_RE.test(minerNonceHex)) return undefined;
  return "0x" + (extranonceHex + minerNonceHex).toLowerCase();
}
