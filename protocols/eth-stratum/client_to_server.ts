// EthereumStratum/1.0.0 (NiceHash) miner→pool messages: RpcMessage → typed value, never throws; no session state, nonce length or PoW checks.
import type { JsonRpcId, RpcMessage } from "../jsonrpc/envelope.ts";
import { parseSubmitHashrate } from "../eth-proxy/client_to_server.ts";

export type EthStratumMessage =
  /** protocol is what the miner sent as params[1] ("EthereumStratum/1.0.0" for this dialect); the session decides. */
  | { type: "subscribe"; id: JsonRpcId; agent: string; protocol: string }
  | { type: "authorize"; id: JsonRpcId; user: string; password: string }
  /** minerNonce: lowercase hex without 0x, even length 2..16; the exact length (16 − 2·extranonce bytes) is the session's check. */
  | { type: "submit"; id: JsonRpcId; worker: string; jobId: string; minerNonce: string }
  | { type: "extranonce_subscribe"; id: JsonRpcId }
  | { type: "submit_hashrate"; id: JsonRpcId; hashrate: bigint; clientId: string }
  | { type: "response"; id: JsonRpcId; result: unknown; error: unknown }
  | { type: "unknown"; id: JsonRpcId; method: string }
  | { type: "invalid"; id: JsonRpcId; method: string; detail: string };

export type EthStratumMessageType = EthStratumMessage["type"];

const HEX_RE = /^[0-9a-fA-F]+$/;

function bad(id: JsonRpcId, method: string, detail: string): EthStratumMessage {
  return { type: "invalid", id, method, detail };
}

/** Classifies one parsed envelope. Never throws. */
export function parseEthStratumMessage(m: RpcMessage): EthStratumMessage {
  if (m.kind === "response") return { type: "response", id: m.id, result: m.result, error: m.error };
  const { id, method } = m;
  const p = m.params;
  const isArr = Array.isArray(p);

  switch (method) {
    case "mining.submit": {
      // NiceHash spec: params [worker, jobId, minerNonce]; the nonce is hex without 0x (e.g. "cfae7df760").
      if (!isArr) return bad(id, method, "params must be an array");
      if (p.length < 3) return bad(id, method, `expected 3 params, got ${p.length}`);
      const worker = p[0], jobId = p[1], nonce = p[2];
      if (typeof worker !== "string") return bad(id, method, "worker must be a string");
      if (typeof jobId !== "string") return bad(id, method, "job id must be a string");
      if (typeof nonce !== "string") return bad(id, method, "miner nonce must be a string");
      // A 0x prefix is not in the spec but harmless to strip; the length check below still applies to the digits.
      const digits = nonce.startsWith("0x") || nonce.startsWith("0X") ? nonce.slice(2) : nonce;
      if (digits.length < 2 || digits.length > 16 || (digits.length & 1) !== 0 || !HEX_RE.test(digits)) {
        return bad(id, method, "miner nonce must be 1..8 bytes of hex");
      }
      return { type: "submit", id, worker, jobId, minerNonce: digits.toLowerCase() };
    }

    case "mining.subscribe": {
      // NiceHash spec: params ["MinerName/1.0.0", "EthereumStratum/1.0.0"]. The second param is what tells this
      // dialect from Stratum v1 (where it is an optional session id), so it is required here.
      if (!isArr) return bad(id, method, "params must be an array");
      const agent = p[0], protocol = p[1];
      if (agent !== undefined && agent !== null && typeof agent !== "string") return bad(id, method, "user agent must be a string");
      if (typeof protocol !== "string") return bad(id, method, "protocol version must be a string");
      return { type: "subscribe", id, agent: typeof agent === "string" ? agent : "", protocol };
    }

    case "mining.authorize": {
      if (!isArr) return bad(id, method, "params must be an array");
      const user = p[0];
      if (typeof user !== "string") return bad(id, method, "user must be a string");
      const pw = p[1];
      if (pw === undefined || pw === null) return { type: "authorize", id, user, password: "" };
      if (typeof pw !== "string") return bad(id, method, "password must be a string");
      return { type: "authorize", id, user, password: pw };
    }

    case "mining.extranonce.subscribe":
      return { type: "extranonce_subscribe", id };

    case "eth_submitHashrate":
      // Not in the NiceHash spec, but ethminer and others send it on EthereumStratum connections too.
      return parseSubmitHashrate(id, method, p);

    default:
      return { type: "unknown", id, method };
  }
}
