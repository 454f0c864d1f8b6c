// eth-proxy wire form of each internal refusal Reason ({code, message} error object, or result false for stale); no policy about closing.
import type { Reason } from "../errors/reasons.ts";
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import { encodeEthError, encodeEthResult } from "./server_to_client.ts";

export type EthProxyErrorEntry = { code: number; message: string } | { result: false };

/**
 * Codes and texts follow open-ethereum-pool / open-etc-pool proxy/handlers.go, which ethminer, Claymore,
 * lolMiner and T-Rex have been tested against for years: a stale share is answered `result: false` with no
 * error (miners count it as rejected without treating the pool as broken), 22 duplicate, 23 invalid share,
 * 25 not subscribed, -1 for login and malformed-request failures, 0 "Work not ready".
 * Reasons that cannot arise in this dialect (ntime, version bits are Bitcoin header fields) still get -1
 * with a message that names them, so a bug surfaces as readable text instead of a silent reject.
 * Typed as Record<Reason, …> so a new Reason does not compile until it is mapped here.
 */
export const ETH_PROXY_ERRORS: Record<Reason, EthProxyErrorEntry> = {
  stale: { result: false },
  duplicate: { code: 22, message: "Duplicate share" },
  low_difficulty: { code: 23, message: "Invalid share" },
  invalid_solution: { code: 23, message: "Invalid share" },
  bad_ntime: { code: -1, message: "Unexpected ntime check (not an eth-proxy field)" },
  bad_version: { code: -1, message: "Unexpected version-bits check (not an eth-proxy field)" },
  unauthorized: { code: -1, message: "Invalid login" },
  not_subscribed: { code: 25, message: "Not subscribed" },
  malformed: { code: -1, message: "Malformed PoW result" },
  unsupported_method: { code: -1, message: "Method not found" },
  work_not_ready: { code: 0, message: "Work not ready" },
  rate_limited: { code: -1, message: "Rate limited" },
  banned: { code: -1, message: "Banned" },
  upstream_rejected: { code: -1, message: "Rejected by upstream pool" },
  upstream_timeout: { code: -1, message: "Upstream pool did not answer in time" },
  upstream_unavailable: { code: -1, message: "Upstream pool unavailable" },
  internal: { code: -1, message: "Internal error" },
};

/**
 * The reply for a request refused with `reason`: the error object with "message[: detail]", or
 * {"id":..,"jsonrpc":"2.0","result":false}\n for stale (the detail is not sent: there is no text field).
 */
export function encodeEthReason(id: JsonRpcId, reason: Reason, detail?: string): string {
  const e = ETH_PROXY_ERRORS[reason];
  if ("result" in e) return encodeEthResult(id, false);
  return encodeEthError(id, e.code, detail ? e.message + ": " + detail : e.message);
}
