// The per-thread connection limits derived from config: each of `threads` listeners takes its share of the totals; no I/O.
import type { Config } from "../config/schema.ts";
import type { ServerLimits } from "../server/server.ts";
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
