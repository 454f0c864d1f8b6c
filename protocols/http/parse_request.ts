// Push-based, capped HTTP/1.1 request framer: bytes in, complete requests (Content-Length bodies, keep-alive pipelining) or one framing error out; it routes nothing, writes no response and owns no socket.

/** Caps of one request: the request line plus headers (through the empty line), and the body. */
export interface RequestLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
}

export interface HttpRequest {
  method: string;
  /** The request-target as sent. */
  target: string;
  /** Origin-form path and query ("/x?y"), also for an absolute-form target; "*" for `OPTIONS *`. */
  path: string;
  version: "HTTP/1.0" | "HTTP/1.1";
  /** In arrival order; names in lower case, values without surrounding whitespace. */
  headers: [name: string, value: string][];
  body: Uint8Array;
  /** The client lets the connection stay open after the answer (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `keep-alive`). */
  keepAlive: boolean;
}

/** Why the bytes cannot be a request we serve; the connection cannot be read further after it. */
export interface FramingError {
  status: 400 | 411 | 413 | 417 | 431 | 505;
  message: string;
}

export interface RequestParseOutput {
  /** Requests completed by this push, in order. */
  requests: HttpRequest[];
  /** Set once, after the requests above; later pushes return nothing. */
  error?: FramingError;
  /** The request being received asked `Expect: 100-continue` and its body has not arrived: an interim 100 may be sent now (signalled once per request). */
  expectsContinue: boolean;
}

interface PendingHead {
  req: Omit<HttpRequest, "body">;
  bodyBytes: number;
  expectContinue: boolean;
}

/** The framer's whole state, plain fields (a connection holds one). */
export interface RequestParserState {
  limits: RequestLimits;
  carry: Uint8Array;
  carryLen: number;
  /** Bytes of the current head already searched for its end (so byte-by-byte pushes stay linear). */
  scanned: number;
  pending: PendingHead | undefined;
  continueSignalled: boolean;
  failed: boolean;
}

const LF = 10;
const CR = 13;
const EMPTY = new Uint8Array(0);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Longest Content-Length digit string read as a number (beyond it the body is too large anyway). */
const MAX_LENGTH_DIGITS = 15;

export function initRequestParser(limits: RequestLimits): RequestParserState {
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${k} must be a non-negative integer, got ${v}`);
  }
  return { limits: { ...limits }, carry: EMPTY, carryLen: 0, scanned: 0, pending: undefined, continueSignalled: false, failed: false };
}

/**
 * Push bytes, get the requests they complete. Empty lines before a request line are skipped
 * (RFC 9112 §2.2); lines may end in CRLF or LF. A request carries a body only by Content-Length;
 * Transfer-Encoding is refused (411). The header cap counts bytes from the request line through the
 * empty line that ends the headers, the body cap the Content-Length, so the outcome never depends on
 * how the stream was split into pushes; at most one partial request is kept between pushes.
 */
export function parseRequestBytes(st: RequestParserState, chunk: Uint8Array): RequestParseOutput {
  const out: RequestParseOutput = { requests: [], expectsContinue: false };
  if (st.failed || chunk.length === 0) return out;
  let buf: Uint8Array;
  let len: number;
  if (st.carryLen === 0) {
    buf = chunk;
    len = chunk.length;
  } else {
    appendCarry(st, chunk);
    buf = st.carry;
    len = st.carryLen;
  }
  let pos = 0;
  const { maxHeaderBytes } = st.limits;
  for (;;) {
    if (st.pending === undefined) {
      // Blank lines between requests (some clients end a body with an extra CRLF).
      while (pos < len && (buf[pos] === LF || (buf[pos] === CR && pos + 1 < len && buf[pos + 1] === LF))) pos += buf[pos] === CR ? 2 : 1;
      if (pos >= len || (buf[pos] === CR && pos + 1 === len)) break;
      const end = findHeadEnd(buf, pos + Math.max(0, st.scanned - 2), len);
      if (end < 0) {
        if (len - pos > maxHeaderBytes) return fail(st, out, 431, `Request header fields too large (over ${maxHeaderBytes} bytes)`);
        st.scanned = len - pos;
        break;
      }
      if (end - pos > maxHeaderBytes) return fail(st, out, 431, `Request header fields too large (over ${maxHeaderBytes} bytes)`);
      const head = parseHead(latin1(buf, pos, end), st.limits);
      if ("status" in head) return fail(st, out, head.status, head.message);
      st.pending = head;
      st.scanned = 0;
      pos = end;
    }
    const p = st.pending;
    if (len - pos < p.bodyBytes) {
      if (p.expectContinue && !st.continueSignalled) {
        st.continueSignalled = true;
        out.expectsContinue = true;
      }
      break;
    }
    // A copy (new Uint8Array(view)): a Node Buffer's slice() would share the caller's memory.
    out.requests.push({ ...p.req, body: new Uint8Array(buf.subarray(pos, pos + p.bodyBytes)) });
    pos += p.bodyBytes;
    st.pending = undefined;
    st.continueSignalled = false;
  }
  keepRest(st, buf, pos, len);
  return out;
}

function fail(st: RequestParserState, out: RequestParseOutput, status: FramingError["status"], message: string): RequestParseOutput {
  st.failed = true;
  st.carry = EMPTY;
  st.carryLen = 0;
  st.pending = undefined;
  out.error = { status, message };
  return out;
}

function appendCarry(st: RequestParserState, chunk: Uint8Array): void {
  const need = st.carryLen + chunk.length;
  if (need > st.carry.length) {
    const next = new Uint8Array(Math.max(need, 512, st.carry.length * 2));
    next.set(st.carry.subarray(0, st.carryLen));
    st.carry = next;
  }
  st.carry.set(chunk, st.carryLen);
  st.carryLen = need;
}

/** Keeps bytes [pos, len) for the next push (a copy: the chunk belongs to the caller). */
function keepRest(st: RequestParserState, buf: Uint8Array, pos: number, len: number): void {
  const rest = len - pos;
  if (rest === 0) {
    st.carry = EMPTY;
    st.carryLen = 0;
    return;
  }
  if (buf === st.carry) {
    if (pos > 0) st.carry.copyWithin(0, pos, len);
  } else {
    st.carry = new Uint8Array(buf.subarray(pos, len));
  }
  st.carryLen = rest;
}

/** Index just past the empty line ending a head (LF LF or LF CR LF), searched from `from`; -1 if not there yet. */
function findHeadEnd(buf: Uint8Array, from: number, len: number): number {
  for (let i = buf.indexOf(LF, from); i >= 0 && i < len; i = buf.indexOf(LF, i + 1)) {
    if (i + 1 < len && buf[i + 1] === LF) return i + 2;
    if (i + 2 < len && buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** Bytes as ISO-8859-1 text, one char per byte (TextDecoder's "latin1" is windows-1252, which would remap 0x80-0x9f). */
function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i += 4096) s += String.fromCharCode(...buf.subarray(i, Math.min(to, i + 4096)));
  return s;
}

function bad(message: string, status: FramingError["status"] = 400): FramingError {
  return { status, message };
}

/** Control characters other than HTAB (a CR or LF inside a field would split it). */
function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

function pathOf(method: string, target: string): string | undefined {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 35 /* # */) return undefined;
  }
  if (target.startsWith("/")) return target;
  if (target === "*") return method === "OPTIONS" ? "*" : undefined;
  const abs = /^https?:\/\/[^/?]+(.*)$/i.exec(target);
  if (abs === null) return undefined;
  const rest = abs[1]!;
  return rest === "" ? "/" : rest.startsWith("?") ? "/" + rest : rest;
}

function parseHead(text: string, limits: RequestLimits): PendingHead | FramingError {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) if (lines[i]!.endsWith("\r")) lines[i] = lines[i]!.slice(0, -1);
  const parts = lines[0]!.split(" ");
  if (parts.length !== 3) return bad("Malformed request line (expected METHOD SP target SP HTTP/1.1)");
  const [method, target, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) return bad("Malformed request line: bad method");
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
    return /^HTTP\/\d\.\d$/.test(version) ? bad(`${version} is not supported (HTTP/1.0 and HTTP/1.1 are)`, 505) : bad("Malformed request line: bad HTTP version");
  }
  const path = pathOf(method, target);
  if (path === undefined) return bad("Malformed request target");
  const headers: [string, string][] = [];
  const lengths: string[] = [];
  let connection = "";
  let expect: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") break;
    const c0 = line.charCodeAt(0);
    if (c0 === 32 || c0 === 9) return bad("Folded header lines are not accepted");
    const colon = line.indexOf(":");
    if (colon <= 0) return bad("Malformed header line (expected name: value)");
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return bad(`Malformed header name ${JSON.stringify(name.slice(0, 40))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (hasControl(value)) return bad(`Control character in header ${name}`);
    const lower = name.toLowerCase();
    headers.push([lower, value]);
    if (lower === "content-length") lengths.push(...value.split(",").map((v) => v.trim()));
    else if (lower === "transfer-encoding") return bad("Transfer-Encoding (chunked) is not supported: send the body with Content-Length", 411);
    else if (lower === "connection") connection += "," + value.toLowerCase();
    else if (lower === "expect") expect = value.toLowerCase();
  }
  let bodyBytes = 0;
  if (lengths.length > 0) {
    if (!lengths.every((v) => /^\d+$/.test(v))) return bad("Malformed Content-Length");
    const n = lengths.map((v) => (v.replace(/^0+(?=\d)/, "").length > MAX_LENGTH_DIGITS ? Infinity : Number(v)));
    if (!n.every((v) => v === n[0])) return bad("Conflicting Content-Length values");
    if (n[0]! > limits.maxBodyBytes) return bad(`Request body too large (over ${limits.maxBodyBytes} bytes)`, 413);
    bodyBytes = n[0]!;
  }
  if (expect !== undefined && expect !== "100-continue") return bad(`Expectation ${JSON.stringify(expect)} is not supported`, 417);
  const tokens = connection.split(",").map((t) => t.trim());
  const keepAlive = tokens.includes("close") ? false : version === "HTTP/1.1" || tokens.includes("keep-alive");
  return {
    req: { method, target, path, version, headers, keepAlive },
    bodyBytes,
    expectContinue: expect === "100-continue" && bodyBytes > 0,
  };
}
