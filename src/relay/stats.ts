// The shapes /api/stats reports (relay, pools, upstreams) and the Ethereum pool's figures; reading only, no wiring.
import type { BlockReport, BtcPool } from "../pools/btc_pool.ts";
import type { RelayBtcPool } from "../pools/relay_btc_pool.ts";
import type { EthPool } from "../pools/eth_pool.ts";
import type { EthashVerifier } from "../verify/ethash_verifier.ts";

/** What /api/stats reports of each pool. */
export interface PoolFigures<A extends string> {
  name: string;
  algorithm: A;
  upstream: string;
  height: number;
  networkDifficulty: number;
  currentJob: string | undefined;
  hashrate: number;
  accepted: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  blocks: BlockReport[];
}

export interface RelayStats {
  version: string;
  runtime: string;
  uptimeSeconds: number;
  connections: number;
  /** Addresses banned right now; the list itself (addresses, reasons) is admin-only: GET /api/bans. */
  activeBans: number;
  /** A share log keeps per-worker history: GET /api/workers and /api/workers/:name answer (the dashboard charts them). */
  workerHistory: boolean;
  /** Open connections per thread (main thread first) when stratum.threads > 1. */
  connectionsByThread?: number[];
  pool: PoolFigures<"sha256d" | "scrypt">;
  /** The Ethereum-style pool (ethash/etchash), when enabled. */
  eth?: PoolFigures<"ethash" | "etchash"> & {
    epoch: number | undefined;
    /** The first light cache: idle until an Ethereum-style miner asks for work (or ethash.prebuild), work goes out once ready. */
    lightCache: "idle" | "building" | "ready";
    verifier: ReturnType<EthashVerifier["stats"]> & { caches: string[] };
    workers: ReturnType<EthPool["stats"]["snapshot"]>["workers"];
  };
  /** Ethereum relay mode: each configured upstream pool's state and verdicts. */
  ethUpstreams?: ReturnType<RelayBtcPool["upstreams"]>;
  /** Relay mode: each configured upstream pool's state and verdicts. */
  upstreams?: ReturnType<RelayBtcPool["upstreams"]>;
  workers: ReturnType<BtcPool["stats"]["snapshot"]>["workers"];
  lastShares: ReturnType<BtcPool["stats"]["snapshot"]>["lastShares"];
}

export function ethStats(eth: EthPool, verifier: EthashVerifier, now: number): NonNullable<RelayStats["eth"]> {
  const snap = eth.stats.snapshot(now);
  const sum = eth.summary();
  return {
    name: eth.name,
    algorithm: eth.algo,
    upstream: eth.source.kind,
    height: sum.height,
    epoch: sum.epoch,
    lightCache: sum.lightCache,
    networkDifficulty: sum.networkDifficulty,
    currentJob: sum.jobId,
    hashrate: snap.hashrate,
    accepted: snap.accepted,
    rejected: snap.rejected,
    rejectedByReason: snap.rejectedByReason,
    blocks: eth.blocks(),
    verifier: { ...verifier.stats(), caches: verifier.cached() },
    workers: snap.workers,
  };
}

