// Embedded Ethereum-style devnet: a simulated ethash/etchash chain handing out eth_getWork-shaped work and checking submitted blocks.
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { EthAlgo, EthWork } from "../../protocols/eth/work.ts";
import { bytesToHex, hexToBytes } from "../../protocols/pow/hex.ts";
import { epochParams, type EthashChain } from "../../protocols/pow/ethash.ts";
import type { Clock } from "../runtime/types.ts";
import type { SubmitBlockResult } from "./types.ts";
import type { EthWorkSource } from "./eth_types.ts";

export interface EthDevnetOptions {
  algo: EthAlgo;
  /** Etchash only: block from which epochs are 60,000 long (ECIP-1099). */
  activationBlock: number;
  /** Block difficulty in hashes (geth's unit): the block boundary is 2^256 / difficulty. */
  blockDifficulty: bigint;
  blockIntervalSeconds: number;
  startBlock: number;
  clock: Clock;
  /** Hashimoto for a submitted block (the pool's verifier, off the event loop). */
  verify: (headerHash: Uint8Array, nonce: Uint8Array, seed: Uint8Array, cacheSize: number, fullSize: number, epoch: number) => Promise<{ mixDigest: Uint8Array; result: Uint8Array } | undefined>;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export type EthDevnet = EthWorkSource & { tip(): { number: number; hash: string }; blocks(): number };

const TWO_256 = 1n << 256n;

export function createEthDevnet(o: EthDevnetOptions): EthDevnet {
  if (o.blockDifficulty < 1n) throw new RangeError("devnet block difficulty must be ≥ 1");
  const chain: EthashChain = o.algo === "etchash" ? { algo: "etchash", activationBlock: o.activationBlock } : { algo: "ethash" };
  const target = TWO_256 / o.blockDifficulty;
  const enc = new TextEncoder();
  let parent = bytesToHex(keccak_256(enc.encode(`stratum-edge ${o.algo} devnet genesis`)));
  let number = o.startBlock;
  let work: EthWork | undefined;
  let counter = 0;
  let timer: unknown;
  let found = 0;
  const listeners: ((w: EthWork, newBlock: boolean) => void)[] = [];

  /** A fresh seal hash for the next block (real nodes hash the RLP header; any 32 unpredictable bytes serve the miners). */
  function makeWork(): EthWork {
    const p = epochParams(number, chain)!;
    const header = keccak_256(enc.encode(`${parent}:${number}:${counter++}`));
    return { headerHash: "0x" + bytesToHex(header), seedHash: "0x" + bytesToHex(p.seed), target, blockNumber: number };
  }

  function advance(newParent: string): void {
    parent = newParent;
    number++;
    work = makeWork();
    for (const l of listeners) l(work, true);
    schedule();
  }

  function schedule(): void {
    if (timer !== undefined) o.clock.clearTimeout(timer);
    timer = undefined;
    if (o.blockIntervalSeconds > 0) {
      // The simulated rest of the network finds a block.
      timer = o.clock.setTimeout(() => advance(bytesToHex(keccak_256(enc.encode(`network:${number}`)))), o.blockIntervalSeconds * 1000);
    }
  }

  return {
    kind: `${o.algo}-devnet`,
    async start() {
      work = makeWork();
      for (const l of listeners) l(work, true);
      schedule();
    },
    async stop() {
      if (timer !== undefined) o.clock.clearTimeout(timer);
      timer = undefined;
    },
    onWork(cb) {
      listeners.push(cb);
    },
    current: () => work,
    async submitWork(nonce, headerHash, mixDigest): Promise<SubmitBlockResult> {
      const w = work;
      if (w === undefined) return { accepted: false, reason: "not-started" };
      if (headerHash.toLowerCase() !== w.headerHash) return { accepted: false, reason: "stale" };
      if (!/^0x[0-9a-f]{16}$/i.test(nonce) || !/^0x[0-9a-f]{64}$/i.test(mixDigest)) return { accepted: false, reason: "malformed" };
      const p = epochParams(w.blockNumber, chain)!;
      const r = await o.verify(hexBytes(w.headerHash), hexBytes(nonce), p.seed, p.cacheSize, p.fullSize, p.epoch);
      if (r === undefined) return { accepted: false, reason: "verifier-unavailable" };
      if (bytesToHex(r.mixDigest) !== mixDigest.slice(2).toLowerCase()) return { accepted: false, reason: "invalid-mix-digest" };
      if (BigInt("0x" + bytesToHex(r.result)) > target) return { accepted: false, reason: "high-hash" };
      if (work !== w) return { accepted: false, reason: "stale" };
      found++;
      o.log?.("devnet block accepted", { number: w.blockNumber, header: w.headerHash });
      advance(bytesToHex(r.result));
      return { accepted: true };
    },
    tip: () => ({ number: number - 1, hash: parent }),
    blocks: () => found,
  };
}

const hexBytes = (h: string): Uint8Array => hexToBytes(h.replace(/^0x/i, ""))!;
