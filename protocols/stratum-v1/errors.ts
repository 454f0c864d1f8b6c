// Stratum v1 wire form of each internal refusal Reason ([code, message, null], slush codes 20..25); no policy about closing.
import type { Reason } from "../errors/reasons.ts";
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import { encodeStratumError } from "./server_to_client.ts";

export interface StratumErrorEntry {
  code: number;
  message: string;
}

/**
 * Codes from the slush pool "Exception handling" list (public-pool uses the same numbers):
 * 20 Other/Unknown, 21 Job not found, 22 Duplicate share, 23 Low difficulty share,
 * 24 Unauthorized worker, 25 Not subscribed. Everything without its own code maps to 20 with
 * a message that says what happened (miners such as cgminer and ESP-Miner display the text).
 * Typed as Record<Reason, …> so a new Reason does not compile until it is mapped here.
 */
export const STRATUM_V1_ERRORS: Record<Reason, StratumErrorEntry> = {
  stale: { code: 21, message: "Job not found" },
  duplicate: { code: 22, message: "Duplicate share" },
  low_difficulty: { code: 23, message: "Low difficulty share" },
  invalid_solution: { code: 23, message: "Invalid share" },
  bad_ntime: { code: 20, message: "Ntime out of range" },
  bad_version: { code: 20, message: "Invalid version bits" },
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
export function encodeReason(id: JsonRpcId, reason: Reason, detail?: string): string {
  const e = STRATUM_V1_ERRORS[reason];
  const message = detail ? e.message + ": " + detail : e.message;
  return encodeStratumError(id, e.code, message);
}
