// The Bitcoin-family pool for a config, one per upstream kind: devnet and nodes (templates → jobs) or upstream pools (relay mode); builds, does not run.
import type { Config } from "../config/schema.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { createRelayMetrics } from "../observe/relay_metrics.ts";
import { minerPayout, payoutScript, stratumPolicy } from "../pools/policies.ts";
import { createBitcoindSource } from "../upstream/bitcoind.ts";
import type { BitcoinWorkSource } from "../upstream/types.ts";
import { createScryptVerifier } from "../verify/scrypt_verifier.ts";
import { createDevnet } from "../upstream/devnet.ts";
import { createBlockJournal } from "../store/block_journal.ts";
import { createBtcPool, type BtcPool } from "../pools/btc_pool.ts";
import { createRelayBtcPool, type RelayBtcPool } from "../pools/relay_btc_pool.ts";
import { parsePoolUrl } from "../upstream/pool/pool_list.ts";
import { nodeTlsByOrigin, poolEndpointOf, tlsDeps } from "../upstream/tls_config.ts";
import { upstreamFetch } from "../upstream/https_fetch.ts";
import { VERSION } from "../version.ts";

/** Where Bitcoin-family work comes from: the embedded devnet or nodes (getblocktemplate). Pools (relay mode) do not use a source: see createBitcoinPool. */
function createBitcoinSource(config: Config, runtime: Runtime, logger: Logger): BitcoinWorkSource {
  const up = config.upstream;
  const clock = runtime.clock;
  if (up.type === "bitcoind") {
    return createBitcoindSource({
      nodes: up.bitcoind.nodes.map((n) => ({
        url: n.url,
        ...(n.user !== "" ? { user: n.user, password: n.password } : {}),
        ...(n.cookieFile !== "" ? { cookieFile: n.cookieFile } : {}),
        priority: n.priority,
      })),
      rules: up.bitcoind.rules.length > 0 ? up.bitcoind.rules : up.bitcoind.chain.startsWith("litecoin") ? ["mweb", "segwit"] : ["segwit"],
      longpoll: up.bitcoind.longpoll,
      pollIntervalMs: up.bitcoind.pollIntervalMs,
      mempoolRefreshSeconds: up.bitcoind.mempoolRefreshSeconds,
      maxJobAgeSeconds: up.bitcoind.maxJobAgeSeconds,
      clock,
      fetch: upstreamFetch(runtime, nodeTlsByOrigin("upstream.bitcoind.nodes", up.bitcoind.nodes, tlsDeps(runtime, logger))),
      readText: (path) => runtime.files.readText(path),
      log: (msg, fields) => logger.info(msg, fields as Record<string, unknown>),
    });
  }
  if (up.type !== "devnet") throw new Error(`no template source for upstream type ${up.type}`);
  return createDevnet({
    bits: up.devnet.bits,
    blockIntervalSeconds: up.devnet.blockIntervalSeconds,
    transactionsPerBlock: up.devnet.transactionsPerBlock,
    startHeight: up.devnet.startHeight,
    coinbaseValueSats: BigInt(up.devnet.coinbaseValueSats),
    sha: runtime.sha256,
    clock,
    log: (msg, fields) => logger.debug(msg, fields as Record<string, unknown>),
  });
}

/** The Bitcoin-family pool the Stratum v1 route mines for: one per upstream kind (devnet and node: templates → jobs; pool: relayed jobs). */
export type BitcoinPool = BtcPool | RelayBtcPool;

export function createBitcoinPool(config: Config, runtime: Runtime, logger: Logger, metrics: ReturnType<typeof createRelayMetrics>, part: { index: number; count: number }): BitcoinPool {
  const up = config.upstream;
  const policy = stratumPolicy(config);
  const scrypt = policy.algo === "scrypt" ? { scrypt: createScryptVerifier({ log: logger }) } : {};
  if (up.type === "pool") {
    const p = up.pool;
    return createRelayBtcPool({
      name: "btc",
      runtime,
      policy,
      endpoints: p.pools.map((x, i) => ({ url: x.url, ...poolEndpointOf(`upstream.pool.pools[${i}]`, x, parsePoolUrl, tlsDeps(runtime, logger)), user: x.user, password: x.password, priority: x.priority })),
      aggregation: p.aggregation,
      maxUpstreamConnections: p.maxUpstreamConnections,
      keepJobs: config.jobs.keepJobs,
      agent: `stratum-edge/${VERSION}`,
      submitTimeoutMs: p.submitTimeoutMs,
      handshakeTimeoutMs: p.handshakeTimeoutMs,
      stallMs: p.stallSeconds * 1000,
      maxTimeoutsInRow: p.maxTimeoutsInRow,
      failbackMs: p.failbackSeconds * 1000,
      retry: { minMs: p.retryMinMs, maxMs: p.retryMaxMs },
      maxLineBytes: p.maxLineBytes,
      suggestDifficulty: p.suggestDifficulty,
      log: logger,
      hooks: metrics.poolHooks,
      ...scrypt,
    });
  }
  runtime.files.mkdirp(config.dataDir);
  return createBtcPool({
    name: "btc",
    runtime,
    source: createBitcoinSource(config, runtime, logger),
    journal: createBlockJournal(runtime.files, config.dataDir),
    policy,
    ...scrypt,
    coinbase: { payoutScript: payoutScript(config), poolTag: config.coinbase.poolTag },
    ...(minerPayout(config) !== undefined ? { payoutFor: minerPayout(config) } : {}),
    extranonce1Size: config.stratum.extranonce1Size,
    // store.redis: this instance's own leading bytes, so several relays on one chain never hand out the same extranonce1.
    extranonce1Prefix: config.store.redis.instancePrefix,
    extranonce1Part: part,
    keepJobs: config.jobs.keepJobs,
    refreshSeconds: config.jobs.refreshSeconds,
    log: logger,
    hooks: metrics.poolHooks,
  });
}

