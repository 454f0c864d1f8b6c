// The ban policy's public vocabulary: reasons, issued bans, listed entries and the BanPolicy interface; no logic.

export type BanReason = "invalid_shares" | "malformed" | "oversize" | "flood" | "failed_logins" | "manual";

export const BAN_REASONS: readonly BanReason[] = ["invalid_shares", "malformed", "oversize", "flood", "failed_logins", "manual"];

export interface NewBan {
  key: string;
  until: number;
  reason: BanReason;
  durationMs: number;
  offence: number;
}

/** One active ban as listed and persisted (JSON-serialisable). */
export interface BanEntry {
  key: string;
  until: number;
  reason: BanReason;
  offence: number;
}

export type BanCheck = { banned: true; until: number; reason: BanReason } | { banned: false };

export type ManualBanResult = { ok: true; ban: NewBan } | { ok: false; error: "allowlisted" | "bad_duration" };

export interface BanStats {
  /** Bans in the table (expired ones not yet pruned included; call prune(now) first for an exact figure). */
  active: number;
  issuedByReason: Record<BanReason, number>;
  /** Keys with live counters. */
  tracked: number;
}

export interface BanPolicy {
  isBanned(address: string, now: number): BanCheck;
  shareResult(address: string, accepted: boolean, now: number): NewBan | undefined;
  malformed(address: string, now: number): NewBan | undefined;
  oversizeLine(address: string, now: number): NewBan | undefined;
  flood(address: string, now: number): NewBan | undefined;
  loginFailed(address: string, now: number): NewBan | undefined;
  list(now: number): BanEntry[];
  ban(address: string, durationMs: number, reason: "manual", now: number): ManualBanResult;
  lift(addressOrKey: string): boolean;
  snapshot(): BanEntry[];
  restore(entries: unknown, now: number): { restored: number; skipped: number };
  prune(now: number): { bans: number; tracked: number; offences: number };
  stats(): BanStats;
}
