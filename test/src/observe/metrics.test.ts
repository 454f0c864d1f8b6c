// Prometheus registry: exact text exposition 0.0.4 output for counters, gauges, histograms, label escaping, and misuse errors.
import { describe, expect, test } from "bun:test";
import { createRegistry, formatValue, LATENCY_BUCKETS_SECONDS } from "../../../src/observe/metrics.ts";

describe("metrics registry", () => {
  test("counters and gauges, labelled and not, render in registration order", () => {
    const r = createRegistry();
    const conns = r.gauge("stratum_connections", "Open miner connections.");
    const shares = r.counter("stratum_shares_total", "Shares by result.", ["result"]);
    const accepted = shares.labels({ result: "accepted" });
    const rejected = shares.labels({ result: "rejected" });
    accepted.inc();
    accepted.inc(2);
    rejected.inc();
    conns.set(5);
    conns.inc();
    conns.dec(2);
    expect(shares.labels({ result: "accepted" })).toBe(accepted); // children are cached
    expect(accepted.get()).toBe(3);
    expect(r.render()).toBe(
      [
        "# HELP stratum_connections Open miner connections.",
        "# TYPE stratum_connections gauge",
        "stratum_connections 4",
        "# HELP stratum_shares_total Shares by result.",
        "# TYPE stratum_shares_total counter",
        'stratum_shares_total{result="accepted"} 3',
        'stratum_shares_total{result="rejected"} 1',
        "",
      ].join("\n"),
    );
  });

  test("an unlabelled counter renders 0 before any increment; a labelled one renders only HELP/TYPE", () => {
    const r = createRegistry();
    r.counter("a_total", "A.");
    r.counter("b_total", "B.", ["x"]);
    expect(r.render()).toBe("# HELP a_total A.\n# TYPE a_total counter\na_total 0\n# HELP b_total B.\n# TYPE b_total counter\n");
  });

  test("label values and help text are escaped; label order follows the declaration", () => {
    const r = createRegistry();
    const c = r.counter("e_total", 'Help with \\ and\nnewline and "quotes".', ["worker", "addr"]);
    c.labels({ addr: "1.2.3.4", worker: 'a"b\\c\nd' }).inc();
    expect(r.render()).toBe(
      '# HELP e_total Help with \\\\ and\\nnewline and "quotes".\n# TYPE e_total counter\ne_total{worker="a\\"b\\\\c\\nd",addr="1.2.3.4"} 1\n',
    );
  });

  test("histogram buckets are cumulative with +Inf, _sum and _count; boundaries are inclusive (le)", () => {
    const r = createRegistry();
    const h = r.histogram("submit_seconds", "Submit latency.", [0.01, 0.1, 1]);
    for (const v of [0.0078125, 0.01, 0.0625, 0.5, 2, 3]) h.observe(v);
    const lat = r.histogram("fanout_seconds", "Fan-out.", [0.5], ["coin"]);
    lat.labels({ coin: "btc" }).observe(0.25);
    expect(r.render()).toBe(
      [
        "# HELP submit_seconds Submit latency.",
        "# TYPE submit_seconds histogram",
        'submit_seconds_bucket{le="0.01"} 2',
        'submit_seconds_bucket{le="0.1"} 3',
        'submit_seconds_bucket{le="1"} 4',
        'submit_seconds_bucket{le="+Inf"} 6',
        "submit_seconds_sum 5.5803125",
        "submit_seconds_count 6",
        "# HELP fanout_seconds Fan-out.",
        "# TYPE fanout_seconds histogram",
        'fanout_seconds_bucket{coin="btc",le="0.5"} 1',
        'fanout_seconds_bucket{coin="btc",le="+Inf"} 1',
        'fanout_seconds_sum{coin="btc"} 0.25',
        'fanout_seconds_count{coin="btc"} 1',
        "",
      ].join("\n"),
    );
    expect(h.get()).toEqual({ count: 6, sum: 5.5803125 });
  });

  test("onCollect runs before each render (sampled gauges)", () => {
    const r = createRegistry();
    const g = r.gauge("rss_bytes", "RSS.");
    let n = 0;
    r.onCollect(() => g.set(++n * 1000));
    expect(r.render()).toContain("rss_bytes 1000\n");
    expect(r.render()).toContain("rss_bytes 2000\n");
  });

  test("misuse is refused loudly", () => {
    const r = createRegistry();
    const c = r.counter("x_total", "X.", ["a"]);
    expect(() => r.counter("x_total", "dup")).toThrow("registered twice");
    expect(() => r.counter("bad-name", "B.")).toThrow("not a valid");
    expect(() => r.counter("y_total", "Y.", ["__x"])).toThrow("bad label");
    expect(() => r.histogram("h", "H.", [1], ["le"])).toThrow("bad label");
    expect(() => r.histogram("h2", "H.", [1, 1])).toThrow("strictly increasing");
    expect(() => c.inc()).toThrow("use .labels");
    expect(() => c.labels({})).toThrow("labels must be exactly [a]");
    expect(() => c.labels({ a: "1", b: "2" })).toThrow("labels must be exactly [a]");
    expect(() => c.labels({ a: "1" }).inc(-1)).toThrow(RangeError);
  });

  test("value formatting and default buckets", () => {
    expect(formatValue(Infinity)).toBe("+Inf");
    expect(formatValue(-Infinity)).toBe("-Inf");
    expect(formatValue(NaN)).toBe("NaN");
    expect(formatValue(1e21)).toBe("1e+21");
    expect(formatValue(0.25)).toBe("0.25");
    expect([...LATENCY_BUCKETS_SECONDS].sort((a, b) => a - b)).toEqual([...LATENCY_BUCKETS_SECONDS]);
  });
});
