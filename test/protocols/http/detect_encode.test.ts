// Tests for first-bytes detection (HTTP request line vs line dialects, every prefix length) and HTTP response encoding (framing headers, HEAD, header injection, error answers).
import { describe, expect, test } from "bun:test";
import { detectHttpRequest, HTTP_METHOD_PREFIXES, MAX_SNIFF_BYTES } from "../../../protocols/http/detect.ts";
import { CONTINUE_RESPONSE, encodeErrorResponse, encodeResponse, statusText } from "../../../protocols/http/encode_response.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const verdict = (s: string) => detectHttpRequest(enc.encode(s));

describe("detectHttpRequest", () => {
  test("each method prefix is HTTP once complete and undecided on every shorter prefix", () => {
    for (const p of HTTP_METHOD_PREFIXES) {
      for (let n = 1; n < p.length; n++) {
        // "P" and "PO" … are prefixes of several methods: undecided as long as one still fits.
        expect(verdict(p.slice(0, n))).toBe("undecided");
      }
      expect(verdict(p)).toBe("http");
      expect(verdict(p + "/ HTTP/1.1\r\n")).toBe("http");
    }
    expect(MAX_SNIFF_BYTES).toBe("OPTIONS ".length);
  });

  test("JSON-RPC lines, whitespace, lower-case methods, a method without its space and PROXY headers are not HTTP", () => {
    for (const s of ['{"id":1,"method":"mining.subscribe"}', " {", "\r\nPOST / HTTP/1.1", "post / HTTP/1.1", "POSTX", "GETS", "PR", "PROXY TCP4 1.2.3.4", "\x0d\x0a\x0d\x0a\x00"]) {
      expect(verdict(s)).toBe("line");
    }
    expect(verdict("")).toBe("undecided");
  });

  test("the verdict of a longer prefix never contradicts a decided shorter one", () => {
    for (const s of ["POST / HTTP/1.1", "PATCH /", "{\"id\":1}", "PUTS", "OPTIONS *"]) {
      let decided: string | undefined;
      for (let n = 1; n <= s.length; n++) {
        const v = verdict(s.slice(0, n));
        if (decided !== undefined) expect(v).toBe(decided as typeof v);
        else if (v !== "undecided") decided = v;
      }
      expect(decided).toBeDefined();
    }
  });
});

describe("encodeResponse", () => {
  test("status line, end-to-end headers, Content-Length and Connection from the caller; hop-by-hop headers it was given are dropped", () => {
    const body = enc.encode('{"id":1,"result":true}');
    const out = dec.decode(encodeResponse({
      status: 200,
      headers: [["content-type", "application/json"], ["Content-Length", "999"], ["connection", "upgrade"], ["transfer-encoding", "chunked"]],
      body,
    }, { keepAlive: true, omitBody: false }));
    expect(out).toBe('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 22\r\nConnection: keep-alive\r\n\r\n{"id":1,"result":true}');
  });

  test("HEAD keeps Content-Length but sends no body; Connection: close when not kept alive", () => {
    const out = dec.decode(encodeResponse({ status: 404, headers: [], body: enc.encode("abc") }, { keepAlive: false, omitBody: true }));
    expect(out).toBe("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nConnection: close\r\n\r\n");
  });

  test("a header that would split the response (CR/LF in the value, space in the name) is left out", () => {
    const out = dec.decode(encodeResponse({ status: 200, headers: [["x-a", "1\r\nSet-Cookie: evil"], ["bad name", "v"], ["x-ok", "fine"]], body: new Uint8Array(0) }, { keepAlive: true, omitBody: false }));
    expect(out).not.toContain("evil");
    expect(out).not.toContain("bad name");
    expect(out).toContain("x-ok: fine\r\n");
  });

  test("error answers: JSON-RPC error body getwork miners parse, exact length, connection closed", () => {
    const out = dec.decode(encodeErrorResponse(431, "Request header fields too large (over 8192 bytes)"));
    const [head, body] = out.split("\r\n\r\n") as [string, string];
    expect(head.split("\r\n")[0]).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect(head).toContain("Connection: close");
    expect(head).toContain(`Content-Length: ${enc.encode(body).length}`);
    expect(JSON.parse(body)).toEqual({ id: null, jsonrpc: "2.0", error: { code: -1, message: "Request header fields too large (over 8192 bytes)" } });
    expect(dec.decode(CONTINUE_RESPONSE)).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    expect([statusText(413), statusText(411), statusText(505), statusText(299), statusText(418), statusText(599)]).toEqual(["Content Too Large", "Length Required", "HTTP Version Not Supported", "OK", "Client Error", "Server Error"]);
  });
});
