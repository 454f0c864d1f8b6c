// Wires one relay together (work source, pool, Stratum listener, HTTP) from a parsed config; owns no protocol logic.
import type { Config } from "../config/schema.ts";
import type { Runtime, HttpServer } from "../runtime/types.ts";
import type { StratumV1Policy } from "../../protocols/stratum-v1/session.ts";
import { stratumV1 } from "../../protocols/stratum-v1/session.ts";
import { hexToBytes } from "../../protocols/pow/hex.ts";
import { DIFF1_SHA256 } from "../../protocols/pow/target.ts";
import { DIFF1_SCRYPT } from "../../protocols/pow/scrypt.ts";
import { decodeAddress } from "../../protocols/bitcoin/address.ts";
import { createBitcoindSource } from "../upstream/bitcoind.ts";
import type { BitcoinWorkSource } from "../upstream/types.ts";
import { createScryptVerifier } from "./scrypt_verifier.ts";
import { createDevnet } from "../upstream/devnet.ts";
import { createBlockJournal } from "../store/block_journal.ts";
import { createHttpApp } from "../http/app.ts";
import { createLogger, type Logger } from "./log.ts";
import { createRelayMetrics } from "./relay_metrics.ts";
import { createBtcPool, type BtcPool } from "./btc_pool.ts";
import { startStratumServer, type StratumServer } from "./server.ts";
import { VERSION } from "../version.ts";
import { ethProxy, type EthPolicy } from "../../protocols/eth-proxy/session.ts";
import { ethStratum } from "../../protocols/eth-stratum/session.ts";
import { createEthDevnet } from "../upstream/eth_devnet.ts";
import { createEthNodeSource } from "../upstream/ethnode.ts";
import { createEthashVerifier, type EthashVerifier } from "./ethash_verifier.ts";
import { createEthPool, type EthPool } from "./eth_pool.ts";
import { mountGetwork } from "../http/getwork.ts";
import type { Route } from "./server.ts";
import { createGuard, type Guard } from "./guard.ts";
import { mountAdmin } from "../http/admin.ts";

export interface RelayStats {
  version: string;
  runtime: string;
  uptimeSeconds: number;
  connections: number;
  pool: {
    name: string;
    algorithm: "sha256d" | "scrypt";
    upstream: string;
    height: number;
    networkDifficulty: number;
    currentJob: string | undefined;
    hashrate: number;
    accepted: number;
    rejected: number;
    rejectedByReason: Record<string, number>;
    blocks: ReturnType<BtcPool["blocks"]>;
  };
  /** The Ethereum-style pool (ethash/etchash), when enabled. */
  eth?: {
    name: string;
    algorithm: "ethash" | "etchash";
    upstream: string;
    height: number;
    epoch: number | undefined;
    networkDifficulty: number;
    currentJob: string | undefined;
    hashrate: number;
    accepted: number;
    rejected: number;
    rejectedByReason: Record<string, number>;
    blocks: ReturnType<EthPool["blocks"]>;
    verifier: ReturnType<EthashVerifier["stats"]> & { caches: string[] };
    workers: ReturnType<EthPool["stats"]["snapshot"]>["workers"];
  };
  workers: ReturnType<BtcPool["stats"]["snapshot"]>["workers"];
  lastShares: ReturnType<BtcPool["stats"]["snapshot"]>["lastShares"];
}

/** The policy Ethereum-style sessions run under, derived from config. */
export function ethPolicy(config: Config): EthPolicy {
  const e = config.ethash;
  const d = config.difficulty;
  return {
    initialDifficulty: e.initialDifficulty,
    suggestFloor: e.suggestFloor,
    vardiff: { targetShareSeconds: d.targetShareSeconds, retargetSeconds: d.retargetSeconds, variancePercent: d.variancePercent, min: e.minDifficulty, max: e.maxDifficulty },
    loginTimeoutMs: config.stratum.loginTimeoutMs > 0 ? config.stratum.loginTimeoutMs : Infinity,
    idleTimeoutMs: config.stratum.idleTimeoutMs > 0 ? config.stratum.idleTimeoutMs : Infinity,
    maxMalformed: config.stratum.maxMalformedRequests,
    disconnectOnError: e.disconnectOnError,
  };
}

export interface Relay {
  start(): Promise<{ stratumPort: number; httpPort: number | undefined }>;
  /** Graceful: stop accepting, client.reconnect every miner, wait for block submissions, close. */
  stop(): Promise<void>;
  stats(): RelayStats;
  readonly log: Logger;
}

/** The policy a Stratum v1 session runs under, derived from config. */
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

export function stratumPolicy(config: Config): StratumV1Policy {
  const d = config.difficulty;
  const algo = config.upstream.type === "bitcoind" ? config.upstream.bitcoind.algorithm : "sha256d";
  return {
    // The embedded devnet is a sha256d chain; node upstreams name their algorithm.
    algo,
    diff1: algo === "scrypt" ? DIFF1_SCRYPT : DIFF1_SHA256,
    versionMask: parseInt(config.stratum.versionMask, 16) >>> 0,
    extranonce2Size: config.stratum.extranonce2Size,
    initialDifficulty: d.initial,
    suggestFloor: d.suggestFloor,
    vardiff: { targetShareSeconds: d.targetShareSeconds, retargetSeconds: d.retargetSeconds, variancePercent: d.variancePercent, min: d.min, max: d.max },
    loginTimeoutMs: config.stratum.loginTimeoutMs > 0 ? config.stratum.loginTimeoutMs : Infinity,
    idleTimeoutMs: config.stratum.idleTimeoutMs > 0 ? config.stratum.idleTimeoutMs : Infinity,
    maxMalformed: config.stratum.maxMalformedRequests,
    reconnectHost: config.shutdown.reconnectHost,
    reconnectPort: config.shutdown.reconnectPort || config.stratum.port,
  };
}

function ethStats(eth: EthPool, verifier: EthashVerifier, now: number): NonNullable<RelayStats["eth"]> {
  const snap = eth.stats.snapshot(now);
  const sum = eth.summary();
  return {
    name: eth.name,
    algorithm: eth.algo,
    upstream: eth.source.kind,
    height: sum.height,
    epoch: sum.epoch,
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

export function createRelayWith(config: Config, runtime: Runtime, log?: Logger): Relay {
  const logger = log ?? createLogger({ format: config.log.format, level: config.log.level });
  const clock = runtime.clock;
  const startedAt = clock.now();
  const metrics = createRelayMetrics(runtime);
  const up = config.upstream;
  const source: BitcoinWorkSource = up.type === "bitcoind"
    ? createBitcoindSource({
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
      fetch: (url, init) => fetch(url, init),
      readText: (path) => runtime.files.readText(path),
      log: (msg, fields) => logger.info(msg, fields as Record<string, unknown>),
    })
    : createDevnet({
      bits: up.devnet.bits,
      blockIntervalSeconds: up.devnet.blockIntervalSeconds,
      transactionsPerBlock: up.devnet.transactionsPerBlock,
      startHeight: up.devnet.startHeight,
      coinbaseValueSats: BigInt(up.devnet.coinbaseValueSats),
      sha: runtime.sha256,
      clock,
      log: (msg, fields) => logger.debug(msg, fields as Record<string, unknown>),
    });
  runtime.files.mkdirp(config.dataDir);
  const journal = createBlockJournal(runtime.files, config.dataDir);
  const payout = payoutScript(config);
  const algo = up.type === "bitcoind" ? up.bitcoind.algorithm : "sha256d";
  const pool = createBtcPool({
    name: "btc",
    runtime,
    source,
    journal,
    policy: stratumPolicy(config),
    ...(algo === "scrypt" ? { scrypt: createScryptVerifier({ log: logger }) } : {}),
    coinbase: { payoutScript: payout, poolTag: config.coinbase.poolTag },
    extranonce1Size: config.stratum.extranonce1Size,
    keepJobs: config.jobs.keepJobs,
    refreshSeconds: config.jobs.refreshSeconds,
    log: logger,
    hooks: metrics.poolHooks,
  });
  let verifier: EthashVerifier | undefined;
  let eth: EthPool | undefined;
  /** Node upstreams want the miners' summed hashrate (eth_submitHashrate). */
  let reportEthHashrate: ((h: bigint) => void) | undefined;
  let hashrateTimer: unknown;
  if (config.ethash.enabled) {
    const e = config.ethash;
    const v = createEthashVerifier({
      ...(e.verifierThreads > 0 ? { threads: e.verifierThreads } : {}),
      log: logger,
      files: runtime.files,
      ...(e.saveCaches ? { cacheDir: `${config.dataDir}/caches` } : {}),
    });
    verifier = v;
    const u = e.upstream;
    let hashrateReport: ((h: bigint) => void) | undefined;
    const ethSource = u.type === "ethnode"
      ? (() => {
        const src = createEthNodeSource({
          nodes: u.ethnode.nodes,
          pollIntervalMs: u.ethnode.pollIntervalMs,
          maxWorkAgeSeconds: u.ethnode.maxWorkAgeSeconds,
          hashrateIntervalSeconds: u.ethnode.hashrateIntervalSeconds,
          ...(u.ethnode.hashrateId !== "" ? { hashrateId: u.ethnode.hashrateId } : {}),
          requestTimeoutMs: u.ethnode.requestTimeoutMs,
          submitDeadlineMs: u.ethnode.submitDeadlineMs,
          clock,
          fetch: (url, init) => fetch(url, init),
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
    reportEthHashrate = hashrateReport;
    eth = createEthPool({
      name: e.algo,
      algo: e.algo,
      activationBlock: e.etchashActivationBlock,
      runtime,
      source: ethSource,
      verifier: v,
      journal: createBlockJournal(runtime.files, `${config.dataDir}/${e.algo}`),
      policy: ethPolicy(config),
      keepHeights: e.keepHeights,
      extranonceBytes: e.extranonceBytes,
      log: logger,
      hooks: metrics.poolHooks,
    });
    runtime.files.mkdirp(`${config.dataDir}/${e.algo}`);
  }
  runtime.files.mkdirp(config.dataDir);
  const b = config.bans;
  const guard: Guard = createGuard({
    enabled: b.enabled,
    policy: {
      windowMs: b.windowMs,
      minShares: b.minShares,
      invalidRatio: b.invalidRatio,
      maxMalformed: b.maxMalformed,
      maxOversize: b.maxOversize,
      maxFloods: b.maxFloods,
      maxFailedLogins: b.maxFailedLogins,
      banMs: b.banMs,
      maxBanMs: b.maxBanMs,
      failedLoginBanMs: b.failedLoginBanMs,
      maxFailedLoginBanMs: b.maxFailedLoginBanMs,
      offenceMemoryMs: b.offenceMemoryMs,
      maxTrackedKeys: b.maxTrackedKeys,
      maxBans: b.maxBans,
      allowlist: b.allowlist,
    },
    rate: { perSecond: config.stratum.maxMessagesPerSecond, burst: config.stratum.messageBurst },
    log: logger,
    hooks: metrics.guardHooks,
    files: runtime.files,
    dataDir: config.dataDir,
    now: clock.now(),
  });
  let guardTimer: unknown;
  let server: StratumServer | undefined;
  const extra: StratumServer[] = [];
  let http: HttpServer | undefined;

  const stats = (): RelayStats => {
    const now = clock.now();
    const snap = pool.stats.snapshot(now);
    const sum = pool.summary();
    return {
      version: VERSION,
      runtime: runtime.name,
      uptimeSeconds: Math.round((now - startedAt) / 1000),
      connections: (server?.connections ?? 0) + extra.reduce((n, x) => n + x.connections, 0),
      pool: {
        name: pool.name,
        algorithm: stratumPolicy(config).algo,
        upstream: source.kind,
        height: sum.height,
        networkDifficulty: sum.networkDifficulty,
        currentJob: sum.jobId,
        hashrate: snap.hashrate,
        accepted: snap.accepted,
        rejected: snap.rejected,
        rejectedByReason: snap.rejectedByReason,
        blocks: pool.blocks(),
      },
      ...(eth !== undefined && verifier !== undefined ? { eth: ethStats(eth, verifier, now) } : {}),
      workers: snap.workers,
      lastShares: snap.lastShares,
    };
  };

  return {
    log: logger,
    stats,
    async start() {
      const limits = {
        maxLineBytes: config.stratum.maxLineBytes,
        maxConnections: config.stratum.maxConnections,
        maxConnectionsPerAddress: config.stratum.maxConnectionsPerAddress,
        loginTimeoutMs: config.stratum.loginTimeoutMs > 0 ? config.stratum.loginTimeoutMs : Infinity,
        maxWriteBufferBytes: config.stratum.maxWriteBufferBytes,
        tickMs: 1000,
      };
      const allRoutes: (Route & { name: string })[] = [
        { name: "stratum-v1", dialect: stratumV1, pool },
        ...(eth !== undefined
          ? ([{ name: "eth-stratum", dialect: ethStratum, pool: eth }, { name: "eth-proxy", dialect: ethProxy, pool: eth }] as (Route & { name: string })[])
          : []),
      ];
      server = await startStratumServer({
        runtime,
        host: config.stratum.host,
        port: config.stratum.port,
        routes: allRoutes,
        limits,
        hooks: metrics.serverHooks,
        log: logger,
        guard,
        proxyProtocol: config.stratum.proxyProtocol,
      });
      for (const l of config.listeners) {
        const routes = allRoutes.filter((r) => (l.dialects as string[]).includes(r.name));
        if (routes.length === 0) throw new Error(`listener ${l.host}:${l.port}: none of ${l.dialects.join(", ")} is enabled`);
        const x = await startStratumServer({ runtime, host: l.host, port: l.port, routes, limits, hooks: metrics.serverHooks, log: logger, guard, proxyProtocol: l.proxyProtocol });
        extra.push(x);
        logger.info("stratum listening", { host: l.host, port: x.port, dialects: l.dialects.join(",") });
      }
      const srv = server;
      const servers = [srv, ...extra];
      pool.setBroadcast((ev) => {
        for (const x of servers) x.broadcast(pool, ev);
      });
      await pool.start();
      if (eth !== undefined) {
        const ep = eth;
        ep.setBroadcast((ev) => {
          for (const x of servers) x.broadcast(ep, ev);
        });
        await ep.start();
      }
      logger.info("stratum listening", { host: config.stratum.host, port: server.port, upstream: source.kind });
      if (config.http.enabled) {
        const app = createHttpApp({
          metrics: metrics.registry,
          stats,
          health: () => ({ ok: pool.book.current() !== undefined, height: pool.summary().height, connections: srv.connections }),
          version: VERSION,
        });
        // Found blocks (newest first) with each upstream's answer: the operator's first stop after "block found".
        app.get("/api/blocks", (c) =>
          c.json({
            [pool.name]: pool.blocks().reverse(),
            ...(eth !== undefined ? { [eth.name]: eth.blocks().reverse() } : {}),
          }));
        if (config.http.adminToken !== "") mountAdmin(app, { token: config.http.adminToken, guard, clock });
        if (eth !== undefined) mountGetwork(app, eth, clock);
        http = await runtime.serveHttp(config.http.host, config.http.port, app.fetch);
        logger.info("http listening", { host: config.http.host, port: http.port });
      }
      guardTimer = clock.setInterval(() => guard.tick(clock.now()), 60_000);
      if (eth !== undefined && reportEthHashrate !== undefined) {
        const ep = eth;
        const report = reportEthHashrate;
        hashrateTimer = clock.setInterval(() => report(BigInt(Math.round(ep.stats.snapshot(clock.now()).hashrate))), 10_000);
      }
      return { stratumPort: server.port, httpPort: http?.port };
    },
    async stop() {
      await Promise.all([server, ...extra].map((x) => x?.shutdown(config.shutdown.drainMs)));
      clock.clearInterval(guardTimer);
      clock.clearInterval(hashrateTimer);
      guard.save();
      await pool.stop();
      await eth?.stop();
      verifier?.stop();
      if (http) await http.close();
      logger.info("stopped", { uptimeSeconds: Math.round((clock.now() - startedAt) / 1000) });
    },
  };
}
