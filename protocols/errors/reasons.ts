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
  "internal", // anything else
] as const;

export type Reason = (typeof REASONS)[number];

export function isReason(x: unknown): x is Reason {
  return typeof x === "string" && (REASONS as readonly string[]).includes(x);
}
