// One TCP connection to an upstream pool speaking a line-based JSON-RPC dialect: socket, framing, timers, stall detection and submit promises around a pure client session; it does not choose pools, retry or build jobs.
import type { Runtime, SocketHandle, TlsConnectOptions } from "../../runtime/types.ts";
import { createLineFramer } from "../../../protocols/jsonrpc/framer.ts";
import { parseLine, type RpcMessage, type RpcParseError } from "../../../protocols/jsonrpc/envelope.ts";
import type { UpstreamVerdict } from "../../../protocols/core/upstream.ts";
import type { Logger } from "../../observe/log.ts";

/** The outputs every upstream client session shares; dialect-specific ones go to the owner's handler. */
export type CommonOut =
  | { kind: "write"; data: string }
  | { kind: "ready" }
  | { kind: "verdict"; ctx: unknown; verdict: UpstreamVerdict; latencyMs: number }
  | { kind: "failed"; why: string }
  | { kind: "log"; level: "debug" | "info" | "warn"; msg: string; fields?: Record<string, unknown> };

/** A pure client session (protocols/…/upstream_session.ts) as the link drives it. */
export interface LineSession<S, O extends { kind: string }> {
  open(now: number): { state: S; out: O[] };
  receive(s: S, msg: RpcMessage | RpcParseError, now: number): O[];
  tick(s: S, now: number): O[];
  closed(s: S): O[];
  lastMessageAt(s: S): number;
}

export interface LineLink<S, O> {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly phase: "connecting" | "handshake" | "ready" | "closed";
  readonly state: S | undefined;
  /** Run a session step (e.g. a hashrate report) and perform its outputs. */
  run(step: (s: S, now: number) => O[]): void;
  /** Run a submit step whose verdict output carries `ctx`; resolves with it (`lost` if the link ends first). */
  submit(step: (s: S, ctx: unknown, now: number) => O[]): Promise<{ verdict: UpstreamVerdict; latencyMs: number }>;
  /** Close now; waiting shares are answered `lost`. */
  close(why: string): void;
}

export interface LineLinkOptions {
  runtime: Runtime;
  id: number;
  host: string;
  port: number;
  /** stratum+ssl:// pools: the link is up only after the TLS handshake and its checks. */
  tls?: TlsConnectOptions;
  /** A pool line longer than this ends the link (a broken or hostile pool must not grow our memory). */
  maxLineBytes: number;
  /** TCP connect must succeed within this time. */
  connectTimeoutMs: number;
  /** No line from the pool for this long while ready = stalled: the link goes down. */
  stallMs: number;
  /** This many submits in a row without a verdict = stalled. */
  maxTimeoutsInRow: number;
  tickMs: number;
  log: Logger;
}

export function openLineLink<S, O extends { kind: string }>(
  o: LineLinkOptions,
  session: LineSession<S, O>,
  /** Outputs other than write/failed/log/verdict ("ready" is passed on too, after the link is marked ready). */
  handle: (a: O) => void,
  /** Exactly once, last. */
  onDown: (why: string) => void,
): LineLink<S, O> {
  const clock = o.runtime.clock;
  let phase: LineLink<S, O>["phase"] = "connecting";
  let sock: SocketHandle | undefined;
  let state: S | undefined;
  let timeoutsInRow = 0;
  const waiting = new Map<object, (v: { verdict: UpstreamVerdict; latencyMs: number }) => void>();
  const framer = createLineFramer({ maxLineBytes: o.maxLineBytes });
  const startedAt = clock.now();
  const closed = () => (phase as string) === "closed";

  const ticker = clock.setInterval(() => {
    const now = clock.now();
    if (phase === "connecting") {
      if (now - startedAt >= o.connectTimeoutMs) down(`no TCP connection within ${o.connectTimeoutMs} ms`);
      return;
    }
    if (state === undefined || closed()) return;
    perform(session.tick(state, now));
    if (phase === "ready" && now - session.lastMessageAt(state) >= o.stallMs) {
      down(`no message from the pool for ${Math.round((now - session.lastMessageAt(state)) / 1000)} s`);
    }
  }, o.tickMs);

  function down(why: string): void {
    if (closed()) return;
    phase = "closed";
    clock.clearInterval(ticker);
    if (state !== undefined) perform(session.closed(state));
    for (const [, resolve] of waiting) resolve({ verdict: { kind: "lost" }, latencyMs: 0 });
    waiting.clear();
    sock?.destroy();
    onDown(why);
  }

  function perform(out: O[]): void {
    let text = "";
    for (const x of out) {
      const a = x as unknown as CommonOut;
      switch (a.kind) {
        case "write":
          text += a.data;
          break;
        case "verdict": {
          const resolve = waiting.get(a.ctx as object);
          waiting.delete(a.ctx as object);
          if (a.verdict.kind === "timeout") timeoutsInRow++;
          else if (a.verdict.kind !== "lost") timeoutsInRow = 0;
          resolve?.({ verdict: a.verdict, latencyMs: a.latencyMs });
          break;
        }
        case "failed":
          if (text !== "" && sock !== undefined) sock.write(text);
          text = "";
          down(a.why);
          break;
        case "log":
          o.log[a.level](a.msg, { ...a.fields, pool: `${o.host}:${o.port}` });
          break;
        case "ready":
          phase = "ready";
          handle(x);
          break;
        default:
          handle(x);
      }
    }
    if (text !== "" && sock !== undefined && !closed()) sock.write(text);
    if (timeoutsInRow >= o.maxTimeoutsInRow && !closed()) down(`${timeoutsInRow} shares in a row without a verdict`);
  }

  o.runtime.connect(o.host, o.port, {
    open() {},
    data(_s, chunk) {
      if (closed() || state === undefined) return;
      const r = framer.push(chunk);
      const now = clock.now();
      for (const line of r.lines) {
        if (closed()) return;
        perform(session.receive(state, parseLine(line), now));
      }
      if (r.overflow) down(`pool sent a line longer than ${o.maxLineBytes} bytes`);
    },
    close() {
      down("connection closed by the pool");
    },
  }, o.tls !== undefined ? { tls: { ...o.tls, handshakeTimeoutMs: o.connectTimeoutMs } } : undefined).then((s) => {
    if (closed()) return s.destroy();
    sock = s;
    phase = "handshake";
    const opened = session.open(clock.now());
    state = opened.state;
    perform(opened.out);
  }, (e) => down(`connect failed: ${e instanceof Error ? e.message : String(e)}`));

  return {
    id: o.id,
    host: o.host,
    port: o.port,
    get phase() {
      return phase;
    },
    get state() {
      return state;
    },
    run(step) {
      if (state !== undefined && !closed()) perform(step(state, clock.now()));
    },
    submit(step) {
      if (phase !== "ready" || state === undefined) return Promise.resolve({ verdict: { kind: "lost" as const }, latencyMs: 0 });
      const ctx = {};
      const p = new Promise<{ verdict: UpstreamVerdict; latencyMs: number }>((resolve) => waiting.set(ctx, resolve));
      perform(step(state, ctx, clock.now()));
      return p;
    },
    close(why) {
      down(why);
    },
  };
}
