// The bitcoind source's record of each node (priority rank, RPC client, reachability, work errors) and of the template in force; data and construction only.
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import type { Clock } from "../../runtime/types.ts";
import { createRpcClient, type BitcoindNode, type FetchLike, type RpcClient } from "../bitcoind_rpc.ts";

export type Log = (msg: string, fields?: object) => void;

export interface NodeState {
  cfg: BitcoindNode;
  /** Position in priority order (0 = preferred). */
  rank: number;
  priority: number;
  rpc: RpcClient;
  up: boolean | undefined;
  workError?: string;
  lastError?: string;
  since: number;
}

export interface Current {
  template: BlockTemplate;
  longpollid?: string;
  node: NodeState;
}

/** Nodes sorted by priority (ties keep config order), each with its RPC client. */
export function createNodes(
  nodes: BitcoindNode[],
  deps: { clock: Clock; fetch: FetchLike; readText?: (path: string) => string | undefined; timeoutMs: number },
): NodeState[] {
  return nodes
    .map((cfg, i) => ({
      cfg,
      rank: i,
      priority: cfg.priority ?? i,
      rpc: createRpcClient(cfg, { fetch: deps.fetch, clock: deps.clock, readText: deps.readText, timeoutMs: deps.timeoutMs }),
      up: undefined,
      since: deps.clock.now(),
    }))
    .sort((a, b) => a.priority - b.priority || a.rank - b.rank)
    .map((n, i) => ({ ...n, rank: i }));
}
