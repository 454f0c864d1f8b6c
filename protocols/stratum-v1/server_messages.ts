// Stratum v1 pool→miner messages as a client sees them (demo miner, load generator, tests): RpcMessage → typed value; never throws.
import type { JsonRpcId, RpcMessage } from "../jsonrpc/envelope.ts";
import { toFiniteNumber } from "./client_to_server.ts";

export type ServerMessage =
  | {
      type: "notify";
      jobId: string;
      prevhash: string;
      coinb1: string;
      coinb2: string;
      branch: string[];
      version: string;
      nbits: string;
      ntime: string;
      clean: boolean;
    }
  | { type: "set_difficulty"; difficulty: number }
  | { type: "set_extranonce"; extranonce1: string; extranonce2Size: number }
  | { type: "set_version_mask"; mask: number; maskHex: string }
  /** host/port absent means "same server" (params []); port accepted as number or string (cgminer does both). */
  | { type: "reconnect"; host?: string; port?: number; waitSeconds?: number }
  | { type: "show_message"; text: string }
  | { type: "get_version"; id: JsonRpcId }
  | { type: "ping"; id: JsonRpcId }
  | { type: "result"; id: JsonRpcId; result: unknown; error: unknown }
  | { type: "unknown"; id: JsonRpcId; method: string }
  /** A known method whose params are unusable. */
  | { type: "invalid"; id: JsonRpcId; method: string; detail: string };

const HEX_RE = /^[0-9a-fA-F]*$/;

function bad(id: JsonRpcId, method: string, detail: string): ServerMessage {
  return { type: "invalid", id, method, detail };
}

function isHex(x: unknown): x is string {
  return typeof x === "string" && HEX_RE.test(x);
}

export function parseServerMessage(m: RpcMessage): ServerMessage {
  if (m.kind === "response") return { type: "result", id: m.id, result: m.result, error: m.error };
  const { id, method } = m;
  const p = Array.isArray(m.params) ? m.params : undefined;

  switch (method) {
    case "mining.notify": {
      if (!p || p.length < 9) return bad(id, method, "expected 9 params");
      const [jobId, prevhash, coinb1, coinb2, branch, version, nbits, ntime, clean] = p;
      if (typeof jobId !== "string") return bad(id, method, "job id must be a string");
      if (!isHex(prevhash) || prevhash.length !== 64) return bad(id, method, "prevhash must be 64 hex chars");
      if (!isHex(coinb1) || !isHex(coinb2)) return bad(id, method, "coinb1/coinb2 must be hex");
      if (!Array.isArray(branch) || !branch.every((h) => isHex(h) && h.length === 64)) {
        return bad(id, method, "merkle branch must be an array of 64-hex-char hashes");
      }
      if (!isHex(version) || version.length !== 8) return bad(id, method, "version must be 8 hex chars");
      if (!isHex(nbits) || nbits.length !== 8) return bad(id, method, "nbits must be 8 hex chars");
      if (!isHex(ntime) || ntime.length !== 8) return bad(id, method, "ntime must be 8 hex chars");
      if (typeof clean !== "boolean") return bad(id, method, "clean_jobs must be a boolean");
      return { type: "notify", jobId, prevhash, coinb1, coinb2, branch: branch as string[], version, nbits, ntime, clean };
    }
    case "mining.set_difficulty": {
      const d = toFiniteNumber(p?.[0]);
      if (d === undefined || !(d > 0)) return bad(id, method, "difficulty must be a finite number > 0");
      return { type: "set_difficulty", difficulty: d };
    }
    case "mining.set_extranonce": {
      const en1 = p?.[0];
      const size = p?.[1];
      if (!isHex(en1) || en1.length % 2 !== 0) return bad(id, method, "extranonce1 must be even-length hex");
      if (typeof size !== "number" || !Number.isInteger(size) || size < 0 || size > 32) {
        return bad(id, method, "extranonce2 size must be an integer 0..32");
      }
      return { type: "set_extranonce", extranonce1: en1, extranonce2Size: size };
    }
    case "mining.set_version_mask": {
      const mask = p?.[0];
      if (!isHex(mask) || mask.length < 1 || mask.length > 8) return bad(id, method, "mask must be 1..8 hex chars");
      return { type: "set_version_mask", mask: parseInt(mask, 16) >>> 0, maskHex: mask };
    }
    case "client.reconnect": {
      if (!p || p.length === 0) return { type: "reconnect" };
      const [host, port, wait] = p;
      const msg: ServerMessage & { type: "reconnect" } = { type: "reconnect" };
      if (host !== null && host !== undefined) {
        if (typeof host !== "string") return bad(id, method, "host must be a string");
        msg.host = host;
      }
      if (port !== null && port !== undefined) {
        const n = toFiniteNumber(port);
        if (n === undefined || !Number.isInteger(n) || n < 1 || n > 65535) return bad(id, method, "port must be 1..65535");
        msg.port = n;
      }
      if (wait !== null && wait !== undefined) {
        const w = toFiniteNumber(wait);
        if (w === undefined || w < 0) return bad(id, method, "wait must be a number >= 0");
        msg.waitSeconds = w;
      }
      return msg;
    }
    case "client.show_message": {
      const t = p?.[0];
      if (typeof t !== "string") return bad(id, method, "message must be a string");
      return { type: "show_message", text: t };
    }
    case "client.get_version":
      return { type: "get_version", id };
    case "mining.ping":
      return { type: "ping", id };
    default:
      return { type: "unknown", id, method };
  }
}

export interface SubscribeResult {
  subscriptionId: string;
  extranonce1: string;
  extranonce2Size: number;
}

/**
 * Reads a mining.subscribe result. Accepts the slush shape [[["mining.set_difficulty",id],["mining.notify",id]],en1,size],
 * the ckpool/public-pool shape with only the notify tuple, and a bare ["mining.notify",id] tuple.
 * subscriptionId is the notify tuple's id (what cgminer resumes with), else the first tuple's, else "".
 */
export function parseSubscribeResult(result: unknown): SubscribeResult | undefined {
  if (!Array.isArray(result) || result.length < 3) return undefined;
  const [subs, en1, size] = result;
  if (!isHex(en1) || en1.length % 2 !== 0) return undefined;
  if (typeof size !== "number" || !Number.isInteger(size) || size < 0 || size > 32) return undefined;
  let subscriptionId = "";
  if (Array.isArray(subs)) {
    const tuples: unknown[] = typeof subs[0] === "string" ? [subs] : subs;
    let first: string | undefined;
    for (const t of tuples) {
      if (!Array.isArray(t) || typeof t[1] !== "string") continue;
      first ??= t[1];
      if (t[0] === "mining.notify") {
        subscriptionId = t[1];
        first = undefined;
        break;
      }
    }
    if (first !== undefined) subscriptionId = first;
  }
  return { subscriptionId, extranonce1: en1, extranonce2Size: size };
}
