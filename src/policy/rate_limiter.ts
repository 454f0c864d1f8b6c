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
interface Bucket extends RateLimiter {
  perSecond: number;
  full: number;
  credit: number;
  last: number;
}

// One object per connection on a shared prototype, not a closure: the closure form cost a function,
// its scope and the returned object (~3 allocations) per miner, which bench --mode idle counts.
const bucketProto = {
  take(this: Bucket, now: number): boolean {
    if (now > this.last) {
      this.credit = Math.min(this.full, this.credit + (now - this.last) * this.perSecond);
      this.last = now;
    } else if (this.last !== this.last) this.last = now; // first call (NaN)
    if (this.credit >= 1000) {
      this.credit -= 1000;
      return true;
    }
    return false;
  },
};

export function createRateLimiter(opts: { perSecond: number; burst: number }): RateLimiter {
  const { perSecond, burst } = opts;
  if (!(perSecond > 0) || !Number.isFinite(perSecond)) throw new RangeError(`perSecond ${perSecond} must be a positive number`);
  if (!(burst >= 1) || !Number.isFinite(burst)) throw new RangeError(`burst ${burst} must be ≥ 1`);
  const b = Object.create(bucketProto) as Bucket;
  b.perSecond = perSecond;
  b.full = burst * 1000;
  b.credit = b.full;
  b.last = Number.NaN;
  return b;
}
