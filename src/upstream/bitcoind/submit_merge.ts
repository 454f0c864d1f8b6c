// submitblock across several nodes: one node's answer as a record, and the pure decision of what the answers so far mean; no RPC calls.
import { describeRpcError, mapSubmitAnswer, type RpcError } from "../bitcoind_rpc.ts";

/** RPC errors that mean "reachable but not ready", not "this block/request is wrong": -28 RPC_IN_WARMUP. */
export const RPC_IN_WARMUP = -28;

export interface SubmitAnswer {
  node: string;
  /** undefined when the node gave no usable answer (unreachable, warming up). */
  accepted?: boolean;
  reason?: string;
  error?: string;
}

/**
 * One node's submitblock outcome: an answer (null / a reason string), an RPC error that judged the
 * block (e.g. -22 "Block decode failed"), or no answer (`reached` false: transport error, warm-up).
 */
export function answerOf(node: string, r: { ok: true; value: unknown } | { ok: false; error: RpcError }): { answer: SubmitAnswer; reached: boolean } {
  if (r.ok) {
    const m = mapSubmitAnswer(r.value);
    return { answer: { node, accepted: m.accepted, ...(m.reason !== undefined ? { reason: m.reason } : {}) }, reached: true };
  }
  if (r.error.kind === "rpc" && r.error.code !== RPC_IN_WARMUP) {
    return { answer: { node, accepted: false, reason: `rpc error ${r.error.code}: ${r.error.message}` }, reached: true };
  }
  return { answer: { node, error: describeRpcError(r.error) }, reached: false };
}

export type Merged = { done: true; accepted: boolean; reason: string | undefined } | { done: false; waiting: boolean };

/**
 * What the answers so far (in node priority order) mean, with `pending` nodes still to answer.
 * A plain null (the block became a node's tip) settles it at once. "duplicate" or "inconclusive"
 * may only mean a peer relayed our block first: wait for every answer and report the best one
 * (duplicate before other acceptances), so a block that extended the chain is reported as such.
 * No acceptance: the first judging node's reason. No judging answer at all: not done.
 */
export function mergeSubmitAnswers(answers: readonly SubmitAnswer[], pending: number): Merged {
  const got = answers.filter((a) => a.accepted !== undefined);
  if (got.some((a) => a.accepted && a.reason === undefined)) return { done: true, accepted: true, reason: undefined };
  if (pending > 0) return { done: false, waiting: true };
  const ok = got.find((a) => a.accepted && a.reason === "duplicate") ?? got.find((a) => a.accepted);
  if (ok) return { done: true, accepted: true, reason: ok.reason };
  const first = got[0];
  if (first) return { done: true, accepted: false, reason: first.reason };
  return { done: false, waiting: false };
}
