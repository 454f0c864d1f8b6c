// Manual clock: timers fire in due-time order (ties in creation order) only when advance() moves time past them.
import { describe, expect, test } from "bun:test";
import { createManualClock } from "../../../src/runtime/manual_clock.ts";

describe("manual clock", () => {
  test("starts at the given time and only moves on advance()", () => {
    const c = createManualClock(1000);
    expect(c.now()).toBe(1000);
    c.advance(250);
    expect(c.now()).toBe(1250);
    expect(createManualClock().now()).toBe(0);
  });

  test("timeouts fire in due order, ties in creation order, with now() = due time", () => {
    const c = createManualClock(0);
    const log: string[] = [];
    c.setTimeout(() => log.push(`c@${c.now()}`), 30);
    c.setTimeout(() => log.push(`a@${c.now()}`), 10);
    c.setTimeout(() => log.push(`b1@${c.now()}`), 20);
    c.setTimeout(() => log.push(`b2@${c.now()}`), 20);
    expect(c.pending()).toBe(4);
    c.advance(19);
    expect(log).toEqual(["a@10"]);
    c.advance(1);
    expect(log).toEqual(["a@10", "b1@20", "b2@20"]);
    c.advance(100);
    expect(log).toEqual(["a@10", "b1@20", "b2@20", "c@30"]);
    expect(c.now()).toBe(120);
    expect(c.pending()).toBe(0);
  });

  test("clearTimeout prevents firing; clearing twice or an unknown id is harmless", () => {
    const c = createManualClock();
    let fired = 0;
    const id = c.setTimeout(() => fired++, 5);
    c.clearTimeout(id);
    c.clearTimeout(id);
    c.clearTimeout("nope");
    c.advance(10);
    expect(fired).toBe(0);
    expect(c.pending()).toBe(0);
  });

  test("intervals repeat at their period inside one advance and interleave with timeouts by time", () => {
    const c = createManualClock(0);
    const log: string[] = [];
    const iv = c.setInterval(() => log.push(`i@${c.now()}`), 10);
    c.setTimeout(() => log.push(`t@${c.now()}`), 25);
    c.advance(35);
    expect(log).toEqual(["i@10", "i@20", "t@25", "i@30"]);
    expect(c.pending()).toBe(1);
    c.clearInterval(iv);
    c.advance(100);
    expect(log.length).toBe(4);
  });

  test("a timer scheduled by a firing timer fires in the same advance when due", () => {
    const c = createManualClock(0);
    const log: number[] = [];
    c.setTimeout(() => {
      log.push(c.now());
      c.setTimeout(() => log.push(c.now()), 5);
      c.setTimeout(() => log.push(c.now()), 50);
    }, 10);
    c.advance(20);
    expect(log).toEqual([10, 15]);
    expect(c.pending()).toBe(1);
  });

  test("an interval clearing itself stops; zero-delay timeout fires on advance(0)", () => {
    const c = createManualClock(0);
    let n = 0;
    const iv = c.setInterval(() => {
      if (++n === 3) c.clearInterval(iv);
    }, 1);
    c.advance(10);
    expect(n).toBe(3);
    let z = 0;
    c.setTimeout(() => z++, 0);
    expect(z).toBe(0);
    c.advance(0);
    expect(z).toBe(1);
  });

  test("advance rejects negative time", () => {
    expect(() => createManualClock().advance(-1)).toThrow(RangeError);
  });
});
