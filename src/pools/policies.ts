// The session policies and coinbase output derived from config, shared by the main thread and session threads; no I/O.
import type { Config } from "../config/schema.ts";
import type { PayoutRef, StratumV1Policy } from "../../protocols/stratum-v1/session.ts";
import type { EthPolicy } from "../../protocols/eth-proxy/session.ts";
import { hexToBytes } from "../../protocols/pow/hex.ts";
import { DIFF1_SHA256 } from "../../protocols/pow/target.ts";
import { DIFF1_SCRYPT } from "../../protocols/pow/scrypt.ts";
import { decodeAddress } from "../../protocols/bitcoin/address.ts";
import { btcDifficulty, ethDifficulty } from "../config/listener_difficulty.ts";
import type { Route } from "../server/types.ts";

/** Config timeouts use 0 for "never"; sessions and the core compare against Infinity. */
export function msOrNever(ms: number): number {
  return ms > 0 ? ms : Infinity;
}

/** The policy Ethereum-style sessions run under, derived from config. */
export function ethPolicy(config: Config): EthPolicy {
  const e = config.ethash;
  return {
    ...ethDifficulty(config.difficulty, e),
    loginTimeoutMs: msOrNever(config.stratum.loginTimeoutMs),
    idleTimeoutMs: msOrNever(config.stratum.idleTimeoutMs),
    maxMalformed: config.stratum.maxMalformedRequests,
    disconnectOnError: e.disconnectOnError,
  };
}

/**
 * The coinbase output script: from upstream.bitcoind.payoutAddress (decoded and checked against the
 * chain's prefixes — a wrong address is a start-up error naming it), else coinbase.payoutScript,
 * else OP_TRUE (devnet only).
 */
export function payoutScript(config: Config): Uint8Array {
  const up = config.upstream;
  if (up.type === "bitcoind") {
    const d = decodeAddress(up.bitcoind.payoutAddress, up.bitcoind.chain);
    if (!d.ok) throw new Error(`upstream.bitcoind.payoutAddress = "${up.bitcoind.payoutAddress}": ${d.error}`);
    return d.script;
  }
  return config.coinbase.payoutScript === "" ? new Uint8Array([0x51]) : hexToBytes(config.coinbase.payoutScript)!;
}

/**
 * Solo mode (upstream.bitcoind.payout = "miner"): a worker name whose part before the first "." is an
 * address of the chain pays that address; undefined (no lookup) in every other mode. Decoded once per
 * name (bounded cache: a flood of made-up names must not grow memory).
 */
export function minerPayout(config: Config): ((worker: string) => PayoutRef | undefined) | undefined {
  const up = config.upstream;
  if (up.type !== "bitcoind" || up.bitcoind.payout !== "miner") return undefined;
  const chain = up.bitcoind.chain;
  const cache = new Map<string, PayoutRef | null>();
  return (worker) => {
    const address = worker.split(".", 1)[0]!.trim();
    let hit = cache.get(address);
    if (hit === undefined) {
      const d = decodeAddress(address, chain);
      hit = d.ok ? { script: d.script, key: address } : null;
      if (cache.size >= 10_000) cache.clear();
      cache.set(address, hit);
    }
    return hit ?? undefined;
  };
}

/** The policy a Stratum v1 session runs under, derived from config. */
export function stratumPolicy(config: Config): StratumV1Policy {
  const up = config.upstream;
  const algo = up.type === "bitcoind" ? up.bitcoind.algorithm : up.type === "pool" ? up.pool.algorithm : "sha256d";
  return {
    // The embedded devnet is a sha256d chain; node upstreams name their algorithm.
    algo,
    diff1: algo === "scrypt" ? DIFF1_SCRYPT : DIFF1_SHA256,
    versionMask: parseInt(config.stratum.versionMask, 16) >>> 0,
    extranonce2Size: config.stratum.extranonce2Size,
    ...btcDifficulty(config.difficulty),
    loginTimeoutMs: msOrNever(config.stratum.loginTimeoutMs),
    idleTimeoutMs: msOrNever(config.stratum.idleTimeoutMs),
    maxMalformed: config.stratum.maxMalformedRequests,
    reconnectHost: config.shutdown.reconnectHost,
    reconnectPort: config.shutdown.reconnectPort || config.stratum.port,
  };
}

type Listener = Config["listeners"][number];

/**
 * The routes of one [[listeners]] entry: the dialects it takes, each carrying the port's own difficulty
 * when the entry sets any (Stratum v1 from `[listeners.difficulty]`, the Ethereum-style dialects from
 * `[listeners.ethash]` plus its vardiff timing); without one, sessions keep the pool's (env.policy).
 */
export function listenerRoutes<R extends Route & { name: string }>(config: Config, l: Listener, all: R[]): (R & Pick<Route, "difficulty">)[] {
  const btc = l.difficulty === undefined ? undefined : btcDifficulty(config.difficulty, l.difficulty);
  const eth = l.difficulty === undefined && l.ethash === undefined ? undefined : ethDifficulty(config.difficulty, config.ethash, l.difficulty, l.ethash);
  return all
    .filter((r) => (l.dialects as string[]).includes(r.name))
    .map((r) => {
      const difficulty = r.name === "stratum-v1" ? btc : eth;
      return difficulty === undefined ? r : { ...r, difficulty };
    });
}
