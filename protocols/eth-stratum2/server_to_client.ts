// EIP-1571 (EthereumStratum/2.0.0) pool→miner encoders: each returns one "\n"-terminated JSON line, no `jsonrpc` member, notifications without `id`; no decisions about what to send.
import type { JsonRpcId } from "../jsonrpc/envelope.ts";
import { ETH_STRATUM2_PROTOCOL } from "./client_to_server.ts";

/** EIP-1571 "Conventions": numbers go as lowercase hex without 0x and without leading zeros. */
export function hexNumber(n: number | bigint): string {
  return n.toString(16);
}

function noPrefix(hex: string): string {
  return hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2).toLowerCase() : hex.toLowerCase();
}

/** The short success form {"id":n}: "request received and processed correctly with no data to send back". */
export function encodeOk(id: JsonRpcId): string {
  return '{"id":' + JSON.stringify(id) + "}\n";
}

export function encodeResult2(id: JsonRpcId, result: unknown): string {
  return '{"id":' + JSON.stringify(id) + ',"result":' + JSON.stringify(result) + "}\n";
}

export interface HelloTerms {
  /** Seconds of silence after which the server may drop the connection. */
  timeoutSeconds: number;
  /** Errors the server bears before closing. */
  maxErrors: number;
  node: string;
}

/** mining.hello result: proto echoed, plain encoding (no gzip), no session resuming. */
export function encodeHelloResult(id: JsonRpcId, t: HelloTerms): string {
  return encodeResult2(id, {
    proto: ETH_STRATUM2_PROTOCOL,
    encoding: "plain",
    resume: "0",
    timeout: hexNumber(Math.max(0, Math.floor(t.timeoutSeconds))),
    maxerrors: hexNumber(Math.max(0, Math.floor(t.maxErrors))),
    node: t.node,
  });
}

/** What changed since the last mining.set; on a new session all four members (EIP-1571 "Prepare for mining"). */
export interface SetParams {
  epoch?: number;
  /** The share boundary; sent as hex without leading zeros, like the spec's example. */
  target?: bigint;
  algo?: string;
  /** Hex with every byte kept ("01ac" ≠ "1ac"); "" cancels. */
  extranonce?: string;
}

export function encodeSet(p: SetParams): string {
  const o: Record<string, string> = {};
  if (p.epoch !== undefined) o.epoch = hexNumber(p.epoch);
  if (p.target !== undefined) o.target = hexNumber(p.target);
  if (p.algo !== undefined) o.algo = p.algo;
  if (p.extranonce !== undefined) o.extranonce = p.extranonce;
  return '{"method":"mining.set","params":' + JSON.stringify(o) + "}\n";
}

/** mining.notify [jobId, blockNumber (hex), headerHash (no 0x), clean "0"/"1"]. */
export function encodeNotify2(jobId: string, blockNumber: number, headerHash: string, clean: boolean): string {
  return '{"method":"mining.notify","params":' + JSON.stringify([jobId, hexNumber(blockNumber), noPrefix(headerHash), clean ? "1" : "0"]) + "}\n";
}

/** mining.bye: this party ends the session (both sides close). */
export const BYE_LINE = '{"method":"mining.bye"}\n';
