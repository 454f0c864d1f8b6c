// Fan-out tally across session threads: one observation per broadcast (slowest thread, all sockets), interleaving, stale-entry bound; no I/O.
import { describe, expect, test } from "bun:test";
import { createFanoutTally } from "../../../src/threads/fanout_tally.ts";

function recorder() {
  const seen: [ms: number, sockets: number][] = [];
  return { seen, observe: (ms: number, sockets: number) => void seen.push([ms, sockets]) };
}

describe("fan-out tally", () => {
  test("one part: every report is observed at once", () => {
    const r = recorder();
    const t = createFanoutTally(1, r.observe);
    t.report(1, 3.5, 10);
    expect(r.seen).toEqual([[3.5, 10]]);
    t.report(1, 2, 4); // same seq again: a single thread has nothing to wait for
    t.report(2, 7, 0);
    expect(r.seen).toEqual([[3.5, 10], [2, 4], [7, 0]]);
  });

  test("three parts: observed once, after the third report, with the max time and the socket sum", () => {
    const r = recorder();
    const t = createFanoutTally(3, r.observe);
    t.report(5, 1.25, 100);
    expect(r.seen).toEqual([]);
    t.report(5, 9.5, 50);
    expect(r.seen).toEqual([]);
    t.report(5, 4, 7);
    expect(r.seen).toEqual([[9.5, 157]]);
    // The entry is gone: a late duplicate starts a new tally instead of re-observing.
    t.report(5, 1, 1);
    expect(r.seen.length).toBe(1);
  });

  test("interleaved broadcasts are tallied separately, in completion order", () => {
    const r = recorder();
    const t = createFanoutTally(3, r.observe);
    t.report(1, 1, 1);
    t.report(2, 20, 2);
    t.report(1, 3, 10);
    t.report(3, 300, 3);
    t.report(2, 10, 20);
    t.report(2, 5, 200);
    expect(r.seen).toEqual([[20, 222]]);
    t.report(3, 100, 30);
    t.report(1, 2, 100);
    expect(r.seen).toEqual([[20, 222], [3, 111]]);
    t.report(3, 1, 300);
    expect(r.seen).toEqual([[20, 222], [3, 111], [300, 333]]);
  });

  test("broadcasts a thread never reports are dropped beyond 64 pending, without throwing", () => {
    const r = recorder();
    const t = createFanoutTally(3, r.observe);
    expect(() => {
      for (let seq = 0; seq < 100; seq++) t.report(seq, seq, 1);
    }).not.toThrow();
    expect(r.seen).toEqual([]);
    // Kept: the 64 newest (36..99). Seq 36 still completes with its tally intact.
    t.report(36, 0, 1);
    t.report(36, 0, 1);
    expect(r.seen).toEqual([[36, 3]]);
    // Dropped: seq 35's first report is forgotten, so two more do not complete it.
    t.report(35, 0, 1);
    t.report(35, 0, 1);
    expect(r.seen.length).toBe(1);
    t.report(35, 0, 1);
    expect(r.seen).toEqual([[36, 3], [0, 3]]);
  });
});
