// Ethash / etchash (ECIP-1099) epochs: epoch of a block, its seed, light-cache and dataset sizes; pure.
import { ETHASH_EPOCH_LENGTH, ETCHASH_EPOCH_LENGTH, ETHASH_HASH_BYTES as HASH_BYTES, ETHASH_MIX_BYTES as MIX_BYTES, seedHash } from "./ethash_light.ts";

export type EthashChain = { algo: "ethash" } | { algo: "etchash"; activationBlock: number };

export interface EpochInfo {
  epoch: number;
  epochLength: number;
}

export interface EpochParams extends EpochInfo {
  /** 32-byte seed hash (what eth_getWork returns as result[1]). */
  seed: Uint8Array;
  cacheSize: number;
  fullSize: number;
}

/**
 * Epoch of a block. Etchash (ECIP-1099) doubles the epoch length from the activation block on;
 * before it the chain is plain ethash. Negative or non-integer block numbers yield undefined.
 */
export function epochOf(blockNumber: number, chain: EthashChain): EpochInfo | undefined {
  if (!Number.isSafeInteger(blockNumber) || blockNumber < 0) return undefined;
  const len = chain.algo === "etchash" && blockNumber >= chain.activationBlock ? ETCHASH_EPOCH_LENGTH : ETHASH_EPOCH_LENGTH;
  return { epoch: Math.floor(blockNumber / len), epochLength: len };
}

/**
 * Seed, cache and dataset sizes for a block. Etchash sizes use the ethash formulas at the etchash
 * epoch number itself (ETC block 11,700,000 → epoch 195 → cache 42334912), while the seed is the
 * one of ethash epoch 390: core-geth seeds from block epoch·epochLength+1. The fixture's
 * coregeth-etc-11700000 vector pins both. Cache keys must therefore include the sizes, not only the seed.
 */
export function epochParams(blockNumber: number, chain: EthashChain): EpochParams | undefined {
  const info = epochOf(blockNumber, chain);
  if (info === undefined) return undefined;
  return {
    ...info,
    seed: seedHash(info.epoch, info.epochLength),
    cacheSize: cacheSize(info.epoch),
    fullSize: datasetSize(info.epoch),
  };
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  const lim = Math.floor(Math.sqrt(n));
  for (let d = 3; d <= lim; d += 2) if (n % d === 0) return false;
  return true;
}

/** Light cache bytes for an epoch: 2^24 + 2^17·epoch − 64, stepped down by 128 until size/64 is prime. */
export function cacheSize(epoch: number): number {
  let sz = 2 ** 24 + 2 ** 17 * epoch - HASH_BYTES;
  while (!isPrime(sz / HASH_BYTES)) sz -= 2 * HASH_BYTES;
  return sz;
}

/** Full dataset (DAG) bytes for an epoch: 2^30 + 2^23·epoch − 128, stepped down by 256 until size/128 is prime. Exceeds 2^32 from epoch 384: plain number arithmetic only. */
export function datasetSize(epoch: number): number {
  let sz = 2 ** 30 + 2 ** 23 * epoch - MIX_BYTES;
  while (!isPrime(sz / MIX_BYTES)) sz -= 2 * MIX_BYTES;
  return sz;
}
