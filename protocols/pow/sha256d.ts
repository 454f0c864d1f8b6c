// Double SHA-256 over an injected Sha256Into, plus the pure @noble fallback implementation; no runtime-specific hashing here.
import { sha256 } from "@noble/hashes/sha2.js";
import type { Sha256Into } from "./types.ts";

/** Intermediate digest of sha256d; module-level so the hot path allocates nothing (calls are synchronous, never interleaved). */
const MID = new Uint8Array(32);

/** Writes sha256(sha256(input)) into out (32 bytes, may be a subarray; must not be the input's first-hash scratch). */
export function sha256d(sha: Sha256Into, input: Uint8Array, out: Uint8Array): void {
  sha(input, MID);
  sha(MID, out);
}

/** Binds a Sha256Into into a two-argument sha256d, for callers that pass one function around. */
export function makeSha256d(sha: Sha256Into): (input: Uint8Array, out: Uint8Array) => void {
  return (input, out) => sha256d(sha, input, out);
}

/**
 * Pure-JS sha256 (@noble/hashes) writing into out; used on Deno and anywhere no native hash is injected.
 * create()+digestInto skips digest()'s extra copy. Measured ~10x slower than Bun's native SHA-256 on 80-byte inputs.
 */
export const nobleSha256Into: Sha256Into = (input, out) => {
  sha256.create().update(input).digestInto(out);
};
