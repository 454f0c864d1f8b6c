// The one internal vocabulary of refusal reasons; dialects translate it at the edge (see each dialect's errors.ts).
export const REASONS = [
  "stale", // job not found or no longer current
  "duplicate", // same share submitted twice
  "low_difficulty", // hash above the share target
  "invalid_solution", // PoW result does not verify (e.g. wrong ethash mix digest)
  "bad_ntime", // ntime outside the job's window
  "bad_version", // version bits outside the negotiated mask
  "unauthorized", // worker not authorized / bad login
  "not_subscribed", // request before subscribe / login
  "malformed", // unparsable line or wrong params
  "unsupported_method", // method this dialect does not implement
  "work_not_ready", // no job yet
  "rate_limited", // over a configured rate
  "banned", // source is banned
  "upstream_rejected", // relay mode: the upstream pool refused the share with a code we have no own reason for (its text is kept)
  "upstream_timeout", // relay mode: the upstream pool gave no verdict in time (share counted unconfirmed, never accepted)
  "upstream_unavailable", // relay mode: no upstream connection could take the share (counted unconfirmed)
  "internal", // anything else
] as const;

export type Reason = (typeof REASONS)[number];

export function isReason(x: unknown): x is Reason {
  return typeof x === "string" && (REASONS as readonly string[]).includes(x);
}
