// EIP-1571 wire form of each internal refusal Reason ({"id":n,"error":{"code","message"}}, codes in the spec's 2xx..5xx scheme); no policy about closing.
import type { Reason } from "../errors/reasons.ts";
import type { JsonRpcId } from "../jsonrpc/envelope.ts";

export interface EthStratum2ErrorEntry {
  code: number;
  message: string;
}

/**
 * EIP-1571 "Responses": 3xx = not authorized, 4xx = bad request or params, 5xx = server trouble (the miner
 * should fail over). Where the spec gives an example it is used verbatim: 406 "Bad nonce" for a hash not
 * below target, 404 "Job not found", 400 "Bad protocol request" style for malformed input, 403 for a ban.
 * Typed as Record<Reason, …> so a new Reason does not compile until it is mapped here.
 */
export const ETH_STRATUM2_ERRORS: Record<Reason, EthStratum2ErrorEntry> = {
  stale: { code: 404, message: "Job not found" },
  duplicate: { code: 409, message: "Duplicate share" },
  low_difficulty: { code: 406, message: "Bad nonce" },
  invalid_solution: { code: 406, message: "Invalid solution" },
  bad_ntime: { code: 400, message: "Unexpected ntime check (not an EthereumStratum field)" },
  bad_version: { code: 400, message: "Unexpected version-bits check (not an EthereumStratum field)" },
  unauthorized: { code: 301, message: "Unauthorized worker" },
  not_subscribed: { code: 302, message: "Not subscribed" },
  malformed: { code: 400, message: "Bad request" },
  unsupported_method: { code: 405, message: "Method not supported" },
  work_not_ready: { code: 503, message: "Work not ready" },
  rate_limited: { code: 429, message: "Too many requests" },
  banned: { code: 403, message: "Forbidden - Banned IP address" },
  upstream_rejected: { code: 422, message: "Rejected by upstream pool" },
  upstream_timeout: { code: 504, message: "Upstream pool did not answer in time" },
  upstream_unavailable: { code: 503, message: "Upstream pool unavailable" },
  internal: { code: 500, message: "Internal error" },
};

/** {"id":n,"error":{"code":c,"message":"m[: detail]"}}\n — no result member (EIP-1571: a failure carries `error` only). */
export function encodeEthStratum2Error(id: JsonRpcId, code: number, message: string): string {
  return '{"id":' + JSON.stringify(id) + ',"error":{"code":' + code + ',"message":' + JSON.stringify(message) + "}}\n";
}

/** The error reply for a request refused with `reason`. */
export function encodeEthStratum2Reason(id: JsonRpcId, reason: Reason, detail?: string): string {
  const e = ETH_STRATUM2_ERRORS[reason];
  return encodeEthStratum2Error(id, e.code, detail ? e.message + ": " + detail : e.message);
}
