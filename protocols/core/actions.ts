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
}

/** A sha256d share whose hash meets the network target: everything needed to assemble the block. */
export interface Sha256BlockCandidate {
  algo: "sha256d";
  worker: string;
  height: number;
  /** Block hash, display order. */
  hash: string;
  job: StratumJob;
  extranonce1: Uint8Array;
  fields: SubmitFields;
  at: number;
}

export type BlockCandidate = Sha256BlockCandidate;

export type CloseReason =
  | "malformed"
  | "line_too_long"
  | "login_timeout"
  | "idle_timeout"
  | "unsupported_dialect"
  | "shutdown"
  | "write_overflow"
  | "banned";

export type Action =
  | { kind: "write"; data: string | Uint8Array }
  | { kind: "share"; share: ShareRecord }
  | { kind: "block"; block: BlockCandidate }
  | { kind: "close"; reason: CloseReason }
  | { kind: "log"; level: "debug" | "info" | "warn"; msg: string; fields?: Record<string, unknown> };
