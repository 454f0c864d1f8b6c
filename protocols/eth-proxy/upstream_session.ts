// eth-proxy client session towards an upstream pool (relay mode): login, work from answers/pushes/polls, submits and their verdicts, hashrate, timeouts by injected time; performs no I/O.
import type { RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import { normalizeHexField, parseHashrateQuantity } from "./client_to_server.ts";
import { encodeEthReason } from "./errors.ts";
import { countSubmits, expireSubmits, loseSubmits, verdictFromError, type UpstreamVerdict, type VerdictOut } from "../core/upstream.ts";

export interface EthProxyUpstreamOptions {
  /** eth_submitLogin params[0]: the wallet ("0x…", optionally "0x….worker") or the pool account. */
  user: string;
  /** eth_submitLogin params[1] (open-ethereum-pool ignores it; some pools read an email or "x"). */
  password: string;
  /** Top-level "worker" field on eth_submitLogin and eth_submitWork, as ethminer sends it; absent when not given. */
  worker?: string;
  /** The login must be answered within this time. */
  handshakeTimeoutMs: number;
  /** A submitted share without a verdict after this time is answered `timeout`. */
  submitTimeoutMs: number;
  /** eth_getWork is sent when neither a push nor a poll happened for this long (0 = never poll). */
  pollIntervalMs: number;
}

/** One eth_getWork package, decoded: both hashes "0x" + 64 lowercase hex, the share boundary as a number. */
export interface EthProxyUpstreamWork {
  headerHash: string;
  seedHash: string;
  /** A share is valid iff uint256(final hash) <= target. */
  target: bigint;
  /** result[3] when the pool sends it (geth ≥ 1.8, open-ethereum-pool). */
  height?: number;
}

export type EthProxyUpstreamOut =
  | { kind: "write"; data: string }
  /** Logged in: shares may be submitted. */
  | { kind: "ready" }
  /** Work that differs from the last one emitted (a repeated poll answer is not news). */
  | ({ kind: "work" } & EthProxyUpstreamWork)
  | { kind: "verdict"; ctx: unknown; verdict: UpstreamVerdict; latencyMs: number }
  /** The session cannot go on (refused login, login timeout): close the connection. */
  | { kind: "failed"; why: string }
  | { kind: "log"; level: "debug" | "info" | "warn"; msg: string; fields?: Record<string, unknown> };

type Pending =
  | { what: "login" | "getwork" | "hashrate"; sentAt: number }
  | { what: "submit"; sentAt: number; ctx: unknown };

export interface EthProxyUpstreamState {
  opts: EthProxyUpstreamOptions;
  phase: "handshake" | "ready" | "failed";
  nextId: number;
  pending: Map<number, Pending>;
  openedAt: number;
  lastMessageAt: number;
  /** Last unsolicited work package (id 0 / null push, or a mining.notify request). */
  lastPushAt: number;
  /** Last eth_getWork sent (the one pipelined at open counts). */
  lastPollAt: number;
  /** Work last emitted, as a comparison key, and the work itself. */
  workKey: string;
  work: EthProxyUpstreamWork | undefined;
}

const HEX_RE = /^[0-9a-fA-F]+$/;

/** JSON-RPC 2.0 request line as ethminer's EthProxy mode writes it (jsonrpc member, optional top-level worker). */
function requestLine(id: number, method: string, params: unknown[], worker?: string): string {
  return '{"id":' + id + ',"jsonrpc":"2.0","method":' + JSON.stringify(method) + ',"params":' + JSON.stringify(params) +
    (worker !== undefined ? ',"worker":' + JSON.stringify(worker) : "") + "}\n";
}

function send(s: EthProxyUpstreamState, p: Pending, method: string, params: unknown[], out: EthProxyUpstreamOut[], worker?: string): void {
  // Ids start at 1: id 0 is what pools push new work with, so it must never name one of our requests.
  const id = s.nextId++;
  s.pending.set(id, p);
  out.push({ kind: "write", data: requestLine(id, method, params, worker) });
}

function fail(s: EthProxyUpstreamState, why: string, out: EthProxyUpstreamOut[]): void {
  if (s.phase === "failed") return;
  s.phase = "failed";
  out.push({ kind: "failed", why });
}

/** 1..64 hex digits (0x optional: open-ethereum-pool sends big.Int bytes unpadded) → bigint, else undefined. */
function parseTarget(x: unknown): bigint | undefined {
  if (typeof x !== "string") return undefined;
  const body = x.startsWith("0x") || x.startsWith("0X") ? x.slice(2) : x;
  if (body.length < 1 || body.length > 64 || !HEX_RE.test(body)) return undefined;
  return BigInt("0x" + body);
}

/** Height as a hex quantity ("0x" + 1..13 digits) or a plain non-negative safe integer. */
function parseHeight(x: unknown): number | undefined {
  if (typeof x === "number") return Number.isSafeInteger(x) && x >= 0 ? x : undefined;
  if (typeof x !== "string" || !(x.startsWith("0x") || x.startsWith("0X"))) return undefined;
  const body = x.slice(2);
  if (body.length < 1 || body.length > 13 || !HEX_RE.test(body)) return undefined;
  const n = parseInt(body, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** [header, seed, target(, height)] → work, or a text saying what is wrong. */
function parseWork(x: unknown): { work: EthProxyUpstreamWork; badHeight: boolean } | string {
  if (!Array.isArray(x) || x.length < 3) return "work must be an array [header, seed, target(, height)]";
  const headerHash = normalizeHexField(x[0], 64);
  if (headerHash === undefined) return "header hash must be 32 bytes of hex";
  const seedHash = normalizeHexField(x[1], 64);
  if (seedHash === undefined) return "seed hash must be 32 bytes of hex";
  const target = parseTarget(x[2]);
  // A zero boundary is met by no hash: work that cannot yield shares is as good as none.
  if (target === undefined || target === 0n) return "target must be 1..32 bytes of non-zero hex";
  const work: EthProxyUpstreamWork = { headerHash, seedHash, target };
  let badHeight = false;
  if (x[3] !== undefined && x[3] !== null) {
    const h = parseHeight(x[3]);
    if (h === undefined) badHeight = true;
    else work.height = h;
  }
  return { work, badHeight };
}

function onWork(s: EthProxyUpstreamState, x: unknown, source: "push" | "poll", now: number, out: EthProxyUpstreamOut[]): void {
  const r = parseWork(x);
  if (typeof r === "string") {
    out.push({ kind: "log", level: "warn", msg: "upstream sent unusable work", fields: { source, detail: r } });
    return;
  }
  // The height is advisory (the pool judges shares by header): keep the work, say the height was dropped.
  if (r.badHeight) out.push({ kind: "log", level: "warn", msg: "upstream work height unreadable; ignored", fields: { source } });
  if (source === "push") s.lastPushAt = now;
  const w = r.work;
  const key = w.headerHash + w.seedHash + w.target.toString(16) + ":" + (w.height ?? "");
  if (key === s.workKey) return;
  s.workKey = key;
  s.work = w;
  out.push({ kind: "work", ...w });
}

/** Starts a session: eth_submitLogin and eth_getWork pipelined (the pool answers in order). */
export function openUpstream(opts: EthProxyUpstreamOptions, now: number): { state: EthProxyUpstreamState; out: EthProxyUpstreamOut[] } {
  const s: EthProxyUpstreamState = {
    opts,
    phase: "handshake",
    nextId: 1,
    pending: new Map(),
    openedAt: now,
    lastMessageAt: now,
    lastPushAt: now,
    lastPollAt: now,
    workKey: "",
    work: undefined,
  };
  const out: EthProxyUpstreamOut[] = [];
  send(s, { what: "login", sentAt: now }, "eth_submitLogin", [opts.user, opts.password], out, opts.worker);
  send(s, { what: "getwork", sentAt: now }, "eth_getWork", [], out);
  return { state: s, out };
}

function onResult(s: EthProxyUpstreamState, id: number, p: Pending, result: unknown, error: unknown, now: number, out: EthProxyUpstreamOut[]): void {
  s.pending.delete(id);
  switch (p.what) {
    case "login":
      if (result !== true || (error !== null && error !== undefined)) {
        return fail(s, `eth_submitLogin refused: ${JSON.stringify(error ?? result).slice(0, 200)}`, out);
      }
      if (s.phase === "handshake") {
        s.phase = "ready";
        out.push({ kind: "ready" });
      }
      return;
    case "getwork":
      // open-ethereum-pool answers {code: 0, "Work not ready"} while its node syncs: wait for a push or the next poll.
      if (error !== null && error !== undefined) {
        out.push({ kind: "log", level: "info", msg: "upstream has no work yet", fields: { error: JSON.stringify(error).slice(0, 200) } });
        return;
      }
      return onWork(s, result, "poll", now, out);
    case "hashrate":
      if (result !== true) out.push({ kind: "log", level: "debug", msg: "upstream refused eth_submitHashrate", fields: { answer: JSON.stringify(error ?? result).slice(0, 200) } });
      return;
    case "submit": {
      const latencyMs = now - p.sentAt;
      let verdict: UpstreamVerdict;
      if (error !== null && error !== undefined) verdict = verdictFromError(error);
      else if (result === true) verdict = { kind: "accepted" };
      // open-ethereum-pool answers a stale or invalid share with a bare false: the pool's verdict, without a code.
      else verdict = { kind: "rejected", reason: "upstream_rejected", code: undefined, message: result === false ? "result false" : `unexpected result ${JSON.stringify(result)}`.slice(0, 200) };
      out.push({ kind: "verdict", ctx: p.ctx, verdict, latencyMs });
      return;
    }
  }
}

/** One line from the pool. */
export function upstreamReceive(s: EthProxyUpstreamState, msg: RpcMessage | RpcParseError, now: number): EthProxyUpstreamOut[] {
  const out: EthProxyUpstreamOut[] = [];
  if (s.phase === "failed") return out;
  s.lastMessageAt = now;
  if (msg.kind === "invalid") {
    out.push({ kind: "log", level: "warn", msg: "unreadable line from upstream", fields: { detail: msg.detail } });
    return out;
  }
  if (msg.kind === "response") {
    const p = typeof msg.id === "number" ? s.pending.get(msg.id) : undefined;
    if (p !== undefined) onResult(s, msg.id as number, p, msg.result, msg.error, now, out);
    // New work is pushed as an answer to no request: id 0 (open-ethereum-pool, Claymore) or null.
    else if ((msg.id === 0 || msg.id === null) && Array.isArray(msg.result)) onWork(s, msg.result, "push", now, out);
    else out.push({ kind: "log", level: "debug", msg: "upstream answered an unknown request id", fields: { id: msg.id } });
    return out;
  }
  // Some proxies push the same package as a mining.notify request (ethminer reads both shapes as one).
  if (msg.method === "mining.notify") {
    onWork(s, msg.params, "push", now, out);
    return out;
  }
  // A request we do not know deserves an answer (a pool waiting on it would stall); a notification none.
  if (msg.id !== null) out.push({ kind: "write", data: encodeEthReason(msg.id, "unsupported_method", msg.method.slice(0, 64)) });
  else out.push({ kind: "log", level: "debug", msg: "upstream sent an unknown notification", fields: { method: msg.method.slice(0, 64) } });
  return out;
}

export interface EthProxyUpstreamSubmit {
  /** "0x" + 16 hex digits. */
  nonce: string;
  /** "0x" + 64 hex digits: the work's header hash. */
  headerHash: string;
  /** "0x" + 64 hex digits. */
  mixDigest: string;
}

/** Forward one share as eth_submitWork; its verdict comes back as a `verdict` output carrying `ctx`. */
export function upstreamSubmit(s: EthProxyUpstreamState, sub: EthProxyUpstreamSubmit, ctx: unknown, now: number): EthProxyUpstreamOut[] {
  const out: EthProxyUpstreamOut[] = [];
  if (s.phase !== "ready") {
    out.push({ kind: "verdict", ctx, verdict: { kind: "lost" }, latencyMs: 0 });
    return out;
  }
  const nonce = normalizeHexField(sub.nonce, 16);
  const headerHash = normalizeHexField(sub.headerHash, 64);
  const mixDigest = normalizeHexField(sub.mixDigest, 64);
  if (nonce === undefined || headerHash === undefined || mixDigest === undefined) {
    // Our own bug, not the pool's verdict: never put a line on the wire the pool would count against us.
    out.push({ kind: "verdict", ctx, verdict: { kind: "rejected", reason: "malformed", code: undefined, message: "nonce, header hash or mix digest is not hex of the right length" }, latencyMs: 0 });
    return out;
  }
  send(s, { what: "submit", sentAt: now, ctx }, "eth_submitWork", [nonce, headerHash, mixDigest], out, s.opts.worker);
  return out;
}

/**
 * Forward a hashrate report (eth_submitHashrate [hashrate quantity, client id]); the pool's answer only
 * ever produces a debug log. Nothing is sent before login or for a quantity that is not 0x hex below 2^64.
 */
export function upstreamHashrate(s: EthProxyUpstreamState, hashrateHex: string, id: string, now: number): EthProxyUpstreamOut[] {
  const out: EthProxyUpstreamOut[] = [];
  if (s.phase !== "ready") return out;
  if (parseHashrateQuantity(hashrateHex) === undefined || typeof id !== "string" || id.length > 128) {
    out.push({ kind: "log", level: "warn", msg: "hashrate report not forwarded: unusable quantity or id", fields: { hashrate: String(hashrateHex).slice(0, 80) } });
    return out;
  }
  send(s, { what: "hashrate", sentAt: now }, "eth_submitHashrate", [hashrateHex, id], out);
  return out;
}

/** Periodic: login timeout, submit timeouts, and the eth_getWork poll for pools that only answer polls. */
export function upstreamTick(s: EthProxyUpstreamState, now: number): EthProxyUpstreamOut[] {
  const out: EthProxyUpstreamOut[] = [];
  if (s.phase === "failed") return out;
  if (s.phase === "handshake" && now - s.openedAt >= s.opts.handshakeTimeoutMs) {
    fail(s, `no eth_submitLogin answer within ${s.opts.handshakeTimeoutMs} ms`, out);
    return out;
  }
  let polling = false;
  expireSubmits(s.pending, now, s.opts.submitTimeoutMs, out as VerdictOut[]);
  for (const [id, p] of s.pending) {
    const age = now - p.sentAt;
    if (p.what === "submit") continue; // expired above
    if (p.what !== "login" && age >= s.opts.submitTimeoutMs) {
      // An unanswered poll or hashrate report: forget it so the next poll can go out.
      s.pending.delete(id);
      if (p.what === "getwork") out.push({ kind: "log", level: "debug", msg: "upstream did not answer eth_getWork", fields: { ageMs: age } });
    } else if (p.what === "getwork") polling = true;
  }
  const p = s.opts.pollIntervalMs;
  if (s.phase === "ready" && p > 0 && !polling && now - Math.max(s.lastPushAt, s.lastPollAt) >= p) {
    s.lastPollAt = now;
    send(s, { what: "getwork", sentAt: now }, "eth_getWork", [], out);
  }
  return out;
}

/** The connection is gone: every share still waiting is `lost` (never counted accepted). */
export function upstreamClosed(s: EthProxyUpstreamState): EthProxyUpstreamOut[] {
  s.phase = "failed";
  return loseSubmits(s.pending);
}

/** A snapshot for status pages and logs: phase, shares waiting, the work in force. */
export function describeUpstreamEthProxy(s: EthProxyUpstreamState): {
  dialect: "eth-proxy";
  phase: EthProxyUpstreamState["phase"];
  pendingSubmits: number;
  headerHash: string | undefined;
  height: number | undefined;
  lastMessageAt: number;
} {
  const n = countSubmits(s.pending);
  return { dialect: "eth-proxy", phase: s.phase, pendingSubmits: n, headerHash: s.work?.headerHash, height: s.work?.height, lastMessageAt: s.lastMessageAt };
}
