// Tiny Prometheus registry (counters, gauges, fixed-bucket histograms) rendering text exposition format 0.0.4; no dependency, no HTTP.
// Format reference: https://prometheus.io/docs/instrumenting/exposition_formats/ (text format 0.0.4).

export type Labels = Record<string, string>;

export interface CounterChild {
  inc(n?: number): void;
  get(): number;
}
export interface Counter extends CounterChild {
  /** Resolve a labelled child once (e.g. at startup) and keep it: inc() on it is one addition. */
  labels(values: Labels): CounterChild;
}

export interface GaugeChild {
  set(v: number): void;
  inc(n?: number): void;
  dec(n?: number): void;
  get(): number;
}
export interface Gauge extends GaugeChild {
  labels(values: Labels): GaugeChild;
}

export interface HistogramChild {
  observe(v: number): void;
  /** Count and sum so far (tests, /api/stats). */
  get(): { count: number; sum: number };
}
export interface Histogram extends HistogramChild {
  labels(values: Labels): HistogramChild;
}

export interface Registry {
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(name: string, help: string, buckets: readonly number[], labelNames?: readonly string[]): Histogram;
  /** Run `fn` before every render, to set gauges that are sampled rather than tracked (connections, RSS). */
  onCollect(fn: () => void): void;
  render(): string;
}

/** Seconds; spans 0.5 ms .. 2.5 s for job fan-out time and submit latency. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.06, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeLabel = (s: string) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** Go-style float text: +Inf, -Inf, NaN, otherwise JS's shortest round-trip form. */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  if (Number.isNaN(v)) return "NaN";
  return String(v);
}

interface Family<C> {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  labelNames: readonly string[];
  /** Rendered label pairs (`a="x",b="y"`) → child. */
  children: Map<string, C>;
  renderChild(labelText: string, child: C): string;
}

function labelText(f: { name: string; labelNames: readonly string[] }, values: Labels): string {
  const keys = Object.keys(values);
  if (keys.length !== f.labelNames.length || !f.labelNames.every((n) => typeof values[n] === "string")) {
    throw new Error(`metric ${f.name}: labels must be exactly [${f.labelNames.join(", ")}], got [${keys.join(", ")}]`);
  }
  return f.labelNames.map((n) => `${n}="${escapeLabel(values[n]!)}"`).join(",");
}

const braces = (t: string) => (t === "" ? "" : `{${t}}`);

export function createRegistry(): Registry {
  const families: Family<unknown>[] = [];
  const names = new Set<string>();
  const collectors: (() => void)[] = [];

  function register<C>(name: string, help: string, type: Family<C>["type"], labelNames: readonly string[], make: () => C, renderChild: Family<C>["renderChild"]) {
    if (!NAME.test(name)) throw new Error(`metric name ${JSON.stringify(name)} is not a valid Prometheus name`);
    if (names.has(name)) throw new Error(`metric ${name} registered twice`);
    for (const l of labelNames) {
      if (!LABEL.test(l) || l.startsWith("__") || (type === "histogram" && l === "le")) throw new Error(`metric ${name}: bad label name ${JSON.stringify(l)}`);
    }
    names.add(name);
    const f: Family<C> = { name, help, type, labelNames, children: new Map(), renderChild };
    families.push(f as Family<unknown>);
    const child = (values: Labels): C => {
      const key = labelText(f, values);
      let c = f.children.get(key);
      if (!c) f.children.set(key, (c = make()));
      return c;
    };
    // An unlabelled metric has one child with no labels, present from the start so it renders as 0.
    const root = labelNames.length === 0 ? child({}) : undefined;
    const noRoot = () => {
      throw new Error(`metric ${name} has labels [${labelNames.join(", ")}]: use .labels({...})`);
    };
    return { child, root, noRoot };
  }

  const makeCounter = (): CounterChild => {
    let v = 0;
    return {
      inc(n = 1) {
        if (!(n >= 0)) throw new RangeError(`counter increment must be >= 0, got ${n}`);
        v += n;
      },
      get: () => v,
    };
  };
  const makeGauge = (): GaugeChild => {
    let v = 0;
    return {
      set(x) {
        v = x;
      },
      inc(n = 1) {
        v += n;
      },
      dec(n = 1) {
        v -= n;
      },
      get: () => v,
    };
  };

  return {
    counter(name, help, labelNames = []) {
      const { child, root, noRoot } = register(name, help, "counter", labelNames, makeCounter, (t, c) => `${name}${braces(t)} ${formatValue(c.get())}\n`);
      return {
        labels: child,
        inc: root ? root.inc : noRoot,
        get: root ? root.get : noRoot,
      };
    },
    gauge(name, help, labelNames = []) {
      const { child, root, noRoot } = register(name, help, "gauge", labelNames, makeGauge, (t, c) => `${name}${braces(t)} ${formatValue(c.get())}\n`);
      return {
        labels: child,
        set: root ? root.set : noRoot,
        inc: root ? root.inc : noRoot,
        dec: root ? root.dec : noRoot,
        get: root ? root.get : noRoot,
      };
    },
    histogram(name, help, buckets, labelNames = []) {
      if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
        throw new Error(`histogram ${name}: buckets must be finite and strictly increasing`);
      }
      const bounds = [...buckets];
      const leText = bounds.map(formatValue);
      type H = HistogramChild & { counts: number[]; sum: () => number; count: () => number };
      const make = (): H => {
        const counts = new Array<number>(bounds.length).fill(0); // per bucket, not cumulative; +Inf = count
        let sum = 0;
        let count = 0;
        return {
          counts,
          sum: () => sum,
          count: () => count,
          observe(v) {
            let i = 0;
            while (i < bounds.length && v > bounds[i]!) i++;
            if (i < bounds.length) counts[i]!++;
            sum += v;
            count++;
          },
          get: () => ({ count, sum }),
        };
      };
      const render = (t: string, h: H) => {
        const sep = t === "" ? "" : ",";
        let out = "";
        let cum = 0;
        for (let i = 0; i < bounds.length; i++) {
          cum += h.counts[i]!;
          out += `${name}_bucket{${t}${sep}le="${leText[i]}"} ${cum}\n`;
        }
        out += `${name}_bucket{${t}${sep}le="+Inf"} ${h.count()}\n`;
        out += `${name}_sum${braces(t)} ${formatValue(h.sum())}\n`;
        out += `${name}_count${braces(t)} ${h.count()}\n`;
        return out;
      };
      const { child, root, noRoot } = register<H>(name, help, "histogram", labelNames, make, render);
      return {
        labels: child,
        observe: root ? root.observe : noRoot,
        get: root ? root.get : noRoot,
      };
    },
    onCollect(fn) {
      collectors.push(fn);
    },
    render() {
      for (const fn of collectors) fn();
      let out = "";
      for (const f of families) {
        out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
        for (const [t, c] of f.children) out += f.renderChild(t, c);
      }
      return out;
    },
  };
}
