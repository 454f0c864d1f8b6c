// eth-proxy pool→miner encoders: JSON-RPC 2.0 lines for results, errors and work packages; no decisions about what to send.
import type { JsonRpcId } from "../jsonrpc/envelope.ts";

export interface EthWork {
  /** eth_getWork result[0]: the header pow-hash (sealhash), 32 bytes hex, with or without 0x. */
  headerHash: string;
  /** result[1]: the epoch seed hash, 32 bytes hex, with or without 0x. */
  seedHash: string;
  /** Share boundary: valid iff uint256(final hash) <= target. 0 <= target < 2^256. */
  target: bigint;
  /** result[3]: block height (geth sends it since 1.8; Claymore and ethminer read it when present). */
  blockNumber: number;
}

const TWO_256 = 1n << 256n;

function idJson(id: JsonRpcId): string {
  return JSON.stringify(id);
}

/**
 * {"id":..,"jsonrpc":"2.0","result":..}\n — the open-ethereum-pool reply shape (error omitted, as its
 * JSONRpcResp does with omitempty). The value must be JSON-serializable (no bigint).
 */
export function encodeEthResult(id: JsonRpcId, result: unknown): string {
  return '{"id":' + idJson(id) + ',"jsonrpc":"2.0","result":' + (result === undefined ? "null" : JSON.stringify(result)) + "}\n";
}

/** {"id":..,"jsonrpc":"2.0","result":null,"error":{"code":..,"message":".."}}\n (open-ethereum-pool ErrorReply). */
export function encodeEthError(id: JsonRpcId, code: number, message: string): string {
  return (
    '{"id":' + idJson(id) + ',"jsonrpc":"2.0","result":null,"error":{"code":' + String(code) + ',"message":' + JSON.stringify(message) + "}}\n"
  );
}

/**
 * Canonical Ethereum hex quantity: "0x" + lowercase hex without leading zeros, "0x0" for zero
 * (Ethereum JSON-RPC spec, "Hex value encoding"). Throws RangeError on a negative or non-integer
 * value: that is a bug in the caller, never wire input.
 */
export function encodeQuantity(n: bigint | number): string {
  if (typeof n === "number") {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`quantity must be a non-negative safe integer, got ${n}`);
    return "0x" + n.toString(16);
  }
  if (n < 0n) throw new RangeError(`quantity must be non-negative, got ${n}`);
  return "0x" + n.toString(16);
}

/**
 * Target as 32 bytes: "0x" + 64 hex digits, zero-padded. open-ethereum-pool sends big.Int.Bytes() unpadded
 * (fixture target_examples) and ethminer left-pads it, but other miners compare strings or parse fixed width,
 * so we always emit the full 32 bytes. Throws RangeError outside 0..2^256-1.
 */
export function encodeTarget(target: bigint): string {
  if (target < 0n || target >= TWO_256) throw new RangeError("target must be in 0..2^256-1");
  return "0x" + target.toString(16).padStart(64, "0");
}

function with0x(hex: string): string {
  return hex.startsWith("0x") || hex.startsWith("0X") ? "0x" + hex.slice(2).toLowerCase() : "0x" + hex.toLowerCase();
}

/** The eth_getWork result array [headerHash, seedHash, target, blockNumber], all 0x-prefixed lowercase. */
export function workResult(work: EthWork): [string, string, string, string] {
  return [with0x(work.headerHash), with0x(work.seedHash), encodeTarget(work.target), encodeQuantity(work.blockNumber)];
}

/** Reply to eth_getWork. Throws RangeError on a target or block number out of range (caller bug). */
export function encodeWork(id: JsonRpcId, work: EthWork): string {
  return encodeEthResult(id, workResult(work));
}

/**
 * Unsolicited new-work push: the same result with id 0. Claymore and ethminer (ETHPROXY mode) treat a
 * response with id 0 and a result array as a new job; open-ethereum-pool pushes exactly this shape.
 */
export function encodeWorkPush(work: EthWork): string {
  return encodeWork(0, work);
}
