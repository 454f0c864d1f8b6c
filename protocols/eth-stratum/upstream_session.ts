// EthereumStratum/1.0.0 (NiceHash) client session towards an upstream pool (relay mode): subscribe/authorize, extranonce, difficulty, jobs, submits and verdicts, timeouts by injected time; performs no I/O.
import type { RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import { encodeRequest, encodeResult } from "../jsonrpc/envelope.ts";
import { difficultyToTarget } from "../pow/target.ts";
import { normalizeHexField } from "../eth-proxy/client_to_server.ts";
import { toFiniteNumber } from "../stratum-v1/client_to_server.ts";
import { parseServerMessage } from "../stratum-v1/server_messages.ts";
import { countSubmits, expireSubmits, loseSubmits, verdictFromError, type UpstreamVerdict, type VerdictOut } from "../core/upstream.ts";
import { encodeEthStratumReason } from "./errors.ts";
import { ETH_STRATUM_PROTOCOL } from "./server_to_client.ts";
import { NONCE_HEX_DIGITS } from "./nonce.ts";

export interface EthStratumUpstreamOptions {
  user: string;
  password: string;
  /** mining.subscribe params[0] ("MinerName/1.0.0"). */
  agent: string;
  /** Subscribe + authorize must complete within this time. */
  handshakeTimeoutMs: number;
  /** A submitted share without a verdict after this time is answered `timeout`. */
  submitTimeoutMs: number;
}

export type EthStratumUpstreamOut =
  | { kind: "write"; data: string }
  /** Subscribed and authorized: shares may be submitted. The miner side owns the nonce bytes after `extranonce`. */
  | { kind: "ready"; extranonce: string; sessionId: string }
  /** A job with the share target in force for it (the last set_difficulty before it); hashes "0x" + 64 lowercase hex. */
  | { kind: "job"; jobId: string; seedHash: string; headerHash: string; clean: boolean; target: bigint; difficulty: number }
  | { kind: "difficulty"; difficulty: number; target: bigint }
  | { kind: "extranonce"; extranonce: string }
  | { kind: "verdict"; ctx: unknown; verdict: UpstreamVerdict; latencyMs: number }
  | { kind: "reconnect"; host?: string; port?: number; waitSeconds?: number }
  | { kind: "message"; text: string }
  /** The session cannot go on (refused subscribe or login, handshake timeout): close the connection. */
  | { kind: "failed"; why: string }
  | { kind: "log"; level: "debug" | "info" | "warn"; msg: string; fields?: Record<string, unknown> };

type Pending =
  | { what: "subscribe" | "authorize" | "extranonce_subscribe"; sentAt: number }
  | { what: "submit"; sentAt: number; ctx: unknown };

export interface EthStratumUpstreamState {
  opts: EthStratumUpstreamOptions;
  phase: "handshake" | "ready" | "failed";
  nextId: number;
  pending: Map<number, Pending>;
  openedAt: number;
  lastMessageAt: number;
  subscribed: boolean;
  authorized: boolean;
  /** Lowercase hex, no 0x: the nonce prefix the pool owns. */
  extranonce: string;
  sessionId: string;
  /** Difficulty (and its target) of the next job: set_difficulty applies to jobs notified after it. */
  difficulty: number;
  target: bigint;
}

/**
 * A pool extranonce may be 0..7 bytes: the NiceHash spec keeps servers at ≤ 3 (our own server does), but
 * pools that split work further hand out more, and a relay must follow as long as the miner keeps ≥ 1 byte.
 */
const MAX_UPSTREAM_EXTRANONCE_BYTES = 7;
const HEX_RE = /^[0-9a-fA-F]*$/;

function parseExtranonce(x: unknown): string | undefined {
  if (typeof x !== "string" || (x.length & 1) !== 0 || x.length > 2 * MAX_UPSTREAM_EXTRANONCE_BYTES || !HEX_RE.test(x)) return undefined;
  return x.toLowerCase();
}

function send(s: EthStratumUpstreamState, p: Pending, method: string, params: unknown[], out: EthStratumUpstreamOut[]): void {
  const id = s.nextId++;
  s.pending.set(id, p);
  out.push({ kind: "write", data: encodeRequest(id, method, params) });
}

function fail(s: EthStratumUpstreamState, why: string, out: EthStratumUpstreamOut[]): void {
  if (s.phase === "failed") return;
  s.phase = "failed";
  out.push({ kind: "failed", why });
}

/** Starts a session: subscribe and authorize pipelined (NiceHash spec, sections I–II). */
export function openUpstream(opts: EthStratumUpstreamOptions, now: number): { state: EthStratumUpstreamState; out: EthStratumUpstreamOut[] } {
  const s: EthStratumUpstreamState = {
    opts,
    phase: "handshake",
    nextId: 1,
    pending: new Map(),
    openedAt: now,
    lastMessageAt: now,
    subscribed: false,
    authorized: false,
    extranonce: "",
    sessionId: "",
    difficulty: 1,
    // The same difficulty → target conversion the eth-stratum server applies (NiceHash diff 1 = 0xffff·2^208).
    target: difficultyToTarget(1),
  };
  const out: EthStratumUpstreamOut[] = [];
  send(s, { what: "subscribe", sentAt: now }, "mining.subscribe", [opts.agent, ETH_STRATUM_PROTOCOL], out);
  send(s, { what: "authorize", sentAt: now }, "mining.authorize", [opts.user, opts.password], out);
  return { state: s, out };
}

function maybeReady(s: EthStratumUpstreamState, out: EthStratumUpstreamOut[]): void {
  if (s.phase !== "handshake" || !s.subscribed || !s.authorized) return;
  s.phase = "ready";
  out.push({ kind: "ready", extranonce: s.extranonce, sessionId: s.sessionId });
}

/** [["mining.notify", sessionId, "EthereumStratum/1.0.0"], extranonce] → its parts, or a text saying what is wrong. */
function parseSubscribe(result: unknown): { sessionId: string; extranonce: string } | string {
  if (!Array.isArray(result) || result.length < 2) return "result must be [[\"mining.notify\", id, protocol], extranonce]";
  const tuple = result[0];
  if (!Array.isArray(tuple) || tuple[0] !== "mining.notify") return "first element must be the mining.notify tuple";
  // A Stratum v1 pool answers without the protocol (or with a different one): not this dialect.
  if (tuple[2] !== ETH_STRATUM_PROTOCOL) return `pool does not speak ${ETH_STRATUM_PROTOCOL}`;
  const extranonce = parseExtranonce(result[1]);
  if (extranonce === undefined) return `extranonce must be 0..${MAX_UPSTREAM_EXTRANONCE_BYTES} bytes of hex`;
  return { sessionId: typeof tuple[1] === "string" ? tuple[1] : "", extranonce };
}

function onResult(s: EthStratumUpstreamState, id: number, p: Pending, result: unknown, error: unknown, now: number, out: EthStratumUpstreamOut[]): void {
  s.pending.delete(id);
  const refused = error !== null && error !== undefined;
  switch (p.what) {
    case "subscribe": {
      const sub = refused ? `refused: ${JSON.stringify(error).slice(0, 200)}` : parseSubscribe(result);
      if (typeof sub === "string") return fail(s, `mining.subscribe: ${sub}`, out);
      s.subscribed = true;
      s.extranonce = sub.extranonce;
      s.sessionId = sub.sessionId;
      // NiceHash pools move miners between extranonces only to those who asked (spec, mining.set_extranonce).
      send(s, { what: "extranonce_subscribe", sentAt: now }, "mining.extranonce.subscribe", [], out);
      return maybeReady(s, out);
    }
    case "authorize":
      if (result !== true || refused) return fail(s, `mining.authorize refused: ${JSON.stringify(error ?? result).slice(0, 200)}`, out);
      s.authorized = true;
      return maybeReady(s, out);
    case "extranonce_subscribe":
      // Optional for the pool: without it the extranonce simply never changes.
      if (result !== true) out.push({ kind: "log", level: "debug", msg: "upstream declined mining.extranonce.subscribe", fields: { answer: JSON.stringify(error ?? result).slice(0, 200) } });
      return;
    case "submit": {
      const latencyMs = now - p.sentAt;
      let verdict: UpstreamVerdict;
      if (refused) verdict = verdictFromError(error);
      else if (result === true) verdict = { kind: "accepted" };
      else verdict = { kind: "rejected", reason: "upstream_rejected", code: undefined, message: result === false ? "result false" : `unexpected result ${JSON.stringify(result)}`.slice(0, 200) };
      out.push({ kind: "verdict", ctx: p.ctx, verdict, latencyMs });
      return;
    }
  }
}

function bad(method: string, detail: string, out: EthStratumUpstreamOut[]): void {
  out.push({ kind: "log", level: "warn", msg: "upstream sent unusable params", fields: { method, detail } });
}

function onNotify(s: EthStratumUpstreamState, params: unknown, out: EthStratumUpstreamOut[]): void {
  // NiceHash spec, section III: [jobId, seedHash, headerHash, clean], hashes without 0x (a prefix is tolerated).
  if (!Array.isArray(params) || params.length < 4) return bad("mining.notify", "expected [jobId, seedHash, headerHash, clean]", out);
  const [jobId, seed, header, clean] = params;
  if (typeof jobId !== "string" || jobId.length === 0 || jobId.length > 128) return bad("mining.notify", "job id must be a string of 1..128 chars", out);
  const seedHash = normalizeHexField(seed, 64);
  if (seedHash === undefined) return bad("mining.notify", "seed hash must be 32 bytes of hex", out);
  const headerHash = normalizeHexField(header, 64);
  if (headerHash === undefined) return bad("mining.notify", "header hash must be 32 bytes of hex", out);
  if (typeof clean !== "boolean") return bad("mining.notify", "clean must be a boolean", out);
  out.push({ kind: "job", jobId, seedHash, headerHash, clean, target: s.target, difficulty: s.difficulty });
}

/** One line from the pool. */
export function upstreamReceive(s: EthStratumUpstreamState, msg: RpcMessage | RpcParseError, now: number): EthStratumUpstreamOut[] {
  const out: EthStratumUpstreamOut[] = [];
  if (s.phase === "failed") return out;
  s.lastMessageAt = now;
  if (msg.kind === "invalid") {
    out.push({ kind: "log", level: "warn", msg: "unreadable line from upstream", fields: { detail: msg.detail } });
    return out;
  }
  if (msg.kind === "response") {
    const p = typeof msg.id === "number" ? s.pending.get(msg.id) : undefined;
    if (p === undefined) out.push({ kind: "log", level: "debug", msg: "upstream answered an unknown request id", fields: { id: msg.id } });
    else onResult(s, msg.id as number, p, msg.result, msg.error, now, out);
    return out;
  }
  const params = Array.isArray(msg.params) ? msg.params : undefined;
  switch (msg.method) {
    case "mining.notify":
      onNotify(s, params, out);
      return out;
    case "mining.set_difficulty": {
      const d = toFiniteNumber(params?.[0]);
      if (d === undefined || !(d > 0)) {
        bad(msg.method, "difficulty must be a finite number > 0", out);
        return out;
      }
      s.difficulty = d;
      s.target = difficultyToTarget(d);
      out.push({ kind: "difficulty", difficulty: d, target: s.target });
      return out;
    }
    case "mining.set_extranonce": {
      // One param here, unlike Stratum v1's [en1, en2_size].
      const en = parseExtranonce(params?.[0]);
      if (en === undefined) {
        bad(msg.method, `extranonce must be 0..${MAX_UPSTREAM_EXTRANONCE_BYTES} bytes of hex`, out);
        return out;
      }
      s.extranonce = en;
      out.push({ kind: "extranonce", extranonce: en });
      return out;
    }
  }
  // client.* and mining.ping read exactly as in Stratum v1: one parser for both dialects.
  const m = parseServerMessage(msg);
  switch (m.type) {
    case "reconnect":
      out.push({ kind: "reconnect", ...(m.host ? { host: m.host } : {}), ...(m.port !== undefined ? { port: m.port } : {}), ...(m.waitSeconds !== undefined ? { waitSeconds: m.waitSeconds } : {}) });
      break;
    case "show_message":
      out.push({ kind: "message", text: m.text.slice(0, 500) });
      break;
    case "ping":
      if (m.id !== null) out.push({ kind: "write", data: encodeResult(m.id, "pong") });
      break;
    case "get_version":
      if (m.id !== null) out.push({ kind: "write", data: encodeResult(m.id, s.opts.agent) });
      break;
    case "invalid":
      bad(m.method, m.detail, out);
      break;
    default:
      // A request we do not know deserves an answer (a pool waiting on it would stall); a notification none.
      if (msg.id !== null) out.push({ kind: "write", data: encodeEthStratumReason(msg.id, "unsupported_method", msg.method.slice(0, 64)) });
      else out.push({ kind: "log", level: "debug", msg: "upstream sent an unknown notification", fields: { method: msg.method.slice(0, 64) } });
  }
  return out;
}

export interface EthStratumUpstreamSubmit {
  worker: string;
  jobId: string;
  /** The full 8-byte nonce, 16 hex digits without 0x, starting with the pool's extranonce. */
  nonce: string;
}

function rejectLocally(ctx: unknown, message: string, out: EthStratumUpstreamOut[]): EthStratumUpstreamOut[] {
  out.push({ kind: "verdict", ctx, verdict: { kind: "rejected", reason: "upstream_rejected", code: undefined, message }, latencyMs: 0 });
  return out;
}

/**
 * Forward one share as mining.submit [worker, jobId, minerNonce], the nonce with the pool's extranonce
 * removed; its verdict comes back as a `verdict` output carrying `ctx`. A nonce outside the pool's
 * extranonce (mined before a set_extranonce) is refused here: the pool could only call it invalid.
 */
export function upstreamSubmit(s: EthStratumUpstreamState, sub: EthStratumUpstreamSubmit, ctx: unknown, now: number): EthStratumUpstreamOut[] {
  const out: EthStratumUpstreamOut[] = [];
  if (s.phase !== "ready") {
    out.push({ kind: "verdict", ctx, verdict: { kind: "lost" }, latencyMs: 0 });
    return out;
  }
  const nonce = normalizeHexField(sub.nonce, NONCE_HEX_DIGITS)?.slice(2);
  if (nonce === undefined) return rejectLocally(ctx, "nonce must be 8 bytes of hex", out);
  if (!nonce.startsWith(s.extranonce)) return rejectLocally(ctx, "nonce outside the pool's extranonce", out);
  send(s, { what: "submit", sentAt: now, ctx }, "mining.submit", [sub.worker, sub.jobId, nonce.slice(s.extranonce.length)], out);
  return out;
}

/** Periodic: handshake and submit timeouts. */
export function upstreamTick(s: EthStratumUpstreamState, now: number): EthStratumUpstreamOut[] {
  const out: EthStratumUpstreamOut[] = [];
  if (s.phase === "failed") return out;
  if (s.phase === "handshake" && now - s.openedAt >= s.opts.handshakeTimeoutMs) {
    fail(s, `no subscribe/authorize answer within ${s.opts.handshakeTimeoutMs} ms`, out);
    return out;
  }
  expireSubmits(s.pending, now, s.opts.submitTimeoutMs, out as VerdictOut[]);
  for (const [id, p] of s.pending) {
    const age = now - p.sentAt;
    if (p.what === "submit") continue; // expired above
    if (p.what === "extranonce_subscribe" && age >= s.opts.handshakeTimeoutMs) {
      // Pools that ignore the method never answer it: forget it rather than hold it for the connection's life.
      s.pending.delete(id);
    }
  }
  return out;
}

/** The connection is gone: every share still waiting is `lost` (never counted accepted). */
export function upstreamClosed(s: EthStratumUpstreamState): EthStratumUpstreamOut[] {
  s.phase = "failed";
  return loseSubmits(s.pending);
}

/** A snapshot for status pages and logs: phase, shares waiting, extranonce and difficulty in force. */
export function describeUpstreamEthStratum(s: EthStratumUpstreamState): {
  dialect: "eth-stratum";
  phase: EthStratumUpstreamState["phase"];
  pendingSubmits: number;
  extranonce: string;
  difficulty: number;
  lastMessageAt: number;
} {
  const n = countSubmits(s.pending);
  return { dialect: "eth-stratum", phase: s.phase, pendingSubmits: n, extranonce: s.extranonce, difficulty: s.difficulty, lastMessageAt: s.lastMessageAt };
}
