// Load-generator arithmetic: latency sample buffer, nearest-rank percentiles, Prometheus histogram reading; no I/O or timing.

/** Growable Float64 sample buffer: one typed array instead of a JS array of boxed numbers (600k+ samples per run). */
export interface Samples {
  add(v: number): void;
  readonly count: number;
  /** A sorted copy of the samples. */
  sorted(): Float64Array;
}

export function createSamples(initial = 1 << 16): Samples {
  let buf = new Float64Array(Math.max(1, initial));
  let n = 0;
  return {
    add(v) {
      if (n === buf.length) {
        const next = new Float64Array(buf.length * 2);
        next.set(buf);
        buf = next;
      }
      buf[n++] = v;
    },
    get count() {
      return n;
    },
    sorted() {
      return buf.slice(0, n).sort();
    },
  };
}

/**
 * Nearest-rank percentile of ascending values: the smallest value with at least p% of the samples
 * at or below it (rank = ceil(p/100 × n), 1-based). NaN for no samples; p is clamped to 0..100, p=0 → minimum.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const q = Math.min(100, Math.max(0, p));
  const rank = Math.max(1, Math.ceil((q / 100) * n));
  return sorted[rank - 1] as number;
}

export interface Summary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Summary of unsorted values (sorts a copy). */
export function summarize(values: ArrayLike<number>): Summary {
  const s = Float64Array.from(values).sort();
  return summarizeSorted(s);
}

export function summarizeSorted(s: ArrayLike<number>): Summary {
  const n = s.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += s[i] as number;
  return {
    count: n,
    min: n ? (s[0] as number) : Number.NaN,
    p50: percentile(s, 50),
    p90: percentile(s, 90),
    p99: percentile(s, 99),
    max: n ? (s[n - 1] as number) : Number.NaN,
    mean: n ? sum / n : Number.NaN,
  };
}

export interface PromHistogram {
  /** Cumulative counts per upper bound `le`, ascending, +Inf last. */
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** Reads one unlabelled histogram (`name_bucket{le=".."}`, `name_sum`, `name_count`) from Prometheus text; undefined if absent. */
export function parsePromHistogram(text: string, name: string): PromHistogram | undefined {
  const buckets: { le: number; count: number }[] = [];
  let sum: number | undefined;
  let count: number | undefined;
  for (const line of text.split("\n")) {
    if (line.startsWith(name + "_bucket{")) {
      const m = /le="([^"]+)"\}\s+(\S+)/.exec(line);
      if (!m) continue;
      const le = m[1] === "+Inf" ? Infinity : Number(m[1]);
      const c = Number(m[2]);
      if (!Number.isNaN(le) && Number.isFinite(c)) buckets.push({ le, count: c });
    } else if (line.startsWith(name + "_sum ")) sum = Number(line.slice(name.length + 5));
    else if (line.startsWith(name + "_count ")) count = Number(line.slice(name.length + 7));
  }
  if (sum === undefined || count === undefined || buckets.length === 0) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  return { buckets, sum, count };
}

/** Observations recorded between two scrapes of the same histogram (counters only grow). */
export function histogramDelta(after: PromHistogram, before: PromHistogram | undefined): PromHistogram {
  if (!before) return after;
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - (before.buckets.find((x) => x.le === b.le)?.count ?? 0) })),
    sum: after.sum - before.sum,
    count: after.count - before.count,
  };
}

/**
 * Upper bound of the bucket holding the p-th percentile (nearest rank): what a histogram can promise,
 * "p99 ≤ this". NaN with no observations; Infinity when it falls in the +Inf bucket.
 */
export function histogramPercentileBound(h: PromHistogram, p: number): number {
  if (h.count <= 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * h.count));
  for (const b of h.buckets) if (b.count >= rank) return b.le;
  return Infinity;
}

/** A histogram's observations between two scrapes: count, mean and p50/p99 bucket bounds, in ms (the histogram is in seconds). */
export interface HistogramFigures {
  count: number;
  meanMs: number;
  p50BoundMs: number;
  p99BoundMs: number;
}

export function histogramFigures(after: PromHistogram, before: PromHistogram | undefined): HistogramFigures {
  const d = histogramDelta(after, before);
  return {
    count: d.count,
    meanMs: d.count > 0 ? Math.round((d.sum / d.count) * 1e6) / 1000 : Number.NaN,
    p50BoundMs: histogramPercentileBound(d, 50) * 1000,
    p99BoundMs: histogramPercentileBound(d, 99) * 1000,
  };
}

/** A summary rounded to µs (3 decimals of ms) for printing and JSON. */
export function roundSummary(s: Summary): Summary {
  const r = (x: number) => Math.round(x * 1000) / 1000;
  return { count: s.count, min: r(s.min), p50: r(s.p50), p90: r(s.p90), p99: r(s.p99), max: r(s.max), mean: r(s.mean) };
}
