// The CPU miner's public shapes: options, events, stats, the handle; no behaviour.
import type { Sha256Into } from "../../protocols/pow/types.ts";
import type { Runtime } from "../runtime/types.ts";
import type { ServerMessage } from "../../protocols/stratum-v1/server_messages.ts";
import { sha256d } from "../../protocols/pow/sha256d.ts";
import { DIFF1_SCRYPT } from "../../protocols/pow/scrypt.ts";

/** The mining.notify fields the hash depends on (hex exactly as on the wire). */
export type NotifyJob = Extract<ServerMessage, { type: "notify" }>;

export type MinerEvent =
  | { type: "connected"; host: string; port: number }
  | { type: "configured"; versionMask?: number }
  | { type: "subscribed"; extranonce1: string; extranonce2Size: number }
  | { type: "authorized"; ok: boolean; error?: unknown }
  | { type: "difficulty"; difficulty: number }
  | { type: "extranonce"; extranonce1: string; extranonce2Size: number }
  | { type: "job"; jobId: string; clean: boolean }
  | {
      type: "share";
      accepted: boolean;
      jobId: string;
      extranonce2: string;
      ntime: string;
      nonce: string;
      versionBits?: string;
      /** Difficulty the share was mined against, and the hash's own. */
      difficulty: number;
      hashDifficulty: number;
      /** The hash met the network target from nbits. */
      block: boolean;
      /** The server's error value as sent (e.g. [23, "Low difficulty share", null]); null when accepted. */
      error: unknown;
    }
  | { type: "reconnect"; host: string; port: number; waitSeconds: number }
  | { type: "message"; text: string }
  | { type: "closed" }
  | { type: "error"; message: string };

export interface StratumMinerOptions {
  runtime: Runtime;
  host: string;
  port: number;
  user: string;
  password?: string;
  /** Sent in mining.subscribe and answered to client.get_version. */
  agent?: string;
  sha: Sha256Into;
  /** BIP310: ask for version rolling (mask 1fffe000, BIP320's general-purpose bits). */
  configure?: { versionRolling?: boolean };
  suggestDifficulty?: number;
  /**
   * Proof of work of the 80-byte header: sha256d (Bitcoin, the default) or scrypt (Litecoin: N=1024, r=1, p=1).
   * For scrypt, mining.set_difficulty is read with difficulty 1 = target 0xffff·2^224 (DIFF1_SCRYPT), as
   * cpuminer/cgminer do for scrypt coins, and the default slice is 200 hashes (~200 µs each) so a slice stays short.
   */
  algo?: PowAlgo;
  /** Nonces per slice before yielding to the event loop, so one process can run many miners. */
  hashesPerSlice?: number;
  /**
   * Hash no faster than this (a slow device). Needed where share difficulty cannot go above a trivial network
   * difficulty (Litecoin regtest: half of all scrypt hashes are blocks), or the miner would submit thousands
   * of blocks a second. Undefined = as fast as the CPU allows.
   */
  maxHashesPerSecond?: number;
  onEvent?: (e: MinerEvent) => void;
}

export interface MinerStats {
  accepted: number;
  rejected: number;
  /** Keyed by the error's message text ("Low difficulty share"), else its code, else "false" for a bare false result. */
  rejectReasons: Record<string, number>;
  hashes: number;
  /** Block-grade shares the server accepted. */
  blocksFound: number;
  difficulty: number;
}

export interface StratumMiner {
  /** Connects and pipelines the handshake; resolves once subscribed and authorized, rejects otherwise. */
  start(): Promise<void>;
  stop(): void;
  stats(): MinerStats;
}

export type PowAlgo = "sha256d" | "scrypt";
