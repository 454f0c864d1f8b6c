// The ban policy's settings, their defaults and their validation; no policy logic.
import { createAllowlist } from "./allowlist.ts";

export interface BanPolicyConfig {
  /** Sliding window for every counter (ms). */
  windowMs: number;
  /** Shares needed in the window before the invalid ratio is judged. */
  minShares: number;
  /** Ban when invalid / total ≥ this (0 < r ≤ 1) once minShares is reached. */
  invalidRatio: number;
  /** Malformed requests in the window that earn a ban. */
  maxMalformed: number;
  /** Over-long lines in the window that earn a ban. */
  maxOversize: number;
  /** Message-rate violations (reported by the caller) in the window that earn a ban. */
  maxFloods: number;
  /** Failed logins in the window that earn a ban. */
  maxFailedLogins: number;
  /** First ban length (ms); doubles per repeat offence up to maxBanMs. */
  banMs: number;
  maxBanMs: number;
  /** First failed-login ban (ms); its own doubling, capped at maxFailedLoginBanMs. */
  failedLoginBanMs: number;
  maxFailedLoginBanMs: number;
  /** How long after a ban ends its offence still counts for escalation (ms). */
  offenceMemoryMs: number;
  /** Keys with live counters (and keys with remembered offences) kept at most; the least recently active is evicted. */
  maxTrackedKeys: number;
  /** Active bans kept at most; beyond it the oldest non-manual ban is dropped. */
  maxBans: number;
  /** CIDRs (or single addresses) never banned. */
  allowlist: readonly string[];
}

/**
 * Defaults, each chosen for real miners, not lab ones:
 * - windowMs 10 min: at a typical vardiff target of one share per 10-30 s a single ASIC gives
 *   20-60 shares in it, so minShares is reachable by one honest device and the ratio is meaningful.
 * - minShares 20: right after a new block a miner can send several stale shares in a row
 *   (cgminer flushes its queue late); judging fewer shares would ban honest miners on that burst.
 * - invalidRatio 0.9: honest rigs see stale/low-difficulty rates of a few percent (pools report
 *   0.5-3 %); 90 % invalid means broken firmware, wrong algorithm or a share-spammer.
 * - maxMalformed 20: a client with a buggy extension may send a few unknown/ill-formed requests;
 *   20 in 10 min is a fuzzer or a non-Stratum client (HTTP scanner), not a miner.
 * - maxOversize 1: no miner ever sends a line over maxLineBytes (largest legit line is a few hundred
 *   bytes); one such line is a memory attack and the connection is closed anyway.
 * - maxFloods 3: the per-connection token bucket already absorbs bursts; three reported
 *   violations in 10 min means the client ignores being throttled.
 * - maxFailedLogins 10: a typo in the worker password fails a few times per reconnect cycle;
 *   10 is password guessing.
 * - banMs 10 min, doubling to maxBanMs 24 h: long enough to stop a script, short enough that a
 *   misconfigured farm that got fixed is back the same hour; 8 repeats reach the day cap.
 * - failedLoginBanMs 1 min doubling to 1 h: failed logins are most often a config mistake by the
 *   miner's owner, who must be able to retry soon after fixing it.
 * - offenceMemoryMs 24 h after the ban ends: a daily-cron abuser keeps escalating, a one-off is forgotten.
 * - maxTrackedKeys 100k, maxBans 100k: ~200-400 bytes per tracked key → tens of MB worst case
 *   under an address scan, far above a real farm's distinct addresses.
 * - allowlist []: nothing is trusted by default.
 */
export const DEFAULT_BAN_POLICY: Readonly<BanPolicyConfig> = Object.freeze({
  windowMs: 600_000,
  minShares: 20,
  invalidRatio: 0.9,
  maxMalformed: 20,
  maxOversize: 1,
  maxFloods: 3,
  maxFailedLogins: 10,
  banMs: 600_000,
  maxBanMs: 86_400_000,
  failedLoginBanMs: 60_000,
  maxFailedLoginBanMs: 3_600_000,
  offenceMemoryMs: 86_400_000,
  maxTrackedKeys: 100_000,
  maxBans: 100_000,
  allowlist: Object.freeze([]) as readonly string[],
});

/** A ban just issued by a recorder or the admin. `offence` is 1 for a first offence, 0 for manual bans. */

/** Problems with a config (empty = fine); config validation can show these, createBanPolicy throws them. */
export function checkBanPolicyConfig(cfg: BanPolicyConfig): string[] {
  const out: string[] = [];
  const posInt = (name: keyof BanPolicyConfig) => {
    const v = cfg[name];
    if (typeof v !== "number" || !Number.isInteger(v) || v < 1) out.push(`${name} must be an integer ≥ 1 (got ${String(v)})`);
  };
  for (const k of ["windowMs", "minShares", "maxMalformed", "maxOversize", "maxFloods", "maxFailedLogins", "banMs", "maxBanMs", "failedLoginBanMs", "maxFailedLoginBanMs", "maxTrackedKeys", "maxBans"] as const) posInt(k);
  if (!(typeof cfg.offenceMemoryMs === "number" && cfg.offenceMemoryMs >= 0 && Number.isFinite(cfg.offenceMemoryMs))) out.push(`offenceMemoryMs must be ≥ 0`);
  if (!(cfg.invalidRatio > 0 && cfg.invalidRatio <= 1)) out.push(`invalidRatio must be in (0, 1] (got ${cfg.invalidRatio})`);
  if (cfg.maxBanMs < cfg.banMs) out.push(`maxBanMs must be ≥ banMs`);
  if (cfg.maxFailedLoginBanMs < cfg.failedLoginBanMs) out.push(`maxFailedLoginBanMs must be ≥ failedLoginBanMs`);
  const al = createAllowlist(cfg.allowlist ?? []);
  if (!al.ok) for (const e of al.errors) out.push(`allowlist: ${e.message}`);
  return out;
}
