// Tests for the HTTP/1.1 request framer: whole, byte by byte and at random splits (same requests, same error), keep-alive, pipelining, every cap at its boundary, refusals and fuzzed input.
import { describe, expect, test } from "bun:test";
import { prng } from "../../support/prng.ts";
import { initRequestParser, parseRequestBytes, type FramingError, type HttpRequest, type RequestLimits } from "../../../protocols/http/parse_request.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const LIMITS: RequestLimits = { maxHeaderBytes: 512, maxBodyBytes: 256 };

interface Fed {
  requests: { method: string; path: string; version: string; keepAlive: boolean; headers: [string, string][]; body: string }[];
  error?: FramingError;
  continues: number;
}

function feed(chunks: Uint8Array[], limits = LIMITS): Fed {
  const st = initRequestParser(limits);
  const out: Fed = { requests: [], continues: 0 };
  for (const c of chunks) {
    const r = parseRequestBytes(st, c);
    for (const q of r.requests) out.requests.push(view(q));
    if (r.error !== undefined) {
      expect(out.error).toBeUndefined(); // reported once
      out.error = r.error;
    }
    if (r.expectsContinue) out.continues++;
  }
  return out;
}

const view = (q: HttpRequest) => ({ method: q.method, path: q.path, version: q.version, keepAlive: q.keepAlive, headers: q.headers, body: dec.decode(q.body) });
const whole = (s: string | Uint8Array, l = LIMITS) => feed([typeof s === "string" ? enc.encode(s) : s], l);
function bytewise(s: string | Uint8Array, l = LIMITS): Fed {
  const b = typeof s === "string" ? enc.encode(s) : s;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < b.length; i++) chunks.push(b.slice(i, i + 1));
  return feed(chunks, l);
}
function randomSplits(s: string | Uint8Array, seed: number, l = LIMITS): Fed {
  const b = typeof s === "string" ? enc.encode(s) : s;
  const rnd = prng(seed);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < b.length;) {
    const n = 1 + Math.floor(rnd() * 40);
    chunks.push(b.slice(i, i + n));
    i += n;
  }
  return feed(chunks, l);
}
/** Whole, byte by byte and 20 random splittings give the same requests and error; returns the whole result. */
function same(s: string | Uint8Array, l = LIMITS): Fed {
  const w = whole(s, l);
  const strip = (f: Fed) => ({ requests: f.requests, error: f.error });
  expect(strip(bytewise(s, l))).toEqual(strip(w));
  for (let seed = 1; seed <= 20; seed++) expect(strip(randomSplits(s, seed, l))).toEqual(strip(w));
  return w;
}

const BODY = '{"id":1,"jsonrpc":"2.0","method":"eth_getWork","params":[]}';
const post = (body = BODY, extra = "") => `POST / HTTP/1.1\r\nHost: pool\r\nContent-Type: application/json\r\nContent-Length: ${enc.encode(body).length}\r\n${extra}\r\n${body}`;

describe("complete requests", () => {
  test("a POST with a Content-Length body, whole and byte by byte", () => {
    const r = same(post());
    expect(r.error).toBeUndefined();
    expect(r.requests).toEqual([{
      method: "POST",
      path: "/",
      version: "HTTP/1.1",
      keepAlive: true,
      headers: [["host", "pool"], ["content-type", "application/json"], ["content-length", String(BODY.length)]],
      body: BODY,
    }]);
  });

  test("keep-alive pipelining: three requests in one stream come out in order, the last half-sent one waits", () => {
    const a = post('{"id":1}'), b = `GET /0xabc/rig1?x=1 HTTP/1.1\r\n\r\n`, c = post('{"id":3}');
    const r = same(a + b + c);
    expect(r.requests.map((q) => [q.method, q.path, q.body])).toEqual([["POST", "/", '{"id":1}'], ["GET", "/0xabc/rig1?x=1", ""], ["POST", "/", '{"id":3}']]);
    const st = initRequestParser(LIMITS);
    const cut = (a + b + c).length - 3;
    const first = parseRequestBytes(st, enc.encode((a + b + c).slice(0, cut)));
    expect(first.requests).toHaveLength(2);
    expect(st.carryLen).toBeGreaterThan(0);
    const rest = parseRequestBytes(st, enc.encode((a + b + c).slice(cut)));
    expect(rest.requests.map((q) => dec.decode(q.body))).toEqual(['{"id":3}']);
    expect(st.carryLen).toBe(0);
  });

  test("keep-alive rules: HTTP/1.1 by default, Connection: close ends it, HTTP/1.0 only with keep-alive", () => {
    const k = (s: string) => same(s).requests[0]!.keepAlive;
    expect(k("GET / HTTP/1.1\r\n\r\n")).toBe(true);
    expect(k("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n")).toBe(false);
    expect(k("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n")).toBe(false);
    expect(k("GET / HTTP/1.0\r\n\r\n")).toBe(false);
    expect(k("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")).toBe(true);
  });

  test("bare LF line ends, blank lines between requests, absolute-form and OPTIONS * targets", () => {
    const r = same("\r\n\nPOST /a HTTP/1.1\nContent-Length: 2\n\nhi\r\nGET http://pool:3333/0xab/w?q HTTP/1.1\n\nGET http://pool HTTP/1.1\n\nOPTIONS * HTTP/1.1\n\n");
    expect(r.error).toBeUndefined();
    expect(r.requests.map((q) => [q.method, q.path, q.body])).toEqual([["POST", "/a", "hi"], ["GET", "/0xab/w?q", ""], ["GET", "/", ""], ["OPTIONS", "*", ""]]);
  });

  test("header values keep inner spaces, lose surrounding ones; names are lower-cased; equal repeated Content-Length is one length", () => {
    const r = same("POST / HTTP/1.1\r\nX-Thing: \t a b \t\r\nContent-Length: 2, 2\r\ncontent-length: 2\r\n\r\nok");
    expect(r.requests[0]!.headers[0]).toEqual(["x-thing", "a b"]);
    expect(r.requests[0]!.body).toBe("ok");
  });

  test("the body is a copy: reusing the pushed buffer does not change an emitted request", () => {
    const st = initRequestParser(LIMITS);
    const bytes = enc.encode(post("abcd"));
    const r = parseRequestBytes(st, bytes);
    bytes.fill(0);
    expect(dec.decode(r.requests[0]!.body)).toBe("abcd");
    // Node/Deno sockets deliver Buffers, whose slice() is a view: neither the body nor the kept partial request may share them.
    const st2 = initRequestParser(LIMITS);
    const text = post("wxyz") + "POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
    const buf = Buffer.from(text);
    const first = parseRequestBytes(st2, buf);
    buf.fill(0);
    expect(dec.decode(first.requests[0]!.body)).toBe("wxyz");
    expect(parseRequestBytes(st2, Buffer.from("ok")).requests.map((q) => [q.method, dec.decode(q.body)])).toEqual([["POST", "ok"]]);
  });

  test("Expect: 100-continue is signalled once while the body is missing, and not when it came along", () => {
    const head = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    const st = initRequestParser(LIMITS);
    expect(parseRequestBytes(st, enc.encode(head)).expectsContinue).toBe(true);
    expect(parseRequestBytes(st, enc.encode("ab")).expectsContinue).toBe(false);
    const done = parseRequestBytes(st, enc.encode("cd"));
    expect(done.requests.map((q) => dec.decode(q.body))).toEqual(["abcd"]);
    expect(whole(head + "abcd").continues).toBe(0);
  });
});

describe("caps at their boundaries (identical whole and split)", () => {
  const headOf = (n: number) => {
    // A head of exactly n bytes through its closing CRLF.
    const base = "GET / HTTP/1.1\r\nX: \r\n\r\n";
    return "GET / HTTP/1.1\r\nX: " + "a".repeat(n - base.length) + "\r\n\r\n";
  };

  test("a head of exactly maxHeaderBytes is accepted; one byte more is 431", () => {
    expect(enc.encode(headOf(512)).length).toBe(512);
    expect(same(headOf(512)).requests).toHaveLength(1);
    expect(same(headOf(513)).error).toEqual({ status: 431, message: "Request header fields too large (over 512 bytes)" });
  });

  test("a head that never ends is refused once it passes the cap, without waiting for more", () => {
    const st = initRequestParser(LIMITS);
    expect(parseRequestBytes(st, enc.encode("GET / HTTP/1.1\r\nX: " + "a".repeat(400))).error).toBeUndefined();
    expect(parseRequestBytes(st, enc.encode("a".repeat(200))).error?.status).toBe(431);
    expect(st.carryLen).toBe(0); // nothing kept after the refusal
  });

  test("Content-Length of exactly maxBodyBytes is accepted; one more is 413 as soon as the head is in", () => {
    expect(same(post("b".repeat(256))).requests[0]!.body).toHaveLength(256);
    const st = initRequestParser(LIMITS);
    const r = parseRequestBytes(st, enc.encode("POST / HTTP/1.1\r\nContent-Length: 257\r\n\r\n"));
    expect(r.error).toEqual({ status: 413, message: "Request body too large (over 256 bytes)" });
    expect(same("POST / HTTP/1.1\r\nContent-Length: 0000000000000000000000000001\r\n\r\nx").requests[0]!.body).toBe("x");
    expect(same("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n").error?.status).toBe(413);
  });

  test("requests before an error in the same stream are still delivered; nothing after it", () => {
    const r = same(post("one") + "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + post("never"));
    expect(r.requests.map((q) => q.body)).toEqual(["one"]);
    expect(r.error?.status).toBe(411);
    const st = initRequestParser(LIMITS);
    parseRequestBytes(st, enc.encode("BAD\r\n\r\n"));
    expect(parseRequestBytes(st, enc.encode(post()))).toEqual({ requests: [], expectsContinue: false });
  });
});

describe("refusals", () => {
  const cases: [string, string, number][] = [
    ["chunked body", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411],
    ["Transfer-Encoding with Content-Length", "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: gzip\r\n\r\nabc", 411],
    ["no version", "GET /\r\n\r\n", 400],
    ["two spaces", "GET  / HTTP/1.1\r\n\r\n", 400],
    ["lower-case version", "GET / http/1.1\r\n\r\n", 400],
    ["HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", 505],
    ["bad method token", "G(T / HTTP/1.1\r\n\r\n", 400],
    ["relative target", "GET index.html HTTP/1.1\r\n\r\n", 400],
    ["fragment in target", "GET /#x HTTP/1.1\r\n\r\n", 400],
    ["non-ASCII target", "GET /\u00e9 HTTP/1.1\r\n\r\n", 400],
    ["* for GET", "GET * HTTP/1.1\r\n\r\n", 400],
    ["space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400],
    ["no colon", "GET / HTTP/1.1\r\nHost\r\n\r\n", 400],
    ["empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", 400],
    ["folded header", "GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n", 400],
    ["control character in a value", "GET / HTTP/1.1\r\nX: a\u0001b\r\n\r\n", 400],
    ["bare CR in a value", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400],
    ["Content-Length not a number", "POST / HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", 400],
    ["negative Content-Length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400],
    ["conflicting Content-Length", "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", 400],
    ["unknown expectation", "POST / HTTP/1.1\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx", 417],
  ];
  for (const [name, input, status] of cases) {
    test(`${name} → ${status} (whole and split)`, () => {
      const r = same(input);
      expect(r.requests).toEqual([]);
      expect(r.error?.status as number | undefined).toBe(status);
      expect(r.error?.message.length).toBeGreaterThan(5);
    });
  }
});

describe("fuzz", () => {
  test("random bytes and mutated requests never throw, stay split-independent, and keep at most one partial request", () => {
    const rnd = prng(15);
    const valid = enc.encode(post() + "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + post("{}"));
    for (let i = 0; i < 300; i++) {
      let b: Uint8Array;
      if (i % 3 === 0) {
        b = new Uint8Array(1 + Math.floor(rnd() * 900));
        for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      } else {
        b = valid.slice();
        for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) b[Math.floor(rnd() * b.length)] = [0, 10, 13, 32, 58, 48, 255, Math.floor(rnd() * 256)][Math.floor(rnd() * 8)]!;
      }
      const w = whole(b);
      expect({ requests: bytewise(b).requests, error: bytewise(b).error }).toEqual({ requests: w.requests, error: w.error });
      const st = initRequestParser(LIMITS);
      parseRequestBytes(st, b);
      expect(st.carryLen).toBeLessThanOrEqual(LIMITS.maxHeaderBytes + LIMITS.maxBodyBytes);
    }
  });

  test("limits must be non-negative integers", () => {
    expect(() => initRequestParser({ maxHeaderBytes: -1, maxBodyBytes: 10 })).toThrow(RangeError);
    expect(() => initRequestParser({ maxHeaderBytes: 10, maxBodyBytes: 1.5 })).toThrow(RangeError);
  });
});
