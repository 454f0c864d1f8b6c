// One TCP connection to an upstream Stratum v1 pool: socket, line framing and timers around the pure upstream session; it does not choose pools, retry or build jobs.
import type { Runtime, SocketHandle } from "../../runtime/types.ts";
import { createLineFramer } from "../../../protocols/jsonrpc/framer.ts";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import {
  openUpstream,
  upstreamClosed,
  upstreamReceive,
  upstreamSubmit,
  upstreamTick,
  type UpstreamNotify,
  type UpstreamOptions,
  type UpstreamOut,
  type UpstreamState,
  type UpstreamSubmit,
  type UpstreamVerdict,
} from "../../../protocols/stratum-v1/upstream_session.ts";
import type { Logger } from "../../observe/log.ts";

export interface LinkReady {
  extranonce1: string;
  extranonce2Size: number;
  versionMask: number;
  subscriptionId: string;
}

/** What a link reports to its owner; `down` comes exactly once, last. */
export interface LinkEvents {
  ready(info: LinkReady): void;
  job(notify: UpstreamNotify, difficulty: number): void;
  extranonce(extranonce1: string, extranonce2Size: number): void;
  difficulty(d: number): void;
  reconnect(host: string | undefined, port: number | undefined, waitSeconds: number): void;
  message(text: string): void;
  down(why: string): void;
}

export interface StratumLink {
  readonly id: number;
  readonly host: string;
  readonly port: number;
  readonly phase: "connecting" | "handshake" | "ready" | "closed";
  readonly difficulty: number;
  submit(sub: UpstreamSubmit): Promise<{ verdict: UpstreamVerdict; latencyMs: number }>;
  /** Close now; waiting shares are answered `lost`. */
  close(why: string): void;
}

export interface LinkOptions {
  runtime: Runtime;
  id: number;
  host: string;
  port: number;
  session: UpstreamOptions;
  /** A pool line longer than this ends the link (a broken or hostile pool must not grow our memory). */
  maxLineBytes: number;
  /** No line from the pool for this long while ready = stalled: the link goes down. */
  stallMs: number;
  /** This many submits in a row without a verdict = stalled. */
  maxTimeoutsInRow: number;
  tickMs: number;
  log: Logger;
  events: LinkEvents;
}

const encoder = new TextEncoder();

export function openStratumLink(o: LinkOptions): StratumLink {
  const clock = o.runtime.clock;
  let phase: StratumLink["phase"] = "connecting";
  let sock: SocketHandle | undefined;
  let state: UpstreamState | undefined;
  let downSent = false;
  let timeoutsInRow = 0;
  const waiting = new Map<object, (v: { verdict: UpstreamVerdict; latencyMs: number }) => void>();
  const framer = createLineFramer({ maxLineBytes: o.maxLineBytes });
  const startedAt = clock.now();

  const ticker = clock.setInterval(() => {
    const now = clock.now();
    if (phase === "connecting") {
      if (now - startedAt >= o.session.handshakeTimeoutMs) down(`no TCP connection within ${o.session.handshakeTimeoutMs} ms`);
      return;
    }
    if (state === undefined || phase === "closed") return;
    perform(upstreamTick(state, now));
    if (phase === "ready" && now - state.lastMessageAt >= o.stallMs) down(`no message from the pool for ${Math.round((now - state.lastMessageAt) / 1000)} s`);
  }, o.tickMs);

  function down(why: string): void {
    if (phase === "closed") return;
    phase = "closed";
    clock.clearInterval(ticker);
    if (state !== undefined) perform(upstreamClosed(state));
    for (const [, resolve] of waiting) resolve({ verdict: { kind: "lost" }, latencyMs: 0 });
    waiting.clear();
    sock?.destroy();
    if (!downSent) {
      downSent = true;
      o.events.down(why);
    }
  }

  function perform(out: UpstreamOut[]): void {
    let text = "";
    for (const a of out) {
      switch (a.kind) {
        case "write":
          text += a.data;
          break;
        case "ready":
          phase = "ready";
          o.events.ready({ extranonce1: a.extranonce1, extranonce2Size: a.extranonce2Size, versionMask: a.versionMask, subscriptionId: a.subscriptionId });
          break;
        case "job":
          o.events.job(a.notify, a.difficulty);
          break;
        case "extranonce":
          o.events.extranonce(a.extranonce1, a.extranonce2Size);
          break;
        case "difficulty":
          o.events.difficulty(a.difficulty);
          break;
        case "version_mask":
          o.log.info("upstream changed the version-rolling mask", { pool: `${o.host}:${o.port}`, mask: a.mask.toString(16) });
          break;
        case "verdict": {
          const resolve = waiting.get(a.ctx as object);
          waiting.delete(a.ctx as object);
          if (a.verdict.kind === "timeout") timeoutsInRow++;
          else if (a.verdict.kind !== "lost") timeoutsInRow = 0;
          resolve?.({ verdict: a.verdict, latencyMs: a.latencyMs });
          break;
        }
        case "reconnect":
          o.events.reconnect(a.host, a.port, a.waitSeconds ?? 0);
          break;
        case "message":
          o.events.message(a.text);
          break;
        case "failed":
          if (text !== "" && sock !== undefined) sock.write(encoder.encode(text));
          text = "";
          down(a.why);
          break;
        case "log":
          o.log[a.level](a.msg, { ...a.fields, pool: `${o.host}:${o.port}` });
          break;
      }
    }
    if (text !== "" && sock !== undefined && phase !== "closed") sock.write(encoder.encode(text));
    if (timeoutsInRow >= o.maxTimeoutsInRow && phase !== "closed") down(`${timeoutsInRow} shares in a row without a verdict`);
  }

  o.runtime.connect(o.host, o.port, {
    open() {},
    data(_s, chunk) {
      if (phase === "closed" || state === undefined) return;
      const r = framer.push(chunk);
      const now = clock.now();
      for (const line of r.lines) {
        // deno-lint-ignore no-explicit-any
        if ((phase as any) === "closed") return;
        perform(upstreamReceive(state, parseLine(line), now));
      }
      if (r.overflow) down(`pool sent a line longer than ${o.maxLineBytes} bytes`);
    },
    close() {
      down("connection closed by the pool");
    },
  }).then((s) => {
    // deno-lint-ignore no-explicit-any
    if ((phase as any) === "closed") return s.destroy();
    sock = s;
    phase = "handshake";
    const opened = openUpstream(o.session, clock.now());
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
    get difficulty() {
      return state?.difficulty ?? 0;
    },
    submit(sub) {
      if (phase !== "ready" || state === undefined) return Promise.resolve({ verdict: { kind: "lost" as const }, latencyMs: 0 });
      const ctx = {};
      const p = new Promise<{ verdict: UpstreamVerdict; latencyMs: number }>((resolve) => waiting.set(ctx, resolve));
      perform(upstreamSubmit(state, sub, ctx, clock.now()));
      return p;
    },
    close(why) {
      down(why);
    },
  };
}
