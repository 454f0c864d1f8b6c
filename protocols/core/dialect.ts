// The interface every miner dialect implements so the connection core never branches on dialect names.
import type { RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import type { Action, ForwardRequest, ForwardResult, VerifyRequest, VerifyResult } from "./actions.ts";
import type { DifficultyPolicy } from "./vardiff.ts";

/** A new job for every session of a pool; `memo` lets each dialect encode it once for all sockets. */
export interface JobEvent<J> {
  job: J;
  clean: boolean;
  memo: Map<string, string | Uint8Array>;
}

export interface OpenInfo {
  remoteAddress: string;
  /** Extranonce1 (hex) the core allocated for this connection. */
  extranonce1: string;
  /** The listening port's own difficulty (config [[listeners]]); absent = the pool's (env.policy). */
  difficulty?: DifficultyPolicy;
}

/**
 * A dialect session is a reducer over mutable state: each call reads (state, input, env) and
 * appends actions to `out`. State is mutated in place (allocation-free hot path) and owned by
 * one connection; `env` carries time (env.now), hashing and the pool's job book.
 */
export interface Dialect<S, E, J> {
  readonly name: string;
  /** Does the first message of a connection belong to this dialect? */
  detect(first: RpcMessage): boolean;
  open(info: OpenInfo, env: E): S;
  receive(s: S, msg: RpcMessage | RpcParseError, env: E, out: Action[]): void;
  /** End of one read: send what pipelined requests left pending (e.g. the first job). */
  flush(s: S, env: E, out: Action[]): void;
  job(s: S, ev: JobEvent<J>, env: E, out: Action[]): void;
  /** Periodic: timeouts and vardiff for quiet connections. */
  tick(s: S, env: E, out: Action[]): void;
  /** Graceful shutdown: tell the miner to reconnect. */
  shutdown(s: S, env: E, out: Action[]): void;
  /** The answer to a "verify" action this session emitted (dialects that never emit one omit it). */
  verified?(s: S, req: VerifyRequest, res: VerifyResult, env: E, out: Action[]): void;
  /** The upstream pool's answer to a "forward" action (relay mode; dialects that never forward omit it). */
  forwarded?(s: S, req: ForwardRequest, res: ForwardResult, env: E, out: Action[]): void;
  /** Relay mode: tell the miner something (client.show_message); dialects without such a message omit it. */
  notice?(s: S, text: string, env: E, out: Action[]): void;
  /** Connection gone: release what the session held. */
  closed(s: S, env: E): void;
}
