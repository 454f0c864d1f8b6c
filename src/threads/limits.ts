// The per-thread connection limits derived from config (each of `threads` listeners takes its share of the totals) and the Stratum ports' HTTP getwork limits; no I/O.
import type { Config } from "../config/schema.ts";
import type { HttpConnLimits, ServerLimits } from "../server/server.ts";
import { msOrNever } from "../pools/policies.ts";

export function threadLimits(config: Config, threads: number): ServerLimits {
  const s = config.stratum;
  return {
    maxLineBytes: s.maxLineBytes,
    // The kernel spreads connections evenly over SO_REUSEPORT listeners (by address/port hash), so
    // an equal share keeps the total near the configured one without cross-thread counting.
    maxConnections: Math.ceil(s.maxConnections / threads),
    maxConnectionsPerAddress: s.maxConnectionsPerAddress,
    loginTimeoutMs: msOrNever(s.loginTimeoutMs),
    maxWriteBufferBytes: s.maxWriteBufferBytes,
    tickMs: 1000,
  };
}

/** HTTP getwork on the Stratum ports: the same on every thread (they are per connection). */
export function httpLimits(config: Config): HttpConnLimits {
  const g = config.getwork;
  return { maxHeaderBytes: g.maxHeaderBytes, maxBodyBytes: g.maxBodyBytes, maxRequestsPerConnection: g.maxRequestsPerConnection, keepAliveMs: g.keepAliveMs };
}
