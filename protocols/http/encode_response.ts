// Encodes HTTP/1.1 responses (status line, safe headers, Content-Length, Connection) and the JSON error answers of the request framer; it parses nothing and decides no semantics.

export interface HttpResponse {
  status: number;
  /** End-to-end headers; hop-by-hop ones (Connection, Content-Length, Transfer-Encoding, Keep-Alive) are set here and dropped from this list. */
  headers: readonly (readonly [string, string])[];
  body: Uint8Array;
}

const REASON_PHRASES: Record<number, string> = {
  100: "Continue",
  200: "OK",
  204: "No Content",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  411: "Length Required",
  413: "Content Too Large",
  417: "Expectation Failed",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
  505: "HTTP Version Not Supported",
};

export function statusText(status: number): string {
  return REASON_PHRASES[status] ?? (status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error");
}

const HOP_BY_HOP = new Set(["connection", "content-length", "transfer-encoding", "keep-alive"]);
const encoder = new TextEncoder();

/** The interim answer to `Expect: 100-continue`. */
export const CONTINUE_RESPONSE: Uint8Array = encoder.encode("HTTP/1.1 100 Continue\r\n\r\n");

/**
 * One response as bytes. `omitBody` (HEAD) keeps Content-Length but sends no body. A header whose
 * name or value could break the framing (CR, LF, NUL, a name with spaces) is left out.
 */
export function encodeResponse(r: HttpResponse, o: { keepAlive: boolean; omitBody: boolean }): Uint8Array {
  let head = `HTTP/1.1 ${r.status} ${statusText(r.status)}\r\n`;
  for (const [name, value] of r.headers) {
    if (HOP_BY_HOP.has(name.toLowerCase()) || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || /[\r\n\0]/.test(value)) continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `Content-Length: ${r.body.length}\r\nConnection: ${o.keepAlive ? "keep-alive" : "close"}\r\n\r\n`;
  const h = encoder.encode(head);
  if (o.omitBody || r.body.length === 0) return h;
  const out = new Uint8Array(h.length + r.body.length);
  out.set(h);
  out.set(r.body, h.length);
  return out;
}

/** A JSON-RPC-shaped error answer (the body getwork miners parse) that closes the connection: framing errors, rate limits, timeouts. */
export function encodeErrorResponse(status: number, message: string): Uint8Array {
  const body = encoder.encode(JSON.stringify({ id: null, jsonrpc: "2.0", error: { code: -1, message } }));
  return encodeResponse({ status, headers: [["Content-Type", "application/json"]], body }, { keepAlive: false, omitBody: false });
}
