// The one stream entry format payout systems read (shares and found blocks) as XADD field lists; formatting only, no I/O.
import type { ShareRecord } from "../../protocols/core/actions.ts";

/**
 * Fields of a share entry, in order. README "Several instances (Redis)" documents each; change
 * both together. `id` is unique per share across instances and restarts (the instance's run id
 * and a sequence number): a consumer that dedups on it never counts a share twice.
 */
export const SHARE_FIELDS = ["id", "instance", "pool", "worker", "addr", "accepted", "reason", "difficulty", "shareDifficulty", "job", "height", "at", "block", "upstream"] as const;

export const BLOCK_FIELDS = ["id", "instance", "pool", "height", "hash", "worker", "addr", "at"] as const;

/**
 * The values of a share entry after `id` and `instance` (which the outbox script fills in: they are
 * the same for a whole run), in SHARE_FIELDS order.
 */
export function shareValues(pool: string, s: ShareRecord, addr: string): string[] {
  return [
    pool,
    s.worker,
    addr,
    s.accepted ? "1" : "0",
    s.reason ?? "",
    String(s.difficulty),
    String(s.shareDifficulty),
    s.jobId,
    String(s.height),
    String(s.at),
    s.block === true ? "1" : "0",
    s.upstream ?? "",
  ];
}

export function blockValues(pool: string, b: { height: number; hash: string; worker: string; at: number }, addr: string): string[] {
  return [pool, String(b.height), b.hash, b.worker, addr, String(b.at)];
}

/** A stream entry's field list (as XRANGE returns it) as an object. */
export function fieldsToObject(list: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!Array.isArray(list)) return out;
  for (let i = 0; i + 1 < list.length; i += 2) out[String(list[i])] = String(list[i + 1]);
  return out;
}
