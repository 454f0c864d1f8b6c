// EthereumStratum/1.0.0 (NiceHash) pool→miner encoders: each returns one "\n"-terminated JSON line; no decisions about what to send.
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import { encodeNotification, encodeResult } from "../jsonrpc/envelope.ts";
import { formatDifficulty } from "../stratum-v1/server_to_client.ts";

/** The protocol string of the NiceHash spec, echoed in the subscribe result. */
export const ETH_STRATUM_PROTOCOL = "EthereumStratum/1.0.0";

/** `{"id":..,"result":true,"error":null}` — the same shape as Stratum v1. */
export { encodeTrue } from "../stratum-v1/server_to_client.ts";

/** Errors are Stratum v1 arrays: {"id":..,"result":null,"error":[code,message,null]} (NiceHash spec, "Exception handling"). */
export { encodeStratumError as encodeEthStratumError } from "../stratum-v1/server_to_client.ts";

function noPrefix(hex: string): string {
  return hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2).toLowerCase() : hex.toLowerCase();
}

/**
 * Result of mining.subscribe: [["mining.notify", sessionId, "EthereumStratum/1.0.0"], extranonceHex]
 * (NiceHash spec, section II). The extranonce is at most 3 bytes and unique per connection; the miner
 * owns the remaining 8 − len nonce bytes.
 */
export function encodeEthStratumSubscribeResult(id: JsonRpcId, sessionId: string, extranonceHex: string): string {
  return encodeResult(id, [["mining.notify", sessionId, ETH_STRATUM_PROTOCOL], extranonceHex]);
}

/**
 * mining.set_difficulty [d] with NiceHash difficulty (1 ⇔ target 0x00000000ffff0000…). Number format as
 * Stratum v1 (plain decimals). Throws RangeError for a non-finite or non-positive value (caller bug).
 */
export function encodeSetDifficulty(d: number): string {
  return '{"id":null,"method":"mining.set_difficulty","params":[' + formatDifficulty(d) + "]}\n";
}

/**
 * mining.notify [jobId, seedHash, headerHash, clean] with both hashes as hex WITHOUT 0x (NiceHash spec,
 * section III: "seedhash" and "headerhash" are sent bare). A 0x prefix on the inputs is stripped.
 */
export function encodeEthStratumNotify(jobId: string, seedHash: string, headerHash: string, clean: boolean): string {
  return encodeNotification("mining.notify", [jobId, noPrefix(seedHash), noPrefix(headerHash), clean]);
}

/** mining.set_extranonce [extranonce] (NiceHash spec: one param here, unlike Stratum v1's [en1, en2_size]). */
export function encodeSetExtranonce(extranonceHex: string): string {
  return encodeNotification("mining.set_extranonce", [extranonceHex]);
}
