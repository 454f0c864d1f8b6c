// Keeps the recent Stratum v1 jobs of one pool (built once from each template) and their per-session aliases.
import type { BlockTemplate } from "../../protocols/bitcoin/template.ts";
import type { Sha256Into } from "../../protocols/pow/types.ts";
import type { CoinbaseOptions, StratumJob } from "../../protocols/stratum-v1/job_types.ts";
import type { JobLookup } from "../../protocols/stratum-v1/session.ts";
import { buildJob } from "../../protocols/stratum-v1/job.ts";

export interface JobBook extends JobLookup {
  /** Build and keep a job for this template; `clean` (new block) forgets every older job. */
  add(template: BlockTemplate, clean: boolean): StratumJob;
  /**
   * Keep a job another book built (a session thread's copy of the main thread's book), under its
   * own id; `clean` forgets every older job as add() does.
   */
  adopt(job: StratumJob, clean: boolean): void;
  /** A fresh id from this book's sequence (relay mode builds its jobs itself, then adopts them). */
  mintId(): string;
  /** Upstream outage past the allowed age: forget every job, so no stale work is handed out. */
  clear(): void;
  /** Called after every clear(): session threads' copies must forget their jobs too. */
  onClear(fn: () => void): void;
  readonly size: number;
}

/**
 * `idPrefix` names the ids this book mints (add() and alias()): the main thread's book uses none,
 * each session thread's copy its own non-hex prefix, so an alias minted in one thread can never
 * equal a job id the main thread issues later.
 */
export function createJobBook(opts: { keep: number; coinbase: CoinbaseOptions; sha: Sha256Into; idPrefix?: string }): JobBook {
  const jobs = new Map<string, StratumJob>();
  /** Base job ids oldest first, each with the aliases minted from it. */
  const order: { id: string; aliases: string[] }[] = [];
  let next = Math.floor(Math.random() * 0x1000);
  let current: StratumJob | undefined;
  const prefix = opts.idPrefix ?? "";
  const newId = () => prefix + (next = (next + 1) % 0x100000000).toString(16);
  const clearers: (() => void)[] = [];

  /** Solo-mode variants per base job id, by payout key. */
  const variants = new Map<string, Map<string, StratumJob>>();
  const forget = (entry: { id: string; aliases: string[] }) => {
    variants.delete(entry.id);
    jobs.delete(entry.id);
    for (const a of entry.aliases) jobs.delete(a);
  };

  const keep = (job: StratumJob, clean: boolean) => {
    if (clean) {
      for (const e of order) forget(e);
      order.length = 0;
    }
    jobs.set(job.id, job);
    order.push({ id: job.id, aliases: [] });
    while (order.length > opts.keep) forget(order.shift()!);
    current = job;
  };

  return {
    add(template, clean) {
      const job = buildJob(newId(), template, opts.coinbase, opts.sha);
      keep(job, clean);
      return job;
    },
    mintId: newId,
    adopt(job, clean) {
      keep(job, clean);
    },
    onClear(fn) {
      clearers.push(fn);
    },
    forPayout(job, payout) {
      const entry = order.find((e) => e.id === job.id);
      if (entry === undefined) return job; // retired meanwhile: the caller's shares will be stale anyway
      let byKey = variants.get(job.id);
      if (byKey === undefined) variants.set(job.id, (byKey = new Map()));
      let v = byKey.get(payout.key);
      if (v === undefined) {
        // Same template, same extranonce slot: only coinb2 (the output) differs, so the merkle branch is shared.
        v = buildJob(newId(), job.template, { ...opts.coinbase, payoutScript: payout.script }, opts.sha);
        byKey.set(payout.key, v);
        jobs.set(v.id, v);
        entry.aliases.push(v.id);
      }
      return v;
    },
    alias(job) {
      // A solo variant is re-issued like its base job (and forgotten with it).
      const base = order.find((e) => e.id === job.id || e.aliases.includes(job.id));
      // The re-issue must be different work: a miner restarting on a clean job with the same
      // coinbase would redo the same nonces and only find duplicates. Bumping ntime by one
      // second per re-issue changes every header while staying inside the 7000 s window.
      const bump = base === undefined ? 1 : base.aliases.length + 1;
      const ntime = (job.ntime + bump) >>> 0;
      const copy: StratumJob = { ...job, id: newId(), aliasOf: job.id, ntime, ntimeHex: ntime.toString(16).padStart(8, "0") };
      if (base === undefined) return copy; // retired meanwhile: shares for it will be stale
      base.aliases.push(copy.id);
      jobs.set(copy.id, copy);
      return copy;
    },
    clear() {
      for (const e of order) forget(e);
      order.length = 0;
      current = undefined;
      for (const fn of clearers) fn();
    },
    get(id) {
      return jobs.get(id);
    },
    current() {
      return current;
    },
    get size() {
      return jobs.size;
    },
  };
}
