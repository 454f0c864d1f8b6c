// HTTP getwork on a Stratum port: tells HTTP from line dialects by the first bytes, frames requests, answers them in order through the HttpPort, keep-alive and its limits; the framer is protocols/http, the getwork semantics src/http.
import type { CloseReason } from "../../protocols/core/actions.ts";
import { detectHttpRequest } from "../../protocols/http/detect.ts";
import { initRequestParser, parseRequestBytes, type HttpRequest } from "../../protocols/http/parse_request.ts";
import { CONTINUE_RESPONSE, encodeErrorResponse, encodeResponse } from "../../protocols/http/encode_response.ts";
import type { Clock } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { ConnGuard } from "./guard.ts";
import type { Conn, HttpAnswer, HttpConn, HttpPort, ServerLimits } from "./types.ts";

/** What the HTTP side needs of its connection core; built once per server. */
export interface HttpDeps {
  http: HttpPort;
  guard: ConnGuard | undefined;
  clock: Clock;
  log: Logger;
  limits: ServerLimits;
  closeConn(c: Conn, reason: CloseReason, flush: boolean): void;
}

type QueueError = { status: number; message: string };
const isRequest = (x: HttpRequest | QueueError): x is HttpRequest => "method" in x;

/** The first bytes of a connection on a port with HTTP getwork, before it is known which kind it is. */
export const NOT_SNIFFED = new Uint8Array(0);

/**
 * Adds a chunk to the bytes seen so far and decides: an HTTP request line makes `c.http` an HTTP
 * connection, anything else leaves it undefined (line dialects). Returns every byte received so far
 * once decided, for the chosen path; undefined while still undecided (at most 8 bytes are held).
 */
export function sniffFirstBytes(d: HttpDeps, c: Conn, chunk: Uint8Array): Uint8Array | undefined {
  const prev = c.http as Uint8Array;
  let bytes = chunk;
  if (prev.length > 0) {
    bytes = new Uint8Array(prev.length + chunk.length);
    bytes.set(prev);
    bytes.set(chunk, prev.length);
  }
  const v = detectHttpRequest(bytes);
  if (v === "undecided") {
    // A copy: the runtime may reuse its read buffer.
    c.http = bytes === chunk ? new Uint8Array(chunk) : bytes;
    return undefined;
  }
  c.http = v === "http" ? openHttpConn(d) : undefined;
  return bytes;
}

function openHttpConn(d: HttpDeps): HttpConn {
  const l = d.http.limits;
  return {
    parser: initRequestParser({ maxHeaderBytes: l.maxHeaderBytes, maxBodyBytes: l.maxBodyBytes }),
    queue: [],
    busy: false,
    served: 0,
    deadline: d.clock.now() + l.keepAliveMs,
  };
}

/** Bytes for an HTTP connection: complete requests are queued (each takes a message-rate token) and answered in order. */
export function pushHttpBytes(d: HttpDeps, c: Conn, chunk: Uint8Array): void {
  const h = c.http as HttpConn;
  const last = h.queue[h.queue.length - 1];
  if (last !== undefined && !isRequest(last)) return; // the connection ends with an error already queued
  const r = parseRequestBytes(h.parser, chunk);
  const now = d.clock.now();
  let flooded = false;
  for (const req of r.requests) {
    if (c.limiter !== undefined && !c.limiter.take(now)) {
      h.queue.push({ status: 429, message: "Rate limited" });
      flooded = true;
      break;
    }
    h.queue.push(req);
  }
  if (r.error !== undefined && !flooded) h.queue.push(r.error);
  // An interim 100 only when no earlier answer is still to come (it would land inside that answer's place).
  if (r.expectsContinue && !h.busy && h.queue.length === 0) c.sock.write(CONTINUE_RESPONSE);
  void pump(d, c, h);
}

/** Periodic: close an HTTP connection that has no complete request within keepAliveMs (408 when one was half sent). */
export function tickHttpConn(d: HttpDeps, c: Conn, now: number): void {
  const h = c.http as HttpConn;
  if (h.busy || h.queue.length > 0 || now < h.deadline) return;
  if (h.parser.carryLen > 0 || h.parser.pending !== undefined) c.sock.write(encodeErrorResponse(408, "Request not completed in time"));
  d.closeConn(c, "idle_timeout", true);
}

function closeReasonFor(status: number): CloseReason {
  return status === 413 || status === 431 ? "line_too_long" : status === 429 ? "flood" : "malformed";
}

async function answer(d: HttpDeps, c: Conn, req: HttpRequest): Promise<HttpAnswer> {
  try {
    return await d.http.handle(req, c.addr);
  } catch (e) {
    d.log.error("http getwork error", { remote: c.addr, error: String(e instanceof Error ? e.stack : e) });
    return { status: 500, headers: [["content-type", "application/json"]], body: new TextEncoder().encode('{"error":"internal error"}'), shares: [], abuse: [] };
  }
}

/** Answers queued requests one at a time, in order; the ban guard hears of each answer's shares and abuse after it is written. */
async function pump(d: HttpDeps, c: Conn, h: HttpConn): Promise<void> {
  if (h.busy) return;
  h.busy = true;
  try {
    while (!c.closing && h.queue.length > 0) {
      const item = h.queue.shift()!;
      if (!isRequest(item)) {
        c.sock.write(encodeErrorResponse(item.status, item.message));
        d.closeConn(c, closeReasonFor(item.status), true);
        const now = d.clock.now();
        if (item.status === 429) d.guard?.flood(c.addr, now);
        else if (item.status === 413 || item.status === 431) d.guard?.oversize(c.addr, now);
        else d.guard?.malformed(c.addr, now);
        return;
      }
      h.served++;
      const keepAlive = item.keepAlive && h.served < d.http.limits.maxRequestsPerConnection;
      const ans = await answer(d, c, item);
      if (c.closing) return;
      c.sock.write(encodeResponse(ans, { keepAlive, omitBody: item.method === "HEAD" }));
      const now = d.clock.now();
      h.deadline = now + d.http.limits.keepAliveMs;
      for (const s of ans.shares) d.guard?.share(c.addr, s, now);
      for (const a of ans.abuse) {
        if (a === "malformed") d.guard?.malformed(c.addr, now);
        else d.guard?.loginFailed(c.addr, now);
      }
      if (c.closing) return; // banned by what it just did (the answer is out)
      if (!keepAlive) return d.closeConn(c, "http_done", true);
      if (c.sock.buffered > d.limits.maxWriteBufferBytes) return d.closeConn(c, "write_overflow", false);
    }
  } catch (e) {
    // Nothing here should throw; if it does, this connection goes, never the process.
    d.log.error("http connection error", { remote: c.addr, error: String(e instanceof Error ? e.stack : e) });
    d.closeConn(c, "malformed", false);
  } finally {
    h.busy = false;
  }
}
