// Vardiff arithmetic with injected time: ramps, quiet windows, variance band, clamps.
import { describe, expect, test } from "bun:test";
import { clampDifficulty, vardiffOnShare, vardiffOnTick, vardiffStart, type VardiffPolicy } from "../../../protocols/core/vardiff.ts";

const p: VardiffPolicy = { targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30, min: 0.001, max: 1e6 };

describe("vardiff", () => {
  test("no change inside the retarget window at the target rate", () => {
    const s = vardiffStart(0);
    for (let t = 10_000; t < 60_000; t += 10_000) expect(vardiffOnShare(s, 1, t, p, 0)).toBeUndefined();
  });

  test("at the window end, 3× the target rate triples the difficulty", () => {
    const s = vardiffStart(0);
    let next: number | undefined;
    // One share every 3.33 s where one per 10 s is wanted: the 12th share (2× a window) retargets ×3.
    for (let i = 1; i <= 18; i++) next = vardiffOnShare(s, 1, (i * 60_000) / 18, p, 0) ?? next;
    expect(next).toBeCloseTo(3, 5);
  });

  test("a flood retargets early (2× a window's shares) by the observed ratio", () => {
    const s = vardiffStart(0);
    let next: number | undefined;
    for (let i = 1; i <= 12 && next === undefined; i++) next = vardiffOnShare(s, 0.01, i * 10, p, 0);
    // 12 shares in 120 ms: interval 0.01 s, 1000× too fast.
    expect(next).toBeCloseTo(10, 5);
  });

  test("within the variance band nothing changes", () => {
    const s = vardiffStart(0);
    let next: number | undefined;
    for (let i = 1; i <= 7; i++) next = vardiffOnShare(s, 1, (i * 60_000) / 7, p, 0) ?? next;
    expect(next).toBeUndefined(); // 7 shares where 6 were wanted: +17 %, inside 30 %
  });

  test("a quiet connection is halved per quiet window, never below the floor", () => {
    const s = vardiffStart(0);
    expect(vardiffOnTick(s, 1, 59_000, p, 0)).toBeUndefined();
    expect(vardiffOnTick(s, 1, 60_000, p, 0)).toBe(0.5);
    expect(vardiffOnTick(s, 0.5, 120_000, p, 0)).toBe(0.25);
    const q = vardiffStart(0);
    expect(vardiffOnTick(q, 0.0015, 60_000, p, 0.0012)).toBeUndefined(); // clamped to 0.0012 = within band of 0.0015? 20 % → unchanged
    expect(vardiffOnTick(q, 0.002, 120_000, p, 0.0012)).toBe(0.0012);
  });

  test("clamp handles NaN, zero and bounds", () => {
    expect(clampDifficulty(Number.NaN, 1, 10)).toBe(1);
    expect(clampDifficulty(0, 1, 10)).toBe(1);
    expect(clampDifficulty(100, 1, 10)).toBe(10);
    expect(clampDifficulty(5, 1, 10)).toBe(5);
  });
});
