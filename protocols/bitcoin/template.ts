// The work a Bitcoin-family upstream hands out (getblocktemplate's fields, or the devnet's); data only.

export interface TemplateTx {
  /** Full transaction hex as it goes into the block (witness serialization when it has witnesses). */
  data: string;
  /** txid in display order (byte-reversed sha256d of the non-witness serialization). */
  txid: string;
}

export interface BlockTemplate {
  height: number;
  /** Block version as a u32 (getblocktemplate "version"). */
  version: number;
  /** Previous block hash in display order (getblocktemplate "previousblockhash"). */
  previousBlockHash: string;
  /** Compact target, 8 hex chars big-endian (getblocktemplate "bits"). */
  bits: string;
  /** Template time (getblocktemplate "curtime"), unix seconds. */
  curtime: number;
  /** Satoshis available to the coinbase (getblocktemplate "coinbasevalue"). */
  coinbaseValue: bigint;
  transactions: TemplateTx[];
  /** getblocktemplate "default_witness_commitment": a full output script hex (6a24aa21a9ed…), when segwit txs exist or rules ask. */
  witnessCommitment?: string;
  /** Extra bytes the upstream wants in the coinbase scriptSig after the height (getblocktemplate "coinbaseaux.flags"), hex. */
  coinbaseFlags?: string;
  /**
   * Litecoin MWEB extension block (getblocktemplate "mweb"), serialized, hex; present once MWEB is active.
   * Then the template's LAST transaction is the HogEx (integrating tx: marker 00, flag byte with bit 0x08) and is
   * hashed into the merkle tree like any other tx, and the block is header ‖ varint(n) ‖ txs ‖ 01 ‖ these bytes
   * (Litecoin Core CBlock: mweb_block written as a present optional only when vtx.back() is the HogEx;
   * checked byte for byte against a block mined by Litecoin Core 0.21.2.1 on regtest).
   */
  mweb?: string;
}
