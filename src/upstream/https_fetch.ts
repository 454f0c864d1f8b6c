// A fetch for node JSON-RPC over https:// through the runtime's TLS connect (so tls.ca / tls.pin / tls.insecure hold the same on Bun and Deno): one HTTP/1.1 request per connection; no keep-alive, no redirects, no streaming.
import type { Runtime, TlsConnectOptions } from "../runtime/types.ts";

/** What the node clients pass (bitcoind_rpc.ts, ethnode/wire.ts). */
export interface FetchInit {
  method?: string;
  headers?: Record<string, string> | Headers | [string, string][];
  body?: unknown;
  signal?: AbortSignal | null;
}
export type UpstreamFetch = (url: string, init: FetchInit) => Promise<Response>;

/** getblocktemplate of a full block with its transactions is a few MB; 64 MiB bounds a broken or hostile endpoint. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const enc = new TextEncoder();
const dec = new TextDecoder();

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

function indexOfCrlfCrlf(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  return -1;
}

/** Chunked transfer coding → body; undefined while incomplete. */
function dechunk(b: Uint8Array): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let total = 0;
  let at = 0;
  for (;;) {
    let eol = at;
    while (eol + 1 < b.length && !(b[eol] === 13 && b[eol + 1] === 10)) eol++;
    if (eol + 1 >= b.length) return undefined;
    const size = Number.parseInt(dec.decode(b.subarray(at, eol)).split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error("bad chunk size in the HTTP response");
    at = eol + 2;
    if (size === 0) return concat(parts, total);
    if (at + size + 2 > b.length) return undefined;
    parts.push(b.subarray(at, at + size));
    total += size;
    at += size + 2;
  }
}

function headerRecord(h: FetchInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === undefined) return out;
  if (h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) for (const [k, v] of h) out[k.toLowerCase()] = v;
  else for (const [k, v] of Object.entries(h)) out[k.toLowerCase()] = v;
  return out;
}

/** One request over a fresh TLS connection (`Connection: close`); rejects on TLS refusal, abort, or a malformed answer. */
export function httpsRequest(runtime: Runtime, rawUrl: string, init: FetchInit, tls: TlsConnectOptions): Promise<Response> {
  const url = new URL(rawUrl);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port !== "" ? Number(url.port) : 443;
  const body = init.body === undefined || init.body === null ? new Uint8Array(0) : enc.encode(String(init.body));
  const headers = headerRecord(init.headers);
  if (url.username !== "" && headers.authorization === undefined) headers.authorization = `Basic ${btoa(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`)}`;
  const head =
    `${init.method ?? "GET"} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\nconnection: close\r\ncontent-length: ${body.byteLength}\r\n` +
    Object.entries(headers).filter(([k]) => k !== "host" && k !== "connection" && k !== "content-length").map(([k, v]) => `${k}: ${v}\r\n`).join("") +
    "\r\n";

  return new Promise<Response>((resolve, reject) => {
    const signal = init.signal ?? undefined;
    const parts: Uint8Array[] = [];
    let total = 0;
    let sock: { destroy(): void } | undefined;
    let done = false;
    let parsed: { status: number; statusText: string; headers: Headers; bodyAt: number; length: number | undefined; chunked: boolean } | undefined;

    const finish = (err: Error | undefined, res?: Response) => {
      if (done) return;
      done = true;
      signal?.removeEventListener("abort", onAbort);
      sock?.destroy();
      if (err !== undefined) reject(err);
      else resolve(res!);
    };
    const onAbort = () => finish(new DOMException("The operation was aborted.", "AbortError"));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });

    const respond = (b: Uint8Array) => finish(undefined, new Response(b.slice() as unknown as BodyInit, { status: parsed!.status, statusText: parsed!.statusText, headers: parsed!.headers }));

    /** Tries to complete the response from what arrived; `ended`: the server closed. */
    const progress = (ended: boolean) => {
      if (done) return;
      if (parsed === undefined) {
        const all = concat(parts, total);
        parts.length = 0;
        parts.push(all);
        const end = indexOfCrlfCrlf(all);
        if (end < 0) return ended ? finish(new Error("connection closed before the HTTP response headers")) : undefined;
        const lines = dec.decode(all.subarray(0, end)).split("\r\n");
        const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0]!);
        if (m === null) return finish(new Error(`not an HTTP response: ${lines[0]!.slice(0, 60)}`));
        const h = new Headers();
        for (const l of lines.slice(1)) {
          const c = l.indexOf(":");
          if (c > 0) h.append(l.slice(0, c).trim(), l.slice(c + 1).trim());
        }
        const len = h.get("content-length");
        parsed = { status: Number(m[1]), statusText: m[2]!, headers: h, bodyAt: end + 4, length: len !== null ? Number(len) : undefined, chunked: /chunked/i.test(h.get("transfer-encoding") ?? "") };
      }
      const p = parsed;
      if (p.length !== undefined && !p.chunked) {
        if (total >= p.bodyAt + p.length) return respond(concat(parts, total).subarray(p.bodyAt, p.bodyAt + p.length));
        return ended ? finish(new Error("connection closed in the middle of the HTTP response body")) : undefined;
      }
      if (p.chunked) {
        const last = parts[parts.length - 1]!;
        // Cheap test first: the last chunk ends with "0\r\n\r\n" once the body is complete (no trailers from nodes).
        if (!ended && !(last.byteLength >= 5 && dec.decode(last.subarray(last.byteLength - 5)) === "0\r\n\r\n")) return;
        try {
          const b = dechunk(concat(parts, total).subarray(p.bodyAt));
          if (b !== undefined) return respond(b);
        } catch (e) {
          return finish(e as Error);
        }
        return ended ? finish(new Error("connection closed in the middle of a chunked HTTP response")) : undefined;
      }
      if (ended) respond(concat(parts, total).subarray(p.bodyAt));
    };

    runtime
      .connect(host, port, {
        open() {},
        data(_s, chunk) {
          if (done) return;
          parts.push(chunk);
          total += chunk.byteLength;
          if (total > MAX_RESPONSE_BYTES) return finish(new Error(`HTTP response larger than ${MAX_RESPONSE_BYTES} bytes`));
          progress(false);
        },
        close() {
          progress(true);
          finish(new Error("connection closed"));
        },
      }, { tls })
      .then((s) => {
        if (done) return s.destroy();
        sock = s;
        s.write(enc.encode(head));
        if (body.byteLength > 0) s.write(body);
      }, (e) => finish(e instanceof Error ? e : new Error(String(e))));
  });
}

/**
 * The fetch a node source uses: https:// URLs whose origin has TLS settings go through httpsRequest,
 * everything else through the runtime's global fetch (plain http:// to a local node).
 */
export function upstreamFetch(runtime: Runtime, tlsByOrigin: ReadonlyMap<string, TlsConnectOptions>): UpstreamFetch {
  return (url, init) => {
    const tls = url.startsWith("https:") ? tlsByOrigin.get(new URL(url).origin) : undefined;
    if (tls !== undefined) return httpsRequest(runtime, url, init, tls);
    return fetch(url, init as RequestInit);
  };
}
