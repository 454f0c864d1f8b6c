// The connection core's vocabulary: what it needs from a pool (PoolPort) and from HTTP getwork (HttpPort), limits, hooks, routes, the per-connection record and the server handle; no behaviour.
import type { SocketHandle, TlsPem } from "../runtime/types.ts";
import type { Action, BlockCandidate, CloseReason, ForwardRequest, ForwardResult, ShareRecord, VerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import type { Dialect, JobEvent } from "../../protocols/core/dialect.ts";
import type { DifficultyPolicy } from "../../protocols/core/vardiff.ts";
import type { FramerState } from "../../protocols/jsonrpc/framer.ts";
import type { RateLimiter } from "../policy/ban_policy.ts";
import type { HttpRequest, RequestParserState } from "../../protocols/http/parse_request.ts";
import type { HttpResponse } from "../../protocols/http/encode_response.ts";

/** What the core needs from a pool: the session env (time updated per event) and where results go. */
export interface PoolPort<E extends { now: number }> {
  readonly name: string;
  readonly env: E;
  /** Called when a connection's dialect is known; the dialect session gives it back in closed(). */
  allocateExtranonce1(): string;
  onShare(share: ShareRecord, remoteAddress: string): void;
  onBlock(block: BlockCandidate, remoteAddress: string): void;
  /** Off-loop proof-of-work checks (ethash pools); pools whose sessions never ask may omit it. */
  verify?(req: VerifyRequest): Promise<VerifyResult>;
  /** Relay mode: submit a share to the upstream pool and say what it answered. */
  forward?(req: ForwardRequest): Promise<ForwardResult>;
  /**
   * Relay mode: the port a new connection of this pool mines on (one per upstream connection, each
   * with its own jobs and extranonce space); undefined = full, refuse the miner. Absent: this port.
   */
  // deno-lint-ignore no-explicit-any
  portFor?(): PoolPort<any> | undefined;
}

export interface ServerLimits {
  maxLineBytes: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Close a connection that has not produced a recognisable first message in this time. */
  loginTimeoutMs: number;
  /** A reader this far behind is dropped rather than buffered without bound. */
  maxWriteBufferBytes: number;
  tickMs: number;
}

export interface ServerHooks {
  connections(open: number): void;
  refused(reason: string): void;
  closed(reason: CloseReason | "peer"): void;
  fanout(seconds: number, sockets: number): void;
}

/** HTTP limits of a Stratum port (config getwork.*). */
export interface HttpConnLimits {
  maxHeaderBytes: number;
  maxBodyBytes: number;
  maxRequestsPerConnection: number;
  /** No complete request within this long of opening or of the previous answer: closed. */
  keepAliveMs: number;
}

/** An answer to one HTTP request, with what it did that the ban guard counts (plain data: it may cross threads). */
export interface HttpAnswer extends HttpResponse {
  shares: ShareRecord[];
  abuse: Extract<Action, { kind: "abuse" }>["what"][];
}

/** HTTP getwork on a Stratum port: connections whose first bytes are a request line; absent = line dialects only. */
export interface HttpPort {
  limits: HttpConnLimits;
  /** One request from `remote`; never rejects (a failure is a 500 answer). */
  handle(req: HttpRequest, remote: string): Promise<HttpAnswer>;
}

/** An HTTP connection's state on a Stratum port. */
export interface HttpConn {
  parser: RequestParserState;
  /** Requests waiting to be answered (pipelined), then maybe the framing error that ends the connection. */
  queue: (HttpRequest | { status: number; message: string })[];
  /** A request is with the handler; answers go out in request order. */
  busy: boolean;
  served: number;
  /** When the connection is closed unless a complete request arrived (ms). */
  deadline: number;
}

// deno-lint-ignore no-explicit-any
type AnyDialect = Dialect<any, any, any>;

/** A dialect and the pool its sessions mine for; one port may carry several (one per dialect). */
export interface Route {
  dialect: AnyDialect;
  // deno-lint-ignore no-explicit-any
  pool: PoolPort<any>;
  /** This port's own difficulty for the dialect's sessions (config [[listeners]]); absent = the pool's. */
  difficulty?: DifficultyPolicy;
}

/** Actions of a connection waiting until the share sink has stored the shares before them. */
export interface HeldReplies {
  wait: Promise<void>;
  acts: Action[];
}

/** One connection; it carries its framer's fields itself (one object per miner, not two). */
export interface Conn extends FramerState {
  sock: SocketHandle;
  /** Position in `conns` (swap-remove keeps the array dense). */
  index: number;
  /** Chosen from the first message; the dialect's session state lives in `state`. */
  route: Route | undefined;
  /** The pool port the session mines on: route.pool, or the slot route.pool.portFor() chose. */
  // deno-lint-ignore no-explicit-any
  port: PoolPort<any> | undefined;
  state: unknown;
  openedAt: number;
  closing: boolean;
  /** Replies parked behind shares the sink has not stored yet, oldest first; undefined = none (the usual case). */
  held: HeldReplies[] | undefined;
  /** The miner's address: the socket's, or the PROXY header's source on a proxied listener. */
  addr: string;
  limiter: RateLimiter | undefined;
  /** Bytes received before the PROXY header completed (proxied listeners only); undefined once parsed. */
  proxyBuf: Uint8Array | undefined;
  /**
   * Ports with HTTP getwork: the first bytes while it is open whether they start an HTTP request
   * (Uint8Array), then the HTTP connection's state; undefined for a line-dialect connection.
   */
  http: Uint8Array | HttpConn | undefined;
}

export interface StratumServer {
  readonly port: number;
  readonly connections: number;
  /** A new job for every session of `pool` (sessions of other pools on this port are untouched). */
  // deno-lint-ignore no-explicit-any
  broadcast<J>(pool: PoolPort<any>, ev: JobEvent<J>): void;
  /** Relay mode: send every session of `pool` its reconnect message and close it (its upstream space changed). */
  // deno-lint-ignore no-explicit-any
  evict(pool: PoolPort<any>, dialect?: string): number;
  /** Relay mode: show every session of `pool` a message (dialects that have one). */
  // deno-lint-ignore no-explicit-any
  notice(pool: PoolPort<any>, text: string): void;
  /** Stop accepting, send every session its shutdown message, close; resolves when all are gone or after drainMs. */
  shutdown(drainMs: number): Promise<void>;
  /** TLS ports only: new connections get this certificate, open ones keep theirs; throws if the runtime refuses it. */
  setTls?(tls: TlsPem): void;
}

