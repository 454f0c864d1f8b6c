// Wires one relay together (work source, pool, Stratum listener, HTTP) from a parsed config; owns no protocol logic.
import type { Config } from "../config/schema.ts";
import type { Runtime, HttpServer, TlsPem } from "../runtime/types.ts";
import { loadTlsFiles, type LoadedTls } from "../server/tls_files.ts";
import { stratumV1 } from "../../protocols/stratum-v1/session.ts";
import { ethPolicy, listenerRoutes, payoutScript, stratumPolicy } from "../pools/policies.ts";
import { createHttpApp } from "../http/app.ts";
import { createLogger, type Logger } from "../observe/log.ts";
import { createRelayMetrics } from "../observe/relay_metrics.ts";
import { startStratumServer, type StratumServer } from "../server/server.ts";
import { VERSION } from "../version.ts";
import { ethProxy } from "../../protocols/eth-proxy/session.ts";
import { ethStratum } from "../../protocols/eth-stratum/session.ts";
import { ethStratum2 } from "../../protocols/eth-stratum2/session.ts";
import { createGetwork, mountGetworkRoutes } from "../http/getwork.ts";
import { createGetworkApp, createGetworkDispatch } from "../http/stratum_getwork.ts";
import type { HttpPort, Route } from "../server/server.ts";
import type { Guard } from "../server/guard.ts";
import { httpLimits, threadLimits } from "../threads/limits.ts";
import { createSessionThreads, wallNow, type SessionThreads } from "../threads/thread_pool.ts";
import { createFanoutTally } from "../threads/fanout_tally.ts";
import type { JobMessage } from "../threads/messages.ts";
import { mountAdmin } from "../http/admin.ts";
import { createBitcoinPool } from "./bitcoin_pool.ts";
import { createEthSide } from "./eth_side.ts";
import { createRelayGuard } from "./relay_guard.ts";
import { registerUpstreamMetrics } from "./upstream_metrics.ts";
import type { UpstreamSnapshot } from "../pools/relay_figures.ts";
import { ethStats, type RelayStats } from "./stats.ts";
import { openShareLog, type OpenShareLog } from "../store/open_share_log.ts";
import { combineSinks, type ShareSink } from "../store/share_sink.ts";
import { createWorkerHistory, type WorkerHistory } from "../store/worker_history.ts";
import { mountWorkers } from "../http/workers.ts";
import { registerShareLogMetrics } from "../store/share_log_metrics.ts";
import type { RedisStore } from "../store/redis_store.ts";

export type { PoolFigures, RelayStats } from "./stats.ts";
export type { BitcoinPool } from "./bitcoin_pool.ts";
export { ethPolicy, payoutScript, stratumPolicy };

export interface Relay {
  start(): Promise<{ stratumPort: number; httpPort: number | undefined }>;
  /** Graceful: stop accepting, client.reconnect every miner, wait for block submissions, close. */
  stop(): Promise<void>;
  stats(): RelayStats;
  readonly log: Logger;
  /** SIGHUP: re-read every TLS listener's cert/key; a pair that fails its checks is logged and the old one kept. */
  reloadTls(): void;
}

/** `redis`: store.redis opened by the caller (openRedisStore), its prefix already in `config`. */
export function createRelayWith(config: Config, runtime: Runtime, log?: Logger, redis?: RedisStore): Relay {
  const logger = log ?? createLogger({ format: config.log.format, level: config.log.level });
  const clock = runtime.clock;
  const startedAt = clock.now();
  const metrics = createRelayMetrics(runtime);
  if (redis !== undefined) {
    // Every pool reports shares and found blocks through these hooks: also to the Redis streams.
    const h = metrics.poolHooks;
    const count = h.share;
    h.share = (s, remote, poolName) => {
      count(s);
      redis.share(s, remote ?? "", poolName ?? "");
    };
    h.found = (poolName, b, remote) => redis.block(poolName, b, remote);
  }
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
  const ethSide = createEthSide(config, runtime, logger, metrics, part);
  const verifier = ethSide?.verifier;
  const eth = ethSide?.eth;
  const reportEthHashrate = ethSide?.reportHashrate;
  let hashrateTimer: unknown;
  runtime.files.mkdirp(config.dataDir);
  const guard: Guard = createRelayGuard(config, runtime, logger, metrics);
  let guardTimer: unknown;
  let server: StratumServer | undefined;
  const extra: StratumServer[] = [];
  let sessionThreads: SessionThreads | undefined;
  /** This thread's own connections, over every listener. */
  const mainConnections = () => (server?.connections ?? 0) + extra.reduce((n, x) => n + x.connections, 0);
  const openConnections = () => mainConnections() + (sessionThreads?.connections ?? 0);
  let http: HttpServer | undefined;
  // Where every judged share goes (the share log; other sinks plug in beside it), opened in start().
  // Getwork is built before that, so it reaches them through `lateSink`.
  let shareLog: OpenShareLog | undefined;
  let shareSink: ShareSink | undefined;
  const lateSink: ShareSink = { put: (sh, p, a) => shareSink?.put(sh, p, a), close: async () => {} };
  /** Per config.listeners entry: the pair it serves now (undefined = plain TCP). */
  let listenerTls: (LoadedTls | undefined)[] = [];
  const loadListenerTls = (i: number): LoadedTls | undefined => {
    const t = config.listeners[i]!.tls;
    return t === undefined ? undefined : loadTlsFiles(runtime.files, t, `listeners[${i}].tls`, clock.now());
  };
  const logTls = (what: string, i: number, t: LoadedTls, port: number) => {
    const fields = { listener: i, port, fingerprint: t.fingerprint, validTo: t.validTo };
    if (t.expired) logger.warn(`${what}: the certificate has expired, serving it anyway`, fields);
    else logger.info(what, fields);
  };
  // One set of getwork sessions for the HTTP port and every Stratum port that accepts HTTP getwork.
  const getwork = eth === undefined ? undefined : createGetwork(eth, clock, { maxBodyBytes: config.getwork.maxBodyBytes, maxSessions: config.getwork.maxSessions }, lateSink);
  const stratumGetwork = getwork === undefined ? undefined : createGetworkDispatch(createGetworkApp(getwork));
  /** The HTTP getwork a Stratum port serves when it accepts it (none without Ethereum-style mining). */
  const httpPortFor = (accepts: boolean): HttpPort | undefined =>
    accepts && stratumGetwork !== undefined ? { limits: httpLimits(config), handle: stratumGetwork } : undefined;

  const upstreamLists: (() => UpstreamSnapshot[])[] = [];
  if ("upstreams" in pool) upstreamLists.push(() => pool.upstreams());
  if (ethSide?.upstreams !== undefined) upstreamLists.push(ethSide.upstreams);
  if (upstreamLists.length > 0) registerUpstreamMetrics(metrics.registry, () => upstreamLists.flatMap((f) => f()));

  const stats = (): RelayStats => {
    const now = clock.now();
    const snap = pool.stats.snapshot(now);
    const sum = pool.summary();
    return {
      version: VERSION,
      runtime: runtime.name,
      uptimeSeconds: Math.round((now - startedAt) / 1000),
      connections: openConnections(),
      activeBans: guard.policy.list(now).length,
      workerHistory: shareLog !== undefined,
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
      ...(ethSide?.upstreams !== undefined ? { ethUpstreams: ethSide.upstreams() } : {}),
      workers: snap.workers,
      lastShares: snap.lastShares,
    };
  };

  return {
    log: logger,
    stats,
    reloadTls() {
      for (let i = 0; i < listenerTls.length; i++) {
        const server = extra[i];
        if (listenerTls[i] === undefined || server?.setTls === undefined) continue;
        let next: LoadedTls | undefined;
        try {
          next = loadListenerTls(i);
          if (next === undefined) continue;
          server.setTls({ cert: next.cert, key: next.key });
          sessionThreads?.setTls(i, { cert: next.cert, key: next.key });
        } catch (e) {
          logger.error("tls reload failed, still serving the previous certificate", { listener: i, port: server.port, error: e instanceof Error ? e.message : String(e) });
          continue;
        }
        listenerTls[i] = next;
        logTls("tls certificate reloaded", i, next, server.port);
      }
    },
    async start() {
      // First: a bad certificate stops start-up before any port or upstream is touched.
      listenerTls = config.listeners.map((_, i) => loadListenerTls(i));
      shareLog = await openShareLog(config, runtime, logger, true);
      // Session threads share the Stratum ports (one thread per core); relay mode keeps one thread.
      const shared = threads > 1 && !("setFanout" in pool);
      // With session threads the main thread's writer starts now, and the threads open the file only
      // after it has set it up (WAL, tables): they commit to it themselves, and it alone sums their
      // shares into the history and prunes. Several connections setting up a fresh file at once could
      // deadlock on its first write ("database is locked" at once, busy_timeout or not). A single-thread
      // relay starts the writer at the first share or history read (no second VM while idle).
      if (shareLog !== undefined && shared) await shareLog.open();
      shareSink = combineSinks(shareLog !== undefined ? [shareLog] : []);
      if (shareLog !== undefined) registerShareLogMetrics(metrics.registry, shareLog.figures);
      redis?.attach({ registry: metrics.registry, guard, stats });
      // Relay mode: the first upstream's extranonce space decides what miners are told at subscribe,
      // so it is known before the port opens (jobs issued meanwhile wait in the slot's book).
      const relayMode = "setFanout" in pool;
      if (relayMode) await pool.start();
      // Ethereum relay mode likewise: the pool's nonce prefix decides the miners' extranonces.
      const ethRelay = eth !== undefined && eth.source.kind === "pool";
      if (ethRelay) await eth!.start();
      const limits = threadLimits(config, threads);
      const allRoutes: (Route & { name: string })[] = [
        { name: "stratum-v1", dialect: stratumV1, pool },
        ...(eth !== undefined
          ? ([{ name: "eth-stratum", dialect: ethStratum, pool: eth }, { name: "eth-stratum2", dialect: ethStratum2, pool: eth }, { name: "eth-proxy", dialect: ethProxy, pool: eth }] as (Route & { name: string })[])
          : []),
      ];
      // One broadcast's fan-out is the slowest thread's; every thread reports it, observed once.
      const tally = createFanoutTally(threads, (ms, sockets) => metrics.observeFanout(ms / 1000, sockets));
      let mainSockets = 0;
      const countSockets = (_s: number, sockets: number) => void (mainSockets += sockets);
      const listen = async (host: string, port: number, routes: Route[], slot: string, proxyProtocol: boolean, httpPort: HttpPort | undefined, tls?: TlsPem) => {
        // SO_REUSEPORT would also let a second relay bind the same port unnoticed: bind once
        // without it first, so a port in use is still an error.
        if (shared && port !== 0) (await runtime.listen(host, port, { open: (s) => s.destroy(), data: () => {}, close: () => {} })).close();
        return startStratumServer({ runtime, host, port, routes, limits, hooks: metrics.serverHooksFor(slot, countSockets), log: logger, guard, proxyProtocol, reusePort: shared, ...(httpPort ? { http: httpPort } : {}), ...(tls ? { tls: { cert: tls.cert, key: tls.key } } : {}), ...(shareSink ? { shares: shareSink } : {}) });
      };
      server = await listen(config.stratum.host, config.stratum.port, allRoutes, "main", config.stratum.proxyProtocol, httpPortFor(config.getwork.stratumPort));
      for (const [i, l] of config.listeners.entries()) {
        const routes = listenerRoutes(config, l, allRoutes);
        const httpPort = httpPortFor(l.dialects.includes("http-getwork"));
        if (routes.length === 0 && httpPort === undefined) throw new Error(`listener ${l.host}:${l.port}: none of ${l.dialects.join(", ")} is enabled`);
        const tls = listenerTls[i];
        const x = await listen(l.host, l.port, routes, `listener${i}`, l.proxyProtocol, httpPort, tls);
        extra.push(x);
        logger.info("stratum listening", { host: l.host, port: x.port, dialects: l.dialects.join(","), ...(tls ? { tls: true } : {}) });
        if (tls) logTls("tls certificate loaded", i, tls, x.port);
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
        // Both EthereumStratum dialects hand out extranonces from the pool's prefix.
        ep.setEvict(() => servers.forEach((x) => (x.evict(ep, "eth-stratum"), x.evict(ep, "eth-stratum2"))));
      }
      if (shared && !("setFanout" in pool)) {
        const btcPool = pool;
        const current = (): JobMessage[] => {
          const jobs: JobMessage[] = [];
          const btcJob = pool.book.current();
          if (btcJob !== undefined) jobs.push({ t: "job", pool: 0, job: btcJob, clean: true, seq: 0, sentAt: wallNow() });
          // Ethereum work reaches threads only once the light cache is ready (as for this thread's sessions).
          const ethJob = eth?.summary().lightCache === "ready" ? eth.book.current() : undefined;
          if (ethJob !== undefined) jobs.push({ t: "job", pool: 1, job: ethJob, clean: true, seq: 0, sentAt: wallNow() });
          return jobs;
        };
        sessionThreads = createSessionThreads({
          count: threads,
          config,
          port: srv.port,
          listenerPorts: extra.map((x) => x.port),
          listenerTls: () => listenerTls.map((t) => (t ? { cert: t.cert, key: t.key } : undefined)),
          jobs: current,
          pools: [btcPool, eth],
          guard,
          hooks: { report: (i, r) => metrics.threadReport(`thread${i}`, r) },
          fanout: tally.report,
          log: logger,
          ...(stratumGetwork ? { http: stratumGetwork } : {}),
        });
        btcPool.book.onClear(() => sessionThreads?.clear(0));
        eth?.book.onClear(() => sessionThreads?.clear(1));
      }
      if (!relayMode) await pool.start();
      if (eth !== undefined && !ethRelay) await eth.start();
      if (sessionThreads !== undefined) {
        await sessionThreads.ready;
        logger.info("session threads listening", { threads });
      }
      logger.info("stratum listening", { host: config.stratum.host, port: server.port, upstream: upstreamKind });
      if (config.http.enabled) {
        const app = createHttpApp({
          metrics: metrics.registry,
          stats,
          ...(redis !== undefined ? { clusterStats: () => redis.cluster() } : {}),
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
        if (getwork !== undefined) mountGetworkRoutes(app, getwork);
        if (shareLog !== undefined) {
          const log = shareLog;
          let history: Promise<WorkerHistory> | undefined;
          // 2^32 hashes per difficulty-1 share, as /api/stats counts them.
          const open = () => (history ??= log.open().then((db) => createWorkerHistory(db, () => 2 ** 32)));
          mountWorkers(app, { history: open, clock });
        }
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
      // Commit what is queued first, so the replies waiting on it go out before the goodbye messages.
      shareLog?.flush();
      await new Promise((r) => setTimeout(r, 0));
      await Promise.all([
        ...[server, ...extra].map((x) => x?.shutdown(config.shutdown.drainMs)),
        sessionThreads?.stop(config.shutdown.drainMs),
      ]);
      clock.clearInterval(guardTimer);
      clock.clearInterval(hashrateTimer);
      guard.save();
      await shareSink?.close();
      await pool.stop();
      await eth?.stop();
      // After the pools: blocks found while draining are in the outbox too.
      await redis?.stop(config.shutdown.drainMs);
      verifier?.stop();
      if (http) await http.close();
      logger.info("stopped", { uptimeSeconds: Math.round((clock.now() - startedAt) / 1000) });
    },
  };
}
