// Tests the load generator's arithmetic: nearest-rank percentiles, sample buffer growth, Prometheus histogram reading.
import { describe, expect, test } from "bun:test";
import { createSamples, histogramDelta, histogramPercentileBound, parsePromHistogram, percentile, summarize } from "../../../src/loadgen/stats.ts";

describe("percentile (nearest rank)", () => {
  const one_to_100 = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  test("1..100: p50 = 50, p99 = 99, p100 = 100, p0 = min", () => {
    expect(percentile(one_to_100, 50)).toBe(50);
    expect(percentile(one_to_100, 99)).toBe(99);
    expect(percentile(one_to_100, 100)).toBe(100);
    expect(percentile(one_to_100, 0)).toBe(1);
  });
  test("small sets round the rank up", () => {
    expect(percentile([10, 20, 30], 50)).toBe(20); // ceil(1.5) = 2
    expect(percentile([10, 20, 30, 40], 50)).toBe(20); // ceil(2) = 2
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
    expect(percentile([10, 20, 30, 40], 99)).toBe(40);
    expect(percentile([7], 99)).toBe(7);
  });
  test("empty is NaN; p outside 0..100 is clamped", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(percentile([1, 2, 3], 150)).toBe(3);
    expect(percentile([1, 2, 3], -5)).toBe(1);
  });
});

describe("summarize and samples", () => {
  test("summarize sorts a copy and reports min/p50/p99/max/mean", () => {
    const v = [5, 1, 4, 2, 3];
    const s = summarize(v);
    expect(s).toEqual({ count: 5, min: 1, p50: 3, p90: 5, p99: 5, max: 5, mean: 3 });
    expect(v).toEqual([5, 1, 4, 2, 3]);
  });
  test("sample buffer grows past its initial size and sorts numerically", () => {
    const s = createSamples(2);
    for (const x of [10, 9, 100, 1, 50]) s.add(x);
    expect(s.count).toBe(5);
    expect(Array.from(s.sorted())).toEqual([1, 9, 10, 50, 100]);
  });
});

describe("Prometheus histogram", () => {
  const text = (b: number[], sum: number, count: number) =>
    [
      "# HELP h x",
      "# TYPE h histogram",
      `h_bucket{le="0.01"} ${b[0]}`,
      `h_bucket{le="0.05"} ${b[1]}`,
      `h_bucket{le="0.1"} ${b[2]}`,
      `h_bucket{le="+Inf"} ${b[3]}`,
      `h_sum ${sum}`,
      `h_count ${count}`,
      "other_sum 5",
    ].join("\n");
  test("parses buckets, sum and count; absent name is undefined", () => {
    const h = parsePromHistogram(text([1, 3, 4, 4], 0.2, 4), "h")!;
    expect(h.count).toBe(4);
    expect(h.sum).toBeCloseTo(0.2);
    expect(h.buckets.map((b) => b.le)).toEqual([0.01, 0.05, 0.1, Infinity]);
    expect(parsePromHistogram(text([1, 3, 4, 4], 0.2, 4), "nope")).toBeUndefined();
  });
  test("delta between scrapes and percentile bucket bounds", () => {
    const a = parsePromHistogram(text([1, 1, 1, 1], 0.005, 1), "h")!;
    const b = parsePromHistogram(text([1, 10, 100, 101], 7, 101), "h")!;
    const d = histogramDelta(b, a);
    expect(d.count).toBe(100);
    expect(d.buckets.map((x) => x.count)).toEqual([0, 9, 99, 100]);
    expect(histogramPercentileBound(d, 9)).toBe(0.05);
    expect(histogramPercentileBound(d, 50)).toBe(0.1);
    expect(histogramPercentileBound(d, 99)).toBe(0.1);
    expect(histogramPercentileBound(d, 100)).toBe(Infinity);
    expect(histogramPercentileBound({ buckets: [], sum: 0, count: 0 }, 50)).toBeNaN();
  });
});
