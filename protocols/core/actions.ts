// What a dialect session asks the runtime to do (write, record a share, submit a block, close); data only.
import type { Reason } from "../errors/reasons.ts";
import type { StratumJob } from "../stratum-v1/job_types.ts";
import type { SubmitFields } from "../stratum-v1/share.ts";

export interface ShareRecord {
  worker: string;
  accepted: boolean;
  reason?: Reason;
  /** Difficulty the share was judged at (the one in force when its job was sent). */
  difficulty: number;
  /** Difficulty the hash actually reached (0 when the share was refused before hashing). */
  shareDifficulty: number;
  jobId: string;
  height: number;
  /** ms, injected clock. */
  at: number;
  /**
   * Relay mode, a share forwarded to the upstream pool: its verdict there. "unconfirmed" = no verdict
   * (timeout, connection lost): never counted accepted. Absent for shares that stayed local.
   */
  upstream?: "accepted" | "rejected" | "unconfirmed";
  /** The hash met the network target (solo: a block action follows; relay mode: the upstream pool submits the block). */
  block?: boolean;
}

/** A Bitcoin-family share (sha256d or scrypt PoW) whose hash meets the network target: everything needed to assemble the block. */
export interface Sha256BlockCandidate {
  algo: "sha256d" | "scrypt";
  worker: string;
  height: number;
  /** Block hash, display order. */
  hash: string;
  job: StratumJob;
  extranonce1: Uint8Array;
  fields: SubmitFields;
  at: number;
}

/** An ethash/etchash share that met the network boundary: what eth_submitWork needs. */
export interface EthBlockCandidate {
  algo: "ethash" | "etchash";
  worker: string;
  height: number;
  /** 0x + 16 hex (big-endian), 0x + 64 hex, 0x + 64 hex: eth_submitWork's params. */
  nonce: string;
  headerHash: string;
  mixDigest: string;
  /** Hashimoto result, 0x + 64 hex. */
  hash: string;
  at: number;
}

export type BlockCandidate = Sha256BlockCandidate | EthBlockCandidate;

/**
 * A proof-of-work check too slow for the connection's turn (ethash: milliseconds), done off the
 * event loop by the pool; the answer comes back to the session through Dialect.verified.
 */
export type VerifyRequest = EthashVerifyRequest | ScryptVerifyRequest;

/** Litecoin-style scrypt(N=1024, r=1, p=1) of an 80-byte header: 200-550 µs, so off the event loop. */
export interface ScryptVerifyRequest {
  algo: "scrypt";
  header: Uint8Array;
  ctx: unknown;
}

export interface EthashVerifyRequest {
  algo: "ethash" | "etchash";
  epoch: number;
  /** The epoch's seed hash (32 bytes) and light-cache size: together they name the cache (etchash epoch 195 and ethash 390 share a seed, not a size). */
  seed: Uint8Array;
  cacheSize: number;
  fullSize: number;
  headerHash: Uint8Array;
  /** 8 bytes, big-endian as on the wire. */
  nonce: Uint8Array;
  /** When the miner sent one (eth-proxy): checked against the computed one. */
  mixDigest?: Uint8Array;
  /** The session's own context for the answer (request id, worker, job, difficulty…). */
  ctx: unknown;
}

export interface VerifyResult {
  /** false when the cache for the epoch could not be had or the verifier failed (answer: internal error). */
  ok: boolean;
  mixDigest?: Uint8Array;
  /** Hashimoto result (32 bytes, big-endian number); for scrypt the raw 32-byte hash (little-endian number). */
  result?: Uint8Array;
  error?: string;
}

/** Relay mode: a share that met the upstream pool's difficulty, to submit there. */
export type ForwardRequest = StratumForward | EthForward;

/** A Bitcoin-family share: mining.submit params as the upstream expects them. */
export interface StratumForward {
  kind: "stratum-v1";
  /** The upstream connection that issued the job. */
  link: number;
  worker: string;
  jobId: string;
  extranonce2: string;
  ntime: string;
  nonce: string;
  versionBits?: string;
  /** The session's own context for the answer. */
  ctx: unknown;
}

/** An ethash/etchash share: eth_submitWork's fields (and the upstream job id for EthereumStratum upstreams). */
export interface EthForward {
  kind: "eth";
  link: number;
  worker: string;
  /** Upstream job id (EthereumStratum upstreams); eth-proxy upstreams key work by headerHash. */
  jobId: string;
  /** 0x + 16 hex, the full 8-byte nonce. */
  nonce: string;
  headerHash: string;
  mixDigest: string;
  ctx: unknown;
}

/** The upstream's verdict on a forwarded share, in our vocabulary. */
export type ForwardResult =
  | { verdict: "accepted" }
  | { verdict: "rejected"; reason: Reason; message: string }
  /** No verdict: upstream_timeout or upstream_unavailable (never counted accepted). */
  | { verdict: "unconfirmed"; reason: "upstream_timeout" | "upstream_unavailable"; message: string };

export type CloseReason =
  | "malformed"
  | "line_too_long"
  | "login_timeout"
  | "idle_timeout"
  | "unsupported_dialect"
  | "shutdown"
  | "write_overflow"
  | "banned"
  | "flood"
  /** An HTTP connection ended after its last answer (Connection: close, HTTP/1.0, or the keep-alive request cap). */
  | "http_done"
  /** The miner ended the session itself (EIP-1571 mining.bye). */
  | "bye";

export type Action =
  | { kind: "write"; data: string | Uint8Array }
  | { kind: "share"; share: ShareRecord }
  | { kind: "block"; block: BlockCandidate }
  | { kind: "verify"; request: VerifyRequest }
  /** Relay mode: submit to the upstream pool; the answer comes back through Dialect.forwarded. */
  | { kind: "forward"; request: ForwardRequest }
  /** Something the ban policy counts against the source address (the session still answers it itself). */
  | { kind: "abuse"; what: "malformed" | "login_failed" }
  | { kind: "close"; reason: CloseReason }
  | { kind: "log"; level: "debug" | "info" | "warn"; msg: string; fields?: Record<string, unknown> };
