// Data shapes of Ethereum-style (ethash/etchash) work as the relay hands it out; no logic.

export type EthAlgo = "ethash" | "etchash";

/** What a work source provides: exactly eth_getWork's four fields, decoded. */
export interface EthWork {
  /** Seal hash ("pow hash"): keccak256 of the RLP header without mixHash and nonce; 0x + 64 hex. */
  headerHash: string;
  /** Seed hash of the block's epoch; 0x + 64 hex. */
  seedHash: string;
  /** Block boundary: a hash ≤ this (as a big-endian 256-bit number) is a block. */
  target: bigint;
  blockNumber: number;
}

/** One job as the relay keeps it: the work plus what the share check needs. Immutable once built. */
export interface EthJob extends EthWork {
  /** Short id for EthereumStratum/1.0.0 notify (eth-proxy miners key jobs by headerHash instead). */
  id: string;
  algo: EthAlgo;
  epoch: number;
  /** Light-cache and dataset sizes of the epoch (hashimoto's light evaluation needs both). */
  cacheSize: number;
  fullSize: number;
  seedBytes: Uint8Array;
  /** headerHash as 32 bytes. */
  headerBytes: Uint8Array;
  /**
   * Relay mode: the work came from an upstream pool. `target` is then that pool's share boundary, so
   * a share meeting it is forwarded there (and answered with its verdict) instead of submitted as a block.
   */
  upstream?: { link: number; jobId: string };
}
