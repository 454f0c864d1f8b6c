// What both Ethereum-style session reducers run against: job lookup, policy and env; types only.
import type { EthJob } from "./work.ts";
import type { SessionPolicy } from "../core/vardiff.ts";

/** How sessions of the two Ethereum dialects find jobs. */
export interface EthJobLookup {
  current(): EthJob | undefined;
  byId(id: string): EthJob | undefined;
  byHeader(headerHash: string): EthJob | undefined;
}

/** Difficulties are in the pool-wide unit (1 = target 0xffff·2^208, NiceHash's and Bitcoin's diff1). */
export interface EthPolicy extends SessionPolicy {
  /** open-ethereum-pool's documented "each error is followed by a disconnect"; off by default (miners take it for a dead pool). */
  disconnectOnError: boolean;
}

export interface EthEnv {
  now: number;
  jobs: EthJobLookup;
  policy: EthPolicy;
  /** Where a session gives back the extranonce the core allocated for it. */
  extranonce: { release(en1: string): void };
}
