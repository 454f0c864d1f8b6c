// What every relay-mode client session towards an upstream pool shares: the verdict vocabulary, the pool error → Reason table, and the bookkeeping of submits waiting for a verdict (timeouts, a lost connection); pure.
import type { Reason } from "../errors/reasons.ts";

/** What became of a forwarded share. */
export type UpstreamVerdict =
  | { kind: "accepted" }
  | { kind: "rejected"; reason: Reason; code: number | undefined; message: string }
  /** No answer within the submit timeout. */
  | { kind: "timeout" }
  /** The connection ended first (or the session was not ready). */
  | { kind: "lost" };

export type VerdictOut = { kind: "verdict"; ctx: unknown; verdict: UpstreamVerdict; latencyMs: number };

/**
 * Codes of the slush list (20 other, 21 job not found, 22 duplicate, 23 low difficulty,
 * 24 unauthorized, 25 not subscribed) as our Reasons; any other code is upstream_rejected with
 * the pool's own text. EthereumStratum/1.0.0 pools use the same numbers.
 */
export const UPSTREAM_CODE_REASONS: Readonly<Record<number, Reason>> = {
  21: "stale",
  22: "duplicate",
  23: "low_difficulty",
  24: "unauthorized",
  25: "not_subscribed",
};

/** A pool's error field ([code, message, data] as slush, or {code, message} as some do) as a rejection. */
export function verdictFromError(error: unknown): Extract<UpstreamVerdict, { kind: "rejected" }> {
  let code: number | undefined;
  let message = "";
  if (Array.isArray(error)) {
    if (typeof error[0] === "number") code = error[0];
    if (typeof error[1] === "string") message = error[1];
  } else if (error !== null && typeof error === "object") {
    const e = error as { code?: unknown; message?: unknown };
    if (typeof e.code === "number") code = e.code;
    if (typeof e.message === "string") message = e.message;
  } else if (typeof error === "string") message = error;
  const reason = (code !== undefined ? UPSTREAM_CODE_REASONS[code] : undefined) ?? "upstream_rejected";
  return { kind: "rejected", reason, code, message: message.slice(0, 200) };
}

/** A request waiting for its answer; submits carry the caller's context for the verdict. */
export type PendingRequest<W extends string> = { what: W; sentAt: number } | { what: "submit"; sentAt: number; ctx: unknown };

/** Submits past `timeoutMs` leave `pending` as `timeout` verdicts (latency = their age). */
export function expireSubmits<W extends string>(pending: Map<number, PendingRequest<W>>, now: number, timeoutMs: number, out: VerdictOut[]): void {
  for (const [id, p] of pending) {
    if (p.what !== "submit" || now - p.sentAt < timeoutMs) continue;
    pending.delete(id);
    out.push({ kind: "verdict", ctx: (p as { ctx: unknown }).ctx, verdict: { kind: "timeout" }, latencyMs: now - p.sentAt });
  }
}

/** The connection is gone: every submit still waiting is `lost` (never counted accepted); `pending` is emptied. */
export function loseSubmits<W extends string>(pending: Map<number, PendingRequest<W>>): VerdictOut[] {
  const out: VerdictOut[] = [];
  for (const p of pending.values()) if (p.what === "submit") out.push({ kind: "verdict", ctx: (p as { ctx: unknown }).ctx, verdict: { kind: "lost" }, latencyMs: 0 });
  pending.clear();
  return out;
}

export function countSubmits<W extends string>(pending: Map<number, PendingRequest<W>>): number {
  let n = 0;
  for (const p of pending.values()) if (p.what === "submit") n++;
  return n;
}
