// Bitcoin transaction merkle tree: the coinbase branch Stratum sends, folding it back to a root, and a full root from txids; internal byte order throughout.
import type { Sha256Into } from "../pow/types.ts";
import { sha256d } from "../pow/sha256d.ts";

/** [left ‖ right] scratch for folding; the new node is written back over `left`. Module-level: no allocation per share. */
const PAIR = new Uint8Array(64);
const PAIR_LEFT = PAIR.subarray(0, 32);

function hashPair(a: Uint8Array, b: Uint8Array, sha: Sha256Into): Uint8Array {
  const buf = new Uint8Array(64);
  buf.set(a, 0);
  buf.set(b, 32);
  const out = new Uint8Array(32);
  sha256d(sha, buf, out);
  return out;
}

/**
 * The merkle branch for leaf 0 (the coinbase) of a tree whose other leaves are txidsInternal, in order.
 * Each level: the sibling of our node goes into the branch, the remaining nodes are paired (an odd count
 * duplicates the last one, Bitcoin's rule) and hashed into the next level. Empty txids → empty branch.
 */
export function merkleBranchFromTxids(txidsInternal: Uint8Array[], sha: Sha256Into): Uint8Array[] {
  const branch: Uint8Array[] = [];
  let level = txidsInternal;
  while (level.length > 0) {
    branch.push(level[0] as Uint8Array);
    const rest = level.slice(1);
    if (rest.length % 2 === 1) rest.push(rest[rest.length - 1] as Uint8Array);
    const next: Uint8Array[] = [];
    for (let i = 0; i < rest.length; i += 2) next.push(hashPair(rest[i] as Uint8Array, rest[i + 1] as Uint8Array, sha));
    level = next;
  }
  return branch;
}

/**
 * Folds a coinbase hash (internal order) up the branch (32 bytes per step, concatenated) and writes the
 * merkle root into out (32 bytes). Allocation-free: the share-check hot path calls it per share.
 */
export function merkleRootFromBranch(coinbaseHash: Uint8Array, branchBytes: Uint8Array, sha: Sha256Into, out: Uint8Array): void {
  for (let i = 0; i < 32; i++) PAIR[i] = coinbaseHash[i] as number;
  for (let off = 0; off + 32 <= branchBytes.length; off += 32) {
    for (let i = 0; i < 32; i++) PAIR[32 + i] = branchBytes[off + i] as number;
    sha256d(sha, PAIR, PAIR_LEFT);
  }
  for (let i = 0; i < 32; i++) out[i] = PAIR[i] as number;
}

/** Full merkle root of leaves (internal order, coinbase first), duplicate-last rule; one leaf → itself. Empty → undefined. */
export function merkleRootFromTxids(leavesInternal: Uint8Array[], sha: Sha256Into): Uint8Array | undefined {
  if (leavesInternal.length === 0) return undefined;
  let level = leavesInternal;
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i] as Uint8Array;
      next.push(hashPair(a, (level[i + 1] ?? a) as Uint8Array, sha));
    }
    level = next;
  }
  return Uint8Array.from(level[0] as Uint8Array);
}
