// Ethereum node work source (geth / core-geth JSON-RPC over HTTP): eth_getWork polling, eth_submitWork fan-out, eth_submitHashrate, priority failover; no share checks, no engine API / JWT.
import type { EthWork } from "../../protocols/eth/work.ts";
import { encodeQuantity } from "../../protocols/eth-proxy/server_to_client.ts";
import type { Clock, TimerId } from "../runtime/types.ts";
import type { SubmitBlockResult } from "./types.ts";
import type { EthWorkSource } from "./eth_types.ts";

/** The subset of `fetch` used here; the global fetch of Bun, Deno and Node satisfies it. */
export type { FetchLike } from "./ethnode/wire.ts";
import type { FetchLike } from "./ethnode/wire.ts";
import { HASH32, NONCE, QUANTITY, U64_MAX, hashrateIdFrom, parseGetWork, redactUrl, rpcCall, type RpcDeps, type RpcOutcome } from "./ethnode/wire.ts";

/** A Logger from src/observe/log.ts satisfies this. */
export interface EthNodeLog {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface EthNodeOptions {
  /** Lower `priority` is preferred (default 0); ties keep list order. Plain HTTP(S) JSON-RPC, no JWT (that is the engine API, not eth_getWork). */
  nodes: { url: string; priority?: number }[];
  /** eth_getWork poll period; default 250 ms (geth recomputes work on new txs and new heads, so polling is how a miner learns of both). */
  pollIntervalMs?: number;
  /** With no successful eth_getWork for this long, current() is undefined (miners must not hash on work from a dead node). */
  maxWorkAgeSeconds: number;
  clock: Clock;
  fetch: FetchLike;
  log: EthNodeLog;
  /** eth_submitHashrate period; default 30 s. */
  hashrateIntervalSeconds?: number;
  /** Stable hashrate id: 0x + 64 hex used as is, any other string hashed with keccak256; default random per process. */
  hashrateId?: string;
  /** One JSON-RPC call's timeout; default 2000 ms. */
  requestTimeoutMs?: number;
  /** eth_submitWork keeps retrying transport errors until this long after the submit; default 10000 ms. */
  submitDeadlineMs?: number;
  /** Reconnect backoff for a failed node: base doubling to max; defaults 1000 / 30000 ms. */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** Idle backup nodes are checked with eth_getWork this often; default 5000 ms. */
  healthCheckIntervalMs?: number;
  /** 32 random bytes for the default hashrate id (tests inject); default crypto.getRandomValues. */
  randomBytes?: (n: number) => Uint8Array;
}

export interface EthNodeHealth {
  state: "starting" | "up" | "down" | "expired" | "stopped";
  /** Node currently serving work (credentials in the URL redacted). */
  node: string | undefined;
  blockNumber: number | undefined;
  headerHash: string | undefined;
  /** Milliseconds since the last successful eth_getWork, undefined before the first. */
  workAgeMs: number | undefined;
  hashrateId: string;
  nodes: { url: string; priority: number; up: boolean | undefined; failures: number; lastError: string | undefined; lastOkAt: number | undefined }[];
}

export type EthNodeSource = EthWorkSource & {
  /** The pool's summed miner hashrate (H/s); sent on the next hashrate tick. */
  reportHashrate(hashesPerSecond: bigint): void;
  health(): EthNodeHealth;
  /** Poll now (also done after an accepted block); resolves when this poll round is over. */
  pollNow(): Promise<void>;
};

interface NodeState {
  url: string;
  label: string;
  priority: number;
  up: boolean | undefined;
  failures: number;
  retryAt: number;
  lastError: string | undefined;
  lastOkAt: number | undefined;
  probing: boolean;
  checkedAt: number;
  legacyLogged: boolean;
}

export { hashrateIdFrom, parseGetWork, redactUrl } from "./ethnode/wire.ts";

const defaultRandom = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));

export function createEthNodeSource(o: EthNodeOptions): EthNodeSource {
  if (o.nodes.length === 0) throw new RangeError("ethnode: at least one node is required");
  const pollMs = o.pollIntervalMs ?? 250;
  const maxAgeMs = o.maxWorkAgeSeconds * 1000;
  const timeoutMs = o.requestTimeoutMs ?? 2000;
  const submitDeadlineMs = o.submitDeadlineMs ?? 10_000;
  const baseMs = o.reconnectBaseMs ?? 1000;
  const maxMs = o.reconnectMaxMs ?? 30_000;
  const healthMs = o.healthCheckIntervalMs ?? 5000;
  const hashrateMs = (o.hashrateIntervalSeconds ?? 30) * 1000;
  const hashrateId = hashrateIdFrom(o.hashrateId, o.randomBytes ?? defaultRandom);
  const { clock, log } = o;

  const nodes: NodeState[] = o.nodes
    .map((n, i) => ({ n, i }))
    .sort((a, b) => (a.n.priority ?? 0) - (b.n.priority ?? 0) || a.i - b.i)
    .map(({ n }) => ({
      url: n.url,
      label: redactUrl(n.url),
      priority: n.priority ?? 0,
      up: undefined,
      failures: 0,
      retryAt: 0,
      lastError: undefined,
      lastOkAt: undefined,
      probing: false,
      checkedAt: -Infinity,
      legacyLogged: false,
    }));

  const listeners: ((w: EthWork, newBlock: boolean) => void)[] = [];
  let work: EthWork | undefined;
  let lastWorkAt: number | undefined;
  let active: NodeState | undefined;
  let allDownLogged = false;
  let expiredLogged = false;
  let started = false;
  let stopped = false;
  let polling: Promise<void> | undefined;
  let pollTimer: TimerId | undefined;
  let hashrateTimer: TimerId | undefined;
  let rate: bigint | undefined;
  let hashrateRefusedLogged = false;
  let rpcId = 0;

  const rpcDeps: RpcDeps = { fetch: o.fetch, clock, timeoutMs, nextId: () => ++rpcId };
  const rpc = (n: NodeState, method: string, params: unknown[]): Promise<RpcOutcome> => rpcCall(rpcDeps, n.url, method, params);

  function markUp(n: NodeState): void {
    if (n.up !== true) log.info(n.up === false ? "ethnode: node back up" : "ethnode: node up", { node: n.label, priority: n.priority });
    n.up = true;
    n.failures = 0;
    n.retryAt = 0;
    n.lastError = undefined;
    n.lastOkAt = clock.now();
  }

  function markDown(n: NodeState, error: string): void {
    // One line per state change: a node that stays down is not logged again on every retry.
    if (n.up !== false) log.warn("ethnode: node down", { node: n.label, error });
    n.up = false;
    n.failures++;
    n.lastError = error;
    n.retryAt = clock.now() + Math.min(maxMs, baseMs * 2 ** Math.min(n.failures - 1, 30));
  }

  function setActive(n: NodeState | undefined): void {
    if (n === active) return;
    active = n;
    if (n !== undefined) {
      allDownLogged = false;
      log.info("ethnode: taking work from node", { node: n.label, priority: n.priority });
    } else if (!allDownLogged) {
      allDownLogged = true;
      log.warn("ethnode: no node is serving work; keeping the last work until it is too old", { maxWorkAgeSeconds: o.maxWorkAgeSeconds });
    }
  }

  /** eth_getWork on one node, with eth_blockNumber + 1 as the height when the node answers the legacy 3-element form. */
  async function fetchWork(n: NodeState): Promise<EthWork | string> {
    const r = await rpc(n, "eth_getWork", []);
    if (r.kind === "transport") return r.message;
    if (r.kind === "rpc") return `eth_getWork error ${r.code}: ${r.message}`;
    const p = parseGetWork(r.result);
    if (typeof p === "string") return p;
    if (p.blockNumber !== undefined) return { ...p.work, blockNumber: p.blockNumber };
    if (!n.legacyLogged) {
      n.legacyLogged = true;
      log.info("ethnode: node returns the 3-element eth_getWork (old geth); block number taken from eth_blockNumber + 1", { node: n.label });
    }
    // Same seal hash as the current work: the height is known, skip the extra call.
    if (work !== undefined && work.headerHash === p.work.headerHash) return { ...p.work, blockNumber: work.blockNumber };
    const b = await rpc(n, "eth_blockNumber", []);
    if (b.kind === "transport") return b.message;
    if (b.kind === "rpc") return `eth_blockNumber error ${b.code}: ${b.message}`;
    if (typeof b.result !== "string" || !QUANTITY.test(b.result)) return "eth_blockNumber result is not a hex quantity";
    const head = Number.parseInt(b.result.slice(2), 16);
    if (!Number.isSafeInteger(head + 1)) return "eth_blockNumber out of range";
    return { ...p.work, blockNumber: head + 1 };
  }

  function acceptWork(w: EthWork): void {
    lastWorkAt = clock.now();
    expiredLogged = false;
    const prev = work;
    if (prev !== undefined && prev.headerHash === w.headerHash) return; // geth answers the same work many times per block
    work = w;
    const newBlock = prev === undefined || prev.blockNumber !== w.blockNumber;
    for (const l of listeners) l(w, newBlock);
  }

  function checkAge(): void {
    if (lastWorkAt === undefined || expiredLogged) return;
    if (clock.now() - lastWorkAt > maxAgeMs) {
      expiredLogged = true;
      log.error("ethnode: work expired, no work for miners until a node answers", { maxWorkAgeSeconds: o.maxWorkAgeSeconds, blockNumber: work?.blockNumber });
    }
  }

  /**
   * Off the poll path: a down node whose backoff has passed is re-checked (so a hanging node never delays
   * work from a live one), and an idle backup is checked every healthCheckIntervalMs so a dead backup is
   * known before it is needed and eth_submitWork skips it.
   */
  function probe(n: NodeState): void {
    n.probing = true;
    n.checkedAt = clock.now();
    void fetchWork(n).then((w) => {
      n.probing = false;
      if (stopped) return;
      if (typeof w === "string") {
        markDown(n, w); // logs only on the up → down change
        return;
      }
      markUp(n);
      // A recovered node that outranks the active one takes over now rather than on the next tick.
      if (active === undefined || nodes.indexOf(n) < nodes.indexOf(active)) void pollNow();
    });
  }

  async function pollRound(): Promise<void> {
    const now = clock.now();
    for (const n of nodes) {
      if (n.probing || n === active) continue;
      if (n.up === false ? now >= n.retryAt : active !== undefined && now - n.checkedAt >= healthMs) probe(n);
    }
    let served: NodeState | undefined;
    for (const n of nodes) {
      if (n.up === false || stopped) continue;
      const w = await fetchWork(n);
      if (stopped) return;
      if (typeof w === "string") {
        markDown(n, w);
        continue; // fail over to the next node in the same round
      }
      markUp(n);
      served = n;
      acceptWork(w);
      break;
    }
    setActive(served);
    checkAge();
  }

  function pollNow(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (polling === undefined) polling = pollRound().finally(() => (polling = undefined));
    return polling;
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((r) => clock.setTimeout(r, ms));
  }

  async function submitWork(nonce: string, headerHash: string, mixDigest: string): Promise<SubmitBlockResult> {
    if (!NONCE.test(nonce) || !HASH32.test(headerHash) || !HASH32.test(mixDigest)) return { accepted: false, reason: "malformed" };
    const deadline = clock.now() + submitDeadlineMs;
    const healthy = nodes.filter((n) => n.up !== false);
    // With every node marked down, still try them all: the block may be the last chance for this height.
    const targets = healthy.length > 0 ? healthy : nodes;
    const params = [nonce.toLowerCase(), headerHash.toLowerCase(), mixDigest.toLowerCase()];
    return new Promise<SubmitBlockResult>((resolve) => {
      let settled = false;
      let pending = targets.length;
      let rejection: string | undefined;
      let lastTransport = "";
      const settle = (r: SubmitBlockResult) => {
        if (settled) return;
        settled = true;
        resolve(r);
      };
      for (const n of targets) {
        void (async () => {
          let delay = 50;
          for (;;) {
            const r = await rpc(n, "eth_submitWork", params);
            if (r.kind === "result") {
              if (r.result === true) {
                log.info("ethnode: block accepted by node", { node: n.label, headerHash, nonce });
                settle({ accepted: true });
                void pollNow(); // the node has moved on: fetch the next block's work now, not on the next tick
              } else {
                // geth answers false for unknown seal hashes, work more than 7 blocks old, and invalid proofs.
                rejection ??= "rejected by node";
                log.warn("ethnode: block rejected by node", { node: n.label, headerHash, nonce });
              }
              break;
            }
            if (r.kind === "rpc") {
              rejection ??= `rejected by node: ${r.message}`;
              log.warn("ethnode: block rejected by node", { node: n.label, headerHash, error: r.message });
              break;
            }
            lastTransport = r.message;
            // Another node may hold this seal hash only if it produced the work, so each node is retried on its own until it answers.
            if (settled || stopped || clock.now() + delay >= deadline) break;
            await sleep(delay);
            delay = Math.min(delay * 2, 1000);
          }
          if (--pending === 0) {
            if (rejection === undefined) log.error("ethnode: block could not be delivered to any node", { headerHash, nonce, error: lastTransport });
            settle({ accepted: false, reason: rejection ?? `no node reachable: ${lastTransport}` });
          }
        })();
      }
    });
  }

  function sendHashrate(): void {
    if (rate === undefined || stopped) return;
    const q = encodeQuantity(rate > U64_MAX ? U64_MAX : rate < 0n ? 0n : rate);
    for (const n of nodes) {
      if (n.up !== true) continue;
      void rpc(n, "eth_submitHashrate", [q, hashrateId]).then((r) => {
        if (r.kind === "rpc" && !hashrateRefusedLogged) {
          hashrateRefusedLogged = true;
          log.warn("ethnode: eth_submitHashrate refused", { node: n.label, error: r.message });
        }
      });
    }
  }

  function health(): EthNodeHealth {
    const age = lastWorkAt === undefined ? undefined : clock.now() - lastWorkAt;
    const state: EthNodeHealth["state"] = stopped
      ? "stopped"
      : age === undefined
        ? started && nodes.every((n) => n.up === false) ? "down" : "starting"
        : age > maxAgeMs
          ? "expired"
          : active === undefined
            ? "down"
            : "up";
    return {
      state,
      node: active?.label,
      blockNumber: work?.blockNumber,
      headerHash: work?.headerHash,
      workAgeMs: age,
      hashrateId,
      nodes: nodes.map((n) => ({ url: n.label, priority: n.priority, up: n.up, failures: n.failures, lastError: n.lastError, lastOkAt: n.lastOkAt })),
    };
  }

  return {
    kind: "ethnode",
    async start() {
      if (started) return;
      started = true;
      pollTimer = clock.setInterval(() => {
        checkAge(); // also while a poll is stuck on a hanging node
        void pollNow();
      }, pollMs);
      hashrateTimer = clock.setInterval(sendHashrate, hashrateMs);
      await pollNow();
    },
    async stop() {
      stopped = true;
      if (pollTimer !== undefined) clock.clearInterval(pollTimer);
      if (hashrateTimer !== undefined) clock.clearInterval(hashrateTimer);
      pollTimer = hashrateTimer = undefined;
    },
    onWork(cb) {
      listeners.push(cb);
    },
    current() {
      if (work === undefined || lastWorkAt === undefined) return undefined;
      return clock.now() - lastWorkAt > maxAgeMs ? undefined : work;
    },
    submitWork,
    reportHashrate(h: bigint) {
      rate = h;
    },
    health,
    pollNow,
  };
}
