// Stratum v1 pool→miner encoders: each returns one "\n"-terminated JSON line (or bytes); no decisions about what to send.
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import { encodeNotification, encodeRequest, encodeResult as encodeRpcResult } from "../jsonrpc/envelope.ts";
import type { StratumJob } from "./job_types.ts";

/**
 * Result of mining.subscribe: [[["mining.set_difficulty", sub],["mining.notify", sub]], extranonce1, extranonce2_size]
 * (slush doc). cgminer resumes with the notify tuple's id; the set_difficulty id may differ (slush sends two).
 */
export function encodeSubscribeResult(
  id: JsonRpcId,
  subscriptionId: string,
  extranonce1Hex: string,
  extranonce2Size: number,
  difficultySubscriptionId: string = subscriptionId,
): string {
  return encodeRpcResult(id, [
    [
      ["mining.set_difficulty", difficultySubscriptionId],
      ["mining.notify", subscriptionId],
    ],
    extranonce1Hex,
    extranonce2Size,
  ]);
}

export function encodeTrue(id: JsonRpcId): string {
  return '{"id":' + JSON.stringify(id) + ',"result":true,"error":null}\n';
}

export function encodeResult(id: JsonRpcId, value: unknown): string {
  return encodeRpcResult(id, value);
}

/** {"id":..,"result":null,"error":[code,message,null]} — the slush array form every client we know accepts. */
export function encodeStratumError(id: JsonRpcId, code: number, message: string): string {
  return '{"id":' + JSON.stringify(id) + ',"result":null,"error":[' + String(code) + "," + JSON.stringify(message) + ",null]}\n";
}

// --- mining.notify -------------------------------------------------------------------------
// A job is broadcast to every session, so its constant middle part is built once per job and
// memoized; per call only the job id and clean flag are spliced in. Jobs are immutable
// (job_types.ts), which is what makes keying by object identity correct.

interface NotifyParts {
  /** `,"<prevhash>","<coinb1>","<coinb2>",[...],"<version>","<nbits>","<ntime>",` */
  middle: string;
  /** Bytes of the line with job.id, clean=false / clean=true. */
  bytesFalse?: Uint8Array;
  bytesTrue?: Uint8Array;
}

const notifyCache = new WeakMap<StratumJob, NotifyParts>();
const NOTIFY_HEAD = '{"id":null,"method":"mining.notify","params":[';
const utf8 = new TextEncoder();

function notifyParts(job: StratumJob): NotifyParts {
  let parts = notifyCache.get(job);
  if (parts === undefined) {
    // JSON.stringify per field (once per job) so even an unexpected character cannot break the line.
    const branch = job.merkleBranch.map((h) => JSON.stringify(h)).join(",");
    const middle =
      "," +
      JSON.stringify(job.prevhashNotify) +
      "," +
      JSON.stringify(job.coinb1) +
      "," +
      JSON.stringify(job.coinb2) +
      ",[" +
      branch +
      "]," +
      JSON.stringify(job.versionHex) +
      "," +
      JSON.stringify(job.nbitsHex) +
      "," +
      JSON.stringify(job.ntimeHex) +
      ",";
    parts = { middle };
    notifyCache.set(job, parts);
  }
  return parts;
}

/** mining.notify params [jobId, prevhash, coinb1, coinb2, branch, version, nbits, ntime, clean]. */
export function encodeNotify(job: StratumJob, clean: boolean, jobId: string = job.id): string {
  return NOTIFY_HEAD + JSON.stringify(jobId) + notifyParts(job).middle + (clean ? "true]}\n" : "false]}\n");
}

/**
 * Same line as UTF-8 bytes. With the default job id the bytes are cached per job and shared
 * between calls (and sessions): callers must treat the returned array as read-only.
 */
export function encodeNotifyBytes(job: StratumJob, clean: boolean, jobId: string = job.id): Uint8Array {
  if (jobId !== job.id) return utf8.encode(encodeNotify(job, clean, jobId));
  const parts = notifyParts(job);
  if (clean) return (parts.bytesTrue ??= utf8.encode(encodeNotify(job, true)));
  return (parts.bytesFalse ??= utf8.encode(encodeNotify(job, false)));
}

// --- difficulty ----------------------------------------------------------------------------

/**
 * Difficulty as a JSON number literal without exponent where possible: integers as digits,
 * fractions as fixed decimals with up to 12 significant digits (JSON.stringify(1e-7) is
 * "1e-7": valid JSON, but plain decimals are what every miner's parser has been fed for years).
 * Values too small for 100 decimals fall back to JS exponent form, which JSON and strtod accept.
 */
export function formatDifficulty(d: number): string {
  if (!Number.isFinite(d) || d <= 0) throw new RangeError(`difficulty must be finite and > 0, got ${d}`);
  if (Number.isInteger(d)) return d < 1e21 ? String(d) : BigInt(d).toString();
  const digits = Math.min(100, Math.max(0, 11 - Math.floor(Math.log10(d))));
  let s = d.toFixed(digits);
  if (s.indexOf(".") >= 0) s = s.replace(/0+$/, "").replace(/\.$/, "");
  if (s === "0") return String(d);
  return s;
}

/** Throws RangeError for a non-finite or non-positive difficulty (a bug in the caller, never wire input). */
export function encodeSetDifficulty(d: number): string {
  return '{"id":null,"method":"mining.set_difficulty","params":[' + formatDifficulty(d) + "]}\n";
}

// --- other notifications and requests --------------------------------------------------------

/** NiceHash mining.set_extranonce [extranonce1, extranonce2_size]. */
export function encodeSetExtranonce(extranonce1Hex: string, extranonce2Size: number): string {
  return encodeNotification("mining.set_extranonce", [extranonce1Hex, extranonce2Size]);
}

/** BIP310 mining.set_version_mask [mask hex]. */
export function encodeSetVersionMask(maskHex: string): string {
  return encodeNotification("mining.set_version_mask", [maskHex]);
}

/** BIP310 configure result, e.g. {"version-rolling":true,"version-rolling.mask":"1fffe000"}. */
export function encodeConfigureResult(id: JsonRpcId, result: Record<string, unknown>): string {
  return encodeRpcResult(id, result);
}

/**
 * client.reconnect: params [] (reconnect to the same server) when no host; else [host, port, wait].
 * Port is sent as a string like ckpool (cgminer accepts int or string); wait is only sent with a port.
 */
export function encodeReconnect(host?: string, port?: number, waitSeconds?: number): string {
  const params: unknown[] = [];
  if (host !== undefined) {
    params.push(host);
    if (port !== undefined) {
      params.push(String(port));
      if (waitSeconds !== undefined) params.push(waitSeconds);
    }
  }
  return encodeNotification("client.reconnect", params);
}

export function encodeShowMessage(text: string): string {
  return encodeNotification("client.show_message", [text]);
}

/** client.get_version request (cgminer answers with its version string). */
export function encodeGetVersion(id: JsonRpcId): string {
  return encodeRequest(id, "client.get_version", []);
}

/** mining.ping request (ckpool shape). */
export function encodePing(id: JsonRpcId): string {
  return encodeRequest(id, "mining.ping", []);
}

/** Reply to a client's mining.ping: result "pong" (cgminer send_pong shape). */
export function encodePong(id: JsonRpcId): string {
  return encodeRpcResult(id, "pong");
}
