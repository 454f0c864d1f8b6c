// Stratum v1 miner→pool messages: RpcMessage → typed ClientMessage (params checked, never throws); no session state or share checking.
import type { JsonRpcId, RpcMessage } from "../jsonrpc/envelope.ts";

export type ClientMessage =
  | { type: "subscribe"; id: JsonRpcId; agent?: string; resume?: string }
  | { type: "authorize"; id: JsonRpcId; user: string; password: string }
  | {
      type: "submit";
      id: JsonRpcId;
      worker: string;
      jobId: string;
      extranonce2: string;
      ntime: string;
      nonce: string;
      /** BIP310 6th param (hex), present only when the miner sent it. */
      versionBits?: string;
    }
  | { type: "configure"; id: JsonRpcId; extensions: string[]; params: Record<string, unknown> }
  | { type: "suggest_difficulty"; id: JsonRpcId; difficulty: number }
  | { type: "suggest_target"; id: JsonRpcId; target: string }
  | { type: "extranonce_subscribe"; id: JsonRpcId }
  | { type: "ping"; id: JsonRpcId }
  | { type: "pong"; id: JsonRpcId }
  | { type: "multi_version"; id: JsonRpcId; versions: number }
  | { type: "get_transactions"; id: JsonRpcId; jobId: string }
  | { type: "response"; id: JsonRpcId; result: unknown; error: unknown }
  | { type: "unknown"; id: JsonRpcId; method: string }
  | { type: "invalid"; id: JsonRpcId; method: string; detail: string };

export type ClientMessageType = ClientMessage["type"];

export type ConfigureMessage = Extract<ClientMessage, { type: "configure" }>;

function bad(id: JsonRpcId, method: string, detail: string): ClientMessage {
  return { type: "invalid", id, method, detail };
}

/** Number or numeric string → finite number, else undefined. NerdMiner formats with %.10g, others send integers. */
export function toFiniteNumber(x: unknown): number | undefined {
  if (typeof x === "number") return Number.isFinite(x) ? x : undefined;
  if (typeof x === "string") {
    const t = x.trim();
    if (t.length === 0 || t.length > 64) return undefined;
    const n = Number(t);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

const HEX_RE = /^[0-9a-fA-F]+$/;

/** Classifies one parsed envelope. Never throws. */
export function parseClientMessage(m: RpcMessage): ClientMessage {
  if (m.kind === "response") return { type: "response", id: m.id, result: m.result, error: m.error };
  const { id, method } = m;
  // Every Stratum v1 method takes positional params; named params are only legal for unknown methods.
  const p = m.params;
  const isArr = Array.isArray(p);

  switch (method) {
    case "mining.submit": {
      // Hot path: one length check and five/six typeof checks. Hex syntax is the share checker's job.
      if (!isArr) return bad(id, method, "params must be an array");
      const n = p.length;
      if (n !== 5 && n !== 6) return bad(id, method, `expected 5 or 6 params, got ${n}`);
      const worker = p[0], jobId = p[1], en2 = p[2], ntime = p[3], nonce = p[4];
      if (typeof worker !== "string") return bad(id, method, "worker must be a string");
      if (typeof jobId !== "string") return bad(id, method, "job id must be a string");
      if (typeof en2 !== "string") return bad(id, method, "extranonce2 must be a string");
      if (typeof ntime !== "string") return bad(id, method, "ntime must be a string");
      if (typeof nonce !== "string") return bad(id, method, "nonce must be a string");
      if (n === 6) {
        const vb = p[5];
        if (typeof vb !== "string") return bad(id, method, "version bits must be a string");
        return { type: "submit", id, worker, jobId, extranonce2: en2, ntime, nonce, versionBits: vb };
      }
      return { type: "submit", id, worker, jobId, extranonce2: en2, ntime, nonce };
    }

    case "mining.subscribe": {
      if (!isArr) return bad(id, method, "params must be an array");
      const msg: ClientMessage & { type: "subscribe" } = { type: "subscribe", id };
      // null is read as "not given": some miners pad the array; any other non-string is refused.
      const agent = p[0];
      if (agent !== undefined && agent !== null) {
        if (typeof agent !== "string") return bad(id, method, "user agent must be a string");
        msg.agent = agent;
      }
      const resume = p[1];
      if (resume !== undefined && resume !== null) {
        if (typeof resume !== "string") return bad(id, method, "session id must be a string");
        msg.resume = resume;
      }
      return msg;
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

    case "mining.configure": {
      // BIP310: params = [extensions: string[], extension-params: object]
      if (!isArr) return bad(id, method, "params must be an array");
      const exts = p[0];
      if (!Array.isArray(exts)) return bad(id, method, "extensions must be an array");
      for (const e of exts) if (typeof e !== "string") return bad(id, method, "extension names must be strings");
      const ep = p[1];
      let params: Record<string, unknown>;
      if (ep === undefined || ep === null) params = {};
      else if (typeof ep === "object" && !Array.isArray(ep)) params = ep as Record<string, unknown>;
      else return bad(id, method, "extension params must be an object");
      return { type: "configure", id, extensions: exts as string[], params };
    }

    case "mining.suggest_difficulty": {
      if (!isArr) return bad(id, method, "params must be an array");
      const d = toFiniteNumber(p[0]);
      if (d === undefined || !(d > 0)) return bad(id, method, "difficulty must be a finite number > 0");
      return { type: "suggest_difficulty", id, difficulty: d };
    }

    case "mining.suggest_target": {
      if (!isArr) return bad(id, method, "params must be an array");
      const t = p[0];
      if (typeof t !== "string" || t.length === 0 || t.length > 64 || !HEX_RE.test(t)) {
        return bad(id, method, "target must be 1..64 hex chars");
      }
      return { type: "suggest_target", id, target: t };
    }

    case "mining.extranonce.subscribe":
      return { type: "extranonce_subscribe", id };

    case "mining.ping":
      return { type: "ping", id };

    case "pong":
      // ESP-Miner answers mining.ping with a request-shaped {"method":"pong"} (fixture mining_ping_reply_esp_miner_quirk).
      return { type: "pong", id };

    case "mining.multi_version": {
      if (!isArr) return bad(id, method, "params must be an array");
      const v = p[0];
      if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 32) {
        return bad(id, method, "versions must be an integer 1..32");
      }
      return { type: "multi_version", id, versions: v };
    }

    case "mining.get_transactions": {
      if (!isArr) return bad(id, method, "params must be an array");
      const j = p[0];
      if (typeof j !== "string") return bad(id, method, "job id must be a string");
      return { type: "get_transactions", id, jobId: j };
    }

    default:
      return { type: "unknown", id, method };
  }
}

export interface ConfigureRequest {
  /** Present when "version-rolling" was requested with a usable mask (missing mask reads as ffffffff). */
  versionRolling?: { mask: number; minBitCount: number };
  /** Present when "minimum-difficulty" was requested with a finite value ≥ 0. */
  minimumDifficulty?: number;
  subscribeExtranonce: boolean;
  /**
   * Extensions we do not implement, plus known ones whose parameters were unusable (so the
   * caller answers them with false rather than pretending to honour them).
   */
  unknown: string[];
}

/** Reads the BIP310 extension parameters of a configure message. Never throws. */
export function parseConfigure(msg: ConfigureMessage): ConfigureRequest {
  const out: ConfigureRequest = { subscribeExtranonce: false, unknown: [] };
  const ps = msg.params;
  for (const ext of msg.extensions) {
    switch (ext) {
      case "version-rolling": {
        const rawMask = ps["version-rolling.mask"];
        const rawBits = ps["version-rolling.min-bit-count"];
        // ESP-Miner sends no min-bit-count (fixture configure_bitaxe): read it as 0.
        let mask: number | undefined;
        if (rawMask === undefined) mask = 0xffffffff;
        else if (typeof rawMask === "string" && rawMask.length >= 1 && rawMask.length <= 8 && HEX_RE.test(rawMask)) {
          mask = parseInt(rawMask, 16) >>> 0;
        }
        let minBitCount: number | undefined;
        if (rawBits === undefined) minBitCount = 0;
        else if (typeof rawBits === "number" && Number.isInteger(rawBits) && rawBits >= 0 && rawBits <= 32) minBitCount = rawBits;
        if (mask === undefined || minBitCount === undefined) out.unknown.push(ext);
        else out.versionRolling = { mask, minBitCount };
        break;
      }
      case "minimum-difficulty": {
        const v = toFiniteNumber(ps["minimum-difficulty.value"]);
        if (v === undefined || v < 0) out.unknown.push(ext);
        else out.minimumDifficulty = v;
        break;
      }
      case "subscribe-extranonce":
        out.subscribeExtranonce = true;
        break;
      default:
        out.unknown.push(ext);
    }
  }
  return out;
}
