// The Ethereum-style side of a relay for a config: the ethash verifier, the work source (devnet or node) and the pool; builds, does not run.
import type { Config } from "../config/schema.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { createRelayMetrics } from "../observe/relay_metrics.ts";
import { ethPolicy } from "../pools/policies.ts";
import { createBlockJournal } from "../store/block_journal.ts";
import { createEthDevnet } from "../upstream/eth_devnet.ts";
import { createEthNodeSource } from "../upstream/ethnode.ts";
import { createEthashVerifier, type EthashVerifier } from "../verify/ethash_verifier.ts";
import { createEthPool, type EthPool } from "../pools/eth_pool.ts";
import { createEthPoolSource } from "../upstream/pool/eth_pool_source.ts";
import { parsePoolUrl } from "../upstream/pool/pool_list.ts";
import { nodeTlsByOrigin, poolEndpointOf, tlsDeps } from "../upstream/tls_config.ts";
import { upstreamFetch } from "../upstream/https_fetch.ts";
import { VERSION } from "../version.ts";
import type { UpstreamSnapshot } from "../pools/relay_figures.ts";

export interface EthSide {
  verifier: EthashVerifier;
  eth: EthPool;
  /** Node upstreams want the miners' summed hashrate (eth_submitHashrate). */
  reportHashrate: ((h: bigint) => void) | undefined;
  /** Relay mode: each configured upstream pool's state and verdicts. */
  upstreams: (() => UpstreamSnapshot[]) | undefined;
}

/** undefined when ethash.enabled is false. */
export function createEthSide(config: Config, runtime: Runtime, logger: Logger, metrics: ReturnType<typeof createRelayMetrics>, part: { index: number; count: number }): EthSide | undefined {
  if (!config.ethash.enabled) return undefined;
  const clock = runtime.clock;
  const e = config.ethash;
  const v = createEthashVerifier({
    ...(e.verifierThreads > 0 ? { threads: e.verifierThreads } : {}),
    log: logger,
    files: runtime.files,
    ...(e.saveCaches ? { cacheDir: `${config.dataDir}/caches` } : {}),
  });
  const u = e.upstream;
  let hashrateReport: ((h: bigint) => void) | undefined;
  let upstreams: EthSide["upstreams"];
  const ethSource = u.type === "pool"
    ? (() => {
      const p = u.pool;
      const src = createEthPoolSource({
        runtime,
        endpoints: p.pools.map((x, i) => ({ url: x.url, ...poolEndpointOf(`ethash.upstream.pool.pools[${i}]`, x, parsePoolUrl, tlsDeps(runtime, logger)), user: x.user, password: x.password, worker: x.worker, protocol: x.protocol, priority: x.priority })),
        agent: `stratum-edge/${VERSION}`,
        submitTimeoutMs: p.submitTimeoutMs,
        handshakeTimeoutMs: p.handshakeTimeoutMs,
        pollIntervalMs: p.pollIntervalMs,
        stallMs: p.stallSeconds * 1000,
        maxTimeoutsInRow: p.maxTimeoutsInRow,
        failbackMs: p.failbackSeconds * 1000,
        retry: { minMs: p.retryMinMs, maxMs: p.retryMaxMs },
        maxLineBytes: p.maxLineBytes,
        log: logger,
      });
      hashrateReport = (h) => src.reportHashrate(h);
      upstreams = () => src.upstreams();
      return src;
    })()
    : u.type === "ethnode"
    ? (() => {
      const src = createEthNodeSource({
        nodes: u.ethnode.nodes.map((n) => ({ url: n.url, priority: n.priority })),
        pollIntervalMs: u.ethnode.pollIntervalMs,
        maxWorkAgeSeconds: u.ethnode.maxWorkAgeSeconds,
        hashrateIntervalSeconds: u.ethnode.hashrateIntervalSeconds,
        ...(u.ethnode.hashrateId !== "" ? { hashrateId: u.ethnode.hashrateId } : {}),
        requestTimeoutMs: u.ethnode.requestTimeoutMs,
        submitDeadlineMs: u.ethnode.submitDeadlineMs,
        clock,
        fetch: upstreamFetch(runtime, nodeTlsByOrigin("ethash.upstream.ethnode.nodes", u.ethnode.nodes, tlsDeps(runtime, logger))),
        log: logger,
      });
      hashrateReport = (h) => src.reportHashrate(h);
      return src;
    })()
    : createEthDevnet({
      algo: e.algo,
      activationBlock: e.etchashActivationBlock,
      blockDifficulty: BigInt(u.devnet.blockDifficulty),
      blockIntervalSeconds: u.devnet.blockIntervalSeconds,
      startBlock: u.devnet.startBlock,
      clock,
      verify: async (headerHash, nonce, seed, cacheSize, fullSize, epoch) => {
        const r = await v.verify({ algo: e.algo, epoch, seed, cacheSize, fullSize, headerHash, nonce, ctx: undefined });
        return r.ok && r.mixDigest && r.result ? { mixDigest: r.mixDigest, result: r.result } : undefined;
      },
      log: (msg, fields) => logger.debug(msg, fields),
    });
  const eth = createEthPool({
    name: e.algo,
    algo: e.algo,
    activationBlock: e.etchashActivationBlock,
    runtime,
    source: ethSource,
    verifier: v,
    journal: createBlockJournal(runtime.files, `${config.dataDir}/${e.algo}`),
    policy: ethPolicy(config),
    keepHeights: e.keepHeights,
    prebuild: e.prebuild,
    extranonceBytes: e.extranonceBytes,
    extranoncePart: part,
    instancePrefix: config.store.redis.instancePrefix,
    log: logger,
    hooks: metrics.poolHooks,
  });
  runtime.files.mkdirp(`${config.dataDir}/${e.algo}`);
  return { verifier: v, eth, reportHashrate: hashrateReport, upstreams };
}
