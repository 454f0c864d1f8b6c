// One sha256d pool: turns upstream templates into jobs, broadcasts them, records shares and submits found blocks durably.
import type { BlockTemplate } from "../../protocols/bitcoin/template.ts";
import type { ShareRecord, Sha256BlockCandidate, VerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import type { ScryptVerifier } from "../verify/scrypt_verifier.ts";
import type { JobEvent } from "../../protocols/core/dialect.ts";
import type { StratumJob } from "../../protocols/stratum-v1/job_types.ts";
import type { StratumV1Env, StratumV1Policy } from "../../protocols/stratum-v1/session.ts";
import { assembleBlock } from "../../protocols/stratum-v1/share.ts";
import { bitsToTarget, targetToDifficulty } from "../../protocols/pow/target.ts";
import type { Runtime } from "../runtime/types.ts";
import type { BitcoinWorkSource, TemplateReason } from "../upstream/types.ts";
import type { BlockJournal } from "../store/block_journal.ts";
import type { Logger } from "../observe/log.ts";
import type { PoolPort } from "../server/server.ts";
import { createExtranonceAllocator } from "./extranonce.ts";
import { createJobBook, type JobBook } from "./job_book.ts";
import { createShareStats, type ShareStats } from "../observe/stats.ts";

export interface BtcPoolHooks {
  /** Every share a pool records, with the miner's address and the pool's name (store.redis streams them). */
  share(s: ShareRecord, remote?: string, pool?: string): void;
  /** A block candidate found by a pool that submits it itself (not relay mode). */
  found?(pool: string, block: { height: number; hash: string; worker: string; at: number }, remote: string): void;
  /** "inconclusive": the node stored a valid block that did not become the tip (a sibling). */
  block(result: "accepted" | "inconclusive" | "rejected" | "error"): void;
  jobBroadcast(clean: boolean): void;
}

export interface BlockReport {
  height: number;
  hash: string;
  worker: string;
  foundAt: string;
  result?: { accepted: boolean; reason?: string };
}

export interface BtcPool extends PoolPort<StratumV1Env> {
  readonly book: JobBook;
  readonly stats: ShareStats;
  /** Where jobs go: set by the relay once the server is listening. */
  setBroadcast(fn: (ev: JobEvent<StratumJob>) => void): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  blocks(): BlockReport[];
  /** Resolves when every block submission started so far has an answer (shutdown waits on it). */
  settle(): Promise<void>;
  summary(): { height: number; networkDifficulty: number; jobId: string | undefined; blocksFound: number };
}

export function createBtcPool(opts: {
  name: string;
  runtime: Runtime;
  source: BitcoinWorkSource;
  journal: BlockJournal;
  policy: StratumV1Policy;
  coinbase: { payoutScript: Uint8Array; poolTag: string };
  extranonce1Size: number;
  extranonce1Prefix?: string;
  /** This thread's slice of the extranonce1 space when session threads share the port. */
  extranonce1Part?: { index: number; count: number };
  keepJobs: number;
  refreshSeconds: number;
  log: Logger;
  hooks: BtcPoolHooks;
  /** Scrypt chains: where share headers are hashed (off the event loop). */
  scrypt?: ScryptVerifier;
  /** Solo mode: the payout of a worker named by an address. */
  payoutFor?: StratumV1Env["payoutFor"];
}): BtcPool {
  const { runtime, source, journal, log, hooks } = opts;
  const clock = runtime.clock;
  const en1 = createExtranonceAllocator(opts.extranonce1Size, opts.extranonce1Prefix ?? "", Math.random, opts.extranonce1Part);
  const book = createJobBook({
    keep: opts.keepJobs,
    sha: runtime.sha256,
    coinbase: {
      payoutScript: opts.coinbase.payoutScript,
      poolTag: opts.coinbase.poolTag,
      extranonce1Size: opts.extranonce1Size,
      extranonce2Size: opts.policy.extranonce2Size,
    },
  });
  const stats = createShareStats({ startedAt: clock.now() });
  const env: StratumV1Env = { now: clock.now(), sha: runtime.sha256, jobs: book, extranonce: en1, policy: opts.policy, ...(opts.payoutFor ? { payoutFor: opts.payoutFor } : {}) };
  let broadcast: (ev: JobEvent<StratumJob>) => void = () => {};
  let template: BlockTemplate | undefined;
  let refreshTimer: unknown;
  let resubmitted = false;
  let expiryTimer: unknown;
  const found: BlockReport[] = [];
  const inflight = new Set<Promise<void>>();

  function issue(t: BlockTemplate, clean: boolean): void {
    template = t;
    const job = book.add(t, clean);
    hooks.jobBroadcast(clean);
    broadcast({ job, clean, memo: new Map() });
  }

  function onTemplate(t: BlockTemplate, reason: TemplateReason): void {
    // Journalled candidates are judged against the first template we get (not at start-up, when
    // the node may not serve work yet).
    if (!resubmitted) {
      resubmitted = true;
      resubmitJournalled(t.height);
    }
    const clean = reason !== "refresh";
    if (clean) log.info("new block template", { height: t.height, txs: t.transactions.length, bits: t.bits });
    issue(t, clean);
  }

  async function submit(block: Sha256BlockCandidate, report: BlockReport): Promise<void> {
    let hex: string;
    try {
      hex = assembleBlock(block.job, block.extranonce1, block.fields, runtime.sha256);
    } catch (e) {
      hooks.block("error");
      log.error("block assembly failed", { hash: block.hash, error: String(e) });
      return;
    }
    // Written (fsync) before submission: a crash between here and the upstream's answer loses nothing.
    try {
      journal.record({ height: block.height, hash: block.hash, blockHex: hex, worker: block.worker, foundAt: block.at });
      log.info("block candidate journalled, submitting", { height: block.height, hash: block.hash, worker: block.worker });
    } catch (e) {
      log.error("could not journal block candidate; submitting anyway", { hash: block.hash, error: String(e) });
    }
    try {
      const r = await source.submitBlock(hex);
      report.result = r;
      if (r.accepted && r.reason === undefined && template !== undefined && template.height === block.height) {
        // Our block filled this height and no new template has arrived yet (e.g. the node that took it
        // cannot serve work): every further candidate for it would be a sibling. Issue nothing until
        // the next template.
        book.clear();
        template = undefined;
        log.info("height filled by our block; waiting for the next template", { height: block.height });
      }
      // Only a judged block gets a result line; an unanswered one stays in the journal and is
      // resubmitted at the next start while its height is current.
      if (!r.unanswered) journal.recordResult(block.hash, { accepted: r.accepted, ...(r.reason ? { reason: r.reason } : {}), at: clock.now() });
      hooks.block(r.accepted ? (r.reason === "inconclusive" ? "inconclusive" : "accepted") : "rejected");
      if (r.accepted) log.info(r.reason === "inconclusive" ? "block stored, not the tip (inconclusive)" : "block accepted", { height: block.height, hash: block.hash, worker: block.worker });
      else log.warn("block rejected by upstream", { height: block.height, hash: block.hash, reason: r.reason });
    } catch (e) {
      hooks.block("error");
      log.error("block submission failed", { height: block.height, hash: block.hash, error: String(e) });
    }
  }

  /**
   * Candidates journalled before a crash but never answered: submit them again while their height is
   * still the one being mined (a block for an old height is worthless and the node would say so).
   */
  function resubmitJournalled(height: number | undefined): void {
    let pending: ReturnType<BlockJournal["unsubmitted"]>;
    try {
      pending = journal.unsubmitted();
    } catch (e) {
      return log.error("could not read the block journal", { file: journal.path, error: String(e) });
    }
    for (const c of pending) {
      if (height === undefined || c.height !== height) {
        log.warn("journalled block candidate is for an old height; not resubmitted", { height: c.height, current: height, hash: c.hash });
        continue;
      }
      log.info("resubmitting journalled block candidate", { height: c.height, hash: c.hash });
      const report: BlockReport = { height: c.height, hash: c.hash, worker: c.worker, foundAt: new Date(c.foundAt).toISOString() };
      found.push(report);
      const p = source.submitBlock(c.blockHex).then((r) => {
        report.result = r;
        if (!r.unanswered) journal.recordResult(c.hash, { accepted: r.accepted, ...(r.reason ? { reason: r.reason } : {}), at: clock.now() });
        hooks.block(r.accepted ? "accepted" : "rejected");
        log[r.accepted ? "info" : "warn"](r.accepted ? "resubmitted block accepted" : "resubmitted block rejected", { height: c.height, hash: c.hash, reason: r.reason });
      }, (e) => {
        hooks.block("error");
        log.error("resubmission failed", { hash: c.hash, error: String(e) });
      }).finally(() => inflight.delete(p));
      inflight.add(p);
    }
  }

  return {
    name: opts.name,
    env,
    book,
    stats,
    allocateExtranonce1: () => en1.allocate(),
    setBroadcast(fn) {
      broadcast = fn;
    },
    verify(req: VerifyRequest): Promise<VerifyResult> {
      if (req.algo !== "scrypt" || opts.scrypt === undefined) return Promise.resolve({ ok: false, error: `no ${req.algo} verifier in this pool` });
      return opts.scrypt.verify(req);
    },
    onShare(share, remote) {
      stats.record(share, remote);
      hooks.share(share, remote, opts.name);
    },
    onBlock(block, remote) {
      if (block.algo !== "sha256d" && block.algo !== "scrypt") return log.error("Bitcoin-family pool got an ethash block", { algo: block.algo });
      hooks.found?.(opts.name, block, remote);
      log.info("block candidate found", { height: block.height, hash: block.hash, worker: block.worker });
      const report: BlockReport = { height: block.height, hash: block.hash, worker: block.worker, foundAt: new Date(block.at).toISOString() };
      found.push(report);
      if (found.length > 1000) found.shift();
      // A microtask, not a nested call: the upstream may answer with a new template at once, and
      // its broadcast must not run inside the finding session's own write-out.
      const p = Promise.resolve().then(() => submit(block, report)).finally(() => inflight.delete(p));
      inflight.add(p);
    },
    async start() {
      source.onTemplate(onTemplate);
      await source.start();
      const t = source.current();
      if (t !== undefined && template === undefined) issue(t, true);
      if (t !== undefined && !resubmitted) {
        resubmitted = true;
        resubmitJournalled(t.height);
      }
      expiryTimer = clock.setInterval(() => {
        if (source.current() === undefined && book.current() !== undefined) {
          book.clear();
          template = undefined;
          log.warn("upstream template expired: no jobs are issued until the node is back", { pool: opts.name });
        }
      }, 1000);
      // Re-issue the template with a fresh ntime so miners never exhaust nonce×extranonce2 space
      // and the ntime window (job ntime .. +7000 s) never expires under a slow chain.
      refreshTimer = clock.setInterval(() => {
        if (template !== undefined) issue({ ...template, curtime: Math.max(template.curtime, Math.floor(clock.now() / 1000)) }, false);
      }, opts.refreshSeconds * 1000);
    },
    async stop() {
      clock.clearInterval(refreshTimer);
      clock.clearInterval(expiryTimer);
      await this.settle();
      await source.stop();
      opts.scrypt?.stop();
    },
    blocks() {
      return found.slice();
    },
    async settle() {
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    },
    summary() {
      const job = book.current();
      return {
        height: template?.height ?? 0,
        networkDifficulty: template ? targetToDifficulty(bitsToTarget(parseInt(template.bits, 16)), opts.policy.diff1) : 0,
        jobId: job?.id,
        blocksFound: found.length,
      };
    },
  };
}
