// JSON-RPC 1.0 client for Bitcoin Core-family nodes (Basic auth, cookie re-read on 401, timeouts) and the getblocktemplate → BlockTemplate mapping; no polling or failover.
import * as z from "zod/mini";
import { en } from "zod/locales";
import type { BlockTemplate } from "../../protocols/bitcoin/template.ts";
import type { Clock } from "../runtime/types.ts";
import { mwebProblem } from "../../protocols/stratum-v1/job.ts";

/** The part of `fetch` used here; the global fetch of Bun, Deno and Node fits, tests pass a fake. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface BitcoindNode {
  /** e.g. http://127.0.0.1:8332/ ; credentials in the URL are moved to the Authorization header (fetch refuses them). */
  url: string;
  user?: string;
  password?: string;
  /** Path of the node's .cookie file ("__cookie__:secret"), read at first use and again on every 401. */
  cookieFile?: string;
  /** Lower is preferred (like MX preference); ties keep config order. Default: the position in the list. */
  priority?: number;
}

/**
 * Every way a call can fail. "transport": no JSON-RPC answer (refused, reset, timeout, not JSON, HTTP 5xx
 * without a body). "auth": HTTP 401/403 even after re-reading the cookie. "rpc": the node answered with an
 * error object. "aborted": the caller cancelled.
 */
export type RpcError =
  | { kind: "transport"; message: string; timeout?: boolean }
  | { kind: "auth"; status: number; message: string }
  | { kind: "rpc"; code: number; message: string }
  | { kind: "aborted"; message: string };

export type RpcResult<T = unknown> = { ok: true; value: T } | { ok: false; error: RpcError };

export interface RpcClient {
  /** URL without credentials, safe to log. */
  readonly label: string;
  call(method: string, params: unknown[], o?: { timeoutMs?: number; signal?: AbortSignal }): Promise<RpcResult>;
}

export interface RpcClientOptions {
  fetch: FetchLike;
  clock: Clock;
  readText?: (path: string) => string | undefined;
  /** Default per-call timeout. */
  timeoutMs: number;
}

export function describeRpcError(e: RpcError): string {
  if (e.kind === "rpc") return `rpc error ${e.code}: ${e.message}`;
  if (e.kind === "auth") return `auth failed (HTTP ${e.status}): ${e.message}`;
  return `${e.kind}: ${e.message}`;
}

function basic(user: string, password: string): string {
  return `Basic ${btoa(`${user}:${password}`)}`;
}

/** Splits user:password@ out of the URL: WHATWG fetch rejects URLs with credentials. */
function splitUrl(raw: string): { url: string; user?: string; password?: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return { url: raw };
  }
  if (!u.username && !u.password) return { url: u.toString() };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return { url: u.toString(), user, password };
}

export function createRpcClient(node: BitcoindNode, opts: RpcClientOptions): RpcClient {
  const { url, user: urlUser, password: urlPassword } = splitUrl(node.url);
  const user = node.user ?? urlUser;
  const password = node.password ?? urlPassword;
  if (node.cookieFile !== undefined && opts.readText === undefined) {
    throw new Error(`bitcoind ${url}: cookieFile given but no readText to read it`);
  }
  let cookieAuth: string | undefined;
  let nextId = 1;

  /** Explicit user/password win over the cookie; the cookie is cached until a 401 says it changed (node restart). */
  function auth(reread: boolean): string | undefined {
    if (user !== undefined && password !== undefined) return basic(user, password);
    if (node.cookieFile === undefined || opts.readText === undefined) return undefined;
    if (cookieAuth === undefined || reread) {
      const text = opts.readText(node.cookieFile)?.trim();
      const colon = text?.indexOf(":") ?? -1;
      cookieAuth = text && colon > 0 ? basic(text.slice(0, colon), text.slice(colon + 1)) : undefined;
    }
    return cookieAuth;
  }

  async function once(
    method: string,
    params: unknown[],
    authHeader: string | undefined,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<RpcResult | { status401: number }> {
    const ctl = new AbortController();
    let timedOut = false;
    const timer = opts.clock.setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, timeoutMs);
    const onAbort = () => ctl.abort();
    if (signal) {
      if (signal.aborted) ctl.abort();
      else signal.addEventListener("abort", onAbort, { once: true });
    }
    const id = nextId++;
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (authHeader) headers.authorization = authHeader;
    try {
      const res = await opts.fetch(url, {
        method: "POST",
        headers,
        body: JSON.stringify({ jsonrpc: "1.0", id, method, params }),
        signal: ctl.signal,
      });
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel().catch(() => {});
        return { status401: res.status };
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        // Bitcoin Core answers 503 "Work queue depth exceeded" and proxies answer HTML: both are transport trouble.
        return { ok: false, error: { kind: "transport", message: `HTTP ${res.status}: ${text.slice(0, 120) || "(empty body)"}` } };
      }
      // JSON-RPC 1.0 in Core: RPC errors come with HTTP 500/404 and a JSON body, so the body decides, not the status.
      const env = body as { result?: unknown; error?: { code?: unknown; message?: unknown } | null };
      if (env && typeof env === "object" && env.error != null) {
        const code = typeof env.error.code === "number" ? env.error.code : -32603;
        const message = typeof env.error.message === "string" ? env.error.message : JSON.stringify(env.error);
        return { ok: false, error: { kind: "rpc", code, message } };
      }
      if (!env || typeof env !== "object" || !("result" in env)) {
        return { ok: false, error: { kind: "transport", message: `HTTP ${res.status}: not a JSON-RPC response` } };
      }
      return { ok: true, value: env.result };
    } catch (e) {
      if (timedOut) return { ok: false, error: { kind: "transport", message: `timeout after ${timeoutMs} ms`, timeout: true } };
      if (signal?.aborted) return { ok: false, error: { kind: "aborted", message: "cancelled" } };
      return { ok: false, error: { kind: "transport", message: e instanceof Error ? e.message : String(e) } };
    } finally {
      opts.clock.clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    }
  }

  return {
    label: url,
    async call(method, params, o) {
      const timeoutMs = o?.timeoutMs ?? opts.timeoutMs;
      let r = await once(method, params, auth(false), timeoutMs, o?.signal);
      // One immediate retry on a connection failure (not a timeout): Core closes idle keep-alive sockets
      // (-rpcservertimeout, 30 s) and a pooled socket closed under us must not count as the node going down.
      if (!("status401" in r) && !r.ok && r.error.kind === "transport" && !r.error.timeout && !r.error.message.startsWith("HTTP ")) {
        r = await once(method, params, auth(false), timeoutMs, o?.signal);
      }
      // The node rewrites .cookie with a new secret on every restart: one re-read, then give up.
      if ("status401" in r && node.cookieFile !== undefined && !(user !== undefined && password !== undefined)) {
        r = await once(method, params, auth(true), timeoutMs, o?.signal);
      }
      if ("status401" in r) {
        const how = user !== undefined ? "rpcuser/rpcpassword" : node.cookieFile !== undefined ? `cookie ${node.cookieFile}` : "no credentials";
        return { ok: false, error: { kind: "auth", status: r.status401, message: `rejected (${how})` } };
      }
      return r;
    },
  };
}

// --- getblocktemplate (BIP22/23/9/141) ---

// A refused template's message quotes zod's English text ("Invalid input: expected string, received
// number"); zod/mini loads no locale by itself (classic zod did), so English is set here.
z.config(en());

const hex = z.string().check(z.regex(/^(?:[0-9a-fA-F]{2})*$/));
const hash32 = z.string().check(z.regex(/^[0-9a-fA-F]{64}$/));
const u32 = z.int().check(z.minimum(0), z.maximum(0xffffffff));

const GbtSchema = z.object({
  version: u32,
  previousblockhash: hash32,
  transactions: z.array(z.object({ data: hex.check(z.minLength(2)), txid: hash32, hash: z.optional(hash32) })),
  coinbaseaux: z.optional(z.looseObject({ flags: z.optional(hex) })),
  coinbasevalue: z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)),
  longpollid: z.optional(z.string()),
  curtime: u32,
  bits: z.string().check(z.regex(/^[0-9a-fA-F]{8}$/)),
  height: z.int().check(z.minimum(0)),
  rules: z.optional(z.array(z.string())),
  default_witness_commitment: z.optional(hex.check(z.minLength(2))),
  mweb: z.optional(z.string()),
});

export type ParsedTemplate = { ok: true; template: BlockTemplate; longpollid?: string } | { ok: false; message: string };

/**
 * Maps a getblocktemplate result into BlockTemplate. Refuses templates this relay cannot turn into valid blocks:
 * a "!rule" (BIP9: the client must understand it) not among `rules`, and inconsistent Litecoin MWEB parts
 * (a non-empty "mweb" needs the HogEx as the last transaction and no HogEx elsewhere; see mwebProblem).
 * An active MWEB is carried as BlockTemplate.mweb; assembleBlock appends it after the transactions.
 */
export function parseTemplate(raw: unknown, rules: readonly string[]): ParsedTemplate {
  const r = GbtSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    return { ok: false, message: `bad getblocktemplate result: ${i ? `${i.path.join(".")}: ${i.message}` : "schema"}` };
  }
  const g = r.data;
  for (const rule of g.rules ?? []) {
    if (rule.startsWith("!") && !rules.includes(rule.slice(1))) {
      return { ok: false, message: `template requires rule '${rule.slice(1)}' which is not configured` };
    }
  }
  const template: BlockTemplate = {
    height: g.height,
    version: g.version,
    previousBlockHash: g.previousblockhash.toLowerCase(),
    bits: g.bits.toLowerCase(),
    curtime: g.curtime,
    coinbaseValue: BigInt(g.coinbasevalue),
    // "txid" (not "hash", the wtxid) is what the block's merkle tree is built from (BIP141).
    transactions: g.transactions.map((t) => ({ data: t.data.toLowerCase(), txid: t.txid.toLowerCase() })),
  };
  if (g.default_witness_commitment !== undefined) template.witnessCommitment = g.default_witness_commitment.toLowerCase();
  const flags = g.coinbaseaux?.flags;
  if (flags !== undefined && flags.length > 0) template.coinbaseFlags = flags.toLowerCase();
  // Litecoin Core 0.21 sends "mweb" only once MWEB is active (absent before; "" treated as absent).
  if (g.mweb !== undefined && g.mweb.length > 0) template.mweb = g.mweb.toLowerCase();
  const mwebError = mwebProblem(template);
  if (mwebError !== undefined) return { ok: false, message: `template refused (MWEB): ${mwebError}` };
  return g.longpollid !== undefined ? { ok: true, template, longpollid: g.longpollid } : { ok: true, template };
}

/** Same work for miners? (curtime and longpollid ignored: a newer curtime alone is not worth a new job.) */
export function sameWork(a: BlockTemplate, b: BlockTemplate): boolean {
  if (
    a.previousBlockHash !== b.previousBlockHash ||
    a.height !== b.height ||
    a.version !== b.version ||
    a.bits !== b.bits ||
    a.coinbaseValue !== b.coinbaseValue ||
    a.witnessCommitment !== b.witnessCommitment ||
    a.coinbaseFlags !== b.coinbaseFlags ||
    a.transactions.length !== b.transactions.length
  ) {
    return false;
  }
  for (let i = 0; i < a.transactions.length; i++) if (a.transactions[i]?.txid !== b.transactions[i]?.txid) return false;
  return true;
}

/** Maps submitblock's answer (BIP22): null = accepted; "duplicate" = already has it; "inconclusive" = stored, not (yet) the tip. */
export function mapSubmitAnswer(value: unknown): { accepted: boolean; reason?: string } {
  if (value === null || value === undefined) return { accepted: true };
  if (value === "duplicate") return { accepted: true, reason: "duplicate" };
  // "duplicate-inconclusive": had it already, validity still unknown; "duplicate-invalid" (had it, invalid) falls through to rejected.
  if (value === "inconclusive" || value === "duplicate-inconclusive") return { accepted: true, reason: value };
  if (typeof value === "string") return { accepted: false, reason: value };
  return { accepted: false, reason: `unexpected answer ${JSON.stringify(value)}` };
}
