// eth node JSON-RPC on the wire: one call with a timeout as an outcome, and the pure readers of eth_getWork, ids and URLs; no node selection or polling.
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { EthWork } from "../../../protocols/eth/work.ts";
import { bytesToHex } from "../../../protocols/pow/hex.ts";
import type { Clock, TimerId } from "../../runtime/types.ts";

/** The fetch the source calls (the runtime's, or a fake in tests). */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<Response>;

export type RpcOutcome = { kind: "result"; result: unknown } | { kind: "rpc"; code: number; message: string } | { kind: "transport"; message: string };

export const HASH32 = /^0x[0-9a-fA-F]{64}$/;
export const QUANTITY = /^0x(0|[1-9a-fA-F][0-9a-fA-F]*)$/;
const BOUNDARY = /^0x[0-9a-fA-F]{1,64}$/;
export const NONCE = /^0x[0-9a-fA-F]{16}$/;
/** geth's eth_submitHashrate takes a hexutil.Uint64: larger rates are clamped, not wrapped. */
export const U64_MAX = (1n << 64n) - 1n;

/** Parses geth's eth_getWork result: 4 elements (current) or 3 (geth before the block number was added). */
export function parseGetWork(result: unknown): { work: Omit<EthWork, "blockNumber">; blockNumber: number | undefined } | string {
  if (!Array.isArray(result) || (result.length !== 3 && result.length !== 4)) return "eth_getWork result is not a 3- or 4-element array";
  const [h, s, b, n] = result as unknown[];
  if (typeof h !== "string" || !HASH32.test(h)) return "eth_getWork seal hash is not 0x + 64 hex";
  if (typeof s !== "string" || !HASH32.test(s)) return "eth_getWork seed hash is not 0x + 64 hex";
  if (typeof b !== "string" || !BOUNDARY.test(b)) return "eth_getWork boundary is not 0x + up to 64 hex";
  const target = BigInt(b);
  // geth writes 2^256/difficulty into 32 bytes; difficulty 1 overflows to 0, which no hash can meet.
  if (target === 0n) return "eth_getWork boundary is zero";
  let blockNumber: number | undefined;
  if (result.length === 4) {
    if (typeof n !== "string" || !QUANTITY.test(n)) return "eth_getWork block number is not a hex quantity";
    blockNumber = Number.parseInt(n.slice(2), 16);
    if (!Number.isSafeInteger(blockNumber)) return "eth_getWork block number out of range";
  }
  return { work: { headerHash: h.toLowerCase(), seedHash: s.toLowerCase(), target }, blockNumber };
}

/** 0x + 64 hex id for eth_submitHashrate: a given hash as is, another string hashed, else random. */
export function hashrateIdFrom(configured: string | undefined, randomBytes: (n: number) => Uint8Array): string {
  if (configured !== undefined && HASH32.test(configured)) return configured.toLowerCase();
  if (configured !== undefined && configured !== "") return "0x" + bytesToHex(keccak_256(new TextEncoder().encode(configured)));
  return "0x" + bytesToHex(randomBytes(32));
}

/** Hides user:password in a node URL before it reaches logs or /api. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, "//***@");
}


/** What a call needs: the fetch to use, time, the per-call timeout and a request-id counter. */
export interface RpcDeps {
  fetch: FetchLike;
  clock: Clock;
  timeoutMs: number;
  nextId(): number;
}

/** One JSON-RPC call over HTTP POST with its own timeout; never throws (transport trouble is an outcome). */
export function rpcCall(d: RpcDeps, url: string, method: string, params: unknown[]): Promise<RpcOutcome> {
  const { clock, timeoutMs } = d;
  const ctrl = new AbortController();
  let timer: TimerId | undefined;
  const timeout = new Promise<RpcOutcome>((resolve) => {
    timer = clock.setTimeout(() => {
      ctrl.abort();
      resolve({ kind: "transport", message: `timeout after ${timeoutMs} ms` });
    }, timeoutMs);
  });
  const call = (async (): Promise<RpcOutcome> => {
    try {
      const body = JSON.stringify({ jsonrpc: "2.0", id: d.nextId(), method, params });
      const res = await d.fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body, signal: ctrl.signal });
      const text = await res.text();
      let msg: unknown;
      try {
        msg = JSON.parse(text);
      } catch {
        return { kind: "transport", message: `HTTP ${res.status}: response is not JSON` };
      }
      if (typeof msg !== "object" || msg === null || Array.isArray(msg)) return { kind: "transport", message: `HTTP ${res.status}: not a JSON-RPC response` };
      const m = msg as { result?: unknown; error?: unknown };
      if (m.error !== undefined && m.error !== null) {
        const e = m.error as { code?: unknown; message?: unknown };
        return { kind: "rpc", code: typeof e.code === "number" ? e.code : 0, message: typeof e.message === "string" ? e.message : JSON.stringify(m.error) };
      }
      if (!("result" in m)) return { kind: "transport", message: `HTTP ${res.status}: no result in response` };
      return { kind: "result", result: m.result };
    } catch (e) {
      return { kind: "transport", message: e instanceof Error ? e.message : String(e) };
    }
  })();
  return Promise.race([call, timeout]).finally(() => clock.clearTimeout(timer));
}
