// Property/fuzz test: generated hostile input through framer → parseLine → parseClient/ServerMessage never throws, always typed.
import { describe, expect, test } from "bun:test";
import { prng } from "../../support/prng.ts";
import fixtures from "../../fixtures/stratum-messages.json";
import { createLineFramer } from "../../../protocols/jsonrpc/framer.ts";
import { parseLine, type RpcMessage, type RpcParseError } from "../../../protocols/jsonrpc/envelope.ts";
import { parseClientMessage, parseConfigure, type ClientMessage } from "../../../protocols/stratum-v1/client_to_server.ts";
import { parseServerMessage, parseSubscribeResult } from "../../../protocols/stratum-v1/server_messages.ts";


const enc = new TextEncoder();
const CLIENT_TYPES = new Set([
  "subscribe", "authorize", "submit", "configure", "suggest_difficulty", "suggest_target", "extranonce_subscribe",
  "ping", "pong", "multi_version", "get_transactions", "response", "unknown", "invalid",
]);
const SERVER_TYPES = new Set([
  "notify", "set_difficulty", "set_extranonce", "set_version_mask", "reconnect", "show_message", "get_version", "ping",
  "result", "unknown", "invalid",
]);

function isId(x: unknown): boolean {
  return x === null || typeof x === "string" || (typeof x === "number" && Number.isFinite(x));
}

let checked = 0;

/** Runs one parsed line through every consumer and checks the result is a well-formed typed value. */
function checkLine(line: string): RpcMessage | RpcParseError {
  const m = parseLine(line);
  checked++;
  if (!isId(m.id)) throw new Error(`bad id from ${line.slice(0, 80)}`);
  if (m.kind === "invalid") {
    if (typeof m.detail !== "string" || m.detail.length === 0) throw new Error("invalid without detail");
    return m;
  }
  if (m.kind === "request") {
    if (typeof m.method !== "string" || typeof m.params !== "object" || m.params === null) throw new Error("bad request shape");
  } else if (m.kind !== "response") throw new Error("bad kind");
  const c = parseClientMessage(m);
  if (!CLIENT_TYPES.has(c.type)) throw new Error(`bad client type ${c.type}`);
  if (c.type === "invalid" && (typeof c.detail !== "string" || c.detail.length === 0)) throw new Error("client invalid without detail");
  if (c.type === "configure") {
    const cfg = parseConfigure(c);
    if (!Array.isArray(cfg.unknown) || typeof cfg.subscribeExtranonce !== "boolean") throw new Error("bad configure");
  }
  const s = parseServerMessage(m);
  if (!SERVER_TYPES.has(s.type)) throw new Error(`bad server type ${s.type}`);
  if (m.kind === "response") parseSubscribeResult(m.result);
  return m;
}

function pipeline(bytes: Uint8Array, chunkSizes: () => number, maxLineBytes?: number): { lines: number; overflow: boolean } {
  const f = createLineFramer(maxLineBytes === undefined ? undefined : { maxLineBytes });
  let lines = 0;
  let overflow = false;
  for (let i = 0; i < bytes.length; ) {
    const k = Math.max(1, chunkSizes());
    const out = f.push(bytes.subarray(i, i + k));
    i += k;
    for (const l of out.lines) {
      checkLine(l);
      lines++;
    }
    if (out.overflow) overflow = true;
  }
  return { lines, overflow };
}

const MESSAGES = (fixtures.messages as { name: string; dir: string; json: Record<string, unknown> }[]).map((m) => m.json);
const REQUESTS = (fixtures.messages as { dir: string; json: Record<string, unknown> }[])
  .filter((m) => m.dir === "miner->pool" && "method" in m.json)
  .map((m) => m.json);

const WEIRD: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, "", "x", "zz", "0".repeat(300), "\u0000", "\ud800",
  [], [1], ["a"], {}, { a: 1 }, [[[]]],
];
const HUGE_NUMBER_TEXTS = ["1e400", "-1e400", "123456789012345678901234567890", "-0", "5e-324", "1e-400", "0.000000000000000000001"];

describe("fuzz: framer → parseLine → parseClientMessage / parseServerMessage", () => {
  test("random bytes (3000 streams, random chunking)", () => {
    const rnd = prng(1);
    const palette = enc.encode('{}[]":,\n\r 0123456789abcdef-.eE\\u');
    for (let n = 0; n < 3000; n++) {
      const len = Math.floor(rnd() * 600);
      const b = new Uint8Array(len);
      for (let i = 0; i < len; i++) b[i] = rnd() < 0.5 ? palette[Math.floor(rnd() * palette.length)]! : Math.floor(rnd() * 256);
      pipeline(b, () => Math.floor(rnd() * 64), 1 + Math.floor(rnd() * 400));
    }
    expect(checked).toBeGreaterThan(3000);
  });

  test("every truncation of every fixture message, alone and followed by a good line", () => {
    let n = 0;
    for (const msg of MESSAGES) {
      const text = JSON.stringify(msg);
      for (let cut = 0; cut <= text.length; cut++) {
        const bytes = enc.encode(text.slice(0, cut) + "\n" + text + "\n");
        const r = pipeline(bytes, () => 4096);
        expect(r.overflow).toBe(false);
        // the good line after the truncated one is still delivered and parses as a message
        const lines = createLineFramer().push(bytes).lines;
        expect(lines[lines.length - 1]).toBe(text);
        expect(parseLine(text).kind).not.toBe("invalid");
        n++;
      }
    }
    expect(n).toBeGreaterThan(2500);
  });

  test("random byte corruption of fixture messages", () => {
    const rnd = prng(2);
    for (let n = 0; n < 3000; n++) {
      const b = enc.encode(JSON.stringify(MESSAGES[Math.floor(rnd() * MESSAGES.length)]) + "\n");
      const flips = 1 + Math.floor(rnd() * 4);
      for (let k = 0; k < flips; k++) b[Math.floor(rnd() * (b.length - 1))] = Math.floor(rnd() * 256);
      pipeline(b, () => 1 + Math.floor(rnd() * 32));
    }
  });

  test("wrong types in every param position, id and method of every miner→pool request", () => {
    let n = 0;
    for (const req of REQUESTS) {
      const params = (req.params ?? []) as unknown[];
      for (let pos = 0; pos <= params.length; pos++) {
        for (const w of WEIRD) {
          const p = params.slice();
          p[pos] = w;
          const m = checkLine(JSON.stringify({ ...req, params: p }));
          n++;
          // Where a position must be a string, a non-string there is a typed invalid, never accepted.
          if (m.kind === "request" && typeof w !== "string") {
            const c = parseClientMessage(m);
            const mustBeString =
              (req.method === "mining.submit" && pos < 6 && !(pos === 5 && params.length === 5)) ||
              (req.method === "mining.authorize" && pos === 0) ||
              (req.method === "mining.get_transactions" && pos === 0);
            if (mustBeString) expect(c.type).toBe("invalid");
          }
        }
      }
      for (const w of WEIRD) {
        checkLine(JSON.stringify({ ...req, id: w }));
        checkLine(JSON.stringify({ ...req, method: w }));
        checkLine(JSON.stringify({ ...req, params: w }));
        n += 3;
      }
    }
    expect(n).toBeGreaterThan(1000);
  });

  test("huge and tiny numbers as id and params", () => {
    for (const t of HUGE_NUMBER_TEXTS) {
      for (const method of ["mining.submit", "mining.suggest_difficulty", "mining.multi_version", "mining.set_difficulty", "client.reconnect"]) {
        checkLine(`{"id":${t},"method":"${method}","params":[${t},${t},${t},${t},${t}]}`);
        checkLine(`{"id":1,"method":"${method}","params":[${t}]}`);
      }
      const r = checkLine(`{"id":${t},"result":${t},"error":null}`);
      expect(r.kind === "response" || r.kind === "invalid").toBe(true);
    }
    const inf = parseLine('{"id":1,"method":"mining.suggest_difficulty","params":[1e400]}');
    expect(inf.kind === "request" && parseClientMessage(inf).type).toBe("invalid");
  });

  test("100k-deep nesting: framer refuses it at the default cap; parsed directly it is a value, not an exception", () => {
    const deep = '{"id":1,"method":"mining.submit","params":' + "[".repeat(100_000) + "]".repeat(100_000) + "}\n";
    const r = pipeline(enc.encode(deep), () => 65536);
    expect(r.overflow).toBe(true);
    expect(r.lines).toBe(0);
    const big = pipeline(enc.encode(deep), () => 65536, 1 << 20);
    expect(big).toEqual({ lines: 1, overflow: false });
    const m = parseLine(deep.trimEnd());
    if (m.kind === "request") expect(parseClientMessage(m).type).toBe("invalid");
    checkLine("[".repeat(100_000));
    checkLine("{\"a\":".repeat(100_000));
  });

  test("1 MiB strings in every string position", () => {
    const mib = "a".repeat(1 << 20);
    const submit = ["w", "j", "00000001", "504e86ed", "b2957c02", "1fffe000"];
    for (let pos = 0; pos < submit.length; pos++) {
      const p = submit.slice();
      p[pos] = mib;
      const line = JSON.stringify({ id: 1, method: "mining.submit", params: p }) + "\n";
      // default cap: refused by the framer before any parsing
      expect(pipeline(enc.encode(line), () => 65536).overflow).toBe(true);
      // raised cap: parsed, and it is a submit carrying the long string (length checks are the share checker's job)
      expect(pipeline(enc.encode(line), () => 65536, 2 << 20)).toEqual({ lines: 1, overflow: false });
    }
    checkLine(JSON.stringify({ id: mib, method: mib, params: [mib] }));
    checkLine(JSON.stringify({ id: 1, method: "mining.suggest_difficulty", params: [mib] }));
    checkLine(JSON.stringify({ id: 1, method: "mining.configure", params: [[mib], { [mib]: mib }] }));
    checkLine('"' + mib); // unterminated string
  });

  test("random JSON values as whole messages", () => {
    const rnd = prng(3);
    const methods = ["mining.subscribe", "mining.authorize", "mining.submit", "mining.configure", "mining.suggest_difficulty",
      "mining.suggest_target", "mining.extranonce.subscribe", "mining.ping", "pong", "mining.multi_version",
      "mining.get_transactions", "mining.notify", "mining.set_difficulty", "mining.set_extranonce", "mining.set_version_mask",
      "client.reconnect", "client.show_message", "client.get_version", "other"];
    const value = (depth: number): unknown => {
      const r = rnd();
      if (depth > 3 || r < 0.3) return WEIRD[Math.floor(rnd() * WEIRD.length)];
      if (r < 0.6) return Array.from({ length: Math.floor(rnd() * 10) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(rnd() * 5); i++) o[["version-rolling.mask", "minimum-difficulty.value", "k", "version-rolling.min-bit-count"][i % 4]!] = value(depth + 1);
      return o;
    };
    let results = 0;
    for (let n = 0; n < 5000; n++) {
      const msg: Record<string, unknown> = { id: rnd() < 0.8 ? n : value(3) };
      if (rnd() < 0.8) {
        msg.method = methods[Math.floor(rnd() * methods.length)];
        if (rnd() < 0.9) msg.params = value(0);
      } else {
        msg.result = value(0);
        msg.error = value(0);
      }
      const m = checkLine(JSON.stringify(msg));
      if (m.kind !== "invalid") results++;
    }
    expect(results).toBeGreaterThan(1000);
  });
});

describe("fuzz: client classification is total", () => {
  test("for generated requests the result is one of the typed variants and keeps the id", () => {
    const rnd = prng(4);
    for (let n = 0; n < 2000; n++) {
      const method = ["mining.submit", "mining.subscribe", "mining.authorize", "x"][n % 4]!;
      const params = Array.from({ length: Math.floor(rnd() * 8) }, () => WEIRD[Math.floor(rnd() * WEIRD.length)]);
      const c: ClientMessage = parseClientMessage({ kind: "request", id: n, method, params });
      expect(CLIENT_TYPES.has(c.type)).toBe(true);
      expect(c.id).toBe(n);
    }
  });
});
