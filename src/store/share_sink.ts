// The one interface every share consumer (SQLite share log, Redis stream, ...) implements, and a fan-out over several; no storage here.
import type { ShareRecord } from "../../protocols/core/actions.ts";

/**
 * Where the connection core, HTTP getwork and session threads hand every judged share (accepted or
 * not) before its reply is written. The reply to the miner waits for the returned promise, so a sink
 * that must not lose an acknowledged share (the share log) returns one that resolves once the share
 * is durable; a sink that buffers on its own returns undefined and costs the reply nothing.
 */
export interface ShareSink {
  /**
   * One share of `pool` from `address` (the miner's address, PROXY header's when proxied). Called on
   * the hot path: no I/O here, queue and return. A rejected promise means the share was NOT stored:
   * the caller must not acknowledge it.
   */
  put(share: ShareRecord, pool: string, address: string): Promise<void> | undefined;
  /** Store what is queued, then release resources; put() after close() is an error. */
  close(): Promise<void>;
}

/** One sink standing for several: the reply waits for all of them; undefined when there are none. */
export function combineSinks(sinks: readonly ShareSink[]): ShareSink | undefined {
  if (sinks.length === 0) return undefined;
  if (sinks.length === 1) return sinks[0];
  return {
    put(share, pool, address) {
      let waits: Promise<void>[] | undefined;
      for (const s of sinks) {
        const w = s.put(share, pool, address);
        if (w !== undefined) (waits ??= []).push(w);
      }
      if (waits === undefined) return undefined;
      return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
    },
    async close() {
      await Promise.all(sinks.map((s) => s.close()));
    },
  };
}
