// Entry point of one session thread: listens on the shared Stratum ports, runs the sessions of the connections the kernel gives it, and reports to the main thread; it builds no jobs and submits no blocks.
import { normalJitPolicy } from "../runtime/jit_policy.ts";
import { releaseStartupMemory } from "../runtime/release_startup.ts";
import type { BlockCandidate, CloseReason, ShareRecord, VerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import type { JobEvent } from "../../protocols/core/dialect.ts";
import type { StratumJob } from "../../protocols/stratum-v1/job_types.ts";
import type { EthJob } from "../../protocols/eth/work.ts";
import { stratumV1, type StratumV1Env } from "../../protocols/stratum-v1/session.ts";
import { ethProxy, type EthEnv } from "../../protocols/eth-proxy/session.ts";
import { ethStratum } from "../../protocols/eth-stratum/session.ts";
import { ethStratum2 } from "../../protocols/eth-stratum2/session.ts";
import { loadRuntime } from "../runtime/select.ts";
import { createLogger } from "../observe/log.ts";
import { createJobBook } from "../pools/job_book.ts";
import { chainEpochInfo, createEthJobBook, ethashChain } from "../pools/eth_job_book.ts";
import { createEthExtranonceAllocator, createExtranonceAllocator } from "../pools/extranonce.ts";
import { ethPolicy, listenerRoutes, minerPayout, payoutScript, stratumPolicy } from "../pools/policies.ts";
import { startStratumServer, type HttpAnswer, type HttpPort, type PoolPort, type Route, type ServerHooks, type StratumServer } from "../server/server.ts";
import type { HttpRequest } from "../../protocols/http/parse_request.ts";
import { httpLimits, threadLimits } from "./limits.ts";
import { createThreadGuard } from "./thread_guard.ts";
import { openShareLog } from "../store/open_share_log.ts";
import type { FromSessionThread, JobMessage, PoolIndex, ThreadEvent, ToSessionThread } from "./messages.ts";

declare const self: {
  postMessage(m: FromSessionThread): void;
  onmessage: ((e: MessageEvent<ToSessionThread>) => void) | null;
};

const post = (m: FromSessionThread) => self.postMessage(m);

/** Epoch time in ms with sub-ms precision, comparable across threads (performance.now() is per thread). */
const wallNow = () => performance.timeOrigin + performance.now();

// Events go out in batches (one message per event-loop turn at most): at 100k shares/s one
// postMessage per share would cost the thread more than the share checks do.
let events: ThreadEvent[] = [];
let flushTimer: ReturnType<typeof setTimeout> | undefined;
function flushEvents(): void {
  flushTimer = undefined;
  if (events.length === 0) return;
  post({ t: "events", events });
  events = [];
}
function emit(ev: ThreadEvent): void {
  events.push(ev);
  flushTimer ??= setTimeout(flushEvents, 0);
}

let nextVerify = 1;
const verifying = new Map<number, (r: VerifyResult) => void>();
function remoteVerify(pool: PoolIndex, req: VerifyRequest): Promise<VerifyResult> {
  const id = nextVerify++;
  // The session's own context stays here; the main thread needs only the proof of work.
  const { ctx: _ctx, ...rest } = req;
  return new Promise((resolve) => {
    verifying.set(id, resolve);
    post({ t: "verify", id, pool, req: { ...rest, ctx: undefined } as VerifyRequest });
  });
}

let nextHttp = 1;
const answering = new Map<number, (a: HttpAnswer) => void>();
/** HTTP getwork sessions live on the main thread: a request goes there and its answer comes back. */
function remoteHttp(req: HttpRequest, addr: string): Promise<HttpAnswer> {
  const id = nextHttp++;
  return new Promise((resolve) => {
    answering.set(id, resolve);
    post({ t: "http", id, req, addr });
  });
}

interface Replica {
  // deno-lint-ignore no-explicit-any
  port: PoolPort<any>;
  adopt(job: unknown, clean: boolean): void;
  clear(): void;
}

/** The pool port a thread's sessions see: its own env and extranonce slice; results go to the main thread. */
function remotePort<E extends { now: number }>(name: string, pool: PoolIndex, env: E, en: { allocate(): string }): PoolPort<E> {
  return {
    name,
    env,
    allocateExtranonce1: () => en.allocate(),
    onShare: (share: ShareRecord, addr: string) => emit({ k: "share", pool, share, addr }),
    onBlock: (block: BlockCandidate, addr: string) => post({ t: "block", pool, block, addr }),
    verify: (req: VerifyRequest) => remoteVerify(pool, req),
  };
}

function btcReplica(msg: Extract<ToSessionThread, { t: "init" }>, sha: StratumV1Env["sha"]): Replica {
  const { config, index, count } = msg;
  const policy = stratumPolicy(config);
  const book = createJobBook({
    keep: config.jobs.keepJobs,
    sha,
    // Aliases minted here (vardiff re-sends) get ids no other thread or the main thread can mint.
    idPrefix: `t${index}-`,
    coinbase: { payoutScript: payoutScript(config), poolTag: config.coinbase.poolTag, extranonce1Size: config.stratum.extranonce1Size, extranonce2Size: policy.extranonce2Size },
  });
  const en1 = createExtranonceAllocator(config.stratum.extranonce1Size, config.store.redis.instancePrefix, Math.random, { index, count });
  const payoutFor = minerPayout(config);
  const env: StratumV1Env = { now: Date.now(), sha, jobs: book, extranonce: en1, policy, ...(payoutFor ? { payoutFor } : {}) };
  return {
    port: remotePort("btc", 0, env, en1),
    adopt: (job, clean) => book.adopt(job as StratumJob, clean),
    clear: () => book.clear(),
  };
}

function ethReplica(msg: Extract<ToSessionThread, { t: "init" }>): Replica {
  const { config, index, count } = msg;
  const e = config.ethash;
  const book = createEthJobBook({ algo: e.algo, keepHeights: e.keepHeights, epochInfo: chainEpochInfo(ethashChain(e.algo, e.etchashActivationBlock)) });
  const en = createEthExtranonceAllocator(e.extranonceBytes, config.store.redis.instancePrefix, Math.random, { index, count });
  // No job yet (the main thread builds the light cache when a miner first asks): say a miner asked, at most once a second.
  let wantedAt = 0;
  const jobs: EthEnv["jobs"] = {
    current() {
      const j = book.current();
      if (j === undefined && Date.now() - wantedAt >= 1000) {
        wantedAt = Date.now();
        post({ t: "want", pool: 1 });
      }
      return j;
    },
    byId: (id) => book.byId(id),
    byHeader: (h) => book.byHeader(h),
  };
  const env: EthEnv = { now: Date.now(), jobs, policy: ethPolicy(config), extranonce: en };
  return {
    port: remotePort(e.algo, 1, env, en),
    adopt: (job) => book.adopt(job as EthJob),
    clear: () => book.clear(),
  };
}

async function start(msg: Extract<ToSessionThread, { t: "init" }>): Promise<void> {
  const { config } = msg;
  const runtime = await loadRuntime();
  const log = createLogger({ format: config.log.format, level: config.log.level }, { thread: msg.index });
  const replicas: Replica[] = [btcReplica(msg, runtime.sha256)];
  if (config.ethash.enabled) replicas.push(ethReplica(msg));
  const guard = createThreadGuard({
    enabled: config.bans.enabled,
    rate: { perSecond: config.stratum.maxMessagesPerSecond, burst: config.stratum.messageBurst },
    emit,
  });
  guard.replace(msg.bans);

  // Counters since the last report; the main thread adds them to its metrics.
  const perServer: number[] = [];
  const refused: Record<string, number> = {};
  const closed: Partial<Record<CloseReason | "peer", number>> = {};
  let fanout: [number, number, number][] = [];
  let fanoutSockets = 0;
  let dirty = true;
  const hooksFor = (slot: number): ServerHooks => ({
    connections(n) {
      perServer[slot] = n;
      dirty = true;
    },
    refused(reason) {
      refused[reason] = (refused[reason] ?? 0) + 1;
      dirty = true;
    },
    closed(reason) {
      closed[reason] = (closed[reason] ?? 0) + 1;
      dirty = true;
    },
    fanout(_seconds, sockets) {
      fanoutSockets += sockets;
    },
  });
  const report = () => {
    if (!dirty && fanout.length === 0) return;
    post({ t: "metrics", connections: perServer.reduce((a, b) => a + b, 0), refused: { ...refused }, closed: { ...closed }, fanout });
    for (const k of Object.keys(refused)) delete refused[k];
    for (const k of Object.keys(closed)) delete closed[k as CloseReason];
    fanout = [];
    dirty = false;
  };
  const reporter = setInterval(report, 250);

  const limits = threadLimits(config, msg.count);
  const allRoutes: (Route & { name: string })[] = [
    { name: "stratum-v1", dialect: stratumV1, pool: replicas[0]!.port },
    ...(replicas[1] !== undefined
      ? [{ name: "eth-stratum", dialect: ethStratum, pool: replicas[1].port }, { name: "eth-stratum2", dialect: ethStratum2, pool: replicas[1].port }, { name: "eth-proxy", dialect: ethProxy, pool: replicas[1].port }]
      : []),
  ];
  // HTTP getwork needs the Ethereum-style pool, as on the main thread.
  const httpPortFor = (accepts: boolean): HttpPort | undefined =>
    accepts && replicas[1] !== undefined ? { limits: httpLimits(config), handle: remoteHttp } : undefined;
  const mainHttp = httpPortFor(config.getwork.stratumPort);
  // Its own connection to the share log file: this thread's replies wait for this thread's commits,
  // with no round trip to the main thread (SQLite serialises the threads' writes; the main thread prunes).
  const shareLog = await openShareLog(config, runtime, log, false);
  const shares = shareLog !== undefined ? { shares: shareLog } : {};
  const servers: StratumServer[] = [];
  servers.push(await startStratumServer({
    runtime,
    host: config.stratum.host,
    port: msg.port,
    routes: allRoutes,
    limits,
    hooks: hooksFor(0),
    log,
    guard,
    proxyProtocol: config.stratum.proxyProtocol,
    reusePort: true,
    ...(mainHttp ? { http: mainHttp } : {}),
    ...shares,
  }));
  for (let i = 0; i < config.listeners.length; i++) {
    const l = config.listeners[i]!;
    const routes = listenerRoutes(config, l, allRoutes);
    const http = httpPortFor(l.dialects.includes("http-getwork"));
    const tls = msg.listenerTls[i];
    servers.push(await startStratumServer({ runtime, host: l.host, port: msg.listenerPorts[i]!, routes, limits, hooks: hooksFor(i + 1), log, guard, proxyProtocol: l.proxyProtocol, reusePort: true, ...(http ? { http } : {}), ...(tls ? { tls } : {}), ...shares }));
  }

  const onJob = (m: JobMessage) => {
    const r = replicas[m.pool];
    if (r === undefined) return;
    r.adopt(m.job, m.clean);
    // deno-lint-ignore no-explicit-any
    const ev: JobEvent<any> = { job: m.job, clean: m.clean, memo: new Map() };
    fanoutSockets = 0;
    for (const s of servers) s.broadcast(r.port, ev);
    fanout.push([m.seq, wallNow() - m.sentAt, fanoutSockets]);
  };
  for (const j of msg.jobs) onJob(j);
  fanout = [];

  const handle = (m: ToSessionThread) => {
    switch (m.t) {
      case "job":
        return onJob(m);
      case "clear":
        return replicas[m.pool]?.clear();
      case "ban":
        return guard.banned(m.key, m.until);
      case "bans":
        return guard.replace(m.bans);
      case "http_answer": {
        const done = answering.get(m.id);
        answering.delete(m.id);
        return done?.(m.answer);
      }
      case "verified": {
        const done = verifying.get(m.id);
        verifying.delete(m.id);
        return done?.(m.res);
      }
      case "shutdown":
        void Promise.all(servers.map((s) => s.shutdown(m.drainMs))).then(async () => {
          await shareLog?.close();
          clearInterval(reporter);
          flushEvents();
          report();
          post({ t: "stopped" });
        });
        return;
      case "tls":
        try {
          servers[m.listener + 1]?.setTls?.(m.tls);
        } catch (e) {
          log.error("tls reload failed on a session thread, it keeps the previous certificate", { listener: m.listener, error: e instanceof Error ? e.message : String(e) });
        }
        return;
      case "init":
        return;
    }
  };
  // Listening: from here on its hot code (sessions, hashing) compiles as usual.
  normalJitPolicy();
  releaseStartupMemory();
  self.onmessage = (e) => handle(e.data);
  log.debug("session thread listening", { port: msg.port });
  post({ t: "up" });
  // Jobs and bans that arrived while the listeners were starting.
  for (const m of early.splice(0)) handle(m);
}

const early: ToSessionThread[] = [];
self.onmessage = (e) => {
  const m = e.data;
  if (m.t !== "init") return void early.push(m);
  start(m).catch((err) => post({ t: "error", message: err instanceof Error ? err.message : String(err) }));
};

