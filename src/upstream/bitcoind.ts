// Bitcoin Core-family work source: getblocktemplate (longpoll + tip polling + mempool refresh), submitblock to every node, failover by priority; no job building or share checks.
import type { BlockTemplate } from "../../protocols/bitcoin/template.ts";
import type { TimerId } from "../runtime/types.ts";
import type { TemplateReason } from "./types.ts";
import { describeRpcError, type RpcError } from "./bitcoind_rpc.ts";
import { createNodes, type Current, type NodeState } from "./bitcoind/node_state.ts";
import { caughtUp, failBackCandidates, markFailed, markReachable, markWorkOk, sourceStateName, submitTargets } from "./bitcoind/nodes.ts";
import { classifyTemplate, fetchTemplate as fetchFrom, type Fetched, type FetchedTemplate } from "./bitcoind/template.ts";
import { answerOf, mergeSubmitAnswers, type SubmitAnswer } from "./bitcoind/submit_merge.ts";

export type { BitcoindNode, FetchLike, RpcError } from "./bitcoind_rpc.ts";

export type { SubmitAnswer } from "./bitcoind/submit_merge.ts";
export type { BitcoindSourceOptions, BitcoindNodeHealth, BitcoindHealth, BitcoindSubmitResult, BitcoindSource } from "./bitcoind/source_types.ts";
import type { BitcoindSourceOptions, BitcoindHealth, BitcoindSubmitResult, BitcoindSource } from "./bitcoind/source_types.ts";

/** Reconnect backoff while every node is down. */
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30_000;
/** submitblock retry backoff while no node answers: 100 ms doubling to 5 s. */
const SUBMIT_BACKOFF_MIN_MS = 100;
const SUBMIT_BACKOFF_MAX_MS = 5000;

export function createBitcoindSource(opts: BitcoindSourceOptions): BitcoindSource {
  const { clock } = opts;
  const log = opts.log ?? (() => {});
  if (opts.nodes.length === 0) throw new Error("bitcoind: at least one node is required");
  const rules = opts.rules ?? ["segwit"];
  const useLongpoll = opts.longpoll ?? true;
  const pollMs = opts.pollIntervalMs ?? 1000;
  const refreshMs = (opts.mempoolRefreshSeconds ?? 30) * 1000;
  const maxAgeMs = (opts.maxJobAgeSeconds ?? 120) * 1000;
  const healthMs = opts.healthIntervalMs ?? 5000;
  const rpcTimeoutMs = opts.rpcTimeoutMs ?? 10_000;
  const lpTimeoutMs = opts.longpollTimeoutMs ?? 90_000;
  const submitTimeoutMs = opts.submitTimeoutMs ?? 60_000;
  const submitLimitMs = (opts.submitRetryLimitSeconds ?? 600) * 1000;

  const nodes: NodeState[] = createNodes(opts.nodes, { clock, fetch: opts.fetch, readText: opts.readText, timeoutMs: rpcTimeoutMs });

  const listeners: Array<(t: BlockTemplate, reason: TemplateReason) => void> = [];
  let running = false;
  let active: NodeState | undefined;
  let cur: Current | undefined;
  /** clock ms when the template was last confirmed to be on the node's tip. */
  let confirmedAt = Number.NEGATIVE_INFINITY;
  /** Bumped on every applied tip change: a template fetched before the bump with another prevhash is older news. */
  let tipEpoch = 0;
  let outageSince: number | undefined;
  let staleLogged = false;
  /** Emit the next template even if it is the same work (after an outage the pool may have stopped issuing jobs). */
  let mustEmit = false;
  let lpGen = 0;
  let lpAbort: AbortController | undefined;
  let lpInFlight = false;
  let pollBusy = false;
  let refreshBusy = false;
  let healthBusy = false;
  let selecting: Promise<void> | undefined;
  let reconnectDelay = RECONNECT_MIN_MS;
  let reconnectTimer: TimerId | undefined;
  let staleTimer: TimerId | undefined;
  const intervals: TimerId[] = [];

  // --- node state changes, each logged once per change (bitcoind/nodes.ts) ---
  const reachable = (n: NodeState) => markReachable(n, log, clock.now());
  const workOk = (n: NodeState) => markWorkOk(n, log, clock.now());
  const failed = (n: NodeState, e: RpcError | string) => markFailed(n, e, log, clock.now());

  let emitCount = 0;
  function emit(reason: TemplateReason, t: BlockTemplate): void {
    emitCount++;
    for (const cb of listeners) {
      // A throwing listener must not kill the poll/longpoll chains (they run as detached promises).
      try {
        cb(t, reason);
      } catch (e) {
        log("bitcoind: template listener threw", { error: e instanceof Error ? e.message : String(e) });
      }
    }
  }

  const fetchTemplate = (n: NodeState, o?: { longpollid?: string; timeoutMs?: number; signal?: AbortSignal }): Promise<Fetched> => fetchFrom(n, rules, o);

  /** Takes a fresh template from the active node and tells listeners when the work changed. */
  function apply(n: NodeState, f: FetchedTemplate, epoch: number): void {
    if (!running || n !== active) return;
    confirmedAt = clock.now();
    staleLogged = false;
    const change = classifyTemplate(cur?.template, f.template, epoch, tipEpoch, mustEmit);
    // Fetched before another path applied a newer tip: older news, dropped (the newer tip is already out).
    if (change === "older") return;
    cur = { template: f.template, longpollid: f.longpollid, node: n }; // always keep the newest curtime and longpollid
    mustEmit = false;
    if (change === "initial" || change === "new_block") {
      tipEpoch++;
      emit(change, f.template);
      restartLongpoll();
    } else if (change === "refresh") emit("refresh", f.template);
  }

  // --- longpoll (BIP22): one call in flight on the active node, re-issued with the newest longpollid ---
  function stopLongpoll(): void {
    lpGen++;
    lpAbort?.abort();
    lpAbort = undefined;
    lpInFlight = false;
  }
  function restartLongpoll(): void {
    stopLongpoll();
    if (running && useLongpoll && active && cur?.longpollid !== undefined) void longpollLoop(lpGen);
  }
  async function longpollLoop(gen: number): Promise<void> {
    let quickSame = 0;
    while (running && gen === lpGen) {
      const n = active;
      const lpid = cur?.longpollid;
      if (!n || lpid === undefined) return;
      const ctl = new AbortController();
      lpAbort = ctl;
      const epoch = tipEpoch;
      const t0 = clock.now();
      lpInFlight = true;
      const r = await fetchTemplate(n, { longpollid: lpid, timeoutMs: lpTimeoutMs, signal: ctl.signal });
      if (gen !== lpGen) return; // superseded (new tip from another path, node switch, stop): the new loop owns lpInFlight
      lpInFlight = false;
      if (!running || n !== active) return;
      if (!r.ok) {
        if (typeof r.error !== "string" && r.error.kind === "transport" && r.error.timeout) continue; // idle chain: ask again
        return nodeFailed(n, r.error);
      }
      workOk(n);
      const emitted = emitCount;
      apply(n, r, epoch);
      if (gen !== lpGen) return; // apply restarted the longpoll (tip change)
      // A node that answers a longpoll at once with unchanged work would spin this loop: pace it like polling.
      if (emitCount === emitted && clock.now() - t0 < 100) {
        if (++quickSame >= 2) await sleep(Math.max(pollMs, 1000));
      } else {
        quickSame = 0;
      }
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => clock.setTimeout(resolve, ms));
  }

  function nodeFailed(n: NodeState, e: RpcError | string): void {
    failed(n, e);
    if (n !== active) return;
    log("bitcoind: active node failed, switching", { node: n.rpc.label, error: typeof e === "string" ? e : describeRpcError(e) });
    active = undefined;
    stopLongpoll();
    void select();
  }

  async function refreshFrom(n: NodeState): Promise<void> {
    const epoch = tipEpoch;
    const r = await fetchTemplate(n);
    if (!running || n !== active) return;
    if (!r.ok) return nodeFailed(n, r.error);
    workOk(n);
    apply(n, r, epoch);
  }

  /** First node (by priority) that serves a template becomes active; none → outage, retried with backoff. */
  function select(): Promise<void> {
    if (selecting) return selecting;
    selecting = (async () => {
      for (const n of nodes) {
        if (!running) return;
        const epoch = tipEpoch;
        const r = await fetchTemplate(n);
        if (!running) return;
        if (active) return; // fail-back picked one meanwhile
        if (!r.ok) {
          failed(n, r.error);
          continue;
        }
        workOk(n);
        activate(n, r, epoch);
        return;
      }
      if (outageSince === undefined) {
        outageSince = clock.now();
        mustEmit = true;
        log("bitcoind: no node serves work; keeping the last template until it is too old", {
          maxJobAgeSeconds: maxAgeMs / 1000,
          nodes: nodes.map((x) => ({ node: x.rpc.label, error: x.workError ?? x.lastError })),
        });
        // Say once, when it happens, that the pool has no work any more (current() turns undefined then).
        if (cur) staleTimer = clock.setTimeout(logStale, Math.max(0, confirmedAt + maxAgeMs - clock.now() + 1));
      }
      scheduleReconnect();
    })().finally(() => {
      selecting = undefined;
    });
    return selecting;
  }

  function activate(n: NodeState, f: FetchedTemplate, epoch: number): void {
    const previous = cur?.node;
    active = n;
    reconnectDelay = RECONNECT_MIN_MS;
    if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    if (staleTimer !== undefined) clock.clearTimeout(staleTimer);
    staleTimer = undefined;
    if (outageSince !== undefined) {
      log("bitcoind: work source back", { node: n.rpc.label, downMs: clock.now() - outageSince });
      outageSince = undefined;
    }
    if (previous !== n) {
      log("bitcoind: serving work from node", { node: n.rpc.label, priority: n.priority });
      if (previous) mustEmit = true; // another node's mempool: send the new template even if it looks the same
    }
    apply(n, f, epoch);
    // apply() starts the longpoll only on a tip change; after a switch with the same tip it is not running yet.
    if (!lpInFlight) restartLongpoll();
  }

  function logStale(): void {
    staleTimer = undefined;
    if (!running || active || staleLogged || clock.now() - confirmedAt <= maxAgeMs) return;
    staleLogged = true;
    log("bitcoind: last template too old, no work to hand out", { ageMs: clock.now() - confirmedAt });
  }

  function scheduleReconnect(): void {
    if (!running || reconnectTimer !== undefined) return;
    const delay = reconnectDelay;
    reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
    reconnectTimer = clock.setTimeout(() => {
      reconnectTimer = undefined;
      if (running && !active) void select();
    }, delay);
  }

  async function pollTick(): Promise<void> {
    const n = active;
    if (!running || !n || pollBusy) return;
    pollBusy = true;
    try {
      const r = await n.rpc.call("getbestblockhash", []);
      if (!running || n !== active) return;
      if (!r.ok) return nodeFailed(n, r.error);
      reachable(n);
      if (typeof r.value === "string" && r.value === cur?.template.previousBlockHash) {
        confirmedAt = clock.now();
        staleLogged = false;
        return;
      }
      await refreshFrom(n);
    } finally {
      pollBusy = false;
    }
  }

  async function refreshTick(): Promise<void> {
    const n = active;
    if (!running || !n || refreshBusy) return;
    refreshBusy = true;
    try {
      await refreshFrom(n);
    } finally {
      refreshBusy = false;
    }
  }

  /** Checks the other nodes (for submitblock and fail-back) and moves back to a preferred node that serves work again. */
  async function healthTick(): Promise<void> {
    if (!running || healthBusy) return;
    healthBusy = true;
    try {
      await Promise.all(
        nodes
          .filter((n) => n !== active)
          .map(async (n) => {
            const r = await n.rpc.call("getbestblockhash", []);
            if (r.ok) reachable(n);
            else if (r.error.kind !== "rpc") failed(n, r.error);
          }),
      );
      const a = active;
      if (!running || !a) return;
      for (const n of failBackCandidates(nodes, a)) {
        if (n.up !== true) continue;
        const epoch = tipEpoch;
        const r = await fetchTemplate(n);
        if (!running || active !== a) return;
        if (!r.ok) {
          failed(n, r.error);
          continue;
        }
        workOk(n);
        if (!caughtUp(r.template, cur?.template)) continue;
        log("bitcoind: failing back to preferred node", { node: n.rpc.label, from: a.rpc.label });
        stopLongpoll();
        activate(n, r, epoch);
        return;
      }
    } finally {
      healthBusy = false;
    }
  }

  // --- submitblock ---
  async function submitOnce(targets: NodeState[], blockHex: string): Promise<{ done: boolean; result: BitcoindSubmitResult | undefined; answers: SubmitAnswer[] }> {
    const answers: SubmitAnswer[] = new Array(targets.length);
    return new Promise((resolve) => {
      let pending = targets.length;
      let resolved = false;
      const listed = () => answers.filter((a) => a !== undefined);
      targets.forEach((n, i) => {
        void n.rpc.call("submitblock", [blockHex], { timeoutMs: submitTimeoutMs }).then((r) => {
          const { answer, reached } = answerOf(n.rpc.label, r);
          if (reached) reachable(n);
          else if (!r.ok) failed(n, r.error);
          answers[i] = answer;
          pending--;
          if (resolved) {
            if (answer.accepted === false) log("bitcoind: a node refused a block another accepted", { ...answer });
            return;
          }
          const m = mergeSubmitAnswers(listed(), pending);
          if (m.done) {
            resolved = true;
            const list = listed();
            resolve({ done: true, result: { accepted: m.accepted, reason: m.reason, answers: list, attempts: 0 }, answers: list });
          } else if (!m.waiting) {
            resolved = true;
            resolve({ done: false, result: undefined, answers: listed() });
          }
        });
      });
      if (targets.length === 0) resolve({ done: false, result: undefined, answers: [] });
    });
  }

  async function submitBlock(blockHex: string): Promise<BitcoindSubmitResult> {
    const start = clock.now();
    let delay = SUBMIT_BACKOFF_MIN_MS;
    for (let attempt = 1; ; attempt++) {
      // Every node believed reachable; when none is, every node (one may just have come back).
      const r = await submitOnce(submitTargets(nodes), blockHex);
      if (r.done && r.result) {
        const result = { ...r.result, attempts: attempt };
        log(result.accepted ? "bitcoind: block accepted" : "bitcoind: block rejected", {
          reason: result.reason,
          answers: result.answers,
        });
        // Do not wait for the longpoll: a new tip means clean jobs as soon as the node has a template.
        if (result.accepted) void pollTick();
        return result;
      }
      const elapsed = clock.now() - start;
      if (attempt === 1) log("bitcoind: no node answered submitblock, retrying", { answers: r.answers });
      if (elapsed >= submitLimitMs || !running) {
        const why = running ? `no node answered submitblock within ${Math.round(elapsed / 1000)} s` : "source stopped before any node answered";
        log("bitcoind: giving up on submitblock", { reason: why, answers: r.answers });
        return { accepted: false, reason: why, unanswered: true, answers: r.answers, attempts: attempt };
      }
      await sleep(Math.min(delay, Math.max(0, submitLimitMs - elapsed)));
      delay = Math.min(delay * 2, SUBMIT_BACKOFF_MAX_MS);
    }
  }

  function current(): BlockTemplate | undefined {
    if (!cur) return undefined;
    if (clock.now() - confirmedAt > maxAgeMs) return undefined;
    return cur.template;
  }

  function health(): BitcoindHealth {
    const now = clock.now();
    const h: BitcoindHealth = {
      state: sourceStateName(running, active, cur !== undefined, outageSince !== undefined),
      stale: cur !== undefined && now - confirmedAt > maxAgeMs,
      longpollInFlight: lpInFlight,
      nodes: nodes.map((n) => ({
        url: n.rpc.label,
        priority: n.priority,
        up: n.up,
        ...(n.workError !== undefined ? { workError: n.workError } : {}),
        ...(n.lastError !== undefined ? { lastError: n.lastError } : {}),
        since: n.since,
      })),
    };
    if (active) h.active = active.rpc.label;
    if (cur) {
      h.height = cur.template.height;
      h.previousBlockHash = cur.template.previousBlockHash;
      h.templateAgeMs = now - confirmedAt;
    }
    return h;
  }

  return {
    kind: "bitcoind",
    async start() {
      if (running) return;
      running = true;
      if (pollMs > 0) intervals.push(clock.setInterval(() => void pollTick(), pollMs));
      if (refreshMs > 0) intervals.push(clock.setInterval(() => void refreshTick(), refreshMs));
      if (healthMs > 0) intervals.push(clock.setInterval(() => void healthTick(), healthMs));
      await select();
    },
    async stop() {
      running = false;
      for (const t of intervals.splice(0)) clock.clearInterval(t);
      if (reconnectTimer !== undefined) clock.clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      if (staleTimer !== undefined) clock.clearTimeout(staleTimer);
      staleTimer = undefined;
      stopLongpoll();
      active = undefined;
    },
    onTemplate(cb) {
      listeners.push(cb);
    },
    current,
    submitBlock,
    health,
  };
}
