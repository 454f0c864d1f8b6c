// A session thread's guard: checks a copy of the main thread's ban list at accept and forwards every abuse event to it; it issues no bans itself.
import type { ConnGuard } from "../server/guard.ts";
import { banKey, createRateLimiter } from "../policy/ban_policy.ts";
import type { ThreadEvent } from "./messages.ts";

export interface ThreadGuard extends ConnGuard {
  /** A ban the main thread issued: remember it and close this thread's connections of that key. */
  banned(key: string, until: number): void;
  /** Replace the whole list (start-up, and after an admin lift). */
  replace(bans: [key: string, until: number][]): void;
}

/**
 * The ban policy (ratios, offence counts, doubling) runs only on the main thread so that every
 * thread's connections from one source count together; this copy answers admit() from the
 * bans it was told about. Share verdicts reach the main thread with the pool's share events, so
 * share() forwards nothing.
 */
export function createThreadGuard(opts: {
  enabled: boolean;
  rate: { perSecond: number; burst: number };
  emit: (ev: ThreadEvent) => void;
}): ThreadGuard {
  const bans = new Map<string, number>();
  const kickers: ((key: string, until: number) => void)[] = [];
  const on = opts.enabled;
  return {
    admit(address, now) {
      if (!on || bans.size === 0) return true;
      const key = banKey(address);
      const until = bans.get(key);
      if (until === undefined) return true;
      if (until <= now) {
        bans.delete(key);
        return true;
      }
      return false;
    },
    limiter: () => createRateLimiter(opts.rate),
    share() {},
    malformed: (addr) => on && opts.emit({ k: "abuse", what: "malformed", addr }),
    oversize: (addr) => on && opts.emit({ k: "abuse", what: "oversize", addr }),
    flood: (addr) => on && opts.emit({ k: "abuse", what: "flood", addr }),
    loginFailed: (addr) => on && opts.emit({ k: "abuse", what: "login_failed", addr }),
    onKick: (fn) => void kickers.push(fn),
    keyOf: banKey,
    banned(key, until) {
      bans.set(key, until);
      for (const k of kickers) k(key, until);
    },
    replace(list) {
      bans.clear();
      for (const [key, until] of list) bans.set(key, until);
    },
  };
}
