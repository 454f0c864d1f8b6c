// One group-commit batch of the share log: the shares with their pool and address as parallel arrays, and the promise their replies wait on; no writing.
import type { ShareRecord } from "../../protocols/core/actions.ts";

/** A batch's shares with the pool and source address of each, as parallel arrays (cheap to post to a worker). */
export interface ShareRows {
  shares: ShareRecord[];
  pools: string[];
  addresses: string[];
}

/** Rows still to be committed, and the promise every reply to one of them waits for. */
export interface PendingBatch extends ShareRows {
  promise: Promise<void>;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export function newBatch(): PendingBatch {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Every waiter attaches its own handler; this one only keeps a batch nobody waits on from being an unhandled rejection.
  promise.catch(() => {});
  return { shares: [], pools: [], addresses: [], promise, resolve, reject };
}

/** Adds one share to the batch; returns what its reply waits for. */
export function addShare(b: PendingBatch, share: ShareRecord, pool: string, address: string): Promise<void> {
  b.shares.push(share);
  b.pools.push(pool);
  b.addresses.push(address);
  return b.promise;
}
