// The relay's abuse guard: feeds connection events to the ban policy, logs each ban once, kicks banned sources, persists bans; no socket code.
import type { ShareRecord } from "../../protocols/core/actions.ts";
import type { Reason } from "../../protocols/errors/reasons.ts";
import type { Files } from "../runtime/types.ts";
import { banKey, createBanPolicy, createRateLimiter, type BanEntry, type BanPolicy, type BanPolicyConfig, type BanReason, type NewBan, type RateLimiter } from "../policy/ban_policy.ts";
import type { Logger } from "../observe/log.ts";

export interface GuardHooks {
  banned(reason: BanReason): void;
  active(n: number): void;
}

export interface Guard {
  readonly enabled: boolean;
  /** May this source connect now? A banned one is closed at accept, before any read, without a log line. */
  admit(address: string, now: number): boolean;
  /** A fresh per-connection message-rate limiter. */
  limiter(): RateLimiter;
  share(address: string, share: ShareRecord, now: number): void;
  malformed(address: string, now: number): void;
  oversize(address: string, now: number): void;
  flood(address: string, now: number): void;
  loginFailed(address: string, now: number): void;
  /** Connection cores register here to close every connection of a newly banned key (banned until `until`, ms). */
  onKick(fn: (key: string, until: number) => void): void;
  /** Called after an admin lift (session threads refresh their copy of the ban list). */
  onLift(fn: () => void): void;
  keyOf(address: string): string;
  readonly policy: BanPolicy;
  /** Admin: ban by hand / lift; both persist at once. */
  banManually(address: string, seconds: number, now: number): { ok: true; until: number; key: string } | { ok: false; error: string };
  lift(address: string): boolean;
  /** A ban or lift decided here (not adopted from elsewhere): what a cluster shares. */
  onChange(fn: (ev: { op: "ban"; entry: BanEntry } | { op: "lift"; key: string }) => void): void;
  /** A ban decided by another instance: enforced and kicked like our own, not reported to onChange. */
  adopt(entry: BanEntry, now: number): boolean;
  /** A lift decided by another instance; not reported to onChange. */
  liftAdopted(key: string): boolean;
  /** Periodic housekeeping (prune windows, persist when changed). */
  tick(now: number): void;
  save(): void;
}

/** What a connection core uses of the guard (a session thread has a copy that forwards to the main thread's). */
export type ConnGuard = Pick<Guard, "admit" | "limiter" | "share" | "malformed" | "oversize" | "flood" | "loginFailed" | "onKick" | "keyOf">;

/** Share verdicts that say something about the miner (stale work and relay-side failures do not). */
const INVALID: ReadonlySet<Reason> = new Set<Reason>(["low_difficulty", "invalid_solution", "duplicate", "bad_ntime", "bad_version", "malformed"]);

export function createGuard(opts: {
  enabled: boolean;
  policy: Partial<BanPolicyConfig>;
  rate: { perSecond: number; burst: number };
  log: Logger;
  hooks: GuardHooks;
  files?: Files;
  /** bans.json lives here (restored at start, saved on change) so bans survive a restart. */
  dataDir?: string;
  now: number;
}): Guard {
  const policy = createBanPolicy(opts.policy);
  const kickers: ((key: string, until: number) => void)[] = [];
  const lifted: (() => void)[] = [];
  const changes: Parameters<Guard["onChange"]>[0][] = [];
  const path = opts.dataDir !== undefined ? `${opts.dataDir}/bans.json` : undefined;
  let dirty = false;

  if (path !== undefined && opts.files !== undefined) {
    try {
      const text = opts.files.readText(path);
      if (text !== undefined) {
        const r = policy.restore(JSON.parse(text), opts.now);
        opts.log.info("restored bans", { restored: r.restored, expired: r.skipped });
        opts.hooks.active(policy.stats().active);
      }
    } catch (e) {
      opts.log.warn("could not read saved bans; starting without them", { file: path, error: String(e) });
    }
  }

  function save(): void {
    if (path === undefined || opts.files === undefined) return;
    try {
      opts.files.writeBytesAtomic(path, new TextEncoder().encode(JSON.stringify(policy.snapshot())));
      dirty = false;
    } catch (e) {
      opts.log.warn("could not save bans", { file: path, error: String(e) });
    }
  }

  function issued(ban: NewBan | undefined, address: string): void {
    if (ban === undefined) return;
    // One log line per ban, never per refused connection.
    opts.log.warn("banned", { address, key: ban.key, reason: ban.reason, seconds: Math.round(ban.durationMs / 1000), offence: ban.offence });
    opts.hooks.banned(ban.reason);
    opts.hooks.active(policy.stats().active);
    dirty = true;
    save();
    for (const k of kickers) k(ban.key, ban.until);
    for (const fn of changes) fn({ op: "ban", entry: { key: ban.key, until: ban.until, reason: ban.reason, offence: ban.offence } });
  }

  function liftKey(address: string, adopted: boolean): boolean {
    const ok = policy.lift(address);
    if (ok) {
      opts.log.info(adopted ? "ban lifted elsewhere in the cluster" : "ban lifted", { address });
      opts.hooks.active(policy.stats().active);
      save();
      for (const fn of lifted) fn();
      if (!adopted) for (const fn of changes) fn({ op: "lift", key: banKey(address) });
    }
    return ok;
  }

  const on = opts.enabled;
  return {
    enabled: on,
    policy,
    admit: (address, now) => !on || !policy.isBanned(address, now).banned,
    limiter: () => createRateLimiter(opts.rate),
    share(address, share, now) {
      if (!on) return;
      if (share.accepted) issued(policy.shareResult(address, true, now), address);
      // An upstream pool's refusal of a share we checked and passed is between us and the pool, not the miner's abuse.
      else if (share.upstream === undefined && share.reason !== undefined && INVALID.has(share.reason)) issued(policy.shareResult(address, false, now), address);
    },
    malformed: (address, now) => on && issued(policy.malformed(address, now), address),
    oversize: (address, now) => on && issued(policy.oversizeLine(address, now), address),
    flood: (address, now) => on && issued(policy.flood(address, now), address),
    loginFailed: (address, now) => on && issued(policy.loginFailed(address, now), address),
    onKick: (fn) => void kickers.push(fn),
    onLift: (fn) => void lifted.push(fn),
    keyOf: banKey,
    banManually(address, seconds, now) {
      const r = policy.ban(address, Math.round(seconds * 1000), "manual", now);
      if (!r.ok) return { ok: false, error: r.error };
      issued(r.ban, address);
      return { ok: true, until: r.ban.until, key: r.ban.key };
    },
    lift: (address) => liftKey(address, false),
    onChange: (fn) => void changes.push(fn),
    adopt(entry, now) {
      if (!on) return false;
      // Already held until at least then: nothing to do (the cluster echoes every ban to everyone).
      const held = policy.isBanned(entry.key, now);
      if (held.banned && held.until >= entry.until) return false;
      if (policy.restore([entry], now).restored === 0) return false;
      opts.log.warn("banned elsewhere in the cluster", { key: entry.key, reason: entry.reason, seconds: Math.round((entry.until - now) / 1000) });
      opts.hooks.active(policy.stats().active);
      save();
      for (const k of kickers) k(entry.key, entry.until);
      return true;
    },
    liftAdopted: (key) => liftKey(key, true),
    tick(now) {
      const p = policy.prune(now);
      if (p.bans > 0) dirty = true;
      opts.hooks.active(policy.stats().active);
      if (dirty) save();
    },
    save,
  };
}
