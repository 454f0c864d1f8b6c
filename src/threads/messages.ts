// The messages between the main thread and its session threads (plain, structured-clone data); no logic.
import type { BlockCandidate, CloseReason, ShareRecord, VerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import type { Config } from "../config/schema.ts";
import type { HttpRequest } from "../../protocols/http/parse_request.ts";
import type { HttpAnswer } from "../server/types.ts";
import type { TlsPem } from "../runtime/types.ts";

/** Pools by position: 0 = the Bitcoin-family pool, 1 = the Ethereum-style pool (when enabled). */
export type PoolIndex = 0 | 1;

/** A job as the main thread's pool issued it; `sentAt` (ms since the epoch, sub-ms) times the fan-out. */
export interface JobMessage {
  t: "job";
  pool: PoolIndex;
  job: unknown;
  clean: boolean;
  seq: number;
  sentAt: number;
}

export type ToSessionThread =
  | {
    t: "init";
    /** 1..count-1 (the main thread serves slice 0). */
    index: number;
    count: number;
    config: Config;
    /** The Stratum port the main thread bound (config may say 0 = any). */
    port: number;
    /** Ports of config.listeners, in order, as bound by the main thread. */
    listenerPorts: number[];
    /** Per config.listeners entry, the TLS pair the main thread read and checked (undefined = plain). */
    listenerTls: (TlsPem | undefined)[];
    /** The pools' current jobs, so a thread never serves a miner without work. */
    jobs: JobMessage[];
    bans: [key: string, until: number][];
  }
  | JobMessage
  | { t: "clear"; pool: PoolIndex }
  | { t: "ban"; key: string; until: number }
  | { t: "bans"; bans: [key: string, until: number][] }
  | { t: "verified"; id: number; res: VerifyResult }
  /** The main thread's getwork answer to a thread's { t: "http" }. */
  | { t: "http_answer"; id: number; answer: HttpAnswer }
  | { t: "shutdown"; drainMs: number }
  /** SIGHUP reload: config.listeners[listener] serves new connections with this pair. */
  | { t: "tls"; listener: number; tls: TlsPem };

/** What a session thread's connections did since its last report, for the main thread's pools and guard. */
export type ThreadEvent =
  | { k: "share"; pool: PoolIndex; share: ShareRecord; addr: string }
  | { k: "abuse"; what: "malformed" | "oversize" | "flood" | "login_failed"; addr: string };

export type FromSessionThread =
  | { t: "up" }
  | { t: "error"; message: string }
  | { t: "events"; events: ThreadEvent[] }
  /** Sent at once, not batched: a found block never waits. */
  | { t: "block"; pool: PoolIndex; block: BlockCandidate; addr: string }
  | { t: "verify"; id: number; pool: PoolIndex; req: VerifyRequest }
  /** An HTTP getwork request from a thread's Stratum port: the main thread holds the getwork sessions and answers. */
  | { t: "http"; id: number; req: HttpRequest; addr: string }
  /** A session asked for work this pool has not sent yet (the ethash pool builds its light cache on demand). */
  | { t: "want"; pool: PoolIndex }
  | {
    t: "metrics";
    connections: number;
    refused: Record<string, number>;
    closed: Partial<Record<CloseReason | "peer", number>>;
    /** [job seq, ms from the main thread's post to the last socket written, sockets written]. */
    fanout: [seq: number, ms: number, sockets: number][];
  }
  | { t: "stopped" };
