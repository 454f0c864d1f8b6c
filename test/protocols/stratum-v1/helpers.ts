// Test helpers: a StratumJob rebuilt from mining.notify params (vectors give notify, not templates) and a small Bitcoin tx parser; no assertions here.
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import type { StratumJob } from "../../../protocols/stratum-v1/job_types.ts";
import { readU32LE } from "../../../protocols/bitcoin/script.ts";
import { bytesToHex, hexToBytes } from "../../../protocols/pow/hex.ts";
import { bitsToTarget, targetToLE } from "../../../protocols/pow/target.ts";

const bytes = (hex: string) => {
  const b = hexToBytes(hex);
  if (b === undefined) throw new Error(`bad hex in fixture: ${hex.slice(0, 20)}`);
  return b;
};

/** notify params: [jobId, prevhash(word-swapped), coinb1, coinb2, branch[], version, nbits, ntime, clean]. */
export type NotifyParams = [string, string, string, string, string[], string, string, string, boolean];

export function jobFromNotify(p: NotifyParams, en1Size: number, en2Size: number, template: Partial<BlockTemplate> = {}): StratumJob {
  const swapped = bytes(p[1]);
  const prevhash = new Uint8Array(32);
  for (let i = 0; i < 32; i += 4) for (let k = 0; k < 4; k++) prevhash[i + k] = swapped[i + 3 - k] as number;
  const bits = Number.parseInt(p[6], 16);
  const networkTarget = bitsToTarget(bits);
  const version = Number.parseInt(p[5], 16);
  const ntime = Number.parseInt(p[7], 16);
  return {
    id: p[0],
    height: template.height ?? 0,
    template: {
      height: 0,
      version,
      previousBlockHash: bytesToHex(Uint8Array.from(prevhash).reverse()),
      bits: p[6],
      curtime: ntime,
      coinbaseValue: 0n,
      transactions: [],
      ...template,
    },
    extranonce1Size: en1Size,
    extranonce2Size: en2Size,
    prevhashNotify: p[1],
    coinb1: p[2],
    coinb2: p[3],
    merkleBranch: p[4],
    versionHex: p[5],
    nbitsHex: p[6],
    ntimeHex: p[7],
    coinb1Bytes: bytes(p[2]),
    coinb2Bytes: bytes(p[3]),
    branchBytes: bytes(p[4].join("")),
    prevhash,
    version,
    bits,
    ntime,
    networkTarget,
    networkTargetLE: targetToLE(networkTarget),
  };
}

export interface ParsedTx {
  version: number;
  segwit: boolean;
  inputs: { prevHash: Uint8Array; prevIndex: number; scriptSig: Uint8Array; sequence: number }[];
  outputs: { value: bigint; script: Uint8Array }[];
  witness: Uint8Array[][];
  locktime: number;
  /** Offset just past the transaction. */
  end: number;
}

/** Parses one transaction at offset (BIP144 witness form accepted); throws on truncation, which a test then reports. */
export function parseTx(b: Uint8Array, offset = 0): ParsedTx {
  let o = offset;
  const need = (n: number) => {
    if (o + n > b.length) throw new Error(`truncated at ${o}+${n}`);
  };
  const u8 = () => {
    need(1);
    return b[o++] as number;
  };
  const u32 = () => {
    need(4);
    const v = readU32LE(b, o);
    o += 4;
    return v;
  };
  const varint = () => {
    const f = u8();
    if (f < 0xfd) return f;
    if (f === 0xfd) return u8() | (u8() << 8);
    if (f === 0xfe) return u32();
    return u32() + u32() * 2 ** 32;
  };
  const take = (n: number) => {
    need(n);
    const s = b.slice(o, o + n);
    o += n;
    return s;
  };
  const version = u32();
  let segwit = false;
  if (b[o] === 0 && b[o + 1] === 1) {
    segwit = true;
    o += 2;
  }
  const inputs: ParsedTx["inputs"] = [];
  for (let n = varint(); n > 0; n--) {
    const prevHash = take(32);
    const prevIndex = u32();
    const scriptSig = take(varint());
    inputs.push({ prevHash, prevIndex, scriptSig, sequence: u32() });
  }
  const outputs: ParsedTx["outputs"] = [];
  for (let n = varint(); n > 0; n--) {
    const lo = u32();
    const hi = u32();
    outputs.push({ value: BigInt(lo) + (BigInt(hi) << 32n), script: take(varint()) });
  }
  const witness: Uint8Array[][] = [];
  if (segwit) {
    for (let i = 0; i < inputs.length; i++) {
      const items: Uint8Array[] = [];
      for (let n = varint(); n > 0; n--) items.push(take(varint()));
      witness.push(items);
    }
  }
  const locktime = u32();
  return { version, segwit, inputs, outputs, witness, locktime, end: o };
}
