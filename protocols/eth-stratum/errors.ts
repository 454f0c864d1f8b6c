// EthereumStratum/1.0.0 wire form of each internal refusal Reason ([code, message, null], codes 20..25 like Stratum v1); no policy about closing.
import type { Reason } from "../errors/reasons.ts";
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import { encodeStratumError } from "../stratum-v1/server_to_client.ts";

export interface EthStratumErrorEntry {
  code: number;
  message: string;
}

/**
 * The NiceHash spec reuses the Stratum v1 exception codes (20 Other/Unknown, 21 Job not found,
 * 22 Duplicate share, 23 Low difficulty share, 24 Unauthorized worker, 25 Not subscribed), so this is the
 * Stratum v1 table with Ethereum wording where it differs (invalid_solution: the mix digest does not verify).
 * Reasons without a code of their own map to 20 with a message that says what happened.
 * Typed as Record<Reason, …> so a new Reason does not compile until it is mapped here.
 */
export const ETH_STRATUM_ERRORS: Record<Reason, EthStratumErrorEntry> = {
  stale: { code: 21, message: "Job not found" },
  duplicate: { code: 22, message: "Duplicate share" },
  low_difficulty: { code: 23, message: "Low difficulty share" },
  invalid_solution: { code: 23, message: "Invalid share" },
  bad_ntime: { code: 20, message: "Unexpected ntime check (not an EthereumStratum field)" },
  bad_version: { code: 20, message: "Unexpected version-bits check (not an EthereumStratum field)" },
  unauthorized: { code: 24, message: "Unauthorized worker" },
  not_subscribed: { code: 25, message: "Not subscribed" },
  malformed: { code: 20, message: "Malformed request" },
  unsupported_method: { code: 20, message: "Method not supported" },
  work_not_ready: { code: 20, message: "Work not ready" },
  rate_limited: { code: 20, message: "Rate limited" },
  banned: { code: 20, message: "Banned" },
  upstream_rejected: { code: 20, message: "Rejected by upstream pool" },
  upstream_timeout: { code: 20, message: "Upstream pool did not answer in time" },
  upstream_unavailable: { code: 20, message: "Upstream pool unavailable" },
  internal: { code: 20, message: "Other/Unknown" },
};

/** The error reply for a request refused with `reason`: {"id":..,"result":null,"error":[code,"message[: detail]",null]}\n */
export function encodeEthStratumReason(id: JsonRpcId, reason: Reason, detail?: string): string {
  const e = ETH_STRATUM_ERRORS[reason];
  return encodeStratumError(id, e.code, detail ? e.message + ": " + detail : e.message);
}
