// EIP-1571 (EthereumStratum/2.0.0) miner→pool messages: RpcMessage → typed value, never throws; no session state, nonce length or PoW checks.
import type { JsonRpcId, RpcMessage } from "../jsonrpc/envelope.ts";

export type EthStratum2Message =
  /** proto is what the miner asked for (the session refuses anything but EthereumStratum/2.0.0). */
  | { type: "hello"; id: JsonRpcId; agent: string; proto: string }
  | { type: "subscribe"; id: JsonRpcId }
  | { type: "authorize"; id: JsonRpcId; user: string; password: string }
  /** minerNonce: lowercase hex, even length 2..16, without the extranonce; token: the one mining.authorize answered. */
  | { type: "submit"; id: JsonRpcId; jobId: string; minerNonce: string; token: string }
  | { type: "hashrate"; id: JsonRpcId; hashrate: bigint; token: string }
  | { type: "noop"; id: JsonRpcId }
  | { type: "bye" }
  | { type: "response"; id: JsonRpcId }
  | { type: "unknown"; id: JsonRpcId; method: string }
  | { type: "invalid"; id: JsonRpcId; method: string; detail: string };

/** The protocol string of EIP-1571, asked for in mining.hello and echoed in its result. */
export const ETH_STRATUM2_PROTOCOL = "EthereumStratum/2.0.0";

const HEX_RE = /^[0-9a-fA-F]+$/;

function bad(id: JsonRpcId, method: string, detail: string): EthStratum2Message {
  return { type: "invalid", id, method, detail };
}

/** EIP-1571 "JSON-RPC-2.0 Defiances": a request id is an integer 0..65535, never a string or null. */
export function isEip1571Id(id: JsonRpcId): boolean {
  return typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= 65535;
}

function optionalString(o: Record<string, unknown>, key: string): string | undefined | false {
  const v = o[key];
  if (v === undefined) return undefined;
  return typeof v === "string" ? v : false;
}

function parseHello(id: JsonRpcId, method: string, p: unknown): EthStratum2Message {
  // EIP-1571 "Session Handling - Hello": params is an object {agent, host, port (hex), proto}.
  if (typeof p !== "object" || p === null || Array.isArray(p)) return bad(id, method, "params must be an object {agent, host, port, proto}");
  const o = p as Record<string, unknown>;
  if (typeof o.proto !== "string") return bad(id, method, "proto must be a string");
  const agent = optionalString(o, "agent");
  if (agent === false) return bad(id, method, "agent must be a string");
  if (optionalString(o, "host") === false) return bad(id, method, "host must be a string");
  if (optionalString(o, "port") === false) return bad(id, method, "port must be a hex string");
  return { type: "hello", id, agent: agent ?? "", proto: o.proto };
}

function parseSubmit(id: JsonRpcId, method: string, p: unknown): EthStratum2Message {
  // EIP-1571 "Solution submission": [jobId, minerNonce (hex, after the extranonce), workerToken].
  if (!Array.isArray(p)) return bad(id, method, "params must be an array [jobId, nonce, token]");
  if (p.length < 3) return bad(id, method, `expected 3 params, got ${p.length}`);
  const [jobId, nonce, token] = p;
  if (typeof jobId !== "string") return bad(id, method, "job id must be a string");
  if (typeof nonce !== "string") return bad(id, method, "nonce must be a hex string");
  if (typeof token !== "string") return bad(id, method, "worker token must be a string");
  if (nonce.length < 2 || nonce.length > 16 || (nonce.length & 1) !== 0 || !HEX_RE.test(nonce)) return bad(id, method, "nonce must be 1..8 bytes of hex");
  return { type: "submit", id, jobId, minerNonce: nonce.toLowerCase(), token };
}

function parseHashrate(id: JsonRpcId, method: string, p: unknown): EthStratum2Message {
  // EIP-1571 "Hashrate": [hashrate (hex, up to 32 bytes), workerToken].
  if (!Array.isArray(p) || p.length < 2) return bad(id, method, "params must be [hashrate, token]");
  const [hr, token] = p;
  if (typeof hr !== "string" || hr.length === 0 || hr.length > 64 || !HEX_RE.test(hr)) return bad(id, method, "hashrate must be up to 32 bytes of hex");
  if (typeof token !== "string") return bad(id, method, "worker token must be a string");
  return { type: "hashrate", id, hashrate: BigInt("0x" + hr), token };
}

/** Classifies one parsed envelope. Never throws. */
export function parseEthStratum2Message(m: RpcMessage): EthStratum2Message {
  if (m.kind === "response") return { type: "response", id: m.id };
  const { id, method } = m;
  // mining.bye is a notification (no id); any other method is a request and needs a usable id.
  if (method === "mining.bye") return { type: "bye" };
  if (!isEip1571Id(id)) return bad(id, method, "id must be an integer 0..65535");
  const p = m.params;
  switch (method) {
    case "mining.hello":
      return parseHello(id, method, p);
    case "mining.subscribe":
      // Without params: a new session. (A string params, asking to resume, never parses as an envelope; we answer resume "0".)
      return { type: "subscribe", id };
    case "mining.authorize": {
      // params: [account[.machine], password]; the password may be empty but not null.
      if (!Array.isArray(p)) return bad(id, method, "params must be an array [worker, password]");
      const [user, pw] = p;
      if (typeof user !== "string") return bad(id, method, "worker must be a string");
      if (pw !== undefined && typeof pw !== "string") return bad(id, method, "password must be a string");
      return { type: "authorize", id, user, password: pw ?? "" };
    }
    case "mining.submit":
      return parseSubmit(id, method, p);
    case "mining.hashrate":
      return parseHashrate(id, method, p);
    case "mining.noop":
      return { type: "noop", id };
    default:
      return { type: "unknown", id, method };
  }
}
