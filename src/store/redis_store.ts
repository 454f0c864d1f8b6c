// A relay's Redis side (store.redis): opens the link, takes the extranonce1 prefix, then feeds shares and blocks to the streams, shares bans and writes cluster stats; wiring only.
import type { ShareRecord } from "../../protocols/core/actions.ts";
import type { Config } from "../config/schema.ts";
import type { Clock } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { Registry } from "../observe/metrics.ts";
import type { Guard } from "../server/guard.ts";
import type { RelayStats } from "../relay/stats.ts";
import { connectIoredis, redactUrl, type RedisLink } from "./redis_client.ts";
import { createOutbox, type EntryKind, type Outbox } from "./redis_outbox.ts";
import { blockValues, shareValues } from "./redis_entries.ts";
import { leasePrefix, type PrefixLease } from "./redis_prefix.ts";
import { startBanSync, type BanSync } from "./redis_bans.ts";
import { startStatsPublisher, summarize, type ClusterStats, type StatsPublisher } from "./redis_stats.ts";

export interface RedisStore {
  /** This instance's extranonce1 prefix (hex): configured or leased. */
  readonly prefix: string;
  /** This instance in stream entries and cluster stats (its prefix: unique among live instances). */
  readonly instance: string;
  /** Called by the relay once its guard, stats and metrics exist. */
  attach(deps: { registry: Registry; guard: Guard; stats: () => RelayStats }): void;
  share(s: ShareRecord, addr: string, pool: string): void;
  block(pool: string, b: { height: number; hash: string; worker: string; at: number }, addr: string): void;
  cluster(): Promise<ClusterStats>;
  /** Stream entries not yet in Redis. */
  readonly pending: number;
  /** Waits up to `ms` for the outbox to empty, then lets go of Redis. */
  stop(ms: number): Promise<void>;
}

function runId(): string {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
}

/** The config with the prefix this instance mines under (what pools and session threads read). */
export function withPrefix(config: Config, prefix: string): Config {
  return { ...config, store: { ...config.store, redis: { ...config.store.redis, instancePrefix: prefix } } };
}

/**
 * Connects (waiting up to connectTimeoutMs) and settles the prefix. Without a configured prefix a
 * Redis that does not answer is fatal: two instances on one prefix would hand out colliding
 * extranonce1 values. With one, the relay starts anyway and buffers until Redis comes.
 */
export async function openRedisStore(config: Config, clock: Clock, log: Logger, link?: RedisLink): Promise<RedisStore> {
  const rc = config.store.redis;
  const ns = rc.keyPrefix;
  const run = runId();
  const l = link ?? connectIoredis(rc.url, log, { connectTimeoutMs: rc.connectTimeoutMs });
  const where = redactUrl(rc.url);
  const connected = await new Promise<boolean>((resolve) => {
    const t = clock.setTimeout(() => resolve(false), rc.connectTimeoutMs);
    l.onReady(() => {
      clock.clearTimeout(t);
      resolve(true);
    });
  });
  let lease: PrefixLease | undefined;
  let prefix = rc.instancePrefix;
  if (prefix === "") {
    if (!connected) {
      await l.close();
      throw new Error(`redis at ${where} did not answer within ${rc.connectTimeoutMs} ms, so no extranonce1 prefix could be leased; set store.redis.instancePrefix to start without it`);
    }
    lease = await leasePrefix({ link: l, ns, bytes: rc.prefixBytes, run, leaseMs: rc.leaseSeconds * 1000, clock, log });
    prefix = lease.prefix;
  }
  if (prefix.length / 2 >= config.stratum.extranonce1Size) throw new Error(`extranonce1 prefix ${prefix} leaves no room in stratum.extranonce1Size ${config.stratum.extranonce1Size}`);
  const instance = prefix;
  log.info(connected ? "redis connected" : "redis unreachable; serving miners and buffering stream entries until it answers", { url: where, instance, prefix, leased: lease !== undefined });

  // Metrics exist once the relay attaches; until then (start-up) nothing is published anyway.
  let m: { up(v: number): void; buffered(n: number): void; published(k: EntryKind, n: number): void; dropped(k: EntryKind): void; received(op: string): void } | undefined;
  let dropWarned = 0;
  const outbox: Outbox = createOutbox({
    link: l,
    clock,
    log,
    hwKey: `${ns}:hw:${run}`,
    streams: { share: `${ns}:${rc.sharesStream}`, block: `${ns}:${rc.blocksStream}` },
    run,
    instance,
    maxLen: rc.streamMaxLen,
    maxEntries: rc.bufferMaxEntries,
    batchSize: rc.batchSize,
    hooks: {
      published: (k, n) => m?.published(k, n),
      buffered: (n) => m?.buffered(n),
      dropped: (k) => {
        m?.dropped(k);
        // One line per minute at most: a full buffer under load would otherwise log per share.
        const now = clock.now();
        if (now - dropWarned >= 60_000) {
          dropWarned = now;
          log.error("redis: outbox full; stream entries are being dropped (stratum_edge_redis_dropped_total)", { kind: k, bufferMaxEntries: rc.bufferMaxEntries });
        }
      },
    },
  });
  l.onDown((error) => {
    m?.up(0);
    log.warn("redis: connection lost; serving miners from local state, buffering stream entries", { url: where, error, waiting: outbox.pending });
  });
  l.onReady(() => m?.up(1));

  let bans: BanSync | undefined;
  let stats: StatsPublisher | undefined;
  return {
    prefix,
    instance,
    attach(deps) {
      const r = deps.registry;
      const up = r.gauge("stratum_edge_redis_up", "1 while the Redis connection (store.redis) is up.");
      const buffered = r.gauge("stratum_edge_redis_buffered", "Stream entries waiting to be written to Redis.");
      const published = r.counter("stratum_edge_redis_published_total", "Stream entries written to Redis, by kind.", ["kind"]);
      const dropped = r.counter("stratum_edge_redis_dropped_total", "Stream entries dropped because the outbox was full, by kind.", ["kind"]);
      const received = r.counter("stratum_edge_redis_bans_received_total", "Ban changes received from other instances, by op.", ["op"]);
      for (const kind of ["share", "block"]) (published.labels({ kind }), dropped.labels({ kind }));
      m = {
        up: (v) => up.set(v),
        buffered: (n) => buffered.set(n),
        published: (kind, n) => published.labels({ kind }).inc(n),
        dropped: (kind) => dropped.labels({ kind }).inc(),
        received: (op) => received.labels({ op }).inc(),
      };
      up.set(l.ready ? 1 : 0);
      bans = startBanSync({ link: l, guard: deps.guard, clock, log, ns, origin: run, pollMs: rc.banPollMs, received: (op) => m?.received(op) });
      stats = startStatsPublisher({ link: l, clock, ns, instance, intervalMs: rc.statsIntervalMs, summary: () => summarize(instance, deps.stats(), outbox.pending, clock.now()) });
    },
    share(s, addr, pool) {
      outbox.push("share", shareValues(pool, s, addr));
    },
    block(pool, b, addr) {
      outbox.push("block", blockValues(pool, b, addr));
    },
    cluster() {
      if (stats === undefined) return Promise.reject(new Error("not started"));
      return stats.cluster();
    },
    get pending() {
      return outbox.pending;
    },
    async stop(ms) {
      if (!(await outbox.drain(ms))) log.warn("redis: stopping with stream entries not written", { waiting: outbox.pending });
      outbox.stop();
      bans?.stop();
      stats?.stop();
      await lease?.stop();
      await l.close();
    },
  };
}
