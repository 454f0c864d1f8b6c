// Cluster figures: each instance writes a summary of its /api/stats to a Redis key with a TTL, and /api/stats?scope=cluster sums the live ones; no HTTP here.
import type { Clock } from "../runtime/types.ts";
import type { RelayStats } from "../relay/stats.ts";
import type { RedisLink } from "./redis_client.ts";

export interface PoolSummary {
  name: string;
  hashrate: number;
  accepted: number;
  rejected: number;
  blocks: number;
}

export interface InstanceSummary {
  instance: string;
  version: string;
  runtime: string;
  uptimeSeconds: number;
  connections: number;
  activeBans: number;
  pools: PoolSummary[];
  /** Stream entries waiting for Redis on that instance when it wrote this. */
  redisPending: number;
  at: number;
}

export interface ClusterStats {
  scope: "cluster";
  instances: InstanceSummary[];
  totals: { instances: number; connections: number; pools: PoolSummary[] };
}

export function summarize(instance: string, s: RelayStats, redisPending: number, at: number): InstanceSummary {
  const pool = (p: { name: string; hashrate: number; accepted: number; rejected: number; blocks: unknown[] }): PoolSummary => ({ name: p.name, hashrate: p.hashrate, accepted: p.accepted, rejected: p.rejected, blocks: p.blocks.length });
  return {
    instance,
    version: s.version,
    runtime: s.runtime,
    uptimeSeconds: s.uptimeSeconds,
    connections: s.connections,
    activeBans: s.activeBans,
    pools: [pool(s.pool), ...(s.eth !== undefined ? [pool(s.eth)] : [])],
    redisPending,
    at,
  };
}

/** Sums per pool name; bans are not summed (shared bans are the same bans on every instance). */
export function sumCluster(list: InstanceSummary[]): ClusterStats {
  const pools = new Map<string, PoolSummary>();
  let connections = 0;
  for (const i of list) {
    connections += i.connections;
    for (const p of i.pools) {
      const t = pools.get(p.name) ?? { name: p.name, hashrate: 0, accepted: 0, rejected: 0, blocks: 0 };
      t.hashrate += p.hashrate;
      t.accepted += p.accepted;
      t.rejected += p.rejected;
      t.blocks += p.blocks;
      pools.set(p.name, t);
    }
  }
  return { scope: "cluster", instances: list.slice().sort((a, b) => (a.instance < b.instance ? -1 : 1)), totals: { instances: list.length, connections, pools: [...pools.values()] } };
}

export interface StatsPublisher {
  /** Every live instance's summary, summed. Rejects when Redis does not answer. */
  cluster(): Promise<ClusterStats>;
  stop(): void;
}

/** Why a set and per-instance keys: the set lists who ever reported; a key that expired (TTL = 3 intervals) is an instance gone, removed from the set on read. */
export function startStatsPublisher(opts: { link: RedisLink; clock: Clock; ns: string; instance: string; intervalMs: number; summary: () => InstanceSummary }): StatsPublisher {
  const { link, clock, ns } = opts;
  const setKey = `${ns}:instances`;
  const keyOf = (i: string) => `${ns}:stats:${i}`;
  const write = async () => {
    if (!link.ready) return;
    try {
      await link.call(["SET", keyOf(opts.instance), JSON.stringify(opts.summary()), "PX", opts.intervalMs * 3]);
      await link.call(["SADD", setKey, opts.instance]);
    } catch {
      // Redis down: the key expires and the cluster view leaves this instance out until it is back.
    }
  };
  const timer = clock.setInterval(() => void write(), opts.intervalMs);
  link.onReady(() => void write());
  return {
    async cluster() {
      const ids = ((await link.call(["SMEMBERS", setKey])) as string[]).slice().sort();
      if (ids.length === 0) return sumCluster([]);
      const values = (await link.call(["MGET", ...ids.map(keyOf)])) as (string | null)[];
      const live: InstanceSummary[] = [];
      const gone: string[] = [];
      values.forEach((v, i) => {
        if (v === null) gone.push(ids[i]!);
        else live.push(JSON.parse(v) as InstanceSummary);
      });
      if (gone.length > 0) await link.call(["SREM", setKey, ...gone]);
      return sumCluster(live);
    },
    stop: () => clock.clearInterval(timer),
  };
}
