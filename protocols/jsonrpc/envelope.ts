// JSON-RPC line envelopes: one line → request / response / typed invalid, and the line encoders; no method-specific params here.

export type JsonRpcId = number | string | null;

export interface RpcRequest {
  kind: "request";
  id: JsonRpcId;
  method: string;
  /** Missing or null params become []. */
  params: unknown[] | Record<string, unknown>;
  /** Top-level "worker" field some Ethereum miners send (eth-proxy); absent when missing or not a string. */
  worker?: string;
}

export interface RpcResponse {
  kind: "response";
  id: JsonRpcId;
  /** Missing result reads as null. */
  result: unknown;
  /** Missing error reads as null. */
  error: unknown;
}

export type RpcMessage = RpcRequest | RpcResponse;

export interface RpcParseError {
  kind: "invalid";
  /** The id when the line was an object with a usable id (so the reply can carry it), else null. */
  id: JsonRpcId;
  detail: string;
}

// The same envelopes as zod schemas (the documented shape) and a zod reference parser live in
// envelope_schema.ts, which only tests and benches import: this file is on the hot path and loads no zod.

function invalid(id: JsonRpcId, detail: string): RpcParseError {
  return { kind: "invalid", id, detail };
}

/** The detail of a line JSON.parse refused (also used by envelope_schema.ts). */
export function jsonErrorDetail(e: unknown): string {
  // Deep nesting throws RangeError (stack) in some engines; report it as what it is.
  if (e instanceof RangeError) return "JSON too deeply nested";
  return "JSON parse error";
}

function isId(x: unknown): x is JsonRpcId {
  // Finite check: JSON.parse("1e400") yields Infinity, which would re-encode as null.
  return x === null || typeof x === "string" || (typeof x === "number" && Number.isFinite(x));
}

/** The id of an object line that failed the envelope rules, when usable (also used by envelope_schema.ts). */
export function recoverId(v: unknown): JsonRpcId {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return null;
  const id = (v as Record<string, unknown>).id;
  return isId(id) ? id : null;
}

const hasOwn = Object.prototype.hasOwnProperty;

/** Parses one line. Never throws: every failure is a RpcParseError. */
export function parseLine(line: string): RpcMessage | RpcParseError {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return invalid(null, jsonErrorDetail(e));
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return invalid(null, "not a JSON object");
  const o = v as Record<string, unknown>;
  const rawId = o.id;
  let id: JsonRpcId;
  if (rawId === undefined) id = null;
  else if (isId(rawId)) id = rawId;
  else return invalid(null, "id must be a number, string or null");

  const method = o.method;
  if (method !== undefined) {
    if (typeof method !== "string") return invalid(id, "method must be a string");
    const p = o.params;
    let params: unknown[] | Record<string, unknown>;
    if (p === undefined || p === null) params = [];
    else if (typeof p === "object") params = p as unknown[] | Record<string, unknown>;
    else return invalid(id, "params must be an array or object");
    const req: RpcRequest = { kind: "request", id, method, params };
    const w = o.worker;
    if (typeof w === "string") req.worker = w;
    return req;
  }
  if (hasOwn.call(o, "result") || hasOwn.call(o, "error")) {
    return { kind: "response", id, result: o.result ?? null, error: o.error ?? null };
  }
  return invalid(id, "neither a request (method) nor a response (result/error)");
}

// --- encoders: each returns one JSON line ending in "\n". Values must be JSON-serializable
// (no bigint, no cycles); they come from our own code, not from the wire.

export function encodeResult(id: JsonRpcId, result: unknown): string {
  return '{"id":' + JSON.stringify(id) + ',"result":' + stringifyValue(result) + ',"error":null}\n';
}

export function encodeErrorRaw(id: JsonRpcId, error: unknown): string {
  return '{"id":' + JSON.stringify(id) + ',"result":null,"error":' + stringifyValue(error) + "}\n";
}

export function encodeNotification(method: string, params: unknown): string {
  return '{"id":null,"method":' + JSON.stringify(method) + ',"params":' + stringifyValue(params) + "}\n";
}

export function encodeRequest(id: JsonRpcId, method: string, params: unknown): string {
  return '{"id":' + JSON.stringify(id) + ',"method":' + JSON.stringify(method) + ',"params":' + stringifyValue(params) + "}\n";
}

function stringifyValue(v: unknown): string {
  // JSON.stringify(undefined) is undefined, which would splice the text "undefined" into the line.
  return v === undefined ? "null" : JSON.stringify(v);
}
