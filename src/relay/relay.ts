// Wires one relay together (work source, pool, Stratum listener, HTTP) from a parsed config; owns no protocol logic.
import type { Config } from "../config/schema.ts";
import type { Runtime, HttpServer } from "../runtime/types.ts";
import { stratumV1 } from "../../protocols/stratum-v1/session.ts";
import { ethPolicy, minerPayout, payoutScript, stratumPolicy } from "../pools/policies.ts";
import { createBitcoindSource } from "../upstream/bitcoind.ts";
import type { BitcoinWorkSource } from "../upstream/types.ts";
import { createScryptVerifier } from "../verify/scrypt_verifier.ts";
import { createDevnet } from "../upstream/devnet.ts";
import { createBlockJournal } from "../store/block_journal.ts";
import { createHttpApp } from "../http/app.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import { createRelayMetrics } from "../observe/relay_metrics.ts";
import { createBtcPool, type BlockReport, type BtcPool } from "../pools/btc_pool.ts";
import { createRelayBtcPool, type RelayBtcPool } from "../pools/relay_btc_pool.ts";
import { parsePoolUrl } from "../upstream/pool/pool_list.ts";
import { startStratumServer, type StratumServer } from "../server/server.ts";
import { VERSION } from "../version.ts";
import { ethProxy } from "../../protocols/eth-proxy/session.ts";
import { ethStratum } from "../../protocols/eth-stratum/session.ts";
import { createEthDevnet } from "../upstream/eth_devnet.ts";
import { createEthNodeSource } from "../upstream/ethnode.ts";
import { createEthashVerifier, type EthashVerifier } from "../verify/ethash_verifier.ts";
import { createEthPool, type EthPool } from "../pools/eth_pool.ts";
import { mountGetwork } from "../http/getwork.ts";
import type { Route } from "../server/server.ts";
import { createGuard, type Guard } from "../server/guard.ts";
import { threadLimits } from "../threads/limits.ts";
import { createSessionThreads, wallNow, type SessionThreads } from "../threads/thread_pool.ts";
import { createFanoutTally } from "../threads/fanout_tally.ts";
import type { JobMessage } from "../threads/messages.ts";
import { mountAdmin } from "../http/admin.ts";

export { ethPolicy, payoutScript, stratumPolicy };

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
  /** Open connections per thread (main thread first) when stratum.threads > 1. */
  connectionsByThread?: number[];
  pool: PoolFigures<"sha256d" | "scrypt">;
  /** The Ethereum-style pool (ethash/etchash), when enabled. */
  eth?: PoolFigures<"ethash" | "etchash"> & {
    epoch: number | undefined;
    verifier: ReturnType<EthashVerifier["stats"]> & { caches: string[] };
    workers: ReturnType<EthPool["stats"]["snapshot"]>["workers"];
  };
  /** Relay mode: each configured upstream pool's state and verdicts. */
  upstreams?: ReturnType<RelayBtcPool["upstreams"]>;
  workers: ReturnType<BtcPool["stats"]["snapshot"]>["workers"];
  lastShares: ReturnType<BtcPool["stats"]["snapshot"]>["lastShares"];
}

export interface Relay {
  start(): Promise<{ stratumPort: number; httpPort: number | undefined }>;
  /** Graceful: stop accepting, client.reconnect every miner, wait for block submissions, close. */
  stop(): Promise<void>;
  stats(): RelayStats;
  readonly log: Logger;
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
      fetch: (url, init) => fetch(url, init),
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

function createBitcoinPool(config: Config, runtime: Runtime, logger: Logger, metrics: ReturnType<typeof createRelayMetrics>, part: { index: number; count: number }): BitcoinPool {
  const up = config.upstream;
  const policy = stratumPolicy(config);
  const scrypt = policy.algo === "scrypt" ? { scrypt: createScryptVerifier({ log: logger }) } : {};
  if (up.type === "pool") {
    const p = up.pool;
    return createRelayBtcPool({
      name: "btc",
      runtime,
      policy,
      endpoints: p.pools.map((x) => ({ url: x.url, ...parsePoolUrl(x.url)!, user: x.user, password: x.password, priority: x.priority })),
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
    extranonce1Part: part,
    keepJobs: config.jobs.keepJobs,
    refreshSeconds: config.jobs.refreshSeconds,
    log: logger,
    hooks: metrics.poolHooks,
  });
}

export function createRelayWith(config: Config, runtime: Runtime, log?: Logger): Relay {
  const logger = log ?? createLogger({ format: config.log.format, level: config.log.level });
  const clock = runtime.clock;
  const startedAt = clock.now();
  const metrics = createRelayMetrics(runtime);
  // Session threads share the Stratum ports through SO_REUSEPORT, which only the Bun adapter offers.
  let threads = config.stratum.threads;
  if (threads > 1 && !runtime.canShareListeners) {
    logger.warn("stratum.threads > 1 needs the Bun runtime; running one thread", { threads, runtime: runtime.name });
    threads = 1;
  }
  if (threads > 1 && config.upstream.type === "pool") {
    // Relay mode keeps each upstream connection's miners on the thread that owns the connection.
    logger.warn("stratum.threads > 1 is not supported with upstream.type = \"pool\" yet; running one thread", { threads });
    threads = 1;
  }
  const part = { index: 0, count: threads };
  const up = config.upstream;
  const pool = createBitcoinPool(config, runtime, logger, metrics, part);
  const upstreamKind = up.type === "pool" ? "pool" : up.type === "bitcoind" ? "bitcoind" : "devnet";
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
      extranoncePart: part,
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
  let sessionThreads: SessionThreads | undefined;
  /** This thread's own connections, over every listener. */
  const mainConnections = () => (server?.connections ?? 0) + extra.reduce((n, x) => n + x.connections, 0);
  const openConnections = () => mainConnections() + (sessionThreads?.connections ?? 0);
  let http: HttpServer | undefined;

  if ("upstreams" in pool) {
    // Relay mode: each upstream pool's figures as gauges, read at scrape time from the pool's own counts.
    const r = metrics.registry;
    const up = r.gauge("stratum_edge_upstream_up", "1 while the upstream pool carries miners (relay mode).", ["pool"]);
    const conns = r.gauge("stratum_edge_upstream_connections", "Open upstream connections per pool (relay mode).", ["pool"]);
    const verdicts = r.gauge("stratum_edge_upstream_shares", "Forwarded shares by the upstream's verdict since start (relay mode; unconfirmed = no verdict, never counted accepted).", ["pool", "verdict"]);
    const latency = r.gauge("stratum_edge_upstream_verdict_latency_seconds", "Submit → verdict latency over the last 1024 verdicts, by quantile (relay mode).", ["pool", "quantile"]);
    const diff = r.gauge("stratum_edge_upstream_difficulty", "Share difficulty the upstream pool set last (relay mode).", ["pool"]);
    const rp = pool;
    r.onCollect(() => {
      for (const u of rp.upstreams()) {
        up.labels({ pool: u.url }).set(u.state === "active" ? 1 : 0);
        conns.labels({ pool: u.url }).set(u.connections);
        verdicts.labels({ pool: u.url, verdict: "accepted" }).set(u.accepted);
        verdicts.labels({ pool: u.url, verdict: "rejected" }).set(u.rejected);
        verdicts.labels({ pool: u.url, verdict: "unconfirmed" }).set(u.unconfirmed);
        latency.labels({ pool: u.url, quantile: "0.5" }).set(u.latencyMs.p50 / 1000);
        latency.labels({ pool: u.url, quantile: "0.99" }).set(u.latencyMs.p99 / 1000);
        diff.labels({ pool: u.url }).set(u.difficulty);
      }
    });
  }

  const stats = (): RelayStats => {
    const now = clock.now();
    const snap = pool.stats.snapshot(now);
    const sum = pool.summary();
    return {
      version: VERSION,
      runtime: runtime.name,
      uptimeSeconds: Math.round((now - startedAt) / 1000),
      connections: openConnections(),
      ...(sessionThreads !== undefined
        ? { connectionsByThread: [mainConnections(), ...sessionThreads.perThread()] }
        : {}),
      pool: {
        name: pool.name,
        algorithm: stratumPolicy(config).algo,
        upstream: upstreamKind,
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
      ...("upstreams" in pool ? { upstreams: pool.upstreams() } : {}),
      workers: snap.workers,
      lastShares: snap.lastShares,
    };
  };

  return {
    log: logger,
    stats,
    async start() {
      // Relay mode: the first upstream's extranonce space decides what miners are told at subscribe,
      // so it is known before the port opens (jobs issued meanwhile wait in the slot's book).
      const relayMode = "setFanout" in pool;
      if (relayMode) await pool.start();
      const limits = threadLimits(config, threads);
      const allRoutes: (Route & { name: string })[] = [
        { name: "stratum-v1", dialect: stratumV1, pool },
        ...(eth !== undefined
          ? ([{ name: "eth-stratum", dialect: ethStratum, pool: eth }, { name: "eth-proxy", dialect: ethProxy, pool: eth }] as (Route & { name: string })[])
          : []),
      ];
      const shared = threads > 1 && !("setFanout" in pool);
      // One broadcast's fan-out is the slowest thread's; every thread reports it, observed once.
      const tally = createFanoutTally(threads, (ms, sockets) => metrics.observeFanout(ms / 1000, sockets));
      let mainSockets = 0;
      const countSockets = (_s: number, sockets: number) => void (mainSockets += sockets);
      const listen = async (host: string, port: number, routes: Route[], slot: string, proxyProtocol: boolean) => {
        // SO_REUSEPORT would also let a second relay bind the same port unnoticed: bind once
        // without it first, so a port in use is still an error.
        if (shared && port !== 0) (await runtime.listen(host, port, { open: (s) => s.destroy(), data: () => {}, close: () => {} })).close();
        return startStratumServer({ runtime, host, port, routes, limits, hooks: metrics.serverHooksFor(slot, countSockets), log: logger, guard, proxyProtocol, reusePort: shared });
      };
      server = await listen(config.stratum.host, config.stratum.port, allRoutes, "main", config.stratum.proxyProtocol);
      for (const [i, l] of config.listeners.entries()) {
        const routes = allRoutes.filter((r) => (l.dialects as string[]).includes(r.name));
        if (routes.length === 0) throw new Error(`listener ${l.host}:${l.port}: none of ${l.dialects.join(", ")} is enabled`);
        const x = await listen(l.host, l.port, routes, `listener${i}`, l.proxyProtocol);
        extra.push(x);
        logger.info("stratum listening", { host: l.host, port: x.port, dialects: l.dialects.join(",") });
      }
      const srv = server;
      const servers = [srv, ...extra];
      let seq = 0;
      const fanOut = (index: 0 | 1, p: Route["pool"], ev: Parameters<StratumServer["broadcast"]>[1]) => {
        const n = ++seq;
        const t0 = wallNow();
        // Threads first: they write their sockets while this thread writes its own.
        sessionThreads?.job(index, ev, n);
        mainSockets = 0;
        for (const x of servers) x.broadcast(p, ev);
        tally.report(n, wallNow() - t0, mainSockets);
      };
      if ("setFanout" in pool) {
        pool.setFanout({
          broadcast: (ev, port) => fanOut(0, port, ev),
          evict: (port) => servers.reduce((n, x) => n + x.evict(port), 0),
          notice: (port, text) => servers.forEach((x) => x.notice(port, text)),
        });
      } else {
        const p = pool;
        p.setBroadcast((ev) => fanOut(0, p, ev));
      }
      if (eth !== undefined) {
        const ep = eth;
        ep.setBroadcast((ev) => fanOut(1, ep, ev));
      }
      if (shared && !("setFanout" in pool)) {
        const btcPool = pool;
        const current = (): JobMessage[] => {
          const jobs: JobMessage[] = [];
          const btcJob = pool.book.current();
          if (btcJob !== undefined) jobs.push({ t: "job", pool: 0, job: btcJob, clean: true, seq: 0, sentAt: wallNow() });
          const ethJob = eth?.book.current();
          if (ethJob !== undefined) jobs.push({ t: "job", pool: 1, job: ethJob, clean: true, seq: 0, sentAt: wallNow() });
          return jobs;
        };
        sessionThreads = createSessionThreads({
          count: threads,
          config,
          port: srv.port,
          listenerPorts: extra.map((x) => x.port),
          jobs: current,
          pools: [btcPool, eth],
          guard,
          hooks: { report: (i, r) => metrics.threadReport(`thread${i}`, r) },
          fanout: tally.report,
          log: logger,
        });
        btcPool.book.onClear(() => sessionThreads?.clear(0));
        eth?.book.onClear(() => sessionThreads?.clear(1));
      }
      if (!relayMode) await pool.start();
      if (eth !== undefined) await eth.start();
      if (sessionThreads !== undefined) {
        await sessionThreads.ready;
        logger.info("session threads listening", { threads });
      }
      logger.info("stratum listening", { host: config.stratum.host, port: server.port, upstream: upstreamKind });
      if (config.http.enabled) {
        const app = createHttpApp({
          metrics: metrics.registry,
          stats,
          health: () => ({ ok: pool.book.current() !== undefined, height: pool.summary().height, connections: openConnections() }),
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
      await Promise.all([
        ...[server, ...extra].map((x) => x?.shutdown(config.shutdown.drainMs)),
        sessionThreads?.stop(config.shutdown.drainMs),
      ]);
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
