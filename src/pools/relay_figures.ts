// Per-upstream-pool figures of relay mode (connections, verdicts, verdict latency, difficulty) for /api/stats and /metrics; counting only, no decisions.
import type { EndpointHealth, PoolEndpoint } from "../upstream/pool/pool_list.ts";

export interface UpstreamSnapshot {
  url: string;
  user: string;
  priority: number;
  /** active: carries miners; standby: healthy, unused; backoff: failed, retried later. */
  state: "active" | "standby" | "backoff";
  connections: number;
  accepted: number;
  rejected: number;
  unconfirmed: number;
  /** Submit → verdict, over the last 1024 verdicts. */
  latencyMs: { p50: number; p99: number; max: number; samples: number };
  difficulty: number;
  failures: number;
  lastError: string | undefined;
}

interface Figures {
  connections: number;
  accepted: number;
  rejected: number;
  unconfirmed: number;
  difficulty: number;
  latency: Float64Array;
  latencyCount: number;
}

const RING = 1024;

export interface UpstreamFigures {
  up(e: number): void;
  down(e: number): void;
  /** One forwarded share's outcome (timeout and lost count as unconfirmed; only real verdicts time the latency). */
  verdict(e: number, kind: "accepted" | "rejected" | "timeout" | "lost", ms: number): void;
  difficulty(e: number, d: number): void;
  snapshot(health: readonly EndpointHealth[], slots: readonly { endpoint: number; link: { phase: string } | undefined }[]): UpstreamSnapshot[];
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export function createUpstreamFigures(endpoints: readonly PoolEndpoint[]): UpstreamFigures {
  const f: Figures[] = endpoints.map(() => ({ connections: 0, accepted: 0, rejected: 0, unconfirmed: 0, difficulty: 0, latency: new Float64Array(RING), latencyCount: 0 }));
  const at = (e: number) => f[e];
  return {
    up(e) {
      const x = at(e);
      if (x) x.connections++;
    },
    down(e) {
      const x = at(e);
      if (x) x.connections = Math.max(0, x.connections - 1);
    },
    verdict(e, kind, ms) {
      const x = at(e);
      if (!x) return;
      if (kind === "accepted") x.accepted++;
      else if (kind === "rejected") x.rejected++;
      else x.unconfirmed++;
      if (kind === "accepted" || kind === "rejected") x.latency[x.latencyCount++ % RING] = ms;
    },
    difficulty(e, d) {
      const x = at(e);
      if (x) x.difficulty = d;
    },
    snapshot(health, slots) {
      return endpoints.map((ep, e) => {
        const x = f[e]!;
        const n = Math.min(x.latencyCount, RING);
        const sorted = x.latency.slice(0, n).sort();
        const active = slots.some((s) => s.endpoint === e && s.link?.phase === "ready");
        const h = health[e]!;
        return {
          url: ep.url,
          user: ep.user,
          priority: ep.priority,
          state: active ? "active" : h.failures > 0 ? "backoff" : "standby",
          connections: x.connections,
          accepted: x.accepted,
          rejected: x.rejected,
          unconfirmed: x.unconfirmed,
          latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: n > 0 ? sorted[n - 1]! : 0, samples: n },
          difficulty: x.difficulty,
          failures: h.failures,
          lastError: h.lastError,
        };
      });
    },
  };
}
