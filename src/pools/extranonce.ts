// Hands out unique extranonce1 values per connection and lets a reconnecting miner reclaim its old one; no I/O.

export interface ExtranonceAllocator {
  /** A fresh extranonce1 (hex, size bytes) not held by any live connection. */
  allocate(): string;
  /** Take a specific one (cgminer's resume id) if it is free. */
  claim(en1: string): boolean;
  release(en1: string): void;
  readonly inUse: number;
}

/**
 * Sequential from a random start: consecutive connections differ, a released value is not
 * handed out again until the counter wraps (2^32 allocations at size 4), so a miner that
 * reconnects within that span can resume its extranonce1. `prefix` (hex) pins leading bytes
 * per instance so several relays behind one upstream never overlap. `part` confines this
 * allocator to slice `index` of `count` equal slices of what the prefix leaves: each session
 * thread of one relay gets its own slice, so two threads never hand out the same value.
 */
export function createExtranonceAllocator(
  size: number,
  prefix = "",
  random: () => number = Math.random,
  part: { index: number; count: number } = { index: 0, count: 1 },
): ExtranonceAllocator {
  if (size < 1 || size > 8) throw new RangeError(`extranonce1 size ${size} outside 1..8`);
  if (prefix.length % 2 !== 0 || prefix.length / 2 >= size || !/^[0-9a-f]*$/.test(prefix)) {
    throw new RangeError(`extranonce1 prefix "${prefix}" must be lowercase hex shorter than ${size} bytes`);
  }
  const freeBytes = size - prefix.length / 2;
  // BigInt: at 7-8 free bytes the space passes 2^53, where number arithmetic rounds (counter + 1
  // would equal counter and allocate() would spin). One allocation per connection: not a hot path.
  const whole = 1n << BigInt(8 * freeBytes);
  if (!Number.isInteger(part.count) || part.count < 1 || !Number.isInteger(part.index) || part.index < 0 || part.index >= part.count || BigInt(part.count) > whole) {
    throw new RangeError(`extranonce1 slice ${part.index} of ${part.count} is not possible in ${whole} values`);
  }
  const space = whole / BigInt(part.count);
  const base = BigInt(part.index) * space;
  const held = new Set<string>();
  // 2^-53 granularity of random() is plenty for a start point.
  let counter = BigInt(Math.floor(random() * Number(space > 1n << 53n ? 1n << 53n : space))) * (space > 1n << 53n ? space >> 53n : 1n);
  const width = freeBytes * 2;
  return {
    allocate() {
      if (BigInt(held.size) >= space) throw new RangeError("extranonce1 space exhausted");
      for (;;) {
        counter = (counter + 1n) % space;
        const en1 = prefix + (base + counter).toString(16).padStart(width, "0");
        if (!held.has(en1)) {
          held.add(en1);
          return en1;
        }
      }
    },
    claim(en1) {
      if (en1.length !== size * 2 || !en1.startsWith(prefix) || held.has(en1)) return false;
      // Only values of this allocator's slice: another thread's slice is that thread's to give.
      const rest = en1.slice(prefix.length);
      if (!/^[0-9a-f]+$/.test(rest)) return false;
      const v = BigInt("0x" + rest);
      if (v < base || v >= base + space) return false;
      held.add(en1);
      return true;
    },
    release(en1) {
      held.delete(en1);
    },
    get inUse() {
      return held.size;
    },
  };
}

/**
 * EthereumStratum/1.0.0 and EIP-1571 extranonces: `ownBytes` per connection behind the instance's
 * prefix (store.redis.instancePrefix, so relays sharing one pool never hand two miners the same nonce
 * space), capped at the 3 bytes those dialects allow (the prefix then takes from the own bytes).
 */
export function createEthExtranonceAllocator(ownBytes: number, instancePrefix = "", random: () => number = Math.random, part?: { index: number; count: number }): ExtranonceAllocator {
  const size = Math.min(3, ownBytes + instancePrefix.length / 2);
  return createExtranonceAllocator(size, instancePrefix, random, part);
}
