// The contract between a work source (devnet, node, pool) and the pool core; no implementation here.
import type { BlockTemplate } from "../../protocols/bitcoin/template.ts";

export type TemplateReason = "new_block" | "refresh" | "initial";

export interface SubmitBlockResult {
  /** true when the upstream took the block as the new tip (or "duplicate" of one it has). */
  accepted: boolean;
  /** Upstream's answer when not accepted (e.g. "high-hash", "prev-blk-not-found", "stale"). */
  reason?: string;
  /** No node answered at all (transport failures only): the block was never judged, keep it for resubmission. */
  unanswered?: boolean;
}

/** A Bitcoin-family work source. Templates are pushed; blocks are submitted as full block hex. */
export interface BitcoinWorkSource {
  readonly kind: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Called for every new template; "new_block" means the previous one is stale (miners get clean jobs). */
  onTemplate(cb: (t: BlockTemplate, reason: TemplateReason) => void): void;
  current(): BlockTemplate | undefined;
  submitBlock(blockHex: string): Promise<SubmitBlockResult>;
}
