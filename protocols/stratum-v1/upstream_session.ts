// Stratum v1 client session towards an upstream pool (relay mode): configure/subscribe/authorize, jobs, difficulty, extranonce, submits and their verdicts, timeouts by injected time; performs no I/O.
import type { JsonRpcId, RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import { encodeRequest, encodeResult } from "../jsonrpc/envelope.ts";
import { countSubmits, expireSubmits, loseSubmits, verdictFromError, type PendingRequest, type UpstreamVerdict, type VerdictOut } from "../core/upstream.ts";
import { parseServerMessage, parseSubscribeResult, type ServerMessage } from "./server_messages.ts";

export type UpstreamNotify = Extract<ServerMessage, { type: "notify" }>;

export interface UpstreamOptions {
  user: string;
  password: string;
  /** Sent as mining.subscribe params[0] (pools log it; some key vardiff on it). */
  agent: string;
  /** BIP310 mask to ask for with mining.configure; 0 = do not configure (no version rolling). */
  versionMask: number;
  /** Subscription id of an earlier session with this pool (cgminer-style resume of extranonce1). */
  resumeId?: string;
  /** mining.suggest_difficulty sent after authorize (0 = none). */
  suggestDifficulty: number;
  /** Subscribe + authorize must complete within this time. */
  handshakeTimeoutMs: number;
  /** A submitted share without a verdict after this time is answered `timeout`. */
  submitTimeoutMs: number;
}

export type { UpstreamVerdict } from "../core/upstream.ts";
export { UPSTREAM_CODE_REASONS, verdictFromError } from "../core/upstream.ts";

export type UpstreamOut =
  | { kind: "write"; data: string }
  /** Subscribed and authorized: shares may be submitted. */
  | { kind: "ready"; extranonce1: string; extranonce2Size: number; versionMask: number; subscriptionId: string }
  /** A job, with the share difficulty in force for it (the last set_difficulty before it). */
  | { kind: "job"; notify: UpstreamNotify; difficulty: number }
  | { kind: "extranonce"; extranonce1: string; extranonce2Size: number }
  | { kind: "difficulty"; difficulty: number }
  | { kind: "version_mask"; mask: number }
  | { kind: "verdict"; ctx: unknown; verdict: UpstreamVerdict; latencyMs: number }
  | { kind: "reconnect"; host?: string; port?: number; waitSeconds?: number }
  | { kind: "message"; text: string }
  /** The session cannot go on (refused login, broken handshake, timeout): close the connection. */
  | { kind: "failed"; why: string }
  | { kind: "log"; level: "debug" | "info" | "warn"; msg: string; fields?: Record<string, unknown> };

type Pending = PendingRequest<"configure" | "subscribe" | "authorize" | "suggest">;

export interface UpstreamState {
  opts: UpstreamOptions;
  phase: "handshake" | "ready" | "failed";
  nextId: number;
  pending: Map<number, Pending>;
  openedAt: number;
  lastMessageAt: number;
  configured: boolean;
  subscribed: boolean;
  authorized: boolean;
  extranonce1: string;
  extranonce2Size: number;
  subscriptionId: string;
  versionMask: number;
  /** Difficulty of the next job (set_difficulty applies to jobs notified after it, as ckpool and the slush docs have it). */
  difficulty: number;
}

function send(s: UpstreamState, what: Pending["what"], method: string, params: unknown[], now: number, out: UpstreamOut[], ctx?: unknown): void {
  const id = s.nextId++;
  s.pending.set(id, what === "submit" ? { what, sentAt: now, ctx } : { what: what as Exclude<Pending["what"], "submit">, sentAt: now });
  out.push({ kind: "write", data: encodeRequest(id, method, params) });
}

function fail(s: UpstreamState, why: string, out: UpstreamOut[]): void {
  if (s.phase === "failed") return;
  s.phase = "failed";
  out.push({ kind: "failed", why });
}

/** Starts a session: configure (when version rolling is wanted), subscribe and authorize, pipelined as cgminer does. */
export function openUpstream(opts: UpstreamOptions, now: number): { state: UpstreamState; out: UpstreamOut[] } {
  const s: UpstreamState = {
    opts,
    phase: "handshake",
    nextId: 1,
    pending: new Map(),
    openedAt: now,
    lastMessageAt: now,
    configured: opts.versionMask === 0,
    subscribed: false,
    authorized: false,
    extranonce1: "",
    extranonce2Size: 0,
    subscriptionId: "",
    versionMask: 0,
    difficulty: 1,
  };
  const out: UpstreamOut[] = [];
  if (opts.versionMask !== 0) {
    send(s, "configure", "mining.configure", [["version-rolling"], {
      "version-rolling.mask": opts.versionMask.toString(16).padStart(8, "0"),
      "version-rolling.min-bit-count": 2,
    }], now, out);
  }
  send(s, "subscribe", "mining.subscribe", opts.resumeId ? [opts.agent, opts.resumeId] : [opts.agent], now, out);
  send(s, "authorize", "mining.authorize", [opts.user, opts.password], now, out);
  return { state: s, out };
}

function maybeReady(s: UpstreamState, now: number, out: UpstreamOut[]): void {
  if (s.phase !== "handshake" || !s.subscribed || !s.authorized || !s.configured) return;
  s.phase = "ready";
  out.push({ kind: "ready", extranonce1: s.extranonce1, extranonce2Size: s.extranonce2Size, versionMask: s.versionMask, subscriptionId: s.subscriptionId });
  if (s.opts.suggestDifficulty > 0) send(s, "suggest", "mining.suggest_difficulty", [s.opts.suggestDifficulty], now, out);
}

function onResult(s: UpstreamState, id: JsonRpcId, result: unknown, error: unknown, now: number, out: UpstreamOut[]): void {
  const p = typeof id === "number" ? s.pending.get(id) : undefined;
  if (p === undefined) {
    out.push({ kind: "log", level: "debug", msg: "upstream answered an unknown request id", fields: { id } });
    return;
  }
  s.pending.delete(id as number);
  switch (p.what) {
    case "configure": {
      // A pool that does not know mining.configure answers an error: no version rolling, carry on.
      const r = result as Record<string, unknown> | null;
      if (error === null && r !== null && typeof r === "object" && r["version-rolling"] === true && typeof r["version-rolling.mask"] === "string") {
        const m = parseInt(r["version-rolling.mask"] as string, 16);
        s.versionMask = Number.isFinite(m) ? (m & s.opts.versionMask) >>> 0 : 0;
      }
      s.configured = true;
      return maybeReady(s, now, out);
    }
    case "subscribe": {
      const sub = error === null ? parseSubscribeResult(result) : undefined;
      if (sub === undefined) return fail(s, `mining.subscribe refused or unreadable: ${JSON.stringify(error ?? result).slice(0, 200)}`, out);
      s.subscribed = true;
      s.extranonce1 = sub.extranonce1.toLowerCase();
      s.extranonce2Size = sub.extranonce2Size;
      s.subscriptionId = sub.subscriptionId;
      return maybeReady(s, now, out);
    }
    case "authorize":
      if (result !== true) return fail(s, `mining.authorize refused: ${JSON.stringify(error ?? result).slice(0, 200)}`, out);
      s.authorized = true;
      return maybeReady(s, now, out);
    case "suggest":
      return;
    case "submit": {
      const latencyMs = now - p.sentAt;
      if (result === true) return void out.push({ kind: "verdict", ctx: p.ctx, verdict: { kind: "accepted" }, latencyMs });
      const verdict = error === null || error === undefined
        ? { kind: "rejected" as const, reason: "upstream_rejected" as const, code: undefined, message: "result false" }
        : verdictFromError(error);
      out.push({ kind: "verdict", ctx: p.ctx, verdict, latencyMs });
      return;
    }
  }
}

/** One line from the pool. */
export function upstreamReceive(s: UpstreamState, msg: RpcMessage | RpcParseError, now: number): UpstreamOut[] {
  const out: UpstreamOut[] = [];
  if (s.phase === "failed") return out;
  s.lastMessageAt = now;
  if (msg.kind === "invalid") {
    out.push({ kind: "log", level: "warn", msg: "unreadable line from upstream", fields: { detail: msg.detail } });
    return out;
  }
  const m = parseServerMessage(msg);
  switch (m.type) {
    case "result":
      onResult(s, m.id, m.result, m.error, now, out);
      break;
    case "notify":
      out.push({ kind: "job", notify: m, difficulty: s.difficulty });
      break;
    case "set_difficulty":
      s.difficulty = m.difficulty;
      out.push({ kind: "difficulty", difficulty: m.difficulty });
      break;
    case "set_extranonce":
      s.extranonce1 = m.extranonce1.toLowerCase();
      s.extranonce2Size = m.extranonce2Size;
      out.push({ kind: "extranonce", extranonce1: s.extranonce1, extranonce2Size: m.extranonce2Size });
      break;
    case "set_version_mask":
      s.versionMask = (m.mask & s.opts.versionMask) >>> 0;
      out.push({ kind: "version_mask", mask: s.versionMask });
      break;
    case "reconnect":
      out.push({ kind: "reconnect", ...(m.host ? { host: m.host } : {}), ...(m.port !== undefined ? { port: m.port } : {}), ...(m.waitSeconds !== undefined ? { waitSeconds: m.waitSeconds } : {}) });
      break;
    case "show_message":
      out.push({ kind: "message", text: m.text.slice(0, 500) });
      break;
    case "ping":
      out.push({ kind: "write", data: encodeResult(m.id, "pong") });
      break;
    case "get_version":
      out.push({ kind: "write", data: encodeResult(m.id, s.opts.agent) });
      break;
    case "unknown":
      // A request we do not know deserves an answer (a pool waiting on it would stall); a notification none.
      if (m.id !== null) out.push({ kind: "write", data: JSON.stringify({ id: m.id, result: null, error: [20, "Method not supported", null] }) + "\n" });
      break;
    case "invalid":
      out.push({ kind: "log", level: "warn", msg: "upstream sent unusable params", fields: { method: m.method, detail: m.detail } });
      break;
  }
  return out;
}

export interface UpstreamSubmit {
  worker: string;
  jobId: string;
  extranonce2: string;
  ntime: string;
  nonce: string;
  /** BIP310 rolled bits (version & mask) as 8 hex chars; absent without version rolling. */
  versionBits?: string;
}

/** Forward one share; its verdict comes back as a `verdict` output carrying `ctx`. */
export function upstreamSubmit(s: UpstreamState, sub: UpstreamSubmit, ctx: unknown, now: number): UpstreamOut[] {
  const out: UpstreamOut[] = [];
  if (s.phase !== "ready") {
    out.push({ kind: "verdict", ctx, verdict: { kind: "lost" }, latencyMs: 0 });
    return out;
  }
  const params = [sub.worker, sub.jobId, sub.extranonce2, sub.ntime, sub.nonce];
  if (sub.versionBits !== undefined) params.push(sub.versionBits);
  send(s, "submit", "mining.submit", params, now, out, ctx);
  return out;
}

/** Periodic: handshake and submit timeouts. */
export function upstreamTick(s: UpstreamState, now: number): UpstreamOut[] {
  const out: UpstreamOut[] = [];
  if (s.phase === "failed") return out;
  if (s.phase === "handshake" && now - s.openedAt >= s.opts.handshakeTimeoutMs) {
    fail(s, `no subscribe/authorize answer within ${s.opts.handshakeTimeoutMs} ms`, out);
    return out;
  }
  expireSubmits(s.pending, now, s.opts.submitTimeoutMs, out as VerdictOut[]);
  for (const [id, p] of s.pending) {
    if (p.what === "configure" && now - p.sentAt >= s.opts.handshakeTimeoutMs / 2) {
      // A pool that silently ignores mining.configure: go on without version rolling.
      s.pending.delete(id);
      s.configured = true;
      maybeReady(s, now, out);
    }
  }
  return out;
}

/** The connection is gone: every share still waiting is `lost` (never counted accepted). */
export function upstreamClosed(s: UpstreamState): UpstreamOut[] {
  s.phase = "failed";
  return loseSubmits(s.pending);
}

/** Shares still waiting for a verdict. */
export function pendingSubmits(s: UpstreamState): number {
  return countSubmits(s.pending);
}
