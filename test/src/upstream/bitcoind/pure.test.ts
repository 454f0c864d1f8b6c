// The bitcoind source's pure decisions: what submitblock answers across nodes mean, what a fetched template means, which nodes to ask, the overall state.
import { describe, expect, test } from "bun:test";
import { answerOf, mergeSubmitAnswers, type SubmitAnswer } from "../../../../src/upstream/bitcoind/submit_merge.ts";
import { classifyTemplate } from "../../../../src/upstream/bitcoind/template.ts";
import { caughtUp, failBackCandidates, sourceStateName, submitTargets } from "../../../../src/upstream/bitcoind/nodes.ts";
import type { NodeState } from "../../../../src/upstream/bitcoind/node_state.ts";
import type { BlockTemplate } from "../../../../protocols/bitcoin/template.ts";

const A = (node: string, accepted?: boolean, reason?: string): SubmitAnswer => ({ node, ...(accepted !== undefined ? { accepted } : { error: "down" }), ...(reason ? { reason } : {}) });

describe("mergeSubmitAnswers", () => {
  test("a clean null settles at once, even with nodes pending", () => {
    expect(mergeSubmitAnswers([A("a", false, "high-hash"), A("b", true)], 3)).toEqual({ done: true, accepted: true, reason: undefined });
  });
  test("duplicate / inconclusive wait for every node, then the best acceptance wins", () => {
    expect(mergeSubmitAnswers([A("a", true, "inconclusive")], 1)).toEqual({ done: false, waiting: true });
    expect(mergeSubmitAnswers([A("a", true, "inconclusive"), A("b", true, "duplicate")], 0)).toEqual({ done: true, accepted: true, reason: "duplicate" });
    expect(mergeSubmitAnswers([A("a", true, "inconclusive"), A("b", false, "bad-txns")], 0)).toEqual({ done: true, accepted: true, reason: "inconclusive" });
  });
  test("no acceptance: the first judging node's reason; nothing judged: not done", () => {
    expect(mergeSubmitAnswers([A("a"), A("b", false, "high-hash"), A("c", false, "bad-cb")], 0)).toEqual({ done: true, accepted: false, reason: "high-hash" });
    expect(mergeSubmitAnswers([A("a"), A("b")], 0)).toEqual({ done: false, waiting: false });
  });
});

describe("answerOf", () => {
  test("answers, judging RPC errors, warm-up and transport errors", () => {
    expect(answerOf("n", { ok: true, value: null })).toEqual({ answer: { node: "n", accepted: true }, reached: true });
    expect(answerOf("n", { ok: true, value: "high-hash" }).answer).toMatchObject({ accepted: false, reason: "high-hash" });
    expect(answerOf("n", { ok: false, error: { kind: "rpc", code: -22, message: "Block decode failed" } as never })).toEqual({ answer: { node: "n", accepted: false, reason: "rpc error -22: Block decode failed" }, reached: true });
    const warm = answerOf("n", { ok: false, error: { kind: "rpc", code: -28, message: "Loading block index" } as never });
    expect(warm.reached).toBe(false);
    expect(warm.answer.accepted).toBeUndefined();
  });
});

const T = (prev: string, height: number, extra: Partial<BlockTemplate> = {}): BlockTemplate => ({ height, version: 0x20000000, previousBlockHash: prev, bits: "207fffff", curtime: 1, coinbaseValue: 50n, transactions: [], ...extra });

describe("classifyTemplate", () => {
  test("initial, new tip, older news, refresh, unchanged", () => {
    expect(classifyTemplate(undefined, T("aa", 1), 0, 0, false)).toBe("initial");
    expect(classifyTemplate(T("aa", 1), T("bb", 2), 3, 3, false)).toBe("new_block");
    expect(classifyTemplate(T("aa", 1), T("bb", 2), 2, 3, false)).toBe("older");
    expect(classifyTemplate(T("aa", 1), T("aa", 1, { coinbaseValue: 51n }), 3, 3, false)).toBe("refresh");
    expect(classifyTemplate(T("aa", 1), T("aa", 1), 3, 3, true)).toBe("refresh");
    expect(classifyTemplate(T("aa", 1), T("aa", 1, { curtime: 99 }), 3, 3, false)).toBe("unchanged");
  });
});

describe("node choices", () => {
  const node = (rank: number, up: boolean | undefined) => ({ rank, up }) as NodeState;
  test("submit targets: every reachable node, else all of them", () => {
    const ns = [node(0, false), node(1, true), node(2, undefined)];
    expect(submitTargets(ns)).toEqual([ns[1]!, ns[2]!]);
    const down = [node(0, false), node(1, false)];
    expect(submitTargets(down)).toEqual(down);
  });
  test("fail-back candidates, catching up, overall state", () => {
    const ns = [node(0, true), node(1, true), node(2, true)];
    expect(failBackCandidates(ns, ns[2]!)).toEqual([ns[0]!, ns[1]!]);
    expect(caughtUp(T("a", 10), T("b", 11))).toBe(false);
    expect(caughtUp(T("a", 11), T("b", 11))).toBe(true);
    expect(caughtUp(T("a", 1), undefined)).toBe(true);
    expect(sourceStateName(false, ns[0], true, false)).toBe("stopped");
    expect(sourceStateName(true, ns[0], true, false)).toBe("ok");
    expect(sourceStateName(true, ns[1], true, false)).toBe("failover");
    expect(sourceStateName(true, undefined, true, false)).toBe("down");
    expect(sourceStateName(true, undefined, false, true)).toBe("down");
    expect(sourceStateName(true, undefined, false, false)).toBe("starting");
  });
});
