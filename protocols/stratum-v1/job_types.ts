// Data shapes of a Stratum v1 job (built once per template, shared read-only by every session); no logic.
import type { BlockTemplate } from "../bitcoin/template.ts";

export interface CoinbaseOptions {
  /** scriptPubKey the coinbase pays (the whole coinbaseValue goes to this one output). */
  payoutScript: Uint8Array;
  /** ASCII tag placed in the scriptSig after the extranonce slot; truncated so the scriptSig stays ≤ 100 bytes. */
  poolTag: string;
  /** Bytes of extranonce1 (the per-connection prefix), usually 4. */
  extranonce1Size: number;
  /** Bytes of extranonce2 (the miner's space), 2..16 (cgminer refuses others). */
  extranonce2Size: number;
}

/** Relay mode: where a job came from upstream and what a share must reach to be forwarded there. */
export interface UpstreamJobRef {
  /** The upstream pool's job id (what mining.submit names upstream). */
  jobId: string;
  /** The upstream connection that issued it: shares go back only to that one. */
  link: number;
  /** Zero bytes (hex) between the upstream's extranonce1 and the miner's prefix, part of the upstream extranonce2. */
  pad: string;
  difficulty: number;
  target: bigint;
  targetLE: Uint8Array;
}

/** One job as sent in mining.notify plus the binary forms the share check needs. Immutable once built. */
export interface StratumJob {
  /** Job id as sent on the wire (short hex). */
  id: string;
  /** Set on a re-issue of another job (same template, ntime bumped): shares of both count as one for duplicates. */
  aliasOf?: string;
  height: number;
  template: BlockTemplate;
  extranonce1Size: number;
  extranonce2Size: number;

  // --- mining.notify fields, exactly as on the wire ---
  /** prevhash: internal byte order with each 4-byte word byte-swapped. */
  prevhashNotify: string;
  coinb1: string;
  coinb2: string;
  /** merkle branch, each 32-byte hash in internal (raw sha256d) order, hex. */
  merkleBranch: string[];
  /** 8 hex chars, big-endian u32. */
  versionHex: string;
  nbitsHex: string;
  ntimeHex: string;

  // --- binary forms for the share check (no hex work on the hot path) ---
  coinb1Bytes: Uint8Array;
  coinb2Bytes: Uint8Array;
  /** merkle branch concatenated: 32 bytes per step, internal order. */
  branchBytes: Uint8Array;
  /** previous block hash in internal order (as in the header). */
  prevhash: Uint8Array;
  version: number;
  bits: number;
  ntime: number;
  /** target from bits as bigint and as 32 little-endian bytes (hash bytes compare directly). */
  networkTarget: bigint;
  networkTargetLE: Uint8Array;
  /** Set on jobs relayed from an upstream pool (relay mode). */
  upstream?: UpstreamJobRef;
}
