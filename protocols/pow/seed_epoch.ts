// Which ethash seed index a seed hash is (keccak256 iterated n times over 32 zero bytes), for upstream work that names no block number; pure.
import { keccak_256 } from "@noble/hashes/sha3.js";

const known = new Map<string, number>();
/** Seeds walked so far, in order: index i is keccak256^i(0). */
const chain: string[] = [];
let last = new Uint8Array(32);

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/**
 * n such that keccak256^n(0^32) equals `seedHex` (0x optional), searching at most `max` iterations
 * (2048 ≈ block 61M on ethash), or undefined. Ethash epoch n starts at block 30000·n; an etchash
 * (ECIP-1099) epoch uses the seed of ethash epoch 2·epoch, so block 30000·n lies in it too.
 * Walked once and remembered: each new seed costs only the iterations past the last one.
 */
export function seedIndex(seedHex: string, max = 2048): number | undefined {
  const want = seedHex.toLowerCase().replace(/^0x/, "");
  const hit = known.get(want);
  if (hit !== undefined) return hit;
  if (chain.length === 0) {
    chain.push(hex(last));
    known.set(chain[0]!, 0);
    if (chain[0] === want) return 0;
  }
  while (chain.length <= max) {
    last = keccak_256(last);
    const h = hex(last);
    known.set(h, chain.length);
    chain.push(h);
    if (h === want) return chain.length - 1;
  }
  return undefined;
}
