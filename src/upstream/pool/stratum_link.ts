// A link to an upstream Stratum v1 pool: the generic line link driving the Stratum v1 client session, its outputs as typed events; it does not choose pools, retry or build jobs.
import type { Runtime, TlsConnectOptions } from "../../runtime/types.ts";
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
import { openLineLink } from "./line_link.ts";

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
  tls?: TlsConnectOptions;
  session: UpstreamOptions;
  maxLineBytes: number;
  stallMs: number;
  maxTimeoutsInRow: number;
  tickMs: number;
  log: Logger;
  events: LinkEvents;
}

export function openStratumLink(o: LinkOptions): StratumLink {
  const ev = o.events;
  const link = openLineLink<UpstreamState, UpstreamOut>(
    { ...o, connectTimeoutMs: o.session.handshakeTimeoutMs },
    {
      open: (now) => openUpstream(o.session, now),
      receive: upstreamReceive,
      tick: upstreamTick,
      closed: upstreamClosed,
      lastMessageAt: (s) => s.lastMessageAt,
    },
    (a) => {
      switch (a.kind) {
        case "ready":
          return ev.ready({ extranonce1: a.extranonce1, extranonce2Size: a.extranonce2Size, versionMask: a.versionMask, subscriptionId: a.subscriptionId });
        case "job":
          return ev.job(a.notify, a.difficulty);
        case "extranonce":
          return ev.extranonce(a.extranonce1, a.extranonce2Size);
        case "difficulty":
          return ev.difficulty(a.difficulty);
        case "version_mask":
          return o.log.info("upstream changed the version-rolling mask", { pool: `${o.host}:${o.port}`, mask: a.mask.toString(16) });
        case "reconnect":
          return ev.reconnect(a.host, a.port, a.waitSeconds ?? 0);
        case "message":
          return ev.message(a.text);
      }
    },
    ev.down,
  );
  return {
    id: link.id,
    host: link.host,
    port: link.port,
    get phase() {
      return link.phase;
    },
    get difficulty() {
      return link.state?.difficulty ?? 0;
    },
    submit: (sub) => link.submit((s, ctx, now) => upstreamSubmit(s, sub, ctx, now)),
    close: (why) => link.close(why),
  };
}
