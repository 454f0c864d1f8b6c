// Tests BIP34 height pushes, varints/LE writers and merkle branch/root computation against every fixture block and merkle vector.
import { describe, expect, test } from "bun:test";
import { merkleBranchFromTxids, merkleRootFromBranch, merkleRootFromTxids } from "../../../protocols/bitcoin/merkle.ts";
import { encodeHeightPush, encodeVarInt, readU32LE, writeU32LE, writeU64LE } from "../../../protocols/bitcoin/script.ts";
import { bytesToHex, bytesToHexReversed, hexToBytes } from "../../../protocols/pow/hex.ts";
import { sha256d } from "../../../protocols/pow/sha256d.ts";
import { SHA_IMPLS } from "../pow/sha_impls.ts";
import { fx } from "../pow/vectors.ts";

const bytes = (hex: string) => hexToBytes(hex) as Uint8Array;
const internal = (displayHex: string) => bytes(displayHex).reverse();

describe("script", () => {
  test("all bip34_height_push_vectors", () => {
    const v = fx.bip34_height_push_vectors.vectors;
    expect(v.length).toBe(18);
    for (const { height, push_hex } of v) expect(bytesToHex(encodeHeightPush(height))).toBe(push_hex);
  });

  test("blocks' coinbase scriptSigs start with their height push", () => {
    let n = 0;
    for (const b of fx.blocks) {
      if (b.bip34_height_push_hex === undefined || b.height === null) continue;
      expect(bytesToHex(encodeHeightPush(b.height))).toBe(b.bip34_height_push_hex);
      expect(b.coinbase_scriptsig_hex?.startsWith(b.bip34_height_push_hex)).toBe(true);
      n++;
    }
    expect(n).toBe(4);
  });

  test("negative CScriptNum encoding (Core semantics, not used by heights)", () => {
    expect(bytesToHex(encodeHeightPush(-1))).toBe("4f");
    expect(bytesToHex(encodeHeightPush(-2))).toBe("0182");
    expect(bytesToHex(encodeHeightPush(-128))).toBe("028080");
  });

  test("varints and LE writers", () => {
    expect(bytesToHex(encodeVarInt(0))).toBe("00");
    expect(bytesToHex(encodeVarInt(0xfc))).toBe("fc");
    expect(bytesToHex(encodeVarInt(0xfd))).toBe("fdfd00");
    expect(bytesToHex(encodeVarInt(0xffff))).toBe("fdffff");
    expect(bytesToHex(encodeVarInt(0x10000))).toBe("fe00000100");
    expect(bytesToHex(encodeVarInt(0x100000000))).toBe("ff0000000001000000");
    const b = new Uint8Array(12);
    expect(writeU32LE(b, 0, 0xdeadbeef)).toBe(4);
    expect(readU32LE(b, 0)).toBe(0xdeadbeef);
    expect(writeU64LE(b, 4, 5000000000n)).toBe(12);
    expect(bytesToHex(b.subarray(4))).toBe("00f2052a01000000");
  });
});

for (const [name, sha] of SHA_IMPLS) {
  describe(`merkle (${name})`, () => {
    test("every block: root from all txids, branch from txids, root from coinbase + branch", () => {
      let fromTxids = 0;
      let fromBranch = 0;
      for (const b of fx.blocks) {
        const rootInternal = internal(b.header.merkle_root);
        if (b.txids !== undefined) {
          expect(bytesToHex(merkleRootFromTxids(b.txids.map(internal), sha) as Uint8Array)).toBe(bytesToHex(rootInternal));
          if (b.merkle_branch !== undefined) {
            const branch = merkleBranchFromTxids(b.txids.slice(1).map(internal), sha);
            expect(branch.map(bytesToHex)).toEqual(b.merkle_branch);
          }
          fromTxids++;
        }
        const cb = b.coinbase_stripped_hex ?? b.coinbase_hex;
        if (cb !== undefined && b.merkle_branch !== undefined) {
          const h = new Uint8Array(32);
          sha256d(sha, bytes(cb), h);
          expect(bytesToHexReversed(h)).toBe(b.coinbase_txid as string);
          const out = new Uint8Array(32);
          merkleRootFromBranch(h, bytes(b.merkle_branch.join("")), sha, out);
          expect(bytesToHex(out)).toBe(bytesToHex(rootInternal));
          fromBranch++;
        }
      }
      expect(fromTxids).toBe(6);
      expect(fromBranch).toBe(7);
    });

    test("merkle_vectors (ESP-Miner)", () => {
      expect(fx.merkle_vectors.length).toBe(2);
      for (const v of fx.merkle_vectors) {
        const h = new Uint8Array(32);
        sha256d(sha, bytes(v.coinbase_hex), h);
        const out = new Uint8Array(32);
        merkleRootFromBranch(h, bytes(v.merkle_branch.join("")), sha, out);
        expect(bytesToHex(out)).toBe(v.expected_merkle_root_internal);
      }
    });

    test("odd levels duplicate the last node; empty and single-leaf trees", () => {
      const leaves = [1, 2, 3].map((i) => new Uint8Array(32).fill(i));
      const pair = (a: Uint8Array, b: Uint8Array) => {
        const o = new Uint8Array(32);
        const buf = new Uint8Array(64);
        buf.set(a);
        buf.set(b, 32);
        sha256d(sha, buf, o);
        return o;
      };
      const l = leaves as [Uint8Array, Uint8Array, Uint8Array];
      const expected = pair(pair(l[0], l[1]), pair(l[2], l[2]));
      expect(merkleRootFromTxids(leaves, sha)).toEqual(expected);
      expect(merkleBranchFromTxids([l[1], l[2]], sha)).toEqual([l[1], pair(l[2], l[2])]);
      expect(merkleBranchFromTxids([], sha)).toEqual([]);
      expect(merkleRootFromTxids([], sha)).toBeUndefined();
      expect(merkleRootFromTxids([l[0]], sha)).toEqual(l[0]);
    });
  });
}
