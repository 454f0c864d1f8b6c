// Tests for JSON-RPC envelopes: request/response/invalid classification, id recovery, zod schema agreement, encoders.
import { describe, expect, test } from "bun:test";
import { encodeErrorRaw, encodeNotification, encodeRequest, encodeResult, parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import { parseLineWithZod, RpcEnvelopeSchema } from "../../../protocols/jsonrpc/envelope_schema.ts";

describe("parseLine", () => {
  test("request with params", () => {
    expect(parseLine('{"id":1,"method":"mining.subscribe","params":["a"]}')).toEqual({
      kind: "request",
      id: 1,
      method: "mining.subscribe",
      params: ["a"],
    });
  });

  test("request without params or with null params gets []", () => {
    expect(parseLine('{"id":"X","method":"m"}')).toEqual({ kind: "request", id: "X", method: "m", params: [] });
    expect(parseLine('{"id":"X","method":"m","params":null}')).toEqual({ kind: "request", id: "X", method: "m", params: [] });
  });

  test("object params are kept", () => {
    expect(parseLine('{"id":1,"method":"m","params":{"a":1}}')).toEqual({ kind: "request", id: 1, method: "m", params: { a: 1 } });
  });

  test("missing id reads as null; top-level worker kept when a string", () => {
    expect(parseLine('{"method":"eth_submitLogin","params":["0xabc"],"worker":"rig1"}')).toEqual({
      kind: "request",
      id: null,
      method: "eth_submitLogin",
      params: ["0xabc"],
      worker: "rig1",
    });
    const r = parseLine('{"id":1,"method":"m","worker":5}');
    expect(r.kind).toBe("request");
    expect("worker" in r).toBe(false);
  });

  test("responses, with missing result/error read as null", () => {
    expect(parseLine('{"id":7,"result":"cgminer/4.10.0","error":null}')).toEqual({
      kind: "response",
      id: 7,
      result: "cgminer/4.10.0",
      error: null,
    });
    expect(parseLine('{"id":7,"error":[21,"x",null]}')).toEqual({ kind: "response", id: 7, result: null, error: [21, "x", null] });
    expect(parseLine('{"id":7,"result":false}')).toEqual({ kind: "response", id: 7, result: false, error: null });
  });

  test("invalid: not JSON, not an object, bad method, bad params, bad id, neither kind", () => {
    const cases: [string, unknown][] = [
      ["{", null],
      ["", null],
      ["[1,2]", null],
      ["null", null],
      ["42", null],
      ['"str"', null],
      ['{"id":3,"method":5}', 3],
      ['{"id":"a","method":null}', "a"],
      ['{"id":4,"method":"m","params":"x"}', 4],
      ['{"id":4,"method":"m","params":7}', 4],
      ['{"id":{},"method":"m"}', null],
      ['{"id":[1],"method":"m"}', null],
      ['{"id":true,"method":"m"}', null],
      ['{"id":1e400,"method":"m"}', null],
      ['{"id":9}', 9],
      ["{}", null],
    ];
    for (const [line, id] of cases) {
      const r = parseLine(line);
      expect(r.kind).toBe("invalid");
      expect(r.id).toEqual(id as never);
      if (r.kind === "invalid") expect(r.detail.length).toBeGreaterThan(0);
    }
  });

  test("deep nesting is caught, not thrown", () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(() => parseLine(deep)).not.toThrow();
    expect(parseLine(deep).kind).toBe("invalid");
    const deepParams = '{"id":1,"method":"m","params":' + "[".repeat(100_000) + "]".repeat(100_000) + "}";
    const r = parseLine(deepParams);
    // Either the engine parses it (then it is a request) or it throws RangeError (then it is invalid) — never an exception.
    expect(["request", "invalid"]).toContain(r.kind);
  });

  test("__proto__ keys do not pollute", () => {
    const r = parseLine('{"id":1,"method":"m","params":{"__proto__":{"polluted":1}}}');
    expect(r.kind).toBe("request");
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("zod schema agrees with the hand-written fast path", () => {
  const corpus = [
    '{"id":1,"method":"mining.subscribe","params":[]}',
    '{"id":"X","method":"mining.extranonce.subscribe","params":[]}',
    '{"id":null,"method":"mining.notify","params":["bf"]}',
    '{"method":"m"}',
    '{"id":1,"method":"m","params":{"k":"v"}}',
    '{"id":1,"method":"m","params":null}',
    '{"id":1,"method":"m","worker":"w"}',
    '{"id":1,"method":"m","worker":5}',
    '{"id":1,"result":true,"error":null}',
    '{"id":1,"result":null,"error":[21,"Job not found",null]}',
    '{"id":1,"result":false}',
    '{"id":1,"error":"x"}',
    '{"id":1,"method":7}',
    '{"id":1,"method":"m","params":1}',
    '{"id":1,"method":"m","params":"s"}',
    '{"id":1,"method":"m","params":true}',
    '{"id":true,"method":"m"}',
    '{"id":{},"result":1}',
    '{"id":[],"result":1}',
    '{"id":1e999,"result":1}',
    '{"id":1}',
    "{}",
    "[]",
    "1",
    "nope",
    '{"id":2,"method":"m","result":1}',
  ];
  for (const line of corpus) {
    test(line, () => {
      const a = parseLine(line);
      const b = parseLineWithZod(line);
      expect(a.kind).toBe(b.kind);
      expect(a.id).toEqual(b.id as never);
      if (a.kind !== "invalid") expect(a).toEqual(b as never);
    });
  }

  test("the schema itself accepts the fixture request and response shapes", () => {
    expect(RpcEnvelopeSchema.safeParse({ id: 1, method: "mining.submit", params: ["a"] }).success).toBe(true);
    expect(RpcEnvelopeSchema.safeParse({ id: 1, result: true, error: null }).success).toBe(true);
    expect(RpcEnvelopeSchema.safeParse({ id: true, method: "m" }).success).toBe(false);
  });
});

describe("encoders", () => {
  test("each returns one line ending in \\n with the documented shape", () => {
    const cases: [string, unknown][] = [
      [encodeResult(1, true), { id: 1, result: true, error: null }],
      [encodeResult("a", undefined), { id: "a", result: null, error: null }],
      [encodeErrorRaw(2, [21, "Job not found", null]), { id: 2, result: null, error: [21, "Job not found", null] }],
      [encodeNotification("mining.set_difficulty", [1]), { id: null, method: "mining.set_difficulty", params: [1] }],
      [encodeRequest(5, "client.get_version", []), { id: 5, method: "client.get_version", params: [] }],
      [encodeResult(null, 'quote"and\nnewline'), { id: null, result: 'quote"and\nnewline', error: null }],
    ];
    for (const [line, obj] of cases) {
      expect(line.endsWith("\n")).toBe(true);
      expect(line.indexOf("\n")).toBe(line.length - 1);
      expect(JSON.parse(line)).toEqual(obj);
    }
  });

  test("encode → parseLine round trip", () => {
    expect(parseLine(encodeRequest("q", "mining.ping", []).trimEnd())).toEqual({ kind: "request", id: "q", method: "mining.ping", params: [] });
    expect(parseLine(encodeResult(3, [1, "x"]).trimEnd())).toEqual({ kind: "response", id: 3, result: [1, "x"], error: null });
  });
});
