// Test helper: typed view of test/fixtures/bitcoin.json (only the fields the tests read); no assertions here.
import raw from "../../fixtures/bitcoin.json";

export interface BlockVector {
  name: string;
  height: number | null;
  hash: string;
  header_hex: string;
  header: { version: number; prevhash: string; merkle_root: string; time: number; bits: number; nonce: number; bits_hex: string };
  target_hex: string;
  network_difficulty: number;
  hash_share_difficulty: number;
  coinbase_hex?: string;
  coinbase_stripped_hex?: string;
  coinbase_txid?: string;
  coinbase_scriptsig_hex?: string;
  merkle_branch?: string[];
  txids?: string[];
  tx_hex?: string[];
  block_hex?: string;
  bip34_height_push_hex?: string;
  witness?: { commitment_script_hex: string };
}

export interface NotifyVector {
  name: string;
  notify_params: [string, string, string, string, string[], string, string, string, boolean];
  extranonce1: string;
  extranonce2_size: number;
  extranonce2: string;
  submit_params: [string, string, string, string, string];
  block_ref?: string;
  expected: {
    coinbase_hex?: string;
    coinbase_stripped_hex?: string;
    coinbase_txid: string;
    merkle_root: string;
    merkle_root_internal?: string;
    prevhash_display?: string;
    header_hex: string;
    hash: string;
    share_difficulty: number;
    network_difficulty?: number;
    is_block?: boolean;
    pow_valid?: boolean;
  };
}

export interface EspVector {
  name: string;
  job: { prevhash_notify: string; version_hex: string; nbits_hex: string; ntime_hex: string; merkle_branch: string[]; coinbase_hex_with_extranonces: string };
  nonce_hex: string;
  expected: { coinbase_txid: string; merkle_root_internal: string; header_hex: string; hash: string; share_difficulty: number; share_difficulty_int: number };
}

export interface VersionRollingVector {
  name: string;
  header_ref: string;
  job_version_hex: string;
  negotiated_mask_hex: string;
  submit_version_bits_hex: string;
  expected: { final_version_hex: string; header_hex: string; hash: string };
  negative_cases: { version_bits_hex: string; mask_hex: string; expect: string }[];
}

interface Fixture {
  constants: { diff1_target_hex: string; bip320_version_rolling_mask_hex: string };
  blocks: BlockVector[];
  headers: BlockVector[];
  stratum_vectors: unknown[];
  merkle_vectors: { name: string; coinbase_hex: string; merkle_branch: string[]; expected_merkle_root_internal: string }[];
  difficulty_vectors: {
    bits_to_target: { bits_hex: string; target_hex: string; difficulty: number }[];
    difficulty_to_share_target: { difficulty: number; target_hex_floor: string }[];
    hash_to_share_difficulty: { name: string; hash: string; share_difficulty: number }[];
  };
  bip34_height_push_vectors: { vectors: { height: number; push_hex: string }[] };
}

export const fx = raw as unknown as Fixture;

function stratum<T>(name: string): T {
  const v = fx.stratum_vectors.find((x) => (x as { name: string }).name === name);
  if (v === undefined) throw new Error(`fixture ${name} missing`);
  return v as T;
}

export const notifyVectors: NotifyVector[] = fx.stratum_vectors.filter((x) => "notify_params" in (x as object)) as NotifyVector[];
export const espVector = stratum<EspVector>("esp_miner_mainnet_share_diff683");
export const versionRollingVector = stratum<VersionRollingVector>("version_rolling_block_785530");
export const allHeaders: BlockVector[] = [...fx.blocks, ...fx.headers];
