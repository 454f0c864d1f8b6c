// Relay mode for Ethereum-style miners: work from upstream eth-proxy pools (failover by priority, fail-back, backoff) as an EthWorkSource, and forwarded shares answered with the pool's verdict; it judges no share itself.
import type { EthForward, ForwardRequest, ForwardResult } from "../../../protocols/core/actions.ts";
import type { EthWork } from "../../../protocols/eth/work.ts";
import {
  openUpstream,
  upstreamClosed,
  upstreamHashrate,
  upstreamReceive,
  upstreamSubmit,
  upstreamTick,
  type EthProxyUpstreamOut,
  type EthProxyUpstreamState,
  type EthProxyUpstreamWork,
} from "../../../protocols/eth-proxy/upstream_session.ts";
import * as es from "../../../protocols/eth-stratum/upstream_session.ts";
import { seedIndex } from "../../../protocols/pow/seed_epoch.ts";
import { targetToDifficulty } from "../../../protocols/pow/target.ts";
import type { Runtime } from "../../runtime/types.ts";
import type { Logger } from "../../observe/log.ts";
import type { EthWorkSource } from "../eth_types.ts";
import type { SubmitBlockResult } from "../types.ts";
import { openLineLink, type LineLink } from "./line_link.ts";
import { betterEndpoint, chooseEndpoint, freshHealth, recordFailure, recordSuccess, type EndpointHealth, type PoolEndpoint } from "./pool_list.ts";
import { forwardResultOf } from "../../pools/relay_slot.ts";
import { createUpstreamFigures, type UpstreamSnapshot } from "../../pools/relay_figures.ts";

export interface EthPoolEndpoint extends PoolEndpoint {
  /** eth-proxy: top-level "worker" field of eth_submitLogin / eth_submitWork; EthereumStratum: user.worker. Empty = none. */
  worker: string;
  protocol: "eth-proxy" | "ethereum-stratum";
}

export interface EthPoolSourceOptions {
  runtime: Runtime;
  /** mining.subscribe params[0] towards EthereumStratum pools. */
  agent: string;
  endpoints: EthPoolEndpoint[];
  submitTimeoutMs: number;
  handshakeTimeoutMs: number;
  pollIntervalMs: number;
  stallMs: number;
  maxTimeoutsInRow: number;
  failbackMs: number;
  retry: { minMs: number; maxMs: number };
  maxLineBytes: number;
  log: Logger;
}

export interface EthPoolSource extends EthWorkSource {
  forward(req: ForwardRequest): Promise<ForwardResult>;
  /** Summed miner hashrate, reported upstream with eth_submitHashrate. */
  reportHashrate(h: bigint): void;
  upstreams(): UpstreamSnapshot[];
}

// deno-lint-ignore no-explicit-any
type Link = LineLink<any, any>;
/** What either upstream dialect reports that the source acts on. */
type Out = EthProxyUpstreamOut | es.EthStratumUpstreamOut;

/** 30000 blocks per ethash seed: block 30000·n lies in the epoch of seed n (etchash too, see seed_epoch.ts). */
function blockNumberOf(w: { seedHash: string; height?: number }): number | undefined {
  if (w.height !== undefined) return w.height;
  const n = seedIndex(w.seedHash);
  return n === undefined ? undefined : n * 30000;
}

export function createEthPoolSource(o: EthPoolSourceOptions): EthPoolSource {
  const clock = o.runtime.clock;
  const log = o.log;
  const health: EndpointHealth[] = o.endpoints.map(freshHealth);
  const figures = createUpstreamFigures(o.endpoints);
  const hashrateId = "0x" + Array.from({ length: 32 }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, "0")).join("");
  let onWork: (w: EthWork, newBlock: boolean) => void = () => {};
  let active: { link: Link; endpoint: number } | undefined;
  let probe: { link: Link; endpoint: number; work?: EthWork } | undefined;
  let current: EthWork | undefined;
  let stopped = false;
  let timer: unknown;
  let nextFailbackAt = 0;
  let linkSeq = 0;
  const links = new Map<number, Link>();
  /** Each link's pool-assigned nonce prefix (EthereumStratum); absent = none. */
  const extranonces = new Map<number, string>();
  let lastPrefix = "";
  const prefixListeners: (() => void)[] = [];
  const prefix = () => (active !== undefined ? extranonces.get(active.link.id) ?? "" : lastPrefix);
  function nonceChanged(): void {
    const p = prefix();
    if (p === lastPrefix) return;
    lastPrefix = p;
    for (const f of prefixListeners) f();
  }
  let firstReady: () => void = () => {};

  const where = (e: number) => o.endpoints[e]!.url;

  function toWork(w: Pick<EthProxyUpstreamWork, "headerHash" | "seedHash" | "target" | "height">, link: Link, jobId: string): EthWork | undefined {
    const blockNumber = blockNumberOf(w);
    if (blockNumber === undefined) {
      log.warn("upstream work names no block number and its seed is not a known ethash seed; ignored", { pool: `${link.host}:${link.port}`, seed: w.seedHash });
      return undefined;
    }
    return { headerHash: w.headerHash, seedHash: w.seedHash, target: w.target, blockNumber, upstream: { link: link.id, jobId } } as EthWork;
  }

  function emit(w: EthWork): void {
    const newBlock = current === undefined || current.blockNumber !== w.blockNumber || current.seedHash !== w.seedHash;
    current = w;
    onWork(w, newBlock);
  }

  function open(e: number, asProbe: boolean): Link {
    const ep = o.endpoints[e]!;
    const id = ++linkSeq;
    let up = false;
    // deno-lint-ignore no-explicit-any
    const link = openLineLink<any, Out>(
      { runtime: o.runtime, id, host: ep.host, port: ep.port, ...(ep.tls !== undefined ? { tls: ep.tls } : {}), maxLineBytes: o.maxLineBytes, connectTimeoutMs: o.handshakeTimeoutMs, stallMs: o.stallMs, maxTimeoutsInRow: o.maxTimeoutsInRow, tickMs: 250, log },
      ep.protocol === "ethereum-stratum"
        ? {
          open: (now: number) => es.openUpstream({
            user: ep.worker !== "" ? `${ep.user}.${ep.worker}` : ep.user,
            password: ep.password,
            agent: o.agent,
            handshakeTimeoutMs: o.handshakeTimeoutMs,
            submitTimeoutMs: o.submitTimeoutMs,
          }, now),
          receive: es.upstreamReceive,
          tick: es.upstreamTick,
          closed: es.upstreamClosed,
          lastMessageAt: (st: es.EthStratumUpstreamState) => st.lastMessageAt,
        }
        : {
          open: (now: number) => openUpstream({
            user: ep.user,
            password: ep.password,
            ...(ep.worker !== "" ? { worker: ep.worker } : {}),
            handshakeTimeoutMs: o.handshakeTimeoutMs,
            submitTimeoutMs: o.submitTimeoutMs,
            pollIntervalMs: o.pollIntervalMs,
          }, now),
          receive: upstreamReceive,
          tick: upstreamTick,
          closed: upstreamClosed,
          lastMessageAt: (st: EthProxyUpstreamState) => st.lastMessageAt,
        },
      (a: Out) => {
        if (a.kind === "ready") {
          if ("extranonce" in a) extranonces.set(id, a.extranonce);
          up = true;
          recordSuccess(health[e]!);
          figures.up(e);
          log.info("upstream ready", { pool: ep.url, probe: asProbe, ...("extranonce" in a ? { extranonce: a.extranonce } : {}) });
          if (active?.link === link) nonceChanged();
          firstReady();
          return;
        }
        if (a.kind === "extranonce") {
          extranonces.set(id, a.extranonce);
          if (active?.link === link) nonceChanged();
          return;
        }
        if (a.kind === "reconnect" || a.kind === "message") return log.info("upstream " + a.kind, { pool: ep.url, ...a });
        if (a.kind !== "work" && a.kind !== "job") return;
        const w = toWork(a, link, a.kind === "job" ? a.jobId : "");
        if (w === undefined) return;
        figures.difficulty(e, targetToDifficulty(a.target));
        if (probe?.link === link) {
          // Back on the preferred pool: its first work replaces the backup's.
          const old = active;
          active = { link, endpoint: e };
          probe = undefined;
          if (old !== undefined) clock.setTimeout(() => old.link.close("switched to a preferred pool"), o.submitTimeoutMs);
          log.info("back on the preferred pool", { pool: ep.url });
          current = undefined;
          nonceChanged();
        }
        if (active?.link === link) emit(w);
      },
      (why) => {
        links.delete(id);
        extranonces.delete(id);
        if (up) figures.down(e);
        recordFailure(health[e]!, clock.now(), why, o.retry);
        if (probe?.link === link) {
          probe = undefined;
          return log.info("preferred pool still unavailable", { pool: ep.url, why });
        }
        if (active?.link !== link) return;
        active = undefined;
        current = undefined; // the pool's expiry check withdraws the jobs within a second
        if (!stopped) log.warn("upstream connection lost", { pool: ep.url, why });
        connectNext(e);
      },
    );
    links.set(id, link);
    return link;
  }

  /** `failed`: the endpoint that just went down, tried again only when no other pool may be (with no backoff configured it would otherwise be chosen again at once). */
  function connectNext(failed = -1): void {
    if (stopped || active !== undefined) return;
    const now = clock.now();
    const e = chooseEndpoint(o.endpoints, health, now, failed) ?? chooseEndpoint(o.endpoints, health, now);
    if (e === undefined) return; // housekeeping retries when a backoff ends
    active = { link: open(e, false), endpoint: e };
  }

  function housekeeping(): void {
    if (stopped) return;
    const now = clock.now();
    if (active === undefined) return connectNext();
    if (probe !== undefined || active.link.phase !== "ready" || now < nextFailbackAt) return;
    nextFailbackAt = now + o.failbackMs;
    const better = betterEndpoint(o.endpoints, health, active.endpoint, now);
    if (better !== undefined) {
      log.info("trying the preferred pool again", { pool: where(better) });
      probe = { link: open(better, true), endpoint: better };
    }
  }

  async function submit(req: EthForward): Promise<ForwardResult> {
    // The link that issued the work if it is still up, else the active one (same pool reconnected: same work).
    let link = links.get(req.link);
    if (link === undefined || link.phase !== "ready") link = active?.link;
    if (link === undefined || link.phase !== "ready") return forwardResultOf(undefined);
    const e = active?.link === link ? active.endpoint : probe?.link === link ? probe.endpoint : -1;
    const ep = e >= 0 ? o.endpoints[e]! : undefined;
    const r = ep?.protocol === "ethereum-stratum"
      ? await link.submit((s, ctx, now) => es.upstreamSubmit(s, { worker: ep.worker !== "" ? `${ep.user}.${ep.worker}` : ep.user, jobId: req.jobId, nonce: req.nonce }, ctx, now))
      : await link.submit((s, ctx, now) => upstreamSubmit(s, { nonce: req.nonce, headerHash: req.headerHash, mixDigest: req.mixDigest }, ctx, now));
    figures.verdict(e, r.verdict.kind, r.latencyMs);
    if (r.verdict.kind === "rejected") log.info("upstream rejected a share", { pool: e >= 0 ? where(e) : "?", worker: req.worker, code: r.verdict.code, message: r.verdict.message });
    return forwardResultOf(r.verdict);
  }

  return {
    kind: "pool",
    onWork(cb) {
      onWork = cb;
    },
    current: () => current,
    async start() {
      connectNext();
      timer = clock.setInterval(housekeeping, 500);
      await new Promise<void>((resolve) => {
        const t = clock.setTimeout(resolve, o.handshakeTimeoutMs);
        firstReady = () => {
          clock.clearTimeout(t);
          firstReady = () => {};
          resolve();
        };
      });
    },
    async stop() {
      stopped = true;
      clock.clearInterval(timer);
      for (const l of [...links.values()]) l.close("relay stopping");
    },
    submitWork(): Promise<SubmitBlockResult> {
      // Never called in relay mode: shares reaching the pool's boundary are forwarded, with their verdict.
      return Promise.resolve({ accepted: false, reason: "relay mode forwards shares instead" });
    },
    forward(req) {
      if (req.kind !== "eth") return Promise.resolve({ verdict: "unconfirmed", reason: "upstream_unavailable", message: "not an Ethereum share" });
      return submit(req);
    },
    reportHashrate(h) {
      if (active !== undefined && o.endpoints[active.endpoint]!.protocol === "eth-proxy") {
        active.link.run((s, now) => upstreamHashrate(s, "0x" + h.toString(16), hashrateId, now));
      }
    },
    nonceSpace: {
      prefix,
      onChange(cb) {
        prefixListeners.push(cb);
      },
    },
    upstreams: () => figures.snapshot(health, active === undefined ? [] : [{ endpoint: active.endpoint, link: active.link }]),
  };
}
