// HTTP getwork for the Stratum ports: a hono app with only the getwork routes and the HTTP port's JSON fallbacks, and the dispatch of one framed request to it and back; no sockets, no framing.
import { Hono } from "hono";
import type { HttpRequest } from "../../protocols/http/parse_request.ts";
import type { HttpAnswer } from "../server/types.ts";
import { installJsonFallbacks } from "./app.ts";
import { mountGetworkRoutes, type Getwork, type GetworkCaller } from "./getwork.ts";

/** The same routes (and sessions, through `gw`) as the HTTP port's getwork, without /healthz, /metrics or /api. */
export function createGetworkApp(gw: Getwork): Hono {
  const app = new Hono();
  mountGetworkRoutes(app, gw);
  installJsonFallbacks(app);
  return app;
}

const encoder = new TextEncoder();

/** An answer made here (the request could not become a fetch Request): JSON-RPC error shape, as getwork's own. */
function plainAnswer(status: number, message: string): HttpAnswer {
  const body = encoder.encode(JSON.stringify({ id: null, jsonrpc: "2.0", error: { code: -1, message } }));
  return { status, headers: [["content-type", "application/json"]], body, shares: [], abuse: [] };
}

/**
 * A framed request → fetch Request → app.fetch (the caller, with the socket's address, bound as env
 * `getworkCaller`, so X-Forwarded-For from the miner is never trusted here) → plain answer data.
 * Never rejects: a request fetch cannot express is a 400, a failure a 500.
 */
export function createGetworkDispatch(app: Hono): (req: HttpRequest, remote: string) => Promise<HttpAnswer> {
  return async (req, remote) => {
    let request: Request;
    try {
      const headers = new Headers();
      for (const [k, v] of req.headers) headers.append(k, v);
      const withBody = req.method !== "GET" && req.method !== "HEAD";
      request = new Request(`http://stratum.invalid${req.path === "*" ? "/*" : req.path}`, {
        method: req.method,
        headers,
        ...(withBody ? { body: req.body as Uint8Array<ArrayBuffer> } : {}),
      });
    } catch (e) {
      return plainAnswer(400, `Bad request: ${e instanceof Error ? e.message : String(e)}`);
    }
    const caller: GetworkCaller = { remote, shares: [], abuse: [] };
    try {
      const res = await app.fetch(request, { getworkCaller: caller });
      const headers: [string, string][] = [];
      res.headers.forEach((v, k) => headers.push([k, v]));
      const body = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, headers, body, shares: caller.shares, abuse: caller.abuse };
    } catch {
      return { ...plainAnswer(500, "internal error"), shares: caller.shares, abuse: caller.abuse };
    }
  };
}
