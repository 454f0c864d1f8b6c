// HTTP getwork for Ethereum miners (open-ethereum-pool's proxy endpoint): POST / and POST /:login/:worker carry eth-proxy JSON-RPC; sessions kept per login+worker and shared by every port that mounts them; no listening.
import type { Hono } from "hono";
import type { Action, ShareRecord } from "../../protocols/core/actions.ts";
import { ethProxy, type EthProxyState } from "../../protocols/eth-proxy/session.ts";
import { parseLine } from "../../protocols/jsonrpc/envelope.ts";
import { encodeEthReason } from "../../protocols/eth-proxy/errors.ts";
import type { EthPool } from "../pools/eth_pool.ts";
import type { ShareSink } from "../store/share_sink.ts";

/** Defaults of config getwork.maxBodyBytes and getwork.maxSessions. */
export const DEFAULT_GETWORK_LIMITS = { maxBodyBytes: 16384, maxSessions: 10_000 };

export type GetworkAbuse = Extract<Action, { kind: "abuse" }>["what"];

/**
 * Who sent a request, when the port knows (a Stratum port does; the HTTP port behind a proxy only
 * has X-Forwarded-For). Shares and abuse the request produced are appended for the caller's ban
 * guard. Passed as hono's env binding `getworkCaller`.
 */
export interface GetworkCaller {
  remote: string;
  shares: ShareRecord[];
  abuse: GetworkAbuse[];
}

/** The sessions and the one request path every getwork port uses. */
export interface Getwork {
  readonly maxBodyBytes: number;
  /** Run one JSON-RPC body for URL login/worker; resolves with the response line. */
  answer(login: string, worker: string, body: string, caller: GetworkCaller): Promise<string>;
}

/**
 * Each (login, worker) gets one eth-proxy session, as if it held a connection: the same reducer
 * answers, so HTTP and TCP miners see identical results, difficulties and error codes. The URL's
 * login/worker stand in for eth_submitLogin. Sessions idle longest are forgotten past maxSessions.
 */
export function createGetwork(pool: EthPool, clock: { now(): number }, limits: Partial<typeof DEFAULT_GETWORK_LIMITS> = {}, shares?: ShareSink): Getwork {
  const { maxBodyBytes, maxSessions } = { ...DEFAULT_GETWORK_LIMITS, ...limits };
  const sessions = new Map<string, EthProxyState>();

  function session(login: string, worker: string): EthProxyState {
    const key = `${login}/${worker}`;
    let s = sessions.get(key);
    if (s !== undefined) {
      sessions.delete(key); // re-insert: Map order is recency
      sessions.set(key, s);
      return s;
    }
    pool.env.now = clock.now();
    s = ethProxy.open({ remoteAddress: "http", extranonce1: "" }, pool.env);
    if (login !== "") {
      const out: Action[] = [];
      const params = worker === "" ? [login] : [`${login}.${worker}`];
      ethProxy.receive(s, parseLine(JSON.stringify({ id: 0, method: "eth_submitLogin", params })), pool.env, out);
    } else {
      // Plain "POST /" (ethminer's getwork mode, solo mining): no login to give, work anyway.
      s.loggedIn = true;
      s.worker = "http";
    }
    // HTTP miners poll; pushes have nowhere to go.
    s.wantsPush = false;
    sessions.set(key, s);
    if (sessions.size > maxSessions) sessions.delete(sessions.keys().next().value!);
    return s;
  }

  /** Run one JSON-RPC request through the session; resolves with the response line (verify actions awaited). */
  async function handle(s: EthProxyState, body: string, caller: GetworkCaller): Promise<string> {
    pool.env.now = clock.now();
    const out: Action[] = [];
    const msg = parseLine(body);
    // The URL's login was refused (not 0x + 40 hex): say so on every call, not "Not subscribed".
    if (!s.loggedIn && msg.kind === "request" && msg.method !== "eth_submitLogin") return encodeEthReason(msg.id, "unauthorized", "login in the URL must be 0x + 40 hex").trim();
    ethProxy.receive(s, msg, pool.env, out);
    s.wantsPush = false;
    let text = "";
    let stored: Promise<void>[] | undefined;
    for (let i = 0; i < out.length; i++) {
      const a = out[i]!;
      if (a.kind === "write") text += typeof a.data === "string" ? a.data : new TextDecoder().decode(a.data);
      else if (a.kind === "share") {
        pool.onShare(a.share, caller.remote);
        caller.shares.push(a.share);
        const w = shares?.put(a.share, pool.name, caller.remote);
        if (w !== undefined) (stored ??= []).push(w);
      } else if (a.kind === "abuse") caller.abuse.push(a.what);
      else if (a.kind === "block") pool.onBlock(a.block, caller.remote);
      else if (a.kind === "verify") {
        const res = await pool.verify(a.request);
        pool.env.now = clock.now();
        ethProxy.verified!(s, a.request, res, pool.env, out);
      } else if (a.kind === "forward") {
        // Relay mode: the POST is answered with the upstream pool's verdict.
        const res = pool.forward === undefined
          ? { verdict: "unconfirmed" as const, reason: "upstream_unavailable" as const, message: "this pool has no upstream" }
          : await pool.forward(a.request).catch((e) => ({ verdict: "unconfirmed" as const, reason: "upstream_unavailable" as const, message: String(e) }));
        pool.env.now = clock.now();
        ethProxy.forwarded!(s, a.request, res, pool.env, out);
      }
    }
    // A login-less or closed HTTP "session" is never closed: the next POST starts over.
    s.closing = false;
    // The answer waits until the share sink stored its shares; a failure throws (a 500, never "accepted").
    if (stored !== undefined) await Promise.all(stored);
    return text.trim() || JSON.stringify({ id: null, jsonrpc: "2.0", result: null, error: { code: -1, message: "No answer" } });
  }

  return {
    maxBodyBytes,
    answer: (login, worker, body, caller) => handle(session(login, worker), body, caller),
  };
}

type RouteCtx = {
  env: unknown;
  req: { text(): Promise<string>; header(n: string): string | undefined };
  body: (b: string, s: number, h: Record<string, string>) => Response;
};

/** The caller a Stratum port bound to the request, or one made from X-Forwarded-For (HTTP port). */
function callerOf(c: RouteCtx): GetworkCaller {
  const bound = (c.env as { getworkCaller?: GetworkCaller } | undefined)?.getworkCaller;
  return bound ?? { remote: c.req.header("x-forwarded-for") ?? "http", shares: [], abuse: [] };
}

/** The getwork routes on an app; mounted with the same Getwork on the HTTP port and the Stratum ports' app. */
export function mountGetworkRoutes(app: Hono, gw: Getwork): void {
  const tooLarge = (c: RouteCtx) => c.body(JSON.stringify({ id: null, jsonrpc: "2.0", error: { code: -1, message: "Request too large" } }), 413, { "content-type": "application/json" });
  const route = async (c: RouteCtx, login: string, worker: string) => {
    const len = Number(c.req.header("content-length") ?? "0");
    if (len > gw.maxBodyBytes) return tooLarge(c);
    const body = await c.req.text();
    if (body.length > gw.maxBodyBytes) return tooLarge(c);
    const line = await gw.answer(login, worker, body, callerOf(c));
    return c.body(line, 200, { "content-type": "application/json" });
  };

  app.post("/", (c) => route(c as never, "", ""));
  // /api/* belongs to the JSON API (e.g. POST /api/bans, absent without an admin token): never getwork.
  app.post("/:login/:worker", (c) => {
    if (c.req.param("login") === "api") return new Response(JSON.stringify({ error: "not found" }), { status: 404, headers: { "content-type": "application/json" } });
    return route(c as never, c.req.param("login"), c.req.param("worker"));
  });
}

/** Sessions of their own plus the routes (tests, and callers that mount getwork on one app only). */
export function mountGetwork(app: Hono, pool: EthPool, clock: { now(): number }, limits?: Partial<typeof DEFAULT_GETWORK_LIMITS>): Getwork {
  const gw = createGetwork(pool, clock, limits);
  mountGetworkRoutes(app, gw);
  return gw;
}
