// Keeps the recent Ethereum-style jobs of one pool, findable by short id (EthereumStratum) and by header hash (eth-proxy).
import type { EthAlgo, EthJob, EthWork } from "../../protocols/eth/work.ts";
import type { EthJobLookup } from "../../protocols/eth-proxy/session.ts";
import { hexToBytes } from "../../protocols/pow/hex.ts";
import { epochParams, type EthashChain } from "../../protocols/pow/ethash.ts";

/** The chain rules an Ethereum-style pool mines under (etchash halves the epoch count from its activation block). */
export function ethashChain(algo: EthAlgo, activationBlock: number): EthashChain {
  return algo === "etchash" ? { algo: "etchash", activationBlock } : { algo: "ethash" };
}

/** createEthJobBook's epochInfo for a chain. */
export function chainEpochInfo(chain: EthashChain): (blockNumber: number) => { epoch: number; cacheSize: number; fullSize: number } {
  return (n) => {
    const p = epochParams(n, chain)!;
    return { epoch: p.epoch, cacheSize: p.cacheSize, fullSize: p.fullSize };
  };
}


export interface EthJobBook extends EthJobLookup {
  add(work: EthWork, newBlock: boolean): EthJob;
  /** Keep a job another book built (a session thread's copy of the main thread's book). */
  adopt(job: EthJob): void;
  /** Upstream outage past the allowed age: forget every job (getWork answers "work not ready"). */
  clear(): void;
  /** Called after every clear(): session threads' copies must forget their jobs too. */
  onClear(fn: () => void): void;
  readonly size: number;
}

/**
 * Jobs for the last `keepHeights` block numbers stay valid (geth refuses work more than 7 blocks
 * old, so a relay keeping more would accept shares its node cannot use). A new block drops every
 * job below the window; several jobs per height (node refreshes) are all kept.
 */
export function createEthJobBook(opts: {
  algo: EthAlgo;
  keepHeights: number;
  epochInfo: (blockNumber: number) => { epoch: number; cacheSize: number; fullSize: number };
}): EthJobBook {
  const byId = new Map<string, EthJob>();
  const byHeader = new Map<string, EthJob>();
  let current: EthJob | undefined;
  let next = Math.floor(Math.random() * 0x10000);
  const clearers: (() => void)[] = [];

  const keep = (job: EthJob) => {
    byId.set(job.id, job);
    byHeader.set(job.headerHash, job);
    current = job;
    const oldest = job.blockNumber - opts.keepHeights + 1;
    for (const [id, j] of byId) {
      if (j.blockNumber < oldest || j.blockNumber > job.blockNumber) {
        byId.delete(id);
        if (byHeader.get(j.headerHash) === j) byHeader.delete(j.headerHash);
      }
    }
  };

  return {
    add(work, _newBlock) {
      const headerHash = work.headerHash.toLowerCase();
      const existing = byHeader.get(headerHash);
      if (existing !== undefined && existing.target === work.target) {
        current = existing;
        return existing;
      }
      const { epoch, cacheSize, fullSize } = opts.epochInfo(work.blockNumber);
      next = (next + 1) % 0x1000000;
      const job: EthJob = {
        ...work,
        headerHash,
        seedHash: work.seedHash.toLowerCase(),
        id: next.toString(16).padStart(6, "0"),
        algo: opts.algo,
        epoch,
        cacheSize,
        fullSize,
        seedBytes: hexToBytes(work.seedHash.toLowerCase().replace(/^0x/, ""))!,
        headerBytes: hexToBytes(headerHash.slice(2))!,
      };
      keep(job);
      return job;
    },
    adopt(job) {
      const existing = byHeader.get(job.headerHash);
      if (existing !== undefined && existing.id === job.id) {
        current = existing;
        return;
      }
      keep(job);
    },
    onClear(fn) {
      clearers.push(fn);
    },
    clear() {
      byId.clear();
      byHeader.clear();
      current = undefined;
      for (const fn of clearers) fn();
    },
    current: () => current,
    byId: (id) => byId.get(id),
    byHeader: (h) => byHeader.get(h.toLowerCase()),
    get size() {
      return byId.size;
    },
  };
}
