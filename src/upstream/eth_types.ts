// The contract between an Ethereum-style work source (devnet, node) and the ethash pool; no implementation.
import type { EthWork } from "../../protocols/eth/work.ts";
import type { SubmitBlockResult } from "./types.ts";
import type { ForwardRequest, ForwardResult } from "../../protocols/core/actions.ts";

export interface EthWorkSource {
  readonly kind: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Every new piece of work; `newBlock` means the previous work is for an old height (clean jobs). */
  onWork(cb: (w: EthWork, newBlock: boolean) => void): void;
  current(): EthWork | undefined;
  /** eth_submitWork: nonce (0x + 16 hex, big-endian), seal hash and mix digest (0x + 64 hex). */
  submitWork(nonce: string, headerHash: string, mixDigest: string): Promise<SubmitBlockResult>;
  /** Relay mode: a share meeting the upstream pool's boundary goes there; the answer is its verdict. */
  forward?(req: ForwardRequest): Promise<ForwardResult>;
  /** Relay mode over an EthereumStratum pool: the nonce prefix the pool assigned (hex, "" for none) and its changes. */
  readonly nonceSpace?: { prefix(): string; onChange(cb: () => void): void };
}
