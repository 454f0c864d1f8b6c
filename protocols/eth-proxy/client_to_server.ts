// eth-proxy miner→pool messages (eth_submitLogin / eth_getWork / eth_submitWork / eth_submitHashrate): RpcMessage → typed value, never throws; no session state or PoW checks.
import type { JsonRpcId, RpcMessage } from "../jsonrpc/envelope.ts";

export type EthProxyMessage =
  /** address is normalised to lowercase "0x" + 40 hex; worker from the top-level "worker" field, else from "address.worker". */
  | { type: "login"; id: JsonRpcId; address: string; worker?: string; email?: string }
  /** eth_submitLogin whose address is not 0x + 40 hex (or whose params are unusable): answer "Invalid login". */
  | { type: "invalid_login"; id: JsonRpcId; detail: string }
  | { type: "get_work"; id: JsonRpcId }
  /** All three fields lowercase, "0x"-prefixed: nonce 16 hex digits, headerHash and mixDigest 64. */
  | { type: "submit_work"; id: JsonRpcId; nonce: string; headerHash: string; mixDigest: string; worker?: string }
  | { type: "submit_hashrate"; id: JsonRpcId; hashrate: bigint; clientId: string }
  | { type: "response"; id: JsonRpcId; result: unknown; error: unknown }
  | { type: "unknown"; id: JsonRpcId; method: string }
  /** A known method whose params are unusable; the session answers with the "malformed" reason. */
  | { type: "invalid"; id: JsonRpcId; method: string; detail: string };

export type EthProxyMessageType = EthProxyMessage["type"];

const ADDRESS_RE = /^0[xX][0-9a-fA-F]{40}$/;
const HEX_RE = /^[0-9a-fA-F]*$/;

/** 2^64: eth_submitHashrate values are H/s; anything at or above this is not a real rate (geth reads it into a uint64). */
const HASHRATE_LIMIT = 1n << 64n;

/** Longest accepted client id / worker name; long enough for a 0x + 64 hex id, short enough to bound what a session stores. */
const MAX_ID_CHARS = 128;

function bad(id: JsonRpcId, method: string, detail: string): EthProxyMessage {
  return { type: "invalid", id, method, detail };
}

/**
 * `hex` with an optional 0x/0X prefix and exactly `digits` hex digits → lowercase "0x…", else undefined.
 * Miners differ on the prefix (ethminer sends it, some older proxies strip it); the PoW check wants one form.
 */
export function normalizeHexField(x: unknown, digits: number): string | undefined {
  if (typeof x !== "string") return undefined;
  const body = x.length >= 2 && x[0] === "0" && (x[1] === "x" || x[1] === "X") ? x.slice(2) : x;
  if (body.length !== digits || !HEX_RE.test(body)) return undefined;
  return "0x" + body.toLowerCase();
}

/**
 * An Ethereum hex quantity ("0x" + 1..64 hex digits; leading zeros allowed because ethminer and Claymore
 * send the hashrate zero-padded to 32 bytes) below 2^64 → bigint, else undefined. No sign, no decimal.
 */
export function parseHashrateQuantity(x: unknown): bigint | undefined {
  if (typeof x !== "string" || x.length < 3 || x.length > 66) return undefined;
  if (x[0] !== "0" || (x[1] !== "x" && x[1] !== "X")) return undefined;
  const body = x.slice(2);
  if (!HEX_RE.test(body)) return undefined;
  const v = BigInt("0x" + body);
  return v < HASHRATE_LIMIT ? v : undefined;
}

/** eth_submitHashrate params [hashrate quantity, client id]; shared with EthereumStratum/1.0.0, where miners send it too. */
export function parseSubmitHashrate(id: JsonRpcId, method: string, params: unknown[] | Record<string, unknown>):
  | { type: "submit_hashrate"; id: JsonRpcId; hashrate: bigint; clientId: string }
  | { type: "invalid"; id: JsonRpcId; method: string; detail: string } {
  if (!Array.isArray(params)) return { type: "invalid", id, method, detail: "params must be an array" };
  const hashrate = parseHashrateQuantity(params[0]);
  if (hashrate === undefined) {
    return { type: "invalid", id, method, detail: "hashrate must be a 0x hex quantity below 2^64" };
  }
  const clientId = params[1];
  if (typeof clientId !== "string" || clientId.length > MAX_ID_CHARS) {
    return { type: "invalid", id, method, detail: `client id must be a string of at most ${MAX_ID_CHARS} chars` };
  }
  return { type: "submit_hashrate", id, hashrate, clientId };
}

function nonEmptyWorker(w: string | undefined): string | undefined {
  // Claymore sends "worker":"" on every request after login: empty means "not given".
  return w === undefined || w.length === 0 ? undefined : w;
}

function parseLogin(id: JsonRpcId, params: unknown[] | Record<string, unknown>, topWorker: string | undefined): EthProxyMessage {
  const invalidLogin = (detail: string): EthProxyMessage => ({ type: "invalid_login", id, detail });
  if (!Array.isArray(params)) return invalidLogin("params must be an array");
  const user = params[0];
  if (typeof user !== "string") return invalidLogin("address must be a string");
  // ethminer: params[0] = User() + Path(), worker separately in "worker"; lolMiner / T-Rex send "0xaddr.worker".
  const dot = user.indexOf(".");
  const addr = dot < 0 ? user : user.slice(0, dot);
  if (!ADDRESS_RE.test(addr)) return invalidLogin("address must be 0x + 40 hex digits");
  const msg: EthProxyMessage & { type: "login" } = { type: "login", id, address: "0x" + addr.slice(2).toLowerCase() };
  const worker = nonEmptyWorker(topWorker) ?? nonEmptyWorker(dot < 0 ? undefined : user.slice(dot + 1));
  if (worker !== undefined) {
    if (worker.length > MAX_ID_CHARS) return invalidLogin(`worker name longer than ${MAX_ID_CHARS} chars`);
    msg.worker = worker;
  }
  // params[1]: the email / password (ethminer sends it only when non-empty; Claymore sends "x"). null = not given.
  const email = params[1];
  if (email !== undefined && email !== null) {
    if (typeof email !== "string") return invalidLogin("email / password must be a string");
    if (email.length > 0) msg.email = email;
  }
  return msg;
}

/** Classifies one parsed envelope. Never throws. */
export function parseEthProxyMessage(m: RpcMessage): EthProxyMessage {
  if (m.kind === "response") return { type: "response", id: m.id, result: m.result, error: m.error };
  const { id, method, params } = m;

  switch (method) {
    case "eth_submitWork": {
      // params [nonce (8 bytes), header pow-hash (32 bytes), mix digest (32 bytes)] (geth eth_submitWork).
      if (!Array.isArray(params)) return bad(id, method, "params must be an array");
      if (params.length < 3) return bad(id, method, `expected 3 params, got ${params.length}`);
      const nonce = normalizeHexField(params[0], 16);
      if (nonce === undefined) return bad(id, method, "nonce must be 8 bytes of hex");
      const headerHash = normalizeHexField(params[1], 64);
      if (headerHash === undefined) return bad(id, method, "header hash must be 32 bytes of hex");
      const mixDigest = normalizeHexField(params[2], 64);
      if (mixDigest === undefined) return bad(id, method, "mix digest must be 32 bytes of hex");
      const msg: EthProxyMessage & { type: "submit_work" } = { type: "submit_work", id, nonce, headerHash, mixDigest };
      const worker = nonEmptyWorker(m.worker);
      if (worker !== undefined) msg.worker = worker;
      return msg;
    }

    case "eth_getWork":
      // Params are ignored: ethminer sends [], some proxies send ["", ""].
      return { type: "get_work", id };

    case "eth_submitHashrate":
      return parseSubmitHashrate(id, method, params);

    case "eth_submitLogin":
      return parseLogin(id, params, m.worker);

    default:
      return { type: "unknown", id, method };
  }
}
