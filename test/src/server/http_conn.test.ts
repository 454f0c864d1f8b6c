// HTTP getwork on a Stratum port, through the connection core with a fake listener, a manual clock and a recording HttpPort: first-bytes dispatch, in-order keep-alive answers, limits, errors and the ban guard's counts.
import { describe, expect, test } from "bun:test";
import type { Runtime, SocketHandle, SocketHandlers } from "../../../src/runtime/types.ts";
import { createManualClock } from "../../../src/runtime/manual_clock.ts";
import { startStratumServer, type HttpAnswer, type HttpConnLimits, type HttpPort, type ServerLimits } from "../../../src/server/server.ts";
import type { ConnGuard } from "../../../src/server/guard.ts";
import { createRateLimiter } from "../../../src/policy/rate_limiter.ts";
import { createLogger } from "../../../src/observe/log.ts";
import type { Dialect } from "../../../protocols/core/dialect.ts";
import type { ShareRecord } from "../../../protocols/core/actions.ts";
import type { HttpRequest } from "../../../protocols/http/parse_request.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface FakeSock extends SocketHandle {
  writes: Uint8Array[];
  ended: boolean;
  destroyed: boolean;
  text(): string;
}

/** A line dialect that answers `echo.hi` (stands in for Stratum v1 / eth-proxy on the same port). */
const echo: Dialect<{ n: number }, { now: number }, unknown> = {
  name: "echo",
  detect: (m) => m.kind === "request" && m.method === "echo.hi",
  open: () => ({ n: 0 }),
  receive: (s, m, _e, out) => {
    if (m.kind === "request") out.push({ kind: "write", data: JSON.stringify({ id: m.id, result: `hi ${++s.n}` }) + "\n" });
  },
  flush() {},
  job() {},
  tick() {},
  shutdown() {},
  closed() {},
};

type Pending = { req: HttpRequest; remote: string; resolve: (a: HttpAnswer) => void };

function answerOf(body: string, extra: Partial<HttpAnswer> = {}): HttpAnswer {
  return { status: 200, headers: [["content-type", "application/json"]], body: enc.encode(body), shares: [], abuse: [], ...extra };
}

const SHARE: ShareRecord = { worker: "w", accepted: false, reason: "low_difficulty", difficulty: 1, shareDifficulty: 0.1, jobId: "j", height: 1, at: 0 };

async function harness(o: { http?: Partial<HttpConnLimits> | false; burst?: number; manual?: boolean } = {}) {
  const clock = createManualClock(1_700_000_000_000);
  let handlers: SocketHandlers | undefined;
  let nextId = 1;
  const runtime = {
    name: "bun",
    clock,
    listen: async (_h: string, _p: number, h: SocketHandlers) => {
      handlers = h;
      return { host: "127.0.0.1", port: 3333, close() {} };
    },
  } as unknown as Runtime;
  const calls: string[] = [];
  const kicks: ((key: string, until: number) => void)[] = [];
  const guard: ConnGuard = {
    admit: () => true,
    limiter: () => createRateLimiter({ perSecond: 1, burst: o.burst ?? 100 }),
    share: (a, s) => void calls.push(`share ${a} ${s.reason}`),
    malformed: (a) => void calls.push(`malformed ${a}`),
    oversize: (a) => void calls.push(`oversize ${a}`),
    flood: (a) => void calls.push(`flood ${a}`),
    loginFailed: (a) => void calls.push(`login_failed ${a}`),
    onKick: (fn) => void kicks.push(fn),
    keyOf: (a) => a,
  };
  const pending: Pending[] = [];
  const handled: { req: HttpRequest; remote: string }[] = [];
  /** manual: answers wait for the test; otherwise each request is answered at once with its body echoed. */
  const http: HttpPort = {
    limits: { maxHeaderBytes: 256, maxBodyBytes: 128, maxRequestsPerConnection: 100, keepAliveMs: 10_000, ...(o.http || {}) },
    handle: (req, remote) => {
      handled.push({ req, remote });
      if (o.manual) return new Promise((resolve) => pending.push({ req, remote, resolve }));
      if (req.path === "/throw") throw new Error("handler bug");
      return Promise.resolve(answerOf(`{"got":${JSON.stringify(dec.decode(req.body))}}`));
    },
  };
  const closed: string[] = [];
  const limits: ServerLimits = { maxLineBytes: 1024, maxConnections: 100, maxConnectionsPerAddress: 0, loginTimeoutMs: 5000, maxWriteBufferBytes: 1 << 20, tickMs: 1000 };
  const log = createLogger({ format: "json", level: "error", write: () => {} });
  const pool = { name: "p", env: { now: 0 }, allocateExtranonce1: () => "00", onShare() {}, onBlock() {} };
  await startStratumServer({
    runtime, host: "127.0.0.1", port: 0, routes: [{ dialect: echo, pool }], limits, log, guard,
    hooks: { connections() {}, refused() {}, closed: (r) => void closed.push(r), fanout() {} },
    ...(o.http === false ? {} : { http }),
  });
  const connect = (addr = "10.0.0.7"): FakeSock => {
    const s: FakeSock = {
      id: nextId++, remoteAddress: addr, remotePort: 1000, ctx: undefined, buffered: 0, writes: [], ended: false, destroyed: false,
      write(d) { this.writes.push(typeof d === "string" ? new TextEncoder().encode(d) : d); return 0; },
      end() { this.ended = true; handlers!.close(this); },
      destroy() { this.destroyed = true; handlers!.close(this); },
      text() { return this.writes.map((w) => dec.decode(w)).join(""); },
    };
    handlers!.open(s);
    return s;
  };
  const send = (s: FakeSock, text: string) => handlers!.data(s, enc.encode(text));
  return { clock, connect, send, calls, closed, pending, handled, kick: (key: string) => kicks.forEach((k) => k(key, 0)) };
}

/** Let the connection's answer loop run (it awaits the handler). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
};

const post = (body: string, extra = "") => `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`;

/** Splits what a socket received into HTTP responses (status, headers lower-cased, body by Content-Length). */
function responses(text: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out: { status: number; headers: Record<string, string>; body: string }[] = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) throw new Error(`incomplete response: ${JSON.stringify(rest)}`);
    const lines = rest.slice(0, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(":")).toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
    const status = Number(lines[0]!.split(" ")[1]);
    const len = status === 100 ? 0 : Number(headers["content-length"] ?? "0");
    out.push({ status, headers, body: rest.slice(end + 4, end + 4 + len) });
    rest = rest.slice(end + 4 + len);
  }
  return out;
}

describe("first bytes decide", () => {
  test("one port: an HTTP request line goes to the HttpPort, a JSON line to the line dialect", async () => {
    const h = await harness();
    const web = h.connect("10.0.0.1");
    const line = h.connect("10.0.0.2");
    h.send(web, post('{"id":1}'));
    h.send(line, '{"id":5,"method":"echo.hi","params":[]}\n');
    await settle();
    const body = JSON.stringify({ got: '{"id":1}' });
    expect(responses(web.text())).toEqual([{ status: 200, headers: { "content-type": "application/json", "content-length": String(body.length), connection: "keep-alive" }, body }]);
    expect(h.handled.map((x) => x.remote)).toEqual(["10.0.0.1"]);
    expect(JSON.parse(line.text())).toEqual({ id: 5, result: "hi 1" });
    expect(web.ended || line.ended).toBe(false);
  });

  test("a request line arriving one byte at a time is still HTTP; so is a JSON line's", async () => {
    const h = await harness();
    const web = h.connect();
    for (const ch of post("abc")) h.send(web, ch);
    const line = h.connect();
    for (const ch of '{"id":9,"method":"echo.hi"}\n') h.send(line, ch);
    await settle();
    expect(responses(web.text()).map((r) => r.body)).toEqual(['{"got":"abc"}']);
    expect(JSON.parse(line.text()).result).toBe("hi 1");
  });

  test("a port without HTTP getwork treats a request line as a malformed line, as before", async () => {
    const h = await harness({ http: false });
    const s = h.connect();
    h.send(s, post("{}"));
    await settle();
    expect(s.text()).toBe('{"id":null,"result":null,"error":[20,"Malformed request",null]}\n');
    expect(s.ended).toBe(true);
    expect(h.handled).toEqual([]);
  });
});

describe("keep-alive", () => {
  test("pipelined requests are handled one at a time and answered in order, even when the first answer is slow", async () => {
    const h = await harness({ manual: true });
    const s = h.connect();
    h.send(s, post("one") + post("two"));
    await settle();
    expect(h.pending.map((p) => dec.decode(p.req.body))).toEqual(["one"]); // the second waits for the first answer
    h.send(s, post("three"));
    h.pending[0]!.resolve(answerOf('"A"'));
    await settle();
    expect(h.pending.map((p) => dec.decode(p.req.body))).toEqual(["one", "two"]);
    h.pending[1]!.resolve(answerOf('"B"'));
    await settle();
    h.pending[2]!.resolve(answerOf('"C"'));
    await settle();
    expect(responses(s.text()).map((r) => [r.body, r.headers.connection])).toEqual([['"A"', "keep-alive"], ['"B"', "keep-alive"], ['"C"', "keep-alive"]]);
    expect(s.ended).toBe(false);
  });

  test("Connection: close and HTTP/1.0 end the connection after the answer (closed as http_done)", async () => {
    const h = await harness();
    const a = h.connect();
    h.send(a, post("x", "Connection: close\r\n") + post("never"));
    await settle();
    expect(responses(a.text()).map((r) => [r.body, r.headers.connection])).toEqual([['{"got":"x"}', "close"]]);
    expect(a.ended).toBe(true);
    const b = h.connect();
    h.send(b, "GET / HTTP/1.0\r\n\r\n");
    await settle();
    expect(responses(b.text())[0]!.headers.connection).toBe("close");
    expect(b.ended).toBe(true);
    expect(h.closed).toEqual(["http_done", "http_done"]);
    expect(h.handled).toHaveLength(2);
  });

  test("the request cap: the last allowed answer says Connection: close and later requests are never handled", async () => {
    const h = await harness({ http: { maxRequestsPerConnection: 2 } });
    const s = h.connect();
    h.send(s, post("1") + post("2") + post("3"));
    await settle();
    expect(responses(s.text()).map((r) => [r.body, r.headers.connection])).toEqual([['{"got":"1"}', "keep-alive"], ['{"got":"2"}', "close"]]);
    expect(h.handled).toHaveLength(2);
    expect(s.ended).toBe(true);
  });

  test("idle: closed keepAliveMs after the last answer; a half-sent request gets 408 first", async () => {
    const h = await harness({ http: { keepAliveMs: 3000 } });
    const idle = h.connect();
    h.send(idle, post("a"));
    await settle();
    const slow = h.connect();
    h.send(slow, "POST / HTTP/1.1\r\nContent-Le");
    h.clock.advance(2000);
    expect(idle.ended || slow.ended).toBe(false);
    h.clock.advance(2000);
    expect(idle.ended).toBe(true);
    expect(responses(idle.text())).toHaveLength(1);
    expect(slow.ended).toBe(true);
    expect(responses(slow.text()).map((r) => r.status)).toEqual([408]);
    expect(h.closed).toEqual(["idle_timeout", "idle_timeout"]);
  });

  test("each answer restarts the idle time; a request with a slow handler is never cut off by it", async () => {
    const h = await harness({ http: { keepAliveMs: 3000 }, manual: true });
    const s = h.connect();
    h.send(s, post("1"));
    await settle();
    h.clock.advance(5000); // the handler takes longer than keepAliveMs
    expect(s.ended).toBe(false);
    h.pending[0]!.resolve(answerOf("1"));
    await settle();
    h.clock.advance(2000);
    h.send(s, post("2"));
    await settle();
    h.pending[1]!.resolve(answerOf("2"));
    await settle();
    h.clock.advance(2000); // 4 s after the first answer, 2 s after the second
    expect(s.ended).toBe(false);
    h.clock.advance(1500);
    expect(s.ended).toBe(true);
    expect(responses(s.text()).map((r) => r.body)).toEqual(["1", "2"]);
  });

  test("Expect: 100-continue gets the interim answer before the body, then the real one", async () => {
    const h = await harness();
    const s = h.connect();
    h.send(s, "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    expect(s.text()).toBe("HTTP/1.1 100 Continue\r\n\r\n");
    h.send(s, "ok");
    await settle();
    expect(responses(s.text()).map((r) => r.status)).toEqual([100, 200]);
  });

  test("HEAD answers carry Content-Length without a body", async () => {
    const h = await harness();
    const s = h.connect();
    h.send(s, "HEAD / HTTP/1.1\r\n\r\n" + post("z"));
    await settle();
    expect(s.text().startsWith("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 10\r\nConnection: keep-alive\r\n\r\nHTTP/1.1 200")).toBe(true);
  });
});

describe("limits, errors and bans", () => {
  test("header and body caps: 431 and 413 after earlier answers, the connection closed, counted as oversize", async () => {
    const h = await harness();
    const a = h.connect("10.0.0.3");
    h.send(a, post("ok") + "GET / HTTP/1.1\r\nX: " + "a".repeat(300) + "\r\n\r\n");
    await settle();
    expect(responses(a.text()).map((r) => r.status)).toEqual([200, 431]);
    expect(a.ended).toBe(true);
    const b = h.connect("10.0.0.4");
    h.send(b, "POST / HTTP/1.1\r\nContent-Length: 129\r\n\r\n");
    await settle();
    const [r] = responses(b.text());
    expect(r!.status).toBe(413);
    expect(JSON.parse(r!.body)).toEqual({ id: null, jsonrpc: "2.0", error: { code: -1, message: "Request body too large (over 128 bytes)" } });
    expect(h.calls).toEqual(["oversize 10.0.0.3", "oversize 10.0.0.4"]);
    expect(h.closed).toEqual(["line_too_long", "line_too_long"]);
  });

  test("chunked and garbage requests: a clear 4xx, closed, counted malformed; the core keeps serving others", async () => {
    const h = await harness();
    const a = h.connect("10.0.0.5");
    h.send(a, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n");
    const b = h.connect("10.0.0.6");
    h.send(b, "GET / HTTP/9.9\r\n\r\n");
    const c = h.connect("10.0.0.8");
    h.send(c, "POST /\x00 HTTP/1.1\r\n\r\n");
    await settle();
    expect([a, b, c].map((s) => responses(s.text())[0]!.status)).toEqual([411, 505, 400]);
    expect([a, b, c].every((s) => s.ended)).toBe(true);
    expect(h.calls).toEqual(["malformed 10.0.0.5", "malformed 10.0.0.6", "malformed 10.0.0.8"]);
    const d = h.connect();
    h.send(d, post("still"));
    await settle();
    expect(responses(d.text())[0]!.body).toBe('{"got":"still"}');
  });

  test("each request takes a message-rate token: past the burst a 429, closed, counted as a flood", async () => {
    const h = await harness({ burst: 2 });
    const s = h.connect("10.0.0.9");
    h.send(s, post("1") + post("2") + post("3"));
    await settle();
    expect(responses(s.text()).map((r) => r.status)).toEqual([200, 200, 429]);
    expect(h.handled).toHaveLength(2);
    expect(h.calls).toEqual(["flood 10.0.0.9"]);
    expect(h.closed).toEqual(["flood"]);
  });

  test("shares and abuse an answer reports reach the guard with the socket's address, after the answer is written", async () => {
    const h = await harness({ manual: true });
    const s = h.connect("10.1.1.1");
    h.send(s, post("{}"));
    await settle();
    h.pending[0]!.resolve(answerOf("{}", { shares: [SHARE], abuse: ["malformed", "login_failed"] }));
    await settle();
    expect(h.calls).toEqual(["share 10.1.1.1 low_difficulty", "malformed 10.1.1.1", "login_failed 10.1.1.1"]);
    expect(responses(s.text())).toHaveLength(1);
  });

  test("a ban while a request is with the handler closes the connection and its answer is dropped", async () => {
    const h = await harness({ manual: true });
    const s = h.connect("10.2.2.2");
    h.send(s, post("{}"));
    await settle();
    h.kick("10.2.2.2");
    expect(s.ended).toBe(true);
    h.pending[0]!.resolve(answerOf("late"));
    await settle();
    expect(s.text()).toBe("");
    expect(h.closed).toEqual(["banned"]);
  });

  test("a handler that throws becomes a 500 answer; the connection and the process go on", async () => {
    const h = await harness();
    const s = h.connect();
    h.send(s, "POST /throw HTTP/1.1\r\nContent-Length: 0\r\n\r\n" + post("after"));
    await settle();
    expect(responses(s.text()).map((r) => r.status)).toEqual([500, 200]);
    expect(s.ended).toBe(false);
  });

  test("bytes after a framing error are ignored: one error answer, nothing handled", async () => {
    const h = await harness();
    const s = h.connect();
    h.send(s, "GET / HTTP/9.9\r\n\r\n");
    h.send(s, post("late"));
    await settle();
    expect(responses(s.text()).map((r) => r.status)).toEqual([505]);
    expect(h.handled).toEqual([]);
  });
});
