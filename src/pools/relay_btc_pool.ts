// Relay mode's Bitcoin-family pool: miners aggregated onto slots (one upstream Stratum v1 connection each), failover across the configured pools and back, verdicts relayed; it builds no templates and submits no blocks itself.
import type { ForwardRequest, ShareRecord, VerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import type { JobEvent } from "../../protocols/core/dialect.ts";
import type { StratumJob } from "../../protocols/stratum-v1/job_types.ts";
import type { StratumV1Env, StratumV1Policy } from "../../protocols/stratum-v1/session.ts";
import { planCarve, prefixBytesFor } from "../../protocols/stratum-v1/relay_job.ts";
import type { UpstreamVerdict } from "../../protocols/stratum-v1/upstream_session.ts";
import { targetToDifficulty } from "../../protocols/pow/target.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { PoolPort } from "../server/server.ts";
import type { ScryptVerifier } from "../verify/scrypt_verifier.ts";
import type { BlockReport, BtcPoolHooks } from "./btc_pool.ts";
import { createShareStats, type ShareStats } from "../observe/stats.ts";
import { openStratumLink, type LinkReady, type StratumLink } from "../upstream/pool/stratum_link.ts";
import {
  betterEndpoint,
  chooseEndpoint,
  freshHealth,
  recordFailure,
  recordSuccess,
  type EndpointHealth,
  type PoolEndpoint,
} from "../upstream/pool/pool_list.ts";
import { createSlot, type Slot } from "./relay_slot.ts";
import { createUpstreamFigures, type UpstreamFigures, type UpstreamSnapshot } from "./relay_figures.ts";

export interface RelayPoolOptions {
  name: string;
  runtime: Runtime;
  policy: StratumV1Policy;
  endpoints: PoolEndpoint[];
  aggregation: number;
  maxUpstreamConnections: number;
  keepJobs: number;
  agent: string;
  submitTimeoutMs: number;
  handshakeTimeoutMs: number;
  stallMs: number;
  maxTimeoutsInRow: number;
  failbackMs: number;
  retry: { minMs: number; maxMs: number };
  maxLineBytes: number;
  suggestDifficulty: number;
  log: Logger;
  hooks: BtcPoolHooks;
  scrypt?: ScryptVerifier;
}

/** How the relay reaches its miners' connections (the server's broadcast, evict and notice for one slot). */
export interface RelayFanout {
  broadcast(ev: JobEvent<StratumJob>, port: PoolPort<StratumV1Env>): void;
  evict(port: PoolPort<StratumV1Env>): number;
  notice(port: PoolPort<StratumV1Env>, text: string): void;
}

export interface RelayBtcPool extends PoolPort<StratumV1Env> {
  readonly stats: ShareStats;
  readonly book: { current(): StratumJob | undefined; onClear(fn: () => void): void };
  readonly slots: readonly Slot[];
  setFanout(f: RelayFanout): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  blocks(): BlockReport[];
  settle(): Promise<void>;
  summary(): { height: number; networkDifficulty: number; jobId: string | undefined; blocksFound: number };
  upstreams(): UpstreamSnapshot[];
}

export function createRelayBtcPool(o: RelayPoolOptions): RelayBtcPool {
  const clock = o.runtime.clock;
  const log = o.log;
  const prefixBytes = prefixBytesFor(o.aggregation);
  const health: EndpointHealth[] = o.endpoints.map(freshHealth);
  const figures: UpstreamFigures = createUpstreamFigures(o.endpoints);
  const stats = createShareStats({ startedAt: clock.now() });
  const slots: Slot[] = [];
  const links = new Map<number, StratumLink>();
  let linkSeq = 0;
  let fan: RelayFanout = { broadcast() {}, evict: () => 0, notice() {} };
  let stopped = false;
  let timer: unknown;
  /** The miners' extranonce2 size and mask the endpoint allowed last time: new slots start with them (fewer evictions). */
  const learned = new Map<number, { minerEn2Size: number; versionMask: number }>();

  const where = (e: number) => o.endpoints[e]!.url;

  function newSlot(connect: boolean): Slot {
    const slot = createSlot({
      index: slots.length,
      sha: o.runtime.sha256,
      policy: o.policy,
      prefixBytes,
      keepJobs: o.keepJobs,
      now: clock.now(),
      onShare: (share: ShareRecord, remote: string) => {
        stats.record(share, remote);
        o.hooks.share(share, remote, o.name);
      },
      submit: (s, req) => submit(s, req),
      ...(o.scrypt !== undefined ? { verify: (req: VerifyRequest) => pool.verify!(req) } : {}),
    });
    slots.push(slot);
    if (connect) connectNext(slot);
    return slot;
  }

  async function submit(slot: Slot, req: ForwardRequest): Promise<{ verdict: UpstreamVerdict; latencyMs: number } | undefined> {
    const link = links.get(req.link);
    if (req.kind !== "stratum-v1" || link === undefined || link.phase !== "ready") return undefined;
    // The endpoint is taken now: by the verdict the slot may already have failed over.
    const e = slot.probe?.link === link ? slot.probe.endpoint : slot.endpoint;
    const ep = o.endpoints[e];
    const r = await link.submit({
      worker: ep?.user ?? "",
      jobId: req.jobId,
      extranonce2: req.extranonce2,
      ntime: req.ntime,
      nonce: req.nonce,
      ...(req.versionBits !== undefined ? { versionBits: req.versionBits } : {}),
    });
    figures.verdict(e, r.verdict.kind, r.latencyMs);
    if (r.verdict.kind === "rejected") log.info("upstream rejected a share", { pool: where(e), worker: req.worker, code: r.verdict.code, message: r.verdict.message });
    return r;
  }

  /** No work for this slot's miners: forget its jobs (their shares are stale from now on) and tell them once. */
  function withdraw(slot: Slot, why: string): void {
    slot.book.clear();
    slot.last = undefined;
    if (!slot.toldNoWork) {
      slot.toldNoWork = true;
      fan.notice(slot, `stratum-edge: upstream pool unavailable (${why}); waiting for a backup`);
    }
  }

  /** `failed`: the endpoint that just went down, tried again only when no other pool may be (with no backoff configured it would otherwise be chosen again at once). */
  function connectNext(slot: Slot, failed = -1): void {
    if (stopped || slot.link !== undefined) return;
    const now = clock.now();
    const e = chooseEndpoint(o.endpoints, health, now, failed) ?? chooseEndpoint(o.endpoints, health, now);
    if (e === undefined) {
      withdraw(slot, "every configured pool failed");
      return; // the housekeeping timer retries when a backoff ends
    }
    slot.endpoint = e;
    slot.link = open(slot, e, false);
  }

  function open(slot: Slot, e: number, probe: boolean): StratumLink {
    const ep = o.endpoints[e]!;
    const id = ++linkSeq;
    let requested: { at: number } | undefined;
    let wasUp = false;
    const link = openStratumLink({
      runtime: o.runtime,
      id,
      host: ep.host,
      port: ep.port,
      ...(ep.tls !== undefined ? { tls: ep.tls } : {}),
      session: {
        user: ep.user,
        password: ep.password,
        agent: o.agent,
        versionMask: o.policy.versionMask,
        suggestDifficulty: o.suggestDifficulty,
        handshakeTimeoutMs: o.handshakeTimeoutMs,
        submitTimeoutMs: o.submitTimeoutMs,
        ...(slot.resume.has(e) ? { resumeId: slot.resume.get(e)! } : {}),
      },
      maxLineBytes: o.maxLineBytes,
      stallMs: o.stallMs,
      maxTimeoutsInRow: o.maxTimeoutsInRow,
      tickMs: 250,
      log,
      events: {
        ready: (info) => {
          if (info.subscriptionId !== "") slot.resume.set(e, info.subscriptionId);
          wasUp = onReady(slot, link, e, info);
        },
        job(notify, difficulty) {
          figures.difficulty(e, difficulty);
          if (slot.link !== link || slot.carve === undefined) {
            // A probe's (or a not yet carved link's) newest job, taken when it becomes the slot's link.
            probeLast.set(link, { notify, difficulty });
            return;
          }
          slot.last = { notify, difficulty };
          issue(slot, notify.clean);
        },
        extranonce(en1, size) {
          if (slot.link === link) recarve(slot, en1, size, e);
        },
        difficulty: (d) => figures.difficulty(e, d),
        reconnect(host, port, wait) {
          // Followed only to the same host (a pool moving us to another port or asking us to come
          // back later); another host would let whoever controls the pool's stream redirect our hashrate.
          if (host !== undefined && host !== ep.host) log.warn("upstream asked to reconnect elsewhere; reconnecting to the configured address instead", { pool: ep.url, host, port });
          else if (port !== undefined && port !== ep.port) log.warn("upstream asked to reconnect on another port; staying on the configured one", { pool: ep.url, port });
          requested = { at: clock.now() + wait * 1000 };
          link.close("the pool asked for a reconnect");
        },
        message(text) {
          log.info("upstream message", { pool: ep.url, text });
          if (slot.link === link) fan.notice(slot, text);
        },
        down(why) {
          links.delete(id);
          probeLast.delete(link);
          if (wasUp) figures.down(e);
          if (requested !== undefined) health[e]!.retryAt = requested.at;
          else recordFailure(health[e]!, clock.now(), why, o.retry);
          if (slot.probe?.link === link) {
            slot.probe = undefined;
            return log.info("preferred pool still unavailable", { pool: ep.url, why });
          }
          if (slot.link !== link) return; // a retired link closing after a switch
          slot.link = undefined;
          slot.carve = undefined;
          if (!stopped) log.warn("upstream connection lost", { pool: ep.url, slot: slot.index, why });
          withdraw(slot, why);
          connectNext(slot, requested !== undefined ? -1 : e); // a pool that asked for the reconnect is the one to go back to
        },
      },
    });
    links.set(id, link);
    if (probe) log.info("trying the preferred pool again", { pool: ep.url, slot: slot.index });
    return link;
  }

  const probeLast = new Map<StratumLink, { notify: Parameters<Slot["adoptJob"]>[0]; difficulty: number }>();

  /** Returns whether the link is now in use (counted as an open upstream connection). */
  function onReady(slot: Slot, link: StratumLink, e: number, info: LinkReady): boolean {
    const plan = planCarve(info.extranonce1, info.extranonce2Size, prefixBytes, o.policy.extranonce2Size);
    if (!plan.ok) {
      log.error("upstream extranonce space too small for relay mode; lower pool.aggregation or use another pool", { pool: where(e), why: plan.why });
      link.close(plan.why);
      return false;
    }
    recordSuccess(health[e]!);
    if (slot.probe?.link === link) {
      // Back to the preferred pool: the old link stays for its waiting shares, then closes; its jobs
      // stay valid until the new link's first (clean) job replaces them.
      const old = slot.link;
      slot.probe = undefined;
      slot.link = link;
      slot.endpoint = e;
      slot.last = undefined;
      if (old !== undefined) clock.setTimeout(() => old.close("switched to a preferred pool"), o.submitTimeoutMs);
      log.info("back on the preferred pool", { pool: where(e), slot: slot.index });
    }
    if (slot.link !== link) {
      link.close("not needed");
      return false;
    }
    figures.up(e);
    slot.freshLink = true;
    const versionMask = (o.policy.versionMask & info.versionMask) >>> 0;
    const changed = slot.policy.extranonce2Size !== plan.carve.minerEn2Size || slot.policy.versionMask !== versionMask;
    slot.carve = plan.carve;
    learned.set(e, { minerEn2Size: plan.carve.minerEn2Size, versionMask });
    if (changed) applyShape(slot, plan.carve.minerEn2Size, versionMask);
    log.info("upstream ready", { pool: where(e), slot: slot.index, extranonce1: info.extranonce1, extranonce2Size: info.extranonce2Size, minerExtranonce2Size: plan.carve.minerEn2Size, versionMask: versionMask.toString(16) });
    const pending = probeLast.get(link);
    probeLast.delete(link);
    if (pending !== undefined) {
      slot.last = pending;
      issue(slot, true);
    }
    firstReady();
    return true;
  }

  /** Miners already subscribed hold the old extranonce2 size / mask: they must reconnect to get the new one. */
  function applyShape(slot: Slot, minerEn2Size: number, versionMask: number): void {
    slot.policy.extranonce2Size = minerEn2Size;
    slot.policy.versionMask = versionMask;
    slot.book.clear();
    const n = fan.evict(slot);
    if (n > 0) log.warn("upstream extranonce/version space changed; miners of this slot reconnect", { slot: slot.index, miners: n, minerExtranonce2Size: minerEn2Size });
  }

  function recarve(slot: Slot, en1: string, size: number, e: number): void {
    // Keep the miners' extranonce2 size when the new space allows it (padding absorbs the rest).
    const plan = planCarve(en1, size, prefixBytes, slot.policy.extranonce2Size);
    if (!plan.ok) {
      log.error("upstream set_extranonce leaves no room for our miners", { pool: where(e), why: plan.why });
      return slot.link?.close(plan.why);
    }
    slot.carve = plan.carve;
    if (plan.carve.minerEn2Size !== slot.policy.extranonce2Size) applyShape(slot, plan.carve.minerEn2Size, slot.policy.versionMask);
    log.info("upstream changed extranonce", { pool: where(e), slot: slot.index, extranonce1: en1, extranonce2Size: size });
    // set_extranonce applies from the next job (slush docs); a current job keeps its old carve.
  }

  function issue(slot: Slot, clean: boolean): void {
    const last = slot.last;
    if (last === undefined) return;
    // The first job of a new upstream connection replaces all work from the previous one.
    const wasWithdrawn = slot.book.current() === undefined || slot.freshLink;
    slot.freshLink = false;
    const r = slot.adoptJob(last.notify, last.difficulty, clean || wasWithdrawn);
    if ("why" in r) return log.warn("unusable job from upstream", { pool: where(slot.endpoint), why: r.why });
    slot.toldNoWork = false;
    o.hooks.jobBroadcast(clean || wasWithdrawn);
    fan.broadcast({ job: r.job, clean: clean || wasWithdrawn || last.notify.clean, memo: new Map() }, slot);
  }

  function housekeeping(): void {
    if (stopped) return;
    const now = clock.now();
    for (const slot of slots) {
      if (slot.link === undefined) {
        connectNext(slot);
        continue;
      }
      if (slot.probe !== undefined || slot.link.phase !== "ready" || now < slot.nextFailbackAt) continue;
      slot.nextFailbackAt = now + o.failbackMs;
      const better = betterEndpoint(o.endpoints, health, slot.endpoint, now);
      if (better !== undefined) slot.probe = { link: open(slot, better, true), endpoint: better };
    }
  }

  const first = newSlot(false);
  let firstReady: () => void = () => {};
  const pool: RelayBtcPool = {
    name: o.name,
    env: first.env,
    stats,
    slots,
    book: {
      current: () => {
        for (const s of slots) {
          const j = s.book.current();
          if (j !== undefined) return j;
        }
        return undefined;
      },
      onClear() {},
    },
    allocateExtranonce1() {
      throw new Error("relay pool: connections mine on a slot (portFor)");
    },
    portFor() {
      let best: Slot | undefined;
      for (const s of slots) {
        if (s.prefixes.inUse >= o.aggregation) continue;
        if (s.link?.phase === "ready") return s;
        best ??= s;
      }
      if (best !== undefined) return best;
      if (slots.length >= o.maxUpstreamConnections) return undefined;
      const s = newSlot(true);
      const known = learned.get(s.endpoint);
      if (known !== undefined) {
        s.policy.extranonce2Size = known.minerEn2Size;
        s.policy.versionMask = known.versionMask;
      }
      return s;
    },
    onShare() {},
    onBlock() {},
    verify(req: VerifyRequest): Promise<VerifyResult> {
      if (req.algo !== "scrypt" || o.scrypt === undefined) return Promise.resolve({ ok: false, error: `no ${req.algo} verifier in this pool` });
      return o.scrypt.verify(req);
    },
    setFanout(f) {
      fan = f;
    },
    async start() {
      connectNext(first);
      timer = clock.setInterval(housekeeping, 500);
      // Miners that subscribe before the first upstream answers would get an extranonce2 size the
      // upstream may not allow (and be sent away again): start serving once it is known, or after
      // the handshake timeout with the upstream still missing (miners then wait for work).
      await new Promise<void>((resolve) => {
        const deadline = clock.setTimeout(resolve, o.handshakeTimeoutMs);
        firstReady = () => {
          clock.clearTimeout(deadline);
          resolve();
        };
      });
    },
    async stop() {
      stopped = true;
      clock.clearInterval(timer);
      for (const l of [...links.values()]) l.close("relay stopping");
      o.scrypt?.stop();
    },
    blocks: () => [],
    async settle() {},
    summary() {
      const job = pool.book.current();
      return {
        height: job?.height ?? 0,
        networkDifficulty: job ? targetToDifficulty(job.networkTarget, o.policy.diff1) : 0,
        jobId: job?.id,
        blocksFound: 0,
      };
    },
    upstreams: () => figures.snapshot(health, slots),
  };
  return pool;
}
