// A bitcoind node's reachability and work state, each change logged once, and the pure choices over the node list (submit targets, fail-back candidates, overall state); no RPC calls.
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import { describeRpcError, type RpcError } from "../bitcoind_rpc.ts";
import type { Log, NodeState } from "./node_state.ts";

export function markReachable(n: NodeState, log: Log, now: number): void {
  if (n.up !== true) {
    log(n.up === false ? "bitcoind: node back" : "bitcoind: node reachable", { node: n.rpc.label });
    n.up = true;
    n.since = now;
  }
  n.lastError = undefined;
}

export function markUnreachable(n: NodeState, why: string, log: Log, now: number): void {
  if (n.up !== false || n.lastError !== why) {
    log("bitcoind: node down", { node: n.rpc.label, error: why });
    if (n.up !== false) n.since = now;
  }
  n.up = false;
  n.lastError = why;
}

export function markWorkOk(n: NodeState, log: Log, now: number): void {
  markReachable(n, log, now);
  if (n.workError !== undefined) log("bitcoind: node serves work again", { node: n.rpc.label });
  n.workError = undefined;
}

export function markWorkFailed(n: NodeState, why: string, log: Log): void {
  if (n.workError !== why) log("bitcoind: node cannot serve work", { node: n.rpc.label, error: why });
  n.workError = why;
}

/** Records an RPC failure: transport/auth → unreachable; an RPC error answer → reachable but no work; a string → no work. */
export function markFailed(n: NodeState, e: RpcError | string, log: Log, now: number): void {
  if (typeof e === "string") return markWorkFailed(n, e, log);
  if (e.kind === "rpc") {
    markReachable(n, log, now);
    markWorkFailed(n, describeRpcError(e), log);
  } else if (e.kind !== "aborted") {
    markUnreachable(n, describeRpcError(e), log, now);
  }
}

/** Every node believed reachable; when none is, every node (one may just have come back). */
export function submitTargets(nodes: NodeState[]): NodeState[] {
  const up = nodes.filter((n) => n.up !== false);
  return up.length > 0 ? up : nodes;
}

/** The nodes preferred over the active one (`nodes` is in priority order), most preferred first. */
export function failBackCandidates(nodes: readonly NodeState[], active: NodeState): NodeState[] {
  return nodes.slice(0, active.rank);
}

/** A preferred node still syncing would move miners back to an older tip: fail back only once it caught up. */
export function caughtUp(candidate: BlockTemplate, current: BlockTemplate | undefined): boolean {
  return current === undefined || candidate.height >= current.height;
}

export type SourceStateName = "stopped" | "starting" | "ok" | "failover" | "down";

/** ok: the preferred node serves work; failover: a less preferred one does; down: none does (after a template or an outage); else starting. */
export function sourceStateName(running: boolean, active: NodeState | undefined, hadWork: boolean, inOutage: boolean): SourceStateName {
  if (!running) return "stopped";
  if (active) return active.rank === 0 ? "ok" : "failover";
  return hadWork || inOutage ? "down" : "starting";
}
