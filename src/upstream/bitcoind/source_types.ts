// The bitcoind work source's public shapes: its options, the health it reports and what submitblock answers; no behaviour.
import type { Clock } from "../../runtime/types.ts";
import type { BitcoinWorkSource, SubmitBlockResult } from "../types.ts";
import type { BitcoindNode, FetchLike } from "../bitcoind_rpc.ts";
import type { SubmitAnswer } from "./submit_merge.ts";

export interface BitcoindSourceOptions {
  nodes: BitcoindNode[];
  /** getblocktemplate rules. Bitcoin: ["segwit"]; Litecoin 0.21 wants ["mweb","segwit"] at every height. Default ["segwit"]. */
  rules?: string[];
  /** Hold a getblocktemplate longpoll open on the active node (BIP22). Default true. */
  longpoll?: boolean;
  /** Tip check (getbestblockhash) interval; also the longpoll fallback. Default 1000; 0 disables. */
  pollIntervalMs?: number;
  /**
   * Re-fetch the template this often to pick up mempool changes ("refresh"). Default 30. Needed even with
   * longpoll: measured on Litecoin Core 0.21, a longpoll returns on a new tip at once but on mempool changes
   * only after 60 s, and the node rebuilds its cached template for mempool changes at most every 5 s.
   */
  mempoolRefreshSeconds?: number;
  /** With no node reachable the last template is served this long after it was last confirmed current, then current() is undefined. Default 120. */
  maxJobAgeSeconds?: number;
  /** Health check of the non-active nodes (getbestblockhash) and fail-back to preferred ones. Default 5000. */
  healthIntervalMs?: number;
  /** Per-call timeout. Default 10000. */
  rpcTimeoutMs?: number;
  /** A longpoll that returns nothing this long is re-issued (not an error). Default 90000 (under Bun fetch's 300 s idle limit). */
  longpollTimeoutMs?: number;
  /** Per-attempt submitblock timeout (validating a full block can take seconds). Default 60000. */
  submitTimeoutMs?: number;
  /** Keep retrying submitblock while no node answers at all, this long. Default 600 (10 minutes). */
  submitRetryLimitSeconds?: number;
  clock: Clock;
  fetch: FetchLike;
  readText?: (path: string) => string | undefined;
  log?: (msg: string, fields?: object) => void;
}

export interface BitcoindNodeHealth {
  url: string;
  priority: number;
  /** RPC reachable (last call got a JSON-RPC answer); undefined before the first call. */
  up: boolean | undefined;
  /** Why the node cannot serve work (e.g. "rpc error -9: … not connected!"), when it answers but getblocktemplate fails. */
  workError?: string;
  /** Last transport/auth error while down. */
  lastError?: string;
  /** ms timestamp (clock) of the last up/down change. */
  since: number;
}

export interface BitcoindHealth {
  /** ok: the preferred reachable node serves work; failover: a less preferred one does; down: none does. */
  state: "stopped" | "starting" | "ok" | "failover" | "down";
  active?: string;
  height?: number;
  previousBlockHash?: string;
  /** ms since the template was last confirmed current (tip check or template fetch); undefined before the first. */
  templateAgeMs?: number;
  /** true when current() returns undefined because the last template is older than maxJobAgeSeconds. */
  stale: boolean;
  longpollInFlight: boolean;
  nodes: BitcoindNodeHealth[];
}

export interface BitcoindSubmitResult extends SubmitBlockResult {
  /** Every node's answer from the last round of attempts. */
  answers: SubmitAnswer[];
  /** Rounds tried (> 1 when no node answered and it was retried). */
  attempts: number;
}

/** A BitcoinWorkSource (assignable to it) whose submitBlock also reports every node's answer. */
export type BitcoindSource = Omit<BitcoinWorkSource, "submitBlock"> & {
  health(): BitcoindHealth;
  submitBlock(blockHex: string): Promise<BitcoindSubmitResult>;
};
