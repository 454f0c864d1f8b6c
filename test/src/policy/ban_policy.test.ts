// Ban policy engine with an injected clock: address keys, CIDR allowlist, every rule's threshold and window, escalation, persistence, bounds, token bucket.
import { describe, expect, test } from "bun:test";
import {
  banKey,
  checkBanPolicyConfig,
  createAllowlist,
  createBanPolicy,
  createRateLimiter,
  DEFAULT_BAN_POLICY,
  formatIPv6,
  parseCidr,
  parseIPv6,
  type BanPolicy,
  type NewBan,
} from "../../../src/policy/ban_policy.ts";

const T0 = 1_800_000_000_000; // a realistic epoch-ms clock value

function repeat(n: number, f: (i: number) => NewBan | undefined): (NewBan | undefined)[] {
  const out: (NewBan | undefined)[] = [];
  for (let i = 0; i < n; i++) out.push(f(i));
  return out;
}

describe("banKey", () => {
  test("IPv4 as is, IPv4-mapped IPv6 folded to IPv4", () => {
    expect(banKey("1.2.3.4")).toBe("1.2.3.4");
    expect(banKey("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(banKey("::FFFF:0102:0304")).toBe("1.2.3.4");
  });

  test("IPv6 grouped by /64 whatever the text form", () => {
    expect(banKey("2001:db8:0:1::1")).toBe("2001:db8:0:1::/64");
    expect(banKey("2001:0db8:0000:0001:ffff::2")).toBe("2001:db8:0:1::/64");
    expect(banKey("2001:DB8:0:1:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:0:1::/64");
    expect(banKey("[2001:db8:0:1::9]")).toBe("2001:db8:0:1::/64");
    expect(banKey("fe80::1%eth0")).toBe("fe80::/64");
    expect(banKey("2001:db8::1")).toBe("2001:db8::/64");
    expect(banKey("2001:db8:0:2::1")).toBe("2001:db8:0:2::/64");
    expect(banKey("::1")).toBe("::/64");
    expect(banKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
  });

  test("idempotent on keys, including non-canonical /64 text", () => {
    for (const a of ["1.2.3.4", "2001:db8:0:1::1", "::1"]) expect(banKey(banKey(a))).toBe(banKey(a));
    expect(banKey("2001:0db8:0:0001::/64")).toBe("2001:db8:0:1::/64");
    expect(banKey("1.2.3.4/32")).toBe("1.2.3.4");
  });

  test("invalid text comes back raw, never throws", () => {
    for (const bad of ["", "not-an-ip", "1.2.3.999", "1.2.3", "01.2.3.4", "2001:db8::g", "1::2::3", ":::", "1:2:3:4:5:6:7:8:9", "::1:", "1.2.3.4::", "2001:db8::/200", "10.0.0.0/8"]) {
      expect(banKey(bad)).toBe(bad);
    }
  });

  test("parseIPv6 / formatIPv6 follow RFC 4291 and RFC 5952", () => {
    expect(parseIPv6("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(parseIPv6("1:2:3:4:5:6:7::")).toEqual([1, 2, 3, 4, 5, 6, 7, 0]);
    expect(parseIPv6("1:2:3:4:5:6:7:8::")).toBeUndefined(); // "::" must stand for ≥ 1 group
    expect(parseIPv6("64:ff9b::192.0.2.33")).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]);
    expect(formatIPv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])).toBe("2001:db8::1:0:0:1"); // first of equal runs
    expect(formatIPv6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])).toBe("2001:db8:0:1:1:1:1:1"); // single 0 not compressed
    expect(formatIPv6([1, 0, 0, 2, 0, 0, 0, 3])).toBe("1:0:0:2::3"); // longest run wins
  });
});

describe("CIDR and allowlist", () => {
  test("parseCidr accepts v4, v6, single addresses and mapped v4", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ ok: true, cidr: { family: 4, base: 0x0a000000, prefix: 8 } });
    expect(parseCidr("192.168.1.7")).toEqual({ ok: true, cidr: { family: 4, base: 0xc0a80107, prefix: 32 } });
    expect(parseCidr("0.0.0.0/0")).toEqual({ ok: true, cidr: { family: 4, base: 0, prefix: 0 } });
    expect(parseCidr("2001:db8::/32")).toEqual({ ok: true, cidr: { family: 6, groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], prefix: 32 } });
    expect(parseCidr("::1")).toEqual({ ok: true, cidr: { family: 6, groups: [0, 0, 0, 0, 0, 0, 0, 1], prefix: 128 } });
    expect(parseCidr("::ffff:10.0.0.0/104")).toEqual({ ok: true, cidr: { family: 4, base: 0x0a000000, prefix: 8 } });
  });

  test("parseCidr returns typed errors", () => {
    const problem = (t: string) => {
      const r = parseCidr(t);
      return r.ok ? "ok" : r.error.problem;
    };
    expect(problem("10.0.0.0/33")).toBe("bad_prefix");
    expect(problem("10.0.0.0/")).toBe("bad_prefix");
    expect(problem("10.0.0.0/08")).toBe("bad_prefix");
    expect(problem("10.0.0.0/-1")).toBe("bad_prefix");
    expect(problem("2001:db8::/129")).toBe("bad_prefix");
    expect(problem("::ffff:10.0.0.0/80")).toBe("bad_prefix");
    expect(problem("10.0.0/8")).toBe("bad_address");
    expect(problem("example.com")).toBe("bad_address");
    expect(problem("")).toBe("bad_address");
    expect(problem("10.0.0.1/8")).toBe("host_bits_set");
    expect(problem("2001:db8::1/32")).toBe("host_bits_set");
    expect(problem("2001:db8:8000::/33")).toBe("ok");
    expect(problem("2001:db8:8000::/32")).toBe("host_bits_set");
    const r = parseCidr("10.0.0.1/8");
    expect(r.ok ? "" : r.error.message).toContain("10.0.0.0/8");
  });

  test("createAllowlist reports every bad entry at construction", () => {
    const r = createAllowlist(["10.0.0.0/8", "bogus", "2001:db8::/129"]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.input)).toEqual(["bogus", "2001:db8::/129"]);
  });

  test("allows matches v4 and v6 ranges, folds mapped v4, keeps families apart", () => {
    const r = createAllowlist(["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "2001:db8:ffff:1::5"]);
    if (!r.ok) throw new Error("allowlist should parse");
    const a = r.allowlist;
    expect(a.size).toBe(4);
    expect(a.allows("10.255.255.255")).toBe(true);
    expect(a.allows("11.0.0.0")).toBe(false);
    expect(a.allows("9.255.255.255")).toBe(false);
    expect(a.allows("::ffff:10.1.2.3")).toBe(true);
    expect(a.allows("192.168.1.7")).toBe(true);
    expect(a.allows("192.168.1.8")).toBe(false);
    expect(a.allows("2001:db8:1234::1")).toBe(true);
    expect(a.allows("2001:db9::1")).toBe(false);
    expect(a.allows("2001:0db8:ffff:0001:0000:0000:0000:0005")).toBe(true);
    expect(a.allows("::a00:1")).toBe(false); // v6 text whose low bits look like 10.0.0.1 is not v4
    expect(a.allows("garbage")).toBe(false);
    const empty = createAllowlist([]);
    expect(empty.ok && empty.allowlist.allows("10.0.0.1")).toBe(false);
  });

  test("overlaps: an allowed address inside a range", () => {
    const r = createAllowlist(["2001:db8:0:1::5", "10.0.0.0/8"]);
    if (!r.ok) throw new Error("allowlist should parse");
    const cidr = (t: string) => {
      const c = parseCidr(t);
      if (!c.ok) throw new Error(t);
      return c.cidr;
    };
    expect(r.allowlist.overlaps(cidr("2001:db8:0:1::/64"))).toBe(true);
    expect(r.allowlist.overlaps(cidr("2001:db8::/32"))).toBe(true);
    expect(r.allowlist.overlaps(cidr("2001:db8:0:2::/64"))).toBe(false);
    expect(r.allowlist.overlaps(cidr("10.20.0.0/16"))).toBe(true);
    expect(r.allowlist.overlaps(cidr("0.0.0.0/0"))).toBe(true);
    expect(r.allowlist.overlaps(cidr("11.0.0.0/8"))).toBe(false);
  });

  test("a /0 allows every address of its family", () => {
    const r = createAllowlist(["0.0.0.0/0"]);
    expect(r.ok && r.allowlist.allows("203.0.113.9")).toBe(true);
    expect(r.ok && r.allowlist.allows("2001:db8::1")).toBe(false);
  });
});

describe("ban policy rules", () => {
  test("invalid shares: exactly minShares at exactly the ratio bans, one below does not", () => {
    const p = createBanPolicy();
    // 19 invalid shares: ratio 1.0 but below minShares (20).
    expect(repeat(19, (i) => p.shareResult("1.1.1.1", false, T0 + i)).every((b) => b === undefined)).toBe(true);
    const b = p.shareResult("1.1.1.1", false, T0 + 19);
    expect(b).toEqual({ key: "1.1.1.1", until: T0 + 19 + 600_000, reason: "invalid_shares", durationMs: 600_000, offence: 1 });
    expect(p.isBanned("1.1.1.1", T0 + 20)).toEqual({ banned: true, until: T0 + 19 + 600_000, reason: "invalid_shares" });

    // 2 valid + 18 invalid = 0.9 exactly → ban on the 20th share.
    p.shareResult("2.2.2.2", true, T0);
    p.shareResult("2.2.2.2", true, T0);
    const r2 = repeat(18, () => p.shareResult("2.2.2.2", false, T0 + 1));
    expect(r2.slice(0, 17).every((x) => x === undefined)).toBe(true);
    expect(r2[17]?.reason).toBe("invalid_shares");

    // 3 valid + 17 invalid = 0.85 → no ban, and further valid shares keep it clean.
    for (let i = 0; i < 3; i++) p.shareResult("3.3.3.3", true, T0);
    expect(repeat(17, () => p.shareResult("3.3.3.3", false, T0 + 1)).every((x) => x === undefined)).toBe(true);
    expect(p.isBanned("3.3.3.3", T0 + 2)).toEqual({ banned: false });
    // One more invalid: 18/21 = 0.857 still below.
    expect(p.shareResult("3.3.3.3", false, T0 + 2)).toBeUndefined();
  });

  test("invalid shares: the window slides (bucketed at windowMs/10)", () => {
    const p = createBanPolicy();
    const base = 600_000 * 1000; // bucket-aligned clock so the bucket edges are exact
    for (let i = 0; i < 10; i++) p.shareResult("4.4.4.4", false, base);
    for (let i = 0; i < 9; i++) expect(p.shareResult("4.4.4.4", false, base + 599_999)).toBeUndefined();
    // Still inside the window: the 20th invalid share bans.
    expect(p.shareResult("4.4.4.4", false, base + 599_999)?.reason).toBe("invalid_shares");

    const q = createBanPolicy();
    for (let i = 0; i < 10; i++) q.shareResult("4.4.4.4", false, base);
    // At +windowMs the first ten have left the window: 10 more are not enough.
    expect(repeat(10, () => q.shareResult("4.4.4.4", false, base + 600_000)).every((x) => x === undefined)).toBe(true);
    expect(q.shareResult("4.4.4.4", false, base + 600_001)).toBeUndefined(); // 11 in window
  });

  test("malformed: maxMalformed in the window bans, one below does not; old events fall out", () => {
    const p = createBanPolicy({ maxMalformed: 20, windowMs: 600_000 });
    expect(repeat(19, () => p.malformed("5.5.5.5", T0)).every((x) => x === undefined)).toBe(true);
    // The 20th one at the last instant the first 19 are still inside the window.
    expect(p.malformed("5.5.5.5", T0 + 599_999)).toMatchObject({ key: "5.5.5.5", reason: "malformed", offence: 1 });

    const q = createBanPolicy({ maxMalformed: 20, windowMs: 600_000 });
    repeat(19, () => q.malformed("5.5.5.5", T0));
    // Exactly windowMs later the first 19 have expired: this is event 1 of a new run.
    expect(q.malformed("5.5.5.5", T0 + 600_000)).toBeUndefined();
    expect(repeat(18, () => q.malformed("5.5.5.5", T0 + 600_001)).every((x) => x === undefined)).toBe(true);
    expect(q.malformed("5.5.5.5", T0 + 600_002)?.reason).toBe("malformed");
  });

  test("malformed: events exactly windowMs old leave a live counter (key stays tracked)", () => {
    const p = createBanPolicy({ maxMalformed: 20, windowMs: 600_000 });
    repeat(18, () => p.malformed("5.5.5.6", T0));
    expect(p.malformed("5.5.5.6", T0 + 300_000)).toBeUndefined(); // 19 in window
    // The 18 from T0 drop out at T0 + windowMs; the one from +300 s stays: 2 in window.
    expect(p.malformed("5.5.5.6", T0 + 600_000)).toBeUndefined();
    expect(repeat(17, () => p.malformed("5.5.5.6", T0 + 600_000)).every((x) => x === undefined)).toBe(true);
    expect(p.malformed("5.5.5.6", T0 + 600_000)?.reason).toBe("malformed"); // 20th
  });

  test("oversize: one line bans by default; with maxOversize 2 the first does not", () => {
    const p = createBanPolicy();
    expect(p.oversizeLine("6.6.6.6", T0)).toMatchObject({ reason: "oversize", durationMs: DEFAULT_BAN_POLICY.banMs });
    const q = createBanPolicy({ maxOversize: 2 });
    expect(q.oversizeLine("6.6.6.6", T0)).toBeUndefined();
    expect(q.oversizeLine("6.6.6.6", T0 + 1)?.reason).toBe("oversize");
  });

  test("flood: maxFloods reports ban, one below does not", () => {
    const p = createBanPolicy();
    expect(p.flood("7.7.7.7", T0)).toBeUndefined();
    expect(p.flood("7.7.7.7", T0 + 1000)).toBeUndefined();
    expect(p.flood("7.7.7.7", T0 + 2000)).toMatchObject({ reason: "flood", until: T0 + 2000 + 600_000 });
  });

  test("failed logins: threshold, own base duration and own doubling with cap", () => {
    const p = createBanPolicy({ failedLoginBanMs: 60_000, maxFailedLoginBanMs: 200_000 });
    expect(repeat(9, () => p.loginFailed("8.8.8.8", T0)).every((x) => x === undefined)).toBe(true);
    let now = T0;
    const durations: number[] = [];
    for (let round = 0; round < 4; round++) {
      let b: NewBan | undefined;
      for (let i = 0; i < 10 && b === undefined; i++) b = p.loginFailed("8.8.8.8", now);
      if (!b) throw new Error("expected a failed-login ban");
      expect(b.reason).toBe("failed_logins");
      durations.push(b.durationMs);
      now = b.until;
    }
    // First ban came after 9 + 1 events; then 60 s doubling, capped at 200 s.
    expect(durations).toEqual([60_000, 120_000, 200_000, 200_000]);
    // Abuse bans keep their own count: a first malformed ban is still the base length.
    expect(p.oversizeLine("8.8.8.8", now)).toMatchObject({ durationMs: 600_000, offence: 1 });
  });

  test("events while banned are ignored (no escalation during a ban)", () => {
    const p = createBanPolicy({ maxMalformed: 1 });
    const first = p.malformed("9.9.9.9", T0);
    expect(first?.offence).toBe(1);
    expect(p.malformed("9.9.9.9", T0 + 1)).toBeUndefined();
    expect(p.oversizeLine("9.9.9.9", T0 + 2)).toBeUndefined();
    expect(p.isBanned("9.9.9.9", T0 + 3)).toMatchObject({ banned: true, until: first!.until, reason: "malformed" });
    expect(p.stats().issuedByReason).toMatchObject({ malformed: 1, oversize: 0 });
  });
});

describe("durations, expiry, escalation", () => {
  const cfg = { maxOversize: 1, banMs: 1000, maxBanMs: 5000, offenceMemoryMs: 10_000 };

  test("a lookup after until says not banned and deletes lazily", () => {
    const p = createBanPolicy(cfg);
    const b = p.oversizeLine("10.9.8.7", T0)!;
    expect(p.isBanned("10.9.8.7", b.until - 1).banned).toBe(true);
    expect(p.stats().active).toBe(1);
    expect(p.isBanned("10.9.8.7", b.until)).toEqual({ banned: false });
    expect(p.stats().active).toBe(0);
    expect(p.list(b.until)).toEqual([]);
  });

  test("repeat offenders double up to maxBanMs", () => {
    const p = createBanPolicy(cfg);
    let now = T0;
    const got: [number, number][] = [];
    for (let i = 0; i < 5; i++) {
      const b = p.oversizeLine("10.0.0.1", now)!;
      got.push([b.offence, b.durationMs]);
      now = b.until; // re-offend right when the ban ends
    }
    expect(got).toEqual([
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [4, 5000],
      [5, 5000],
    ]);
  });

  test("offence memory: forgotten offenceMemoryMs after the ban ends, not before", () => {
    const p = createBanPolicy(cfg);
    const b1 = p.oversizeLine("10.0.0.2", T0)!;
    const b2 = p.oversizeLine("10.0.0.2", b1.until + 10_000 - 1)!;
    expect(b2.offence).toBe(2);
    expect(b2.durationMs).toBe(2000);
    const b3 = p.oversizeLine("10.0.0.2", b2.until + 10_000)!;
    expect(b3.offence).toBe(1);
    expect(b3.durationMs).toBe(1000);
  });

  test("different abuse reasons share one escalation", () => {
    const p = createBanPolicy({ ...cfg, maxFloods: 1 });
    const b1 = p.oversizeLine("10.0.0.3", T0)!;
    const b2 = p.flood("10.0.0.3", b1.until)!;
    expect([b2.reason, b2.offence, b2.durationMs]).toEqual(["flood", 2, 2000]);
  });
});

describe("allowlist and /64 grouping in the policy", () => {
  test("allowlisted v4 and v6 addresses are never banned", () => {
    const p = createBanPolicy({ allowlist: ["10.0.0.0/8", "2001:db8::/32"] });
    expect(p.oversizeLine("10.1.2.3", T0)).toBeUndefined();
    expect(p.oversizeLine("::ffff:10.1.2.3", T0)).toBeUndefined();
    expect(p.oversizeLine("2001:db8:5::1", T0)).toBeUndefined();
    expect(repeat(30, () => p.shareResult("10.1.2.3", false, T0)).every((x) => x === undefined)).toBe(true);
    expect(p.isBanned("10.1.2.3", T0)).toEqual({ banned: false });
    expect(p.ban("10.1.2.3", 1000, "manual", T0)).toEqual({ ok: false, error: "allowlisted" });
    expect(p.stats().tracked).toBe(0); // not even counted
    // Outside the ranges the same events ban.
    expect(p.oversizeLine("11.1.2.3", T0)?.key).toBe("11.1.2.3");
    expect(p.oversizeLine("2001:db9::1", T0)?.key).toBe("2001:db9::/64");
  });

  test("a /64 ban covers the whole /64 but spares an allowlisted host in it", () => {
    const p = createBanPolicy({ allowlist: ["2001:db8:0:1::5"] });
    const b = p.oversizeLine("2001:db8:0:1::6", T0)!;
    expect(b.key).toBe("2001:db8:0:1::/64");
    expect(p.isBanned("2001:0db8:0000:0001:ffff::2", T0 + 1).banned).toBe(true);
    expect(p.isBanned("2001:db8:0:1::5", T0 + 1)).toEqual({ banned: false });
    expect(p.isBanned("2001:db8:0:2::6", T0 + 1)).toEqual({ banned: false });
  });

  test("counters add up across one /64", () => {
    const p = createBanPolicy({ maxMalformed: 3 });
    expect(p.malformed("2001:db8:0:1::1", T0)).toBeUndefined();
    expect(p.malformed("2001:db8:0:1::2", T0)).toBeUndefined();
    expect(p.malformed("2001:db8:0:2::3", T0)).toBeUndefined(); // other /64
    expect(p.malformed("2001:db8:0:1:ffff:ffff:ffff:ffff", T0)?.key).toBe("2001:db8:0:1::/64");
  });

  test("createBanPolicy refuses a bad allowlist; checkBanPolicyConfig lists problems", () => {
    expect(() => createBanPolicy({ allowlist: ["10.0.0.1/8"] })).toThrow(RangeError);
    expect(checkBanPolicyConfig(DEFAULT_BAN_POLICY)).toEqual([]);
    const problems = checkBanPolicyConfig({ ...DEFAULT_BAN_POLICY, invalidRatio: 0, maxBanMs: 1, allowlist: ["x"] });
    expect(problems.length).toBe(3);
  });
});

describe("admin: manual bans, list, lift, snapshot/restore", () => {
  test("manual ban, list sorted by until, lift by address or key", () => {
    const p = createBanPolicy();
    const r = p.ban("2001:db8:0:1::1", 5000, "manual", T0);
    expect(r).toEqual({ ok: true, ban: { key: "2001:db8:0:1::/64", until: T0 + 5000, reason: "manual", durationMs: 5000, offence: 0 } });
    p.ban("1.2.3.4", 1000, "manual", T0);
    p.oversizeLine("5.6.7.8", T0);
    expect(p.list(T0).map((e) => [e.key, e.until])).toEqual([
      ["1.2.3.4", T0 + 1000],
      ["2001:db8:0:1::/64", T0 + 5000],
      ["5.6.7.8", T0 + 600_000],
    ]);
    expect(p.list(T0 + 1000).length).toBe(2);
    expect(p.isBanned("2001:db8:0:1::99", T0)).toEqual({ banned: true, until: T0 + 5000, reason: "manual" });
    expect(p.lift("2001:0db8:0:1::/64")).toBe(true);
    expect(p.lift("2001:db8:0:1::1")).toBe(false);
    expect(p.isBanned("2001:db8:0:1::99", T0)).toEqual({ banned: false });
    expect(p.lift("::ffff:5.6.7.8")).toBe(true);
    expect(p.ban("1.2.3.4", 0, "manual", T0)).toEqual({ ok: false, error: "bad_duration" });
    expect(p.ban("1.2.3.4", Number.NaN, "manual", T0)).toEqual({ ok: false, error: "bad_duration" });
    expect(p.stats().issuedByReason).toEqual({ invalid_shares: 0, malformed: 0, oversize: 1, flood: 0, failed_logins: 0, manual: 2 });
  });

  test("lift forgets the offence history", () => {
    const p = createBanPolicy({ banMs: 1000 });
    p.oversizeLine("1.1.1.1", T0);
    p.lift("1.1.1.1");
    expect(p.oversizeLine("1.1.1.1", T0 + 1)?.offence).toBe(1);
  });

  test("snapshot is JSON; restore skips expired and malformed entries and keeps escalation", () => {
    const p = createBanPolicy({ banMs: 1000, maxBanMs: 100_000 });
    const a = p.oversizeLine("1.1.1.1", T0)!;
    p.oversizeLine("1.1.1.1", a.until); // offence 2, until T0 + 3000
    p.oversizeLine("2.2.2.2", T0); // until T0 + 1000
    p.ban("2001:db8::1", 50_000, "manual", T0);
    const json = JSON.stringify(p.snapshot());
    const entries = JSON.parse(json) as unknown[];
    expect(entries.length).toBe(3);

    const q = createBanPolicy({ banMs: 1000, maxBanMs: 100_000 });
    const res = q.restore([...entries, { key: 5 }, null, { key: "3.3.3.3", until: T0 + 9e9, reason: "nope" }], T0 + 2000);
    expect(res).toEqual({ restored: 2, skipped: 4 }); // 2.2.2.2 expired + 3 malformed
    expect(q.list(T0 + 2000)).toEqual([
      { key: "1.1.1.1", until: T0 + 3000, reason: "oversize", offence: 2 },
      { key: "2001:db8::/64", until: T0 + 50_000, reason: "manual", offence: 0 },
    ]);
    expect(q.isBanned("2.2.2.2", T0 + 2000)).toEqual({ banned: false });
    // The next offence after the restored one is the third.
    expect(q.oversizeLine("1.1.1.1", T0 + 3000)).toMatchObject({ offence: 3, durationMs: 4000 });
    expect(q.restore("not an array", T0)).toEqual({ restored: 0, skipped: 0 });
  });
});

describe("bounded memory", () => {
  test("maxTrackedKeys evicts the least recently active key", () => {
    const p = createBanPolicy({ maxTrackedKeys: 3, maxMalformed: 2 });
    p.malformed("1.0.0.1", T0);
    p.malformed("1.0.0.2", T0);
    p.malformed("1.0.0.3", T0);
    expect(p.stats().tracked).toBe(3);
    expect(p.malformed("1.0.0.2", T0 + 1)?.reason).toBe("malformed"); // 2nd event bans → its counters are dropped
    expect(p.stats().tracked).toBe(2);
    p.malformed("1.0.0.4", T0 + 2); // tracked: 1, 3, 4
    p.malformed("1.0.0.5", T0 + 3); // full: evicts 1.0.0.1 (oldest)
    expect(p.stats().tracked).toBe(3);
    // 1.0.0.1 lost its first event, so this is its first again (and it evicts 1.0.0.3, now the oldest).
    expect(p.malformed("1.0.0.1", T0 + 4)).toBeUndefined();
    expect(p.malformed("1.0.0.3", T0 + 5)).toBeUndefined(); // evicted when 1.0.0.1 came back
    expect(p.malformed("1.0.0.5", T0 + 6)?.reason).toBe("malformed"); // recently active → kept
  });

  test("a scan from many addresses stays within the caps", () => {
    const p = createBanPolicy({ maxTrackedKeys: 1000, maxBans: 500 });
    p.ban("9.9.9.9", 1e9, "manual", T0);
    for (let i = 0; i < 50_000; i++) {
      const a = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      p.malformed(a, T0 + i);
      p.oversizeLine(`2001:db8:${i.toString(16)}::1`, T0 + i);
    }
    const s = p.stats();
    expect(s.tracked).toBeLessThanOrEqual(1000);
    expect(s.active).toBeLessThanOrEqual(500);
    expect(s.issuedByReason.oversize).toBe(50_000);
    expect(p.isBanned("9.9.9.9", T0 + 50_000).banned).toBe(true); // manual bans are never evicted for space
    expect(p.isBanned("2001:db8:c34f::7", T0 + 50_000).banned).toBe(true); // the newest survive
  });

  test("prune drops stale counters, expired bans and forgotten offences; events prune opportunistically", () => {
    const p = createBanPolicy({ windowMs: 1000, banMs: 1000, offenceMemoryMs: 5000, maxMalformed: 5 });
    for (let i = 0; i < 100; i++) p.malformed(`1.0.${i >> 8}.${i & 255}`, T0);
    p.oversizeLine("2.0.0.1", T0);
    expect(p.stats()).toMatchObject({ tracked: 100, active: 1 });
    expect(p.prune(T0 + 999)).toEqual({ bans: 0, tracked: 0, offences: 0 });
    expect(p.prune(T0 + 1000)).toEqual({ bans: 1, tracked: 100, offences: 0 });
    expect(p.prune(T0 + 6000)).toEqual({ bans: 0, tracked: 0, offences: 1 });

    const q = createBanPolicy({ windowMs: 1000, maxMalformed: 5 });
    for (let i = 0; i < 100; i++) q.malformed(`1.0.0.${i}`, T0);
    // Each later event drains a few stale keys from the front: no sweep needed to stay bounded.
    for (let i = 0; i < 30; i++) q.malformed("3.3.3.3", T0 + 2000 + i * 1000);
    expect(q.stats().tracked).toBe(1);
  });
});

describe("rate limiter (token bucket)", () => {
  test("burst, then the steady rate", () => {
    const r = createRateLimiter({ perSecond: 2, burst: 5 });
    expect([1, 2, 3, 4, 5, 6].map(() => r.take(T0))).toEqual([true, true, true, true, true, false]);
    expect(r.take(T0 + 499)).toBe(false); // 0.998 token
    expect(r.take(T0 + 500)).toBe(true); // one token every 500 ms
    expect(r.take(T0 + 500)).toBe(false);
    expect(r.take(T0 + 1000)).toBe(true);
    // Steady pressure every 10 ms for ~10 s: only the refill rate passes.
    let passed = 0;
    for (let t = 1; t <= 10_000; t += 10) if (r.take(T0 + 1000 + t)) passed++;
    expect(passed).toBe(19); // t=1..9991: tokens accrue to 9991*2/1000 = 19.98
  });

  test("idle refills only up to burst; a clock stepping back refills nothing", () => {
    const r = createRateLimiter({ perSecond: 1, burst: 3 });
    for (let i = 0; i < 3; i++) expect(r.take(T0)).toBe(true);
    expect(r.take(T0 + 3_600_000)).toBe(true);
    expect(r.take(T0 + 3_600_000)).toBe(true);
    expect(r.take(T0 + 3_600_000)).toBe(true);
    expect(r.take(T0 + 3_600_000)).toBe(false);
    expect(r.take(T0)).toBe(false);
    expect(r.take(T0 + 3_600_999)).toBe(false); // backward step did not move `last` back: 0.999 token
    expect(r.take(T0 + 3_601_000)).toBe(true); // exactly 1.000
  });

  test("bad parameters are refused at construction", () => {
    expect(() => createRateLimiter({ perSecond: 0, burst: 1 })).toThrow(RangeError);
    expect(() => createRateLimiter({ perSecond: 1, burst: 0.5 })).toThrow(RangeError);
  });
});

// Keep the policy type referenced so a signature change shows up here as a compile error.
const _typed: (p: BanPolicy) => boolean = (p) => p.isBanned("1.1.1.1", 0).banned;
void _typed;
