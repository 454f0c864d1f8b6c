// A token bucket per connection (message rate limit); pure, time is an argument.

export interface RateLimiter {
  /** Spend one token; false when the caller is over the rate. */
  take(now: number): boolean;
}

/**
 * Token bucket: starts full (`burst` tokens), refills `perSecond` tokens per second up to `burst`.
 * Credit is kept in thousandths of a token so integer rates and ms clocks stay exact (no float
 * drift making the 2nd token arrive at 499.9999 ms). A clock that steps backwards refills nothing.
 */
export function createRateLimiter(opts: { perSecond: number; burst: number }): RateLimiter {
  const { perSecond, burst } = opts;
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`perSecond ${perSecond} must be a positive number`);
  if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`burst ${burst} must be ≥ 1`);
  const full = burst * 1000;
  let credit = full;
  let last = Number.NaN;
  return {
    take(now: number): boolean {
      if (now > last) {
        credit = Math.min(full, credit + (now - last) * perSecond);
        last = now;
      } else if (last !== last) last = now; // first call (NaN)
      if (credit >= 1000) {
        credit -= 1000;
        return true;
      }
      return false;
    },
  };
}
