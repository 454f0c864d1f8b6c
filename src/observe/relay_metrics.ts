// The relay's Prometheus metrics: declares every series once and exposes typed hooks for the server and pools; no logic.
import type { Runtime } from "../runtime/types.ts";
import type { Reason } from "../../protocols/errors/reasons.ts";
import { REASONS } from "../../protocols/errors/reasons.ts";
import { createRegistry, LATENCY_BUCKETS_SECONDS, type CounterChild, type Registry } from "./metrics.ts";
import type { ServerHooks } from "../server/server.ts";
import type { BtcPoolHooks } from "../pools/btc_pool.ts";
import type { GuardHooks } from "../server/guard.ts";
import { BAN_REASONS } from "../policy/ban_policy.ts";

export interface RelayMetrics {
  registry: Registry;
  serverHooks: ServerHooks;
  /**
   * Hooks for one of several connection cores (listeners, session threads): the connections gauge
   * is the sum over slots; `fanout` replaces the direct histogram observation when given.
   */
  serverHooksFor(slot: string, fanout?: (seconds: number, sockets: number) => void): ServerHooks;
  /** A whole broadcast's fan-out (all threads), observed once. */
  observeFanout(seconds: number, sockets: number): void;
  /** A session thread's periodic report: its open connections (a slot of the gauge) and counts since the last one. */
  threadReport(slot: string, r: { connections: number; refused: Record<string, number>; closed: Record<string, number | undefined> }): void;
  poolHooks: BtcPoolHooks;
  guardHooks: GuardHooks;
}

export function createRelayMetrics(runtime: Runtime): RelayMetrics {
  const r = createRegistry();
  const connections = r.gauge("stratum_edge_connections", "Open miner connections.");
  const refused = r.counter("stratum_edge_connections_refused_total", "Connections closed at accept, by reason.", ["reason"]);
  const closed = r.counter("stratum_edge_connections_closed_total", "Connections closed, by reason (peer = the miner hung up).", ["reason"]);
  const shares = r.counter("stratum_edge_shares_total", "Shares checked, by result and reason.", ["result", "reason"]);
  const acceptedDiff = r.counter("stratum_edge_accepted_difficulty_total", "Sum of the difficulty of accepted shares (hashrate = rate × 2^32).");
  const blocks = r.counter("stratum_edge_blocks_total", "Block candidates found, by upstream answer.", ["result"]);
  const broadcasts = r.counter("stratum_edge_job_broadcasts_total", "Jobs broadcast to miners, by clean flag.", ["clean"]);
  const fanout = r.histogram("stratum_edge_notify_fanout_seconds", "Time to hand one job to every connected miner's socket.", LATENCY_BUCKETS_SECONDS);
  const fanoutSockets = r.gauge("stratum_edge_notify_fanout_sockets", "Sockets reached by the last job broadcast.");
  const rss = r.gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  const bansActive = r.gauge("stratum_edge_bans_active", "Source addresses (IPv6: /64 prefixes) banned right now.");
  const bansIssued = r.counter("stratum_edge_bans_issued_total", "Bans issued, by reason.", ["reason"]);
  for (const reason of BAN_REASONS) bansIssued.labels({ reason });
  r.onCollect(() => rss.set(runtime.rss()));

  const accepted = shares.labels({ result: "accepted", reason: "" });
  const refusedBanned = refused.labels({ reason: "banned" });
  const rejected = {} as Record<Reason, CounterChild>;
  for (const reason of REASONS) rejected[reason] = shares.labels({ result: "rejected", reason });
  const clean = broadcasts.labels({ clean: "true" });
  const notClean = broadcasts.labels({ clean: "false" });

  const observeFanout = (seconds: number, sockets: number) => {
    fanout.observe(seconds);
    fanoutSockets.set(sockets);
  };
  const open = new Map<string, number>();
  const setOpen = (slot: string, n: number) => {
    open.set(slot, n);
    let sum = 0;
    for (const v of open.values()) sum += v;
    connections.set(sum);
  };
  const hooksFor = (slot: string, onFanout?: (seconds: number, sockets: number) => void): ServerHooks => ({
    connections: (n) => setOpen(slot, n),
    // Children are cached by the registry, but resolving allocates a key: keep the hot one (1,000s/s under abuse).
    refused: (reason) => (reason === "banned" ? refusedBanned : refused.labels({ reason })).inc(),
    closed: (reason) => closed.labels({ reason }).inc(),
    fanout: onFanout ?? observeFanout,
  });

  return {
    registry: r,
    serverHooks: hooksFor("main"),
    serverHooksFor: hooksFor,
    observeFanout,
    threadReport(slot, rep) {
      setOpen(slot, rep.connections);
      for (const [reason, n] of Object.entries(rep.refused)) refused.labels({ reason }).inc(n);
      for (const [reason, n] of Object.entries(rep.closed)) closed.labels({ reason }).inc(n ?? 0);
    },
    guardHooks: {
      banned: (reason) => bansIssued.labels({ reason }).inc(),
      active: (n) => bansActive.set(n),
    },
    poolHooks: {
      share: (s) => {
        if (s.accepted) {
          accepted.inc();
          acceptedDiff.inc(s.difficulty);
        } else rejected[s.reason ?? "internal"].inc();
      },
      block: (result) => blocks.labels({ result }).inc(),
      jobBroadcast: (isClean) => (isClean ? clean : notClean).inc(),
    },
  };
}
