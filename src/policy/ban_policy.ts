// Temporary-ban policy engine (address grouping, allowlist, abuse counters, escalating bans, token bucket); pure: no I/O, no timers, time is a `now` (ms) argument.

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

export type BanReason = "invalid_shares" | "malformed" | "oversize" | "flood" | "failed_logins" | "manual";

export const BAN_REASONS: readonly BanReason[] = ["invalid_shares", "malformed", "oversize", "flood", "failed_logins", "manual"];

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

// ---------------------------------------------------------------------------
// Address parsing
// ---------------------------------------------------------------------------

/** Dotted quad → uint32, or undefined. Leading zeros are refused ("010" is octal to some parsers). */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (p.length === 0 || p.length > 3 || (p.length > 1 && p.charCodeAt(0) === 48)) return undefined;
    let v = 0;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      v = v * 10 + c;
    }
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n;
}

function parseHexGroup(p: string): number | undefined {
  if (p.length === 0 || p.length > 4) return undefined;
  let v = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    let d: number;
    if (c >= 48 && c <= 57) d = c - 48;
    else if (c >= 97 && c <= 102) d = c - 87;
    else if (c >= 65 && c <= 70) d = c - 55;
    else return undefined;
    v = v * 16 + d;
  }
  return v;
}

/** RFC 4291 §2.2 text forms (compressed, embedded IPv4, optional [brackets] and %zone) → 8 groups, or undefined. */
export function parseIPv6(text: string): number[] | undefined {
  let t = text;
  if (t.length > 2 && t.charCodeAt(0) === 91 && t.charCodeAt(t.length - 1) === 93) t = t.slice(1, -1);
  const pct = t.indexOf("%");
  if (pct >= 0) {
    if (pct === t.length - 1) return undefined;
    t = t.slice(0, pct);
  }
  if (t.length < 2 || t.length > 45) return undefined;
  const dbl = t.indexOf("::");
  if (dbl >= 0 && t.indexOf("::", dbl + 1) >= 0) return undefined;
  const headText = dbl >= 0 ? t.slice(0, dbl) : t;
  const tailText = dbl >= 0 ? t.slice(dbl + 2) : "";
  const head = headText === "" ? [] : headText.split(":");
  const tail = tailText === "" ? [] : tailText.split(":");
  if (dbl < 0 && head.length === 0) return undefined;
  const groups: number[] = [];
  const parseParts = (parts: string[], mayEndWithV4: boolean): number[] | undefined => {
    const out: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && mayEndWithV4 && p.indexOf(".") >= 0) {
        const v4 = parseIPv4(p);
        if (v4 === undefined) return undefined;
        out.push(Math.floor(v4 / 65536), v4 % 65536);
      } else {
        const g = parseHexGroup(p);
        if (g === undefined) return undefined;
        out.push(g);
      }
    }
    return out;
  };
  // An embedded IPv4 may only close the whole address: in the tail when "::" is present, else in the head.
  const h = parseParts(head, dbl < 0);
  const tl = parseParts(tail, true);
  if (h === undefined || tl === undefined) return undefined;
  if (dbl < 0) {
    if (h.length !== 8) return undefined;
    return h;
  }
  // "::" stands for at least one zero group (RFC 4291 §2.2 item 2).
  if (h.length + tl.length > 7) return undefined;
  groups.push(...h);
  for (let i = h.length + tl.length; i < 8; i++) groups.push(0);
  groups.push(...tl);
  return groups;
}

/** 8 groups → RFC 5952 text (lowercase, no leading zeros, longest run of ≥2 zero groups as "::", first on a tie). */
export function formatIPv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] === 0) {
      let j = i;
      while (j < 8 && groups[j] === 0) j++;
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    } else i++;
  }
  const hex = (a: number, b: number) => groups.slice(a, b).map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

type ParsedAddress = { family: 4; v4: number } | { family: 6; groups: number[] };

/** Address text → v4 or v6, with IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) folded to v4. */
export function parseAddress(text: string): ParsedAddress | undefined {
  if (text.indexOf(":") < 0) {
    const v4 = parseIPv4(text);
    return v4 === undefined ? undefined : { family: 4, v4 };
  }
  const g = parseIPv6(text);
  if (g === undefined) return undefined;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return { family: 4, v4: g[6]! * 65536 + g[7]! };
  }
  return { family: 6, groups: g };
}

// v6 keys are interned: each check would otherwise re-parse the text (a few hundred ns); bounded
// like runtime/shared.ts normalizeAddress so a scan cannot grow it.
const v6KeyCache = new Map<string, string>();
const V6_KEY_CACHE_MAX = 65_536;

function computeKey(address: string): string {
  const slash = address.indexOf("/");
  if (slash >= 0) {
    // Already a key (or a CIDR given to the admin API): "/64" v6 and "/32" v4 name exactly one key.
    const c = parseCidr(address);
    if (!c.ok) return address;
    if (c.cidr.family === 6 && c.cidr.prefix === 64) return `${formatIPv6(c.cidr.groups)}/64`;
    if (c.cidr.family === 4 && c.cidr.prefix === 32) return formatIPv4(c.cidr.base);
    return address;
  }
  const a = parseAddress(address);
  if (a === undefined) return address;
  if (a.family === 4) return formatIPv4(a.v4);
  // One /64 is one subscriber (RFC 6177 / RIPE-690 assign at least a /64 per site): a host can rotate
  // its low 64 bits (privacy addresses, RFC 8981) at will, so banning one /128 would stop nothing.
  const g = a.groups;
  return `${formatIPv6([g[0]!, g[1]!, g[2]!, g[3]!, 0, 0, 0, 0])}/64`;
}

/**
 * The ban-table key of an address: IPv4 as is, IPv6 by /64 ("2001:db8:0:1::/64"), IPv4-mapped
 * IPv6 as its IPv4. Idempotent (a key maps to itself). Invalid text → the raw string; never throws.
 */
export function banKey(address: string): string {
  // Fast path: text without ':' or '/' is either a dotted quad (its own key) or invalid (raw string).
  if (address.indexOf(":") < 0 && address.indexOf("/") < 0) return address;
  let k = v6KeyCache.get(address);
  if (k === undefined) {
    k = computeKey(address);
    if (v6KeyCache.size >= V6_KEY_CACHE_MAX) v6KeyCache.clear();
    v6KeyCache.set(address, k);
  }
  return k;
}

// ---------------------------------------------------------------------------
// CIDR and allowlist
// ---------------------------------------------------------------------------

export type Cidr = { family: 4; base: number; prefix: number } | { family: 6; groups: number[]; prefix: number };

export interface CidrError {
  input: string;
  problem: "bad_address" | "bad_prefix" | "host_bits_set";
  message: string;
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; error: CidrError };

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function v6GroupMask(prefix: number, i: number): number {
  const bits = Math.max(0, Math.min(16, prefix - i * 16));
  return bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
}

/**
 * "10.0.0.0/8", "2001:db8::/32", or a single address (= /32 or /128). Host bits set below the
 * prefix ("10.0.0.1/8") are refused: such an entry is almost always a typo and silently masking it
 * would trust a different range than the operator wrote.
 */
export function parseCidr(text: string): CidrResult {
  const fail = (problem: CidrError["problem"], message: string): CidrResult => ({ ok: false, error: { input: text, problem, message } });
  const t = text.trim();
  const slash = t.indexOf("/");
  const addrText = slash >= 0 ? t.slice(0, slash) : t;
  const a = parseAddress(addrText);
  if (a === undefined) return fail("bad_address", `"${text}": not an IPv4 or IPv6 address`);
  const max = addrText.indexOf(":") >= 0 ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) return fail("bad_prefix", `"${text}": prefix must be 0..${max}`);
    prefix = Number(p);
  }
  if (a.family === 4) {
    // An IPv4-mapped CIDR ("::ffff:10.0.0.0/104") keeps meaning the same v4 range.
    if (addrText.indexOf(":") >= 0 && slash >= 0) {
      if (prefix < 96) return fail("bad_prefix", `"${text}": IPv4-mapped prefix must be 96..128`);
      prefix -= 96;
    }
    if ((a.v4 & ~v4Mask(prefix)) >>> 0 !== 0) return fail("host_bits_set", `"${text}": bits set below /${prefix}; did you mean ${formatIPv4((a.v4 & v4Mask(prefix)) >>> 0)}/${prefix}?`);
    return { ok: true, cidr: { family: 4, base: a.v4, prefix } };
  }
  for (let i = 0; i < 8; i++) {
    if ((a.groups[i]! & ~v6GroupMask(prefix, i) & 0xffff) !== 0) {
      const masked = a.groups.map((g, j) => g & v6GroupMask(prefix, j));
      return fail("host_bits_set", `"${text}": bits set below /${prefix}; did you mean ${formatIPv6(masked)}/${prefix}?`);
    }
  }
  return { ok: true, cidr: { family: 6, groups: a.groups, prefix } };
}

export interface Allowlist {
  allows(address: string): boolean;
  /** Whether some allowed address lies inside `cidr` (e.g. a banned /64). */
  overlaps(cidr: Cidr): boolean;
  readonly size: number;
}

export type AllowlistResult = { ok: true; allowlist: Allowlist } | { ok: false; errors: CidrError[] };

/** Every bad entry is reported at once (config validation shows them all), not one per restart. */
export function createAllowlist(cidrs: readonly string[]): AllowlistResult {
  const v4: { base: number; mask: number }[] = [];
  const v6: { groups: number[]; prefix: number }[] = [];
  const errors: CidrError[] = [];
  for (const text of cidrs) {
    const r = parseCidr(text);
    if (!r.ok) errors.push(r.error);
    else if (r.cidr.family === 4) v4.push({ base: r.cidr.base, mask: v4Mask(r.cidr.prefix) });
    else v6.push({ groups: r.cidr.groups, prefix: r.cidr.prefix });
  }
  if (errors.length > 0) return { ok: false, errors };
  const size = v4.length + v6.length;
  const allows = (address: string): boolean => {
    if (size === 0) return false;
    const a = parseAddress(address);
    if (a === undefined) return false;
    if (a.family === 4) {
      for (const c of v4) if (((a.v4 & c.mask) >>> 0) === c.base) return true;
      return false;
    }
    outer: for (const c of v6) {
      for (let i = 0; i < 8; i++) {
        const m = v6GroupMask(c.prefix, i);
        if (m === 0) break;
        if ((a.groups[i]! & m) !== c.groups[i]) continue outer;
      }
      return true;
    }
    return false;
  };
  const overlaps = (c: Cidr): boolean => {
    // Two prefixes share an address iff they agree on the shorter prefix's bits.
    if (c.family === 4) return v4.some((e) => ((c.base ^ e.base) & e.mask & v4Mask(c.prefix)) >>> 0 === 0);
    return v6.some((e) => {
      const p = Math.min(e.prefix, c.prefix);
      for (let i = 0; i < 8; i++) if (((c.groups[i]! ^ e.groups[i]!) & v6GroupMask(p, i)) !== 0) return false;
      return true;
    });
  };
  return { ok: true, allowlist: { allows, overlaps, size } };
}

// ---------------------------------------------------------------------------
// Token bucket
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Ban policy
// ---------------------------------------------------------------------------

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

/** Share results are counted in BUCKETS slots of windowMs/BUCKETS: an honest miner sends thousands of
 * shares per window, so per-share timestamps would cost KBs per key; 10 slots bound the window's
 * error to 10 % (an event counts for between 0.9 and 1.0 × windowMs). */
const BUCKETS = 10;

interface Track {
  /** Last event time; the Map is kept in this order (touch = delete + set), so stale keys sit at the front. */
  last: number;
  /** Share buckets: [slotIndex × BUCKETS] epochs, then totals, then invalids. */
  shares: Float64Array | undefined;
  /** Timestamps of the last < max events of each small-count rule (exact sliding window). */
  malformed: number[] | undefined;
  oversize: number[] | undefined;
  flood: number[] | undefined;
  login: number[] | undefined;
}

interface Offences {
  /** Abuse bans (all reasons but failed_logins/manual) and the end of the last one. */
  n: number;
  until: number;
  /** Failed-login bans: their own doubling. */
  ln: number;
  luntil: number;
}

interface Ban {
  until: number;
  reason: BanReason;
  offence: number;
  /** Set when an allowlisted address lies inside this key's range (a /64): lookups must then check the allowlist. */
  spare: boolean;
}

/**
 * A Map kept in insertion order by an intrusive doubly linked list: `set` moves the key to the back,
 * the oldest is `first()`. Plain Map cannot serve as the FIFO/LRU here: deleting at its front leaves
 * holes that the next `keys().next()` walks over (measured in bun: 22.9 µs per evict+insert at 100k
 * keys, a scan would cost O(n) per event); this is O(1).
 */
interface Node<V> {
  key: string;
  value: V;
  prev: Node<V> | undefined;
  next: Node<V> | undefined;
}

interface OrderedMap<V> {
  readonly size: number;
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): boolean;
  first(): Node<V> | undefined;
  /** Visits oldest → newest; `fn` may delete the entry it is given. */
  forEach(fn: (value: V, key: string) => void): void;
}

function createOrderedMap<V>(): OrderedMap<V> {
  const map = new Map<string, Node<V>>();
  let head: Node<V> | undefined;
  let tail: Node<V> | undefined;
  const unlink = (n: Node<V>) => {
    if (n.prev) n.prev.next = n.next;
    else head = n.next;
    if (n.next) n.next.prev = n.prev;
    else tail = n.prev;
    n.prev = n.next = undefined;
  };
  return {
    get size() {
      return map.size;
    },
    get(key) {
      return map.get(key)?.value;
    },
    set(key, value) {
      let n = map.get(key);
      if (n !== undefined) {
        unlink(n);
        n.value = value;
      } else {
        n = { key, value, prev: undefined, next: undefined };
        map.set(key, n);
      }
      n.prev = tail;
      if (tail) tail.next = n;
      else head = n;
      tail = n;
    },
    delete(key) {
      const n = map.get(key);
      if (n === undefined) return false;
      unlink(n);
      return map.delete(key);
    },
    first: () => head,
    forEach(fn) {
      for (let n = head; n !== undefined; ) {
        const next = n.next;
        fn(n.value, n.key);
        n = next;
      }
    },
  };
}

const NOT_BANNED: BanCheck = Object.freeze({ banned: false }) as BanCheck;
/** Entries examined per event by opportunistic pruning: amortised O(1), enough to drain keys as fast as they arrive. */
const PRUNE_STEP = 4;

type SmallRule = "malformed" | "oversize" | "flood" | "login";

export function createBanPolicy(partial: Partial<BanPolicyConfig> = {}): BanPolicy {
  const cfg: BanPolicyConfig = { ...DEFAULT_BAN_POLICY, ...partial };
  const problems = checkBanPolicyConfig(cfg);
  if (problems.length > 0) throw new RangeError(`ban policy config: ${problems.join("; ")}`);
  const al = createAllowlist(cfg.allowlist);
  const allowlist = al.ok ? al.allowlist : undefined;
  const hasAllowlist = allowlist !== undefined && allowlist.size > 0;
  const allowed = (address: string) => hasAllowlist && allowlist!.allows(address);

  const bans = createOrderedMap<Ban>();
  const tracks = createOrderedMap<Track>();
  const offences = createOrderedMap<Offences>();
  const issued = Object.fromEntries(BAN_REASONS.map((r) => [r, 0])) as Record<BanReason, number>;
  const bucketMs = cfg.windowMs / BUCKETS;

  const limits: Record<SmallRule, number> = {
    malformed: cfg.maxMalformed,
    oversize: cfg.maxOversize,
    flood: cfg.maxFloods,
    login: cfg.maxFailedLogins,
  };
  const reasonOf: Record<SmallRule, Exclude<BanReason, "manual">> = { malformed: "malformed", oversize: "oversize", flood: "flood", login: "failed_logins" };

  function pruneFront(now: number): void {
    for (let i = 0; i < PRUNE_STEP; i++) {
      const n = tracks.first();
      if (n === undefined || now - n.value.last < cfg.windowMs) break;
      tracks.delete(n.key);
    }
    // Bans and offences are only roughly ordered by end time: stop at the first live one.
    for (let i = 0; i < PRUNE_STEP; i++) {
      const n = bans.first();
      if (n === undefined || n.value.until > now) break;
      bans.delete(n.key);
    }
    for (let i = 0; i < PRUNE_STEP; i++) {
      const n = offences.first();
      if (n === undefined || !offenceForgotten(n.value, now)) break;
      offences.delete(n.key);
    }
  }

  function offenceForgotten(o: Offences, now: number): boolean {
    return now >= o.until + cfg.offenceMemoryMs && now >= o.luntil + cfg.offenceMemoryMs;
  }

  /** The key's live counters, touched (moved to the back) and created within the cap. */
  function track(key: string, now: number): Track {
    let t = tracks.get(key);
    if (t !== undefined && now - t.last >= cfg.windowMs) {
      // Everything in it has left the window: start clean in place.
      t.shares = t.malformed = t.oversize = t.flood = t.login = undefined;
    }
    if (t === undefined) {
      while (tracks.size >= cfg.maxTrackedKeys) tracks.delete(tracks.first()!.key);
      t = { last: now, shares: undefined, malformed: undefined, oversize: undefined, flood: undefined, login: undefined };
    }
    if (now > t.last) t.last = now;
    tracks.set(key, t);
    return t;
  }

  function activeBan(key: string, now: number): Ban | undefined {
    const b = bans.get(key);
    if (b === undefined) return undefined;
    if (b.until <= now) {
      bans.delete(key);
      return undefined;
    }
    return b;
  }

  /** Only range keys (v6 /64) can contain an allowlisted address: address keys are refused before they get here. */
  function spares(key: string): boolean {
    if (!hasAllowlist || key.indexOf("/") < 0) return false;
    const c = parseCidr(key);
    return !c.ok || allowlist!.overlaps(c.cidr);
  }

  function storeBan(key: string, b: Ban): void {
    bans.delete(key);
    while (bans.size >= cfg.maxBans) {
      // Oldest inserted first; manual bans are an operator's decision and are never dropped for space.
      let n = bans.first();
      while (n !== undefined && n.value.reason === "manual") n = n.next;
      if (n === undefined) break;
      bans.delete(n.key);
    }
    bans.set(key, b);
  }

  function issue(key: string, reason: Exclude<BanReason, "manual">, now: number): NewBan {
    tracks.delete(key); // counters start afresh when the ban ends
    let o = offences.get(key);
    if (o !== undefined) offences.delete(key);
    else {
      while (offences.size >= cfg.maxTrackedKeys) offences.delete(offences.first()!.key);
      o = { n: 0, until: -Infinity, ln: 0, luntil: -Infinity };
    }
    let offence: number;
    let durationMs: number;
    if (reason === "failed_logins") {
      if (now >= o.luntil + cfg.offenceMemoryMs) o.ln = 0;
      offence = ++o.ln;
      durationMs = Math.min(cfg.failedLoginBanMs * 2 ** (offence - 1), cfg.maxFailedLoginBanMs);
      o.luntil = now + durationMs;
    } else {
      if (now >= o.until + cfg.offenceMemoryMs) o.n = 0;
      offence = ++o.n;
      durationMs = Math.min(cfg.banMs * 2 ** (offence - 1), cfg.maxBanMs);
      o.until = now + durationMs;
    }
    offences.set(key, o);
    const until = now + durationMs;
    storeBan(key, { until, reason, offence, spare: spares(key) });
    issued[reason]++;
    return { key, until, reason, durationMs, offence };
  }

  /** Shared head of every recorder: allowlisted → ignored, already banned → ignored (no escalation while it runs). */
  function prelude(address: string, now: number): string | undefined {
    pruneFront(now);
    if (allowed(address)) return undefined;
    const key = banKey(address);
    if (activeBan(key, now) !== undefined) return undefined;
    return key;
  }

  function smallRule(rule: SmallRule, address: string, now: number): NewBan | undefined {
    const key = prelude(address, now);
    if (key === undefined) return undefined;
    const t = track(key, now);
    const from = now - cfg.windowMs;
    let times = t[rule];
    if (times === undefined) times = t[rule] = [];
    // Keep only events inside the window (now - windowMs, now]; length stays < limit between calls.
    let drop = 0;
    while (drop < times.length && times[drop]! <= from) drop++;
    if (drop > 0) times.splice(0, drop);
    times.push(now);
    if (times.length >= limits[rule]) return issue(key, reasonOf[rule], now);
    return undefined;
  }

  return {
    isBanned(address: string, now: number): BanCheck {
      const key = banKey(address);
      const b = bans.get(key);
      if (b === undefined) return NOT_BANNED;
      if (b.until <= now) {
        bans.delete(key);
        return NOT_BANNED;
      }
      // A /64 ban must not catch an allowlisted host that shares the /64 with the offender; the
      // flag keeps the parse off the path for every other ban (measured: ~300 ns per v6 lookup).
      if (b.spare && allowlist!.allows(address)) return NOT_BANNED;
      return { banned: true, until: b.until, reason: b.reason };
    },

    shareResult(address: string, accepted: boolean, now: number): NewBan | undefined {
      const key = prelude(address, now);
      if (key === undefined) return undefined;
      const t = track(key, now);
      let s = t.shares;
      if (s === undefined) s = t.shares = new Float64Array(3 * BUCKETS).fill(-1, 0, BUCKETS);
      const idx = Math.floor(now / bucketMs);
      const slot = idx % BUCKETS;
      if (s[slot] !== idx) {
        s[slot] = idx;
        s[BUCKETS + slot] = 0;
        s[2 * BUCKETS + slot] = 0;
      }
      s[BUCKETS + slot]!++;
      if (!accepted) s[2 * BUCKETS + slot]!++;
      if (accepted) return undefined; // an accepted share never raises the invalid ratio
      let total = 0;
      let invalid = 0;
      for (let i = 0; i < BUCKETS; i++) {
        const e = s[i]!;
        if (e > idx - BUCKETS && e <= idx) {
          total += s[BUCKETS + i]!;
          invalid += s[2 * BUCKETS + i]!;
        }
      }
      if (total >= cfg.minShares && invalid / total >= cfg.invalidRatio) return issue(key, "invalid_shares", now);
      return undefined;
    },

    malformed: (address, now) => smallRule("malformed", address, now),
    oversizeLine: (address, now) => smallRule("oversize", address, now),
    flood: (address, now) => smallRule("flood", address, now),
    loginFailed: (address, now) => smallRule("login", address, now),

    list(now: number): BanEntry[] {
      const out: BanEntry[] = [];
      bans.forEach((b, key) => {
        if (b.until <= now) bans.delete(key);
        else out.push({ key, until: b.until, reason: b.reason, offence: b.offence });
      });
      return out.sort((a, b) => a.until - b.until || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },

    ban(address: string, durationMs: number, _reason: "manual", now: number): ManualBanResult {
      if (!(durationMs > 0) || !Number.isFinite(durationMs)) return { ok: false, error: "bad_duration" };
      if (allowed(address)) return { ok: false, error: "allowlisted" };
      const key = banKey(address);
      const until = now + durationMs;
      storeBan(key, { until, reason: "manual", offence: 0, spare: spares(key) });
      issued.manual++;
      return { ok: true, ban: { key, until, reason: "manual", durationMs, offence: 0 } };
    },

    lift(addressOrKey: string): boolean {
      const key = banKey(addressOrKey);
      // Lifting is the operator forgiving the source: its counters and offence history go too,
      // so it is neither re-banned by stale counts nor escalated for the lifted ban.
      tracks.delete(key);
      offences.delete(key);
      return bans.delete(key);
    },

    snapshot(): BanEntry[] {
      const out: BanEntry[] = [];
      bans.forEach((b, key) => out.push({ key, until: b.until, reason: b.reason, offence: b.offence }));
      return out;
    },

    restore(entries: unknown, now: number): { restored: number; skipped: number } {
      let restored = 0;
      let skipped = 0;
      if (!Array.isArray(entries)) return { restored, skipped };
      for (const e of entries as unknown[]) {
        // Entries come from disk or Redis: anything not shaped like a BanEntry is skipped, not trusted.
        const r = (typeof e === "object" && e !== null ? e : {}) as Partial<Record<keyof BanEntry, unknown>>;
        const offence = r.offence === undefined ? 0 : r.offence;
        if (
          typeof r.key !== "string" ||
          typeof r.until !== "number" || !Number.isFinite(r.until) ||
          !(BAN_REASONS as readonly unknown[]).includes(r.reason) ||
          typeof offence !== "number" || !Number.isInteger(offence) || offence < 0
        ) {
          skipped++;
          continue;
        }
        const rawKey = r.key;
        const until = r.until;
        const reason = r.reason as BanReason;
        const key = banKey(rawKey);
        if (until <= now || allowed(key)) {
          skipped++;
          continue;
        }
        storeBan(key, { until, reason, offence, spare: spares(key) });
        // Escalation survives a restart: the offence count comes back with the ban.
        if (reason !== "manual" && offence > 0) {
          let o = offences.get(key);
          if (o === undefined) {
            o = { n: 0, until: -Infinity, ln: 0, luntil: -Infinity };
            offences.set(key, o);
          }
          if (reason === "failed_logins") {
            o.ln = Math.max(o.ln, offence);
            o.luntil = Math.max(o.luntil, until);
          } else {
            o.n = Math.max(o.n, offence);
            o.until = Math.max(o.until, until);
          }
        }
        restored++;
      }
      return { restored, skipped };
    },

    prune(now: number) {
      let b = 0;
      let t = 0;
      let o = 0;
      bans.forEach((v, k) => {
        if (v.until <= now && bans.delete(k)) b++;
      });
      tracks.forEach((v, k) => {
        if (now - v.last >= cfg.windowMs && tracks.delete(k)) t++;
      });
      offences.forEach((v, k) => {
        if (offenceForgotten(v, now) && offences.delete(k)) o++;
      });
      return { bans: b, tracked: t, offences: o };
    },

    stats(): BanStats {
      return { active: bans.size, issuedByReason: { ...issued }, tracked: tracks.size };
    },
  };
}
