// Relay mode's extranonce carving and job translation: an upstream pool's mining.notify becomes a job for our miners (their extranonce1 is a prefix carved from the upstream's extranonce2); no I/O, no job bookkeeping.
import type { BlockTemplate } from "../bitcoin/template.ts";
import type { StratumJob } from "./job_types.ts";
import type { UpstreamNotify } from "./upstream_session.ts";
import { bytesToHex, hexToBytes } from "../pow/hex.ts";
import { bitsToTarget, difficultyToTarget, targetToLE } from "../pow/target.ts";

/**
 * How one upstream connection's extranonce space is shared (ckpool proxy mode and the SRI
 * translator do the same): the upstream's extranonce2 of `upstreamEn2Size` bytes is
 *   pad (zeros) ‖ miner prefix (`prefixBytes`, the miner's extranonce1) ‖ miner extranonce2 (`minerEn2Size`).
 * The pad goes at the end of coinb1, so a miner hashes exactly the coinbase the upstream will rebuild.
 */
export interface Carve {
  upstreamEn1: string;
  upstreamEn2Size: number;
  prefixBytes: number;
  minerEn2Size: number;
  padBytes: number;
}

/** Fewest bytes that number `miners` distinct prefixes. */
export function prefixBytesFor(miners: number): number {
  let k = 1;
  while (256 ** k < miners && k < 4) k++;
  return k;
}

/**
 * Plans the carve, or says why the upstream's space is too small: a miner needs at least
 * `minMinerEn2` bytes of its own extranonce2 (cgminer refuses fewer than 2). The miner gets at most
 * `wantMinerEn2` (our configured stratum.extranonce2Size); what is left over is padding.
 */
export function planCarve(upstreamEn1: string, upstreamEn2Size: number, prefixBytes: number, wantMinerEn2: number, minMinerEn2 = 2):
  { ok: true; carve: Carve } | { ok: false; why: string } {
  const room = upstreamEn2Size - prefixBytes;
  if (room < minMinerEn2) {
    return { ok: false, why: `upstream extranonce2 of ${upstreamEn2Size} bytes leaves ${room} after a ${prefixBytes}-byte miner prefix (need ${minMinerEn2})` };
  }
  const minerEn2Size = Math.min(wantMinerEn2, room);
  return { ok: true, carve: { upstreamEn1: upstreamEn1.toLowerCase(), upstreamEn2Size, prefixBytes, minerEn2Size, padBytes: room - minerEn2Size } };
}

/** The extranonce2 to submit upstream for a miner's share: pad ‖ the miner's extranonce1 ‖ its extranonce2. */
export function upstreamExtranonce2(padHex: string, minerEn1Hex: string, minerEn2Hex: string): string {
  return padHex + minerEn1Hex + minerEn2Hex;
}

/** BIP34 height from the start of coinb1 (non-witness coinbase: version, 1 input, null prevout, scriptSig length, height push); 0 when absent. */
export function heightFromCoinb1(coinb1: Uint8Array): number {
  // 4 version + 1 input count + 32 prevout hash + 4 prevout index + 1 scriptSig length (≤ 100 → one byte)
  const at = 42;
  if (coinb1.length <= at) return 0;
  const n = coinb1[at]!;
  if (n === 0) return 0; // OP_0: height 0 (regtest genesis children encode 1..16 as OP_n, below)
  if (n >= 0x51 && n <= 0x60) return n - 0x50; // OP_1..OP_16
  if (n > 8 || coinb1.length < at + 1 + n) return 0;
  let h = 0;
  for (let i = n - 1; i >= 0; i--) h = h * 256 + coinb1[at + 1 + i]!;
  return h;
}

/** notify prevhash (each 4-byte word byte-swapped) → internal byte order. */
function unswapWords(hex: string): Uint8Array | undefined {
  const b = hexToBytes(hex);
  if (b === undefined || b.length !== 32) return undefined;
  for (let i = 0; i < 32; i += 4) {
    const a0 = b[i]!, a1 = b[i + 1]!;
    b[i] = b[i + 3]!;
    b[i + 1] = b[i + 2]!;
    b[i + 2] = a1;
    b[i + 3] = a0;
  }
  return b;
}

export interface RelayJobInput {
  /** Our job id (the relay's book mints it; upstream ids may collide across connections). */
  id: string;
  notify: UpstreamNotify;
  carve: Carve;
  /** Upstream share difficulty for this job and the chain's difficulty-1 target. */
  upstreamDifficulty: number;
  diff1: bigint;
  /** Which upstream connection issued it: a share goes back only to that one. */
  link: number;
}

/** Builds our job from an upstream one, or says why it is unusable (bad hex from the pool). */
export function buildRelayJob(input: RelayJobInput): { ok: true; job: StratumJob } | { ok: false; why: string } {
  const { notify: n, carve } = input;
  const up1 = hexToBytes(n.coinb1);
  const en1 = hexToBytes(carve.upstreamEn1);
  const c2 = hexToBytes(n.coinb2);
  if (up1 === undefined || en1 === undefined || c2 === undefined) return { ok: false, why: "coinb1/coinb2/extranonce1 not hex" };
  const prevhash = unswapWords(n.prevhash);
  if (prevhash === undefined) return { ok: false, why: "prevhash not 32 bytes" };
  const branch: Uint8Array[] = [];
  for (const h of n.branch) {
    const b = hexToBytes(h);
    if (b === undefined || b.length !== 32) return { ok: false, why: "merkle branch entry not 32 bytes" };
    branch.push(b);
  }
  const c1 = new Uint8Array(up1.length + en1.length + carve.padBytes);
  c1.set(up1, 0);
  c1.set(en1, up1.length);
  const branchBytes = new Uint8Array(32 * branch.length);
  branch.forEach((b, i) => branchBytes.set(b, 32 * i));
  // The parser already checks these; buildRelayJob keeps its own promise for any caller.
  if (!/^[0-9a-fA-F]{8}$/.test(n.version) || !/^[0-9a-fA-F]{8}$/.test(n.nbits) || !/^[0-9a-fA-F]{8}$/.test(n.ntime)) {
    return { ok: false, why: "version/nbits/ntime must be 8 hex chars" };
  }
  const version = parseInt(n.version, 16) >>> 0;
  const bits = parseInt(n.nbits, 16) >>> 0;
  const ntime = parseInt(n.ntime, 16) >>> 0;
  const networkTarget = bitsToTarget(bits);
  const height = heightFromCoinb1(up1);
  const upstreamTarget = difficultyToTarget(input.upstreamDifficulty, input.diff1);
  // The upstream keeps the transactions; the template here only carries what stats and logs read.
  const template: BlockTemplate = {
    height,
    version,
    previousBlockHash: bytesToHex(prevhash.slice().reverse()),
    bits: n.nbits.toLowerCase(),
    curtime: ntime,
    coinbaseValue: 0n,
    transactions: [],
  };
  const job: StratumJob = {
    id: input.id,
    height,
    template,
    extranonce1Size: carve.prefixBytes,
    extranonce2Size: carve.minerEn2Size,
    prevhashNotify: n.prevhash.toLowerCase(),
    coinb1: bytesToHex(c1),
    coinb2: n.coinb2.toLowerCase(),
    merkleBranch: n.branch.map((h) => h.toLowerCase()),
    versionHex: n.version.toLowerCase(),
    nbitsHex: n.nbits.toLowerCase(),
    ntimeHex: n.ntime.toLowerCase(),
    coinb1Bytes: c1,
    coinb2Bytes: c2,
    branchBytes,
    prevhash,
    version,
    bits,
    ntime,
    networkTarget,
    networkTargetLE: targetToLE(networkTarget),
    upstream: {
      jobId: n.jobId,
      link: input.link,
      pad: "00".repeat(carve.padBytes),
      difficulty: input.upstreamDifficulty,
      target: upstreamTarget,
      targetLE: targetToLE(upstreamTarget),
    },
  };
  return { ok: true, job };
}
