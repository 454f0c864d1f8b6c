// One ethash/etchash pool: work from the upstream becomes jobs for eth-proxy and EthereumStratum sessions; shares are verified off-loop, blocks submitted durably.
import type { EthBlockCandidate, ForwardRequest, ShareRecord, VerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import type { JobEvent } from "../../protocols/core/dialect.ts";
import type { EthAlgo, EthJob, EthWork } from "../../protocols/eth/work.ts";
import type { EthEnv, EthPolicy } from "../../protocols/eth-proxy/session.ts";
import { epochParams } from "../../protocols/pow/ethash.ts";
import { targetToDifficulty } from "../../protocols/pow/target.ts";
import type { Runtime } from "../runtime/types.ts";
import type { EthWorkSource } from "../upstream/eth_types.ts";
import type { BlockJournal } from "../store/block_journal.ts";
import type { Logger } from "../observe/log.ts";
import type { PoolPort } from "../server/server.ts";
import type { BlockReport } from "./btc_pool.ts";
import type { EthashVerifier } from "../verify/ethash_verifier.ts";
import { createEthExtranonceAllocator, createExtranonceAllocator } from "./extranonce.ts";
import { chainEpochInfo, createEthJobBook, ethashChain, type EthJobBook } from "./eth_job_book.ts";
import { createShareStats, type ShareStats } from "../observe/stats.ts";

export interface EthPoolHooks {
  share(s: ShareRecord, remote?: string, pool?: string): void;
  found?(pool: string, block: { height: number; hash: string; worker: string; at: number }, remote: string): void;
  block(result: "accepted" | "rejected" | "error"): void;
  jobBroadcast(clean: boolean): void;
}

export interface EthPool extends PoolPort<EthEnv> {
  readonly algo: EthAlgo;
  readonly book: EthJobBook;
  readonly stats: ShareStats;
  readonly source: EthWorkSource;
  setBroadcast(fn: (ev: JobEvent<EthJob>) => void): void;
  /** Relay mode: how to send the EthereumStratum miners away when the pool's nonce prefix changed. */
  setEvict(fn: () => void): void;
  verify(req: VerifyRequest): Promise<VerifyResult>;
  start(): Promise<void>;
  stop(): Promise<void>;
  blocks(): BlockReport[];
  summary(): { height: number; networkDifficulty: number; jobId: string | undefined; blocksFound: number; epoch: number | undefined; lightCache: "idle" | "building" | "ready" };
}

export function createEthPool(opts: {
  name: string;
  algo: EthAlgo;
  activationBlock: number;
  runtime: Runtime;
  source: EthWorkSource;
  verifier: EthashVerifier;
  journal: BlockJournal;
  policy: EthPolicy;
  keepHeights: number;
  /** Build the current epoch's light cache at start rather than when the first Ethereum-style miner asks for work. */
  prebuild?: boolean;
  /** EthereumStratum extranonce bytes (≤ 3; the miner keeps the rest of the 8-byte nonce). */
  extranonceBytes: number;
  /** This thread's slice of the extranonce space when session threads share the port. */
  extranoncePart?: { index: number; count: number };
  /** Leading extranonce bytes of this instance (store.redis.instancePrefix, hex); not in relay mode, where the pool's prefix leads. */
  instancePrefix?: string;
  log: Logger;
  hooks: EthPoolHooks;
}): EthPool {
  const { runtime, source, journal, log, hooks, verifier } = opts;
  const clock = runtime.clock;
  const chain = ethashChain(opts.algo, opts.activationBlock);
  let en = createEthExtranonceAllocator(opts.extranonceBytes, opts.instancePrefix ?? "", Math.random, opts.extranoncePart);
  /** Relay mode over an EthereumStratum pool: every miner nonce starts with the pool's extranonce. */
  let sharedPrefix: string | undefined;
  let evictStratum: () => void = () => {};
  const space = opts.source.nonceSpace;
  if (space !== undefined) {
    const resize = () => {
      const prefix = space.prefix();
      const own = Math.max(0, Math.min(opts.extranonceBytes, 3 - prefix.length / 2));
      // EthereumStratum/1.0.0 extranonces are at most 3 bytes: what the pool keeps, ours shrinks by.
      if (own === 0) {
        sharedPrefix = prefix;
        log.warn("upstream pool's extranonce leaves no nonce bytes to give each EthereumStratum miner; they share its prefix", { extranonce: prefix });
      } else {
        sharedPrefix = undefined;
        en = createExtranonceAllocator(prefix.length / 2 + own, prefix, Math.random);
      }
    };
    resize();
    space.onChange(() => {
      resize();
      // Miners holding the old prefix would mine nonces the pool refuses: they reconnect and get the new one.
      evictStratum();
    });
  }
  const book = createEthJobBook({ algo: opts.algo, keepHeights: opts.keepHeights, epochInfo: chainEpochInfo(chain) });
  const stats = createShareStats({ startedAt: clock.now() });
  /**
   * The light cache (16 MB and up, seconds to build, plus the verifier threads) is built when the first
   * Ethereum-style miner asks for work, unless `prebuild`. Until it is ready sessions see no job (a miner
   * waits logged in, no error per share), then every one gets the current job at once.
   */
  let cacheState: "idle" | "building" | "ready" = "idle";
  /** A miner asked for work (or `prebuild`): build as soon as there is work to build for. */
  let demanded = false;
  const gated = (): boolean => {
    if (cacheState === "ready") return true;
    if (cacheState === "idle") {
      demanded = true;
      buildCurrentCache();
    }
    return false;
  };
  const jobs: EthEnv["jobs"] = {
    current: () => (gated() ? book.current() : undefined),
    byId: (id) => (gated() ? book.byId(id) : undefined),
    byHeader: (h) => (gated() ? book.byHeader(h) : undefined),
  };
  const env: EthEnv = { now: clock.now(), jobs, policy: opts.policy, extranonce: { release: (x) => en.release(x) } };
  let broadcast: (ev: JobEvent<EthJob>) => void = () => {};
  const found: BlockReport[] = [];
  const inflight = new Set<Promise<void>>();
  let preparedNext = -1;
  let expiryTimer: unknown;

  function buildCurrentCache(): void {
    const job = book.current();
    if (job === undefined || cacheState !== "idle") return; // no work yet: the first work starts it if a miner asked
    cacheState = "building";
    const p = epochParams(job.blockNumber, chain)!;
    verifier.prepare(p.seed, p.cacheSize, `${opts.algo} epoch ${p.epoch}`).then(
      () => {
        cacheState = "ready";
        const now = book.current();
        // Everyone who logged in while it was building gets work now.
        if (now === undefined) return;
        hooks.jobBroadcast(true);
        broadcast({ job: now, clean: true, memo: new Map() });
      },
      (e) => {
        cacheState = "idle"; // the next miner's request tries again
        log.error("could not build ethash cache", { error: String(e) });
      },
    );
  }

  function onWork(w: EthWork, newBlock: boolean): void {
    const job = book.add(w, newBlock);
    if (newBlock) log.debug("new ethash work", { number: w.blockNumber, header: w.headerHash });
    if (cacheState !== "ready") {
      if (demanded) buildCurrentCache();
      return; // sessions get it once the cache is ready
    }
    hooks.jobBroadcast(newBlock);
    broadcast({ job, clean: newBlock, memo: new Map() });
    // Build the next epoch's cache ahead of the boundary (a few blocks before it there is time).
    const next = epochParams(w.blockNumber + 100, chain)!;
    if (next.epoch !== job.epoch && next.epoch !== preparedNext) {
      preparedNext = next.epoch;
      verifier.prepare(next.seed, next.cacheSize, `${opts.algo} epoch ${next.epoch}`).catch((e) => log.warn("could not prepare next ethash cache", { error: String(e) }));
    }
  }

  async function submit(block: { height: number; hash: string; worker: string; nonce: string; headerHash: string; mixDigest: string; at: number }, report: BlockReport): Promise<void> {
    // eth_submitWork first: on Ethereum-style chains a found block is worth most in its first milliseconds.
    const sent = source.submitWork(block.nonce, block.headerHash, block.mixDigest);
    try {
      journal.record({ height: block.height, hash: block.hash, blockHex: JSON.stringify([block.nonce, block.headerHash, block.mixDigest]), worker: block.worker, foundAt: block.at });
    } catch (e) {
      log.error("could not journal block candidate", { hash: block.hash, error: String(e) });
    }
    try {
      const r = await sent;
      report.result = r;
      journal.recordResult(block.hash, { ...r, at: clock.now() });
      hooks.block(r.accepted ? "accepted" : "rejected");
      if (r.accepted) log.info("block accepted", { algo: opts.algo, height: block.height, worker: block.worker });
      else log.warn("block rejected by upstream", { algo: opts.algo, height: block.height, reason: r.reason });
    } catch (e) {
      hooks.block("error");
      log.error("block submission failed", { height: block.height, error: String(e) });
    }
  }

  return {
    name: opts.name,
    algo: opts.algo,
    env,
    book,
    stats,
    source,
    allocateExtranonce1: () => sharedPrefix ?? en.allocate(),
    setEvict(fn) {
      evictStratum = fn;
    },
    setBroadcast(fn) {
      broadcast = fn;
    },
    onShare(share, remote) {
      stats.record(share, remote);
      hooks.share(share, remote, opts.name);
    },
    onBlock(block, remote) {
      if (block.algo === "sha256d" || block.algo === "scrypt") return log.error("ethash pool got a Bitcoin-family block");
      hooks.found?.(opts.name, block, remote);
      const eb = block as EthBlockCandidate;
      log.info("block candidate found", { algo: block.algo, height: block.height, worker: block.worker });
      const report: BlockReport = { height: block.height, hash: block.hash, worker: block.worker, foundAt: new Date(block.at).toISOString() };
      found.push(report);
      if (found.length > 1000) found.shift();
      const p = Promise.resolve().then(() => submit(eb, report)).finally(() => inflight.delete(p));
      inflight.add(p);
    },
    ...(source.forward !== undefined ? { forward: (req: ForwardRequest) => source.forward!(req) } : {}),
    verify(req: VerifyRequest): Promise<VerifyResult> {
      if (req.algo === "scrypt") return Promise.resolve({ ok: false, error: "ethash pool cannot verify scrypt" });
      return verifier.verify(req);
    },
    async start() {
      source.onWork(onWork);
      await source.start();
      // An upstream whose work went stale (node outage past its max age) says so through current().
      expiryTimer = clock.setInterval(() => {
        if (source.current() === undefined && book.current() !== undefined) {
          book.clear();
          log.warn("upstream work expired: no jobs are issued until the node is back", { pool: opts.name });
        }
      }, 1000);
      if (opts.prebuild) {
        demanded = true;
        buildCurrentCache();
      }
    },
    async stop() {
      clock.clearInterval(expiryTimer);
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      await source.stop();
    },
    blocks: () => found.slice(),
    summary() {
      const job = book.current();
      return {
        height: job?.blockNumber ?? 0,
        networkDifficulty: job ? targetToDifficulty(job.target) : 0,
        jobId: job?.id,
        blocksFound: found.length,
        epoch: job?.epoch,
        lightCache: cacheState,
      };
    },
  };
}
