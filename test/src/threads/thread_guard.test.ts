// A session thread's guard: admit() from the copied ban list with expiry and IPv6 /64 keys, kick callbacks, replace(), forwarded abuse events, rate limiter; no I/O.
import { describe, expect, test } from "bun:test";
import { createThreadGuard } from "../../../src/threads/thread_guard.ts";
import { banKey } from "../../../src/policy/ban_policy.ts";
import type { ThreadEvent } from "../../../src/threads/messages.ts";

const T0 = 1_800_000_000_000;
const rate = { perSecond: 2, burst: 3 };

function make(enabled: boolean) {
  const events: ThreadEvent[] = [];
  const g = createThreadGuard({ enabled, rate, emit: (ev) => void events.push(ev) });
  return { g, events };
}

describe("thread guard", () => {
  test("admits everyone while there are no bans, and always when disabled", () => {
    const on = make(true).g;
    expect(on.admit("1.2.3.4", T0)).toBe(true);
    expect(on.admit("2001:db8::1", T0)).toBe(true);
    const off = make(false).g;
    off.banned("1.2.3.4", T0 + 60_000);
    off.replace([["5.6.7.8", T0 + 60_000]]);
    expect(off.admit("1.2.3.4", T0)).toBe(true);
    expect(off.admit("5.6.7.8", T0)).toBe(true);
  });

  test("a ban refuses its address until `until`, then admits again", () => {
    const { g } = make(true);
    g.banned("1.2.3.4", T0 + 60_000);
    expect(g.admit("1.2.3.4", T0)).toBe(false);
    expect(g.admit("::ffff:1.2.3.4", T0)).toBe(false); // IPv4-mapped folds to the same key
    expect(g.admit("1.2.3.5", T0)).toBe(true);
    expect(g.admit("1.2.3.4", T0 + 59_999)).toBe(false);
    expect(g.admit("1.2.3.4", T0 + 60_000)).toBe(true);
    expect(g.admit("1.2.3.4", T0 + 1)).toBe(true); // expired entries are forgotten
  });

  test("an IPv6 ban covers the whole /64", () => {
    const { g } = make(true);
    const key = banKey("2001:db8:0:1::1");
    g.banned(key, T0 + 1000);
    expect(g.admit("2001:db8:0:1::1", T0)).toBe(false);
    expect(g.admit("2001:db8:0:1:ffff:eeee:dddd:cccc", T0)).toBe(false);
    expect(g.admit("[2001:db8:0:1::9]", T0)).toBe(false);
    expect(g.admit("2001:db8:0:2::1", T0)).toBe(true);
    expect(g.admit("2001:db8:0:1::1", T0 + 1000)).toBe(true);
  });

  test("every kick callback gets (key, until)", () => {
    const { g } = make(true);
    const a: [string, number][] = [];
    const b: [string, number][] = [];
    g.onKick((k, u) => void a.push([k, u]));
    g.onKick((k, u) => void b.push([k, u]));
    g.banned("9.9.9.9", T0 + 5);
    g.banned("2001:db8::/64", T0 + 7);
    expect(a).toEqual([["9.9.9.9", T0 + 5], ["2001:db8::/64", T0 + 7]]);
    expect(b).toEqual(a);
    expect(g.keyOf("2001:db8::1234")).toBe("2001:db8::/64");
  });

  test("replace() replaces the whole list", () => {
    const { g } = make(true);
    g.banned("1.1.1.1", T0 + 10_000);
    g.replace([["2.2.2.2", T0 + 10_000], [banKey("2001:db8:5::1"), T0 + 10_000]]);
    expect(g.admit("1.1.1.1", T0)).toBe(true);
    expect(g.admit("2.2.2.2", T0)).toBe(false);
    expect(g.admit("2001:db8:5:0:1::2", T0)).toBe(false);
    g.replace([]);
    expect(g.admit("2.2.2.2", T0)).toBe(true);
  });

  test("abuse is forwarded as events when enabled, nothing when disabled; shares are not forwarded", () => {
    const on = make(true);
    on.g.malformed("1.1.1.1", T0);
    on.g.oversize("2.2.2.2", T0);
    on.g.flood("3.3.3.3", T0);
    on.g.loginFailed("4.4.4.4", T0);
    on.g.share("5.5.5.5", { accepted: false, reason: "low_difficulty" } as never, T0);
    expect(on.events).toEqual([
      { k: "abuse", what: "malformed", addr: "1.1.1.1" },
      { k: "abuse", what: "oversize", addr: "2.2.2.2" },
      { k: "abuse", what: "flood", addr: "3.3.3.3" },
      { k: "abuse", what: "login_failed", addr: "4.4.4.4" },
    ]);
    const off = make(false);
    off.g.malformed("1.1.1.1", T0);
    off.g.oversize("2.2.2.2", T0);
    off.g.flood("3.3.3.3", T0);
    off.g.loginFailed("4.4.4.4", T0);
    expect(off.events).toEqual([]);
  });

  test("limiter() enforces the configured rate, one fresh bucket per call", () => {
    const { g } = make(true);
    const l = g.limiter();
    expect([l.take(T0), l.take(T0), l.take(T0), l.take(T0)]).toEqual([true, true, true, false]);
    expect(l.take(T0 + 499)).toBe(false);
    expect(l.take(T0 + 500)).toBe(true); // 2/s: one token per 500 ms
    expect(l.take(T0 + 500)).toBe(false);
    expect(l.take(T0 + 1000)).toBe(true);
    const fresh = g.limiter();
    expect(fresh.take(T0 + 1000)).toBe(true);
  });
});
