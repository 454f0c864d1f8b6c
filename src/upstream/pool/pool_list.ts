// Relay mode's choice among the configured upstream pools: priority order, backoff after failures, and when a better pool is worth trying again; pure, no sockets or timers.
import type { TlsConnectOptions } from "../../runtime/types.ts";

export interface PoolEndpoint {
  /** As configured (stratum+tcp://host:port), for logs and stats. */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Lower is preferred; ties keep the configured order. */
  priority: number;
  /** Set for stratum+ssl:// pools: how the connection is verified. */
  tls?: TlsConnectOptions;
}

export interface EndpointHealth {
  /** Failures since the last successful handshake (0 = healthy). */
  failures: number;
  /** ms; not tried before this (backoff). */
  retryAt: number;
  lastError: string | undefined;
}

export interface Backoff {
  minMs: number;
  maxMs: number;
}

/**
 * Parses stratum+tcp://host:port (also stratum1+tcp://, tcp://, or a bare host:port) and the TLS
 * forms stratum+ssl:// and stratum+tls:// (also stratum1+ssl://, ssl://, tls://: ethminer, lolMiner
 * and the pools' own docs use each of them for the same thing).
 */
export function parsePoolUrl(url: string): { host: string; port: number; tls: boolean } | undefined {
  const m = /^(?:(?:stratum1?\+(tcp|ssl|tls)|(tcp|ssl|tls)):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})\/?$/.exec(url.trim());
  if (m === null) return undefined;
  const port = Number(m[4]);
  if (!(port >= 1 && port <= 65535)) return undefined;
  const host = m[3]!.startsWith("[") ? m[3]!.slice(1, -1) : m[3]!;
  const scheme = m[1] ?? m[2] ?? "tcp";
  return { host, port, tls: scheme !== "tcp" };
}

/** Indices of the endpoints, best first. */
export function preferenceOrder(endpoints: readonly PoolEndpoint[]): number[] {
  return endpoints.map((_, i) => i).sort((a, b) => endpoints[a]!.priority - endpoints[b]!.priority || a - b);
}

/** The best endpoint not backing off at `now`, skipping `exclude`; undefined when all are. */
export function chooseEndpoint(endpoints: readonly PoolEndpoint[], health: readonly EndpointHealth[], now: number, exclude = -1): number | undefined {
  for (const i of preferenceOrder(endpoints)) if (i !== exclude && health[i]!.retryAt <= now) return i;
  return undefined;
}

/** When the next endpoint leaves backoff (for the retry timer), or undefined when none backs off. */
export function nextRetryAt(health: readonly EndpointHealth[]): number | undefined {
  let t: number | undefined;
  for (const h of health) if (h.failures > 0 && (t === undefined || h.retryAt < t)) t = h.retryAt;
  return t;
}

/** A strictly preferred endpoint than `current` that may be tried now (fail-back to the primary). */
export function betterEndpoint(endpoints: readonly PoolEndpoint[], health: readonly EndpointHealth[], current: number, now: number): number | undefined {
  for (const i of preferenceOrder(endpoints)) {
    if (i === current) return undefined;
    if (health[i]!.retryAt <= now) return i;
  }
  return undefined;
}

/**
 * Records a failure: this pool is retried after minMs, 2·minMs, 4·minMs… capped at maxMs. Failover
 * is not delayed by it: the next pool by priority is taken at once.
 */
export function recordFailure(h: EndpointHealth, now: number, why: string, b: Backoff): void {
  h.failures++;
  h.lastError = why;
  h.retryAt = now + Math.min(b.maxMs, b.minMs * 2 ** Math.min(h.failures - 1, 30));
}

export function recordSuccess(h: EndpointHealth): void {
  h.failures = 0;
  h.retryAt = 0;
  h.lastError = undefined;
}

export function freshHealth(): EndpointHealth {
  return { failures: 0, retryAt: 0, lastError: undefined };
}
