// Tests Litecoin scrypt PoW: equals @noble's generic scrypt on random inputs, and real litecoind headers (genesis, regtest-mined) meet or miss their targets exactly as the node decided.
import { describe, expect, test } from "bun:test";
import { scrypt } from "@noble/hashes/scrypt.js";
import { bytesToHex, bytesToHexReversed, hexToBytes } from "../../../protocols/pow/hex.ts";
import { DIFF1_SCRYPT, scryptPow } from "../../../protocols/pow/scrypt.ts";
import { nobleSha256Into, sha256d } from "../../../protocols/pow/sha256d.ts";
import { bitsToTarget, DIFF1_SHA256, hashMeetsTarget, targetToLE } from "../../../protocols/pow/target.ts";
import { SHA_IMPLS } from "./sha_impls.ts";

const hex = (s: string): Uint8Array => hexToBytes(s) as Uint8Array;
const nobleRef = (h: Uint8Array): Uint8Array => scrypt(h, h, { N: 1024, r: 1, p: 1, dkLen: 32 });

/**
 * Headers from Litecoin Core v0.21.2.1: `getblockheader HASH false` for the genesis blocks (mainnet and
 * testnet daemons started with -connect=0) and for blocks mined on regtest with `generatetoaddress`.
 */
const GENESIS = [
  {
    name: "litecoin mainnet genesis",
    header: "010000000000000000000000000000000000000000000000000000000000000000000000d9ced4ed1130f7b7faad9be25323ffafa33232a17c3edf6cfd97bee6bafbdd97b9aa8e4ef0ff0f1ecd513f7c",
    hash: "12a765e31ffd4059bada1e25190f6e98c99d9714d334efa41a195a7e7e04bfe2",
    // computed with @noble's scrypt; the well-known Litecoin genesis PoW hash
    pow: "0000050c34a64b415b6b15b37f2216634b5b1669cb9a2e38d76f7213b0671e00",
  },
  {
    name: "litecoin testnet4 genesis",
    header: "010000000000000000000000000000000000000000000000000000000000000000000000d9ced4ed1130f7b7faad9be25323ffafa33232a17c3edf6cfd97bee6bafbdd97f60ba158f0ff0f1ee1790400",
    hash: "4966625a4b2851d9fdee139e56211a0d88575f59ed816ff5e6a63deb4e3e29a0",
    pow: null,
  },
  {
    name: "litecoin regtest genesis",
    header: "010000000000000000000000000000000000000000000000000000000000000000000000d9ced4ed1130f7b7faad9be25323ffafa33232a17c3edf6cfd97bee6bafbdd97dae5494dffff7f2000000000",
    hash: "530827f38f93b43ed12af0b3ad25a288dc02ed74d6d7857862df51fc56c416f9",
    pow: null,
  },
];

/** Regtest blocks 1..11 (bits 207fffff). The miner tries nonces from 0 upward, so every lower nonce failed. */
const REGTEST: [string, string][] = [
  ["9e740c9268c447ca7d40dea7772f92ff1657bde95027ed02437744e3c2621e71", "00000020f916c456fc51df627885d7d674ed02dc88a225adb3f02ad13eb4938ff32708532d38850e4991816b70329dd6189c0b7da2750db685612e718c9ebdd248e452e02493016bffff7f2000000000"],
  ["e0eae5b8fe09890d36ed42adbbe5bb3a525ed04d6998e64c673222ac1660c024", "00000020711e62c2e344774302ed2750e9bd5716ff922f77a7de407dca47c468920c749e46ca78634f858ef2c68622c6ecb0fa6a9f917373faf7968f6e092f053e52ee402593016bffff7f2000000000"],
  ["34b63261018a7c0788945d617db932696356afd916525f0629a096c14cef72ff", "0000002024c06016ac2232674ce698694dd05e523abbe5bbad42ed360d8909feb8e5eae07faef3920c0a59482f9630ffa5e737ec583396677b1e33479196b151b149645f2593016bffff7f2002000000"],
  ["afc1ad15770f74184c0caa24e26a04dbc0d4349566d21c6131004074a1dc22ee", "00000020ff72ef4cc196a029065f5216d9af56636932b97d615d9488077c8a016132b6342bd47b2a4ed92a2e2acb8cd771edff61649e40f776b36873a9dc0a80813fa0af2793016bffff7f2006000000"],
  ["0b455db9dca4c7ae858029dc8a46fe45c6153a95b7aecfddd9c9853edf286434", "00000020ee22dca174400031611cd2669534d4c0db046ae224aa0c4c18740f7715adc1af1ac0cbf04d3f7249507b8b8b2d5bd871e56b5d0d020574785c4b9ae41af7f1502793016bffff7f2000000000"],
  ["87a49f3c214d84af21b20d9e5e872c93054132cce1332e0e4b4aa07eda99a2a8", "00000020346428df3e85c9d9ddcfaeb7953a15c645fe468adc298085aec7a4dcb95d450b2d38a951a4f41bd1a04e15ff4f0fad21a02c6ba8d8d37e5b5fd6980321bcd9242793016bffff7f2000000000"],
  ["e24d15d20658facdb433b6105d3f87e8cf487e62ae7b0a47567f9d777690d624", "00000020a8a299da7ea04a4b0e2e33e1cc324105932c875e9e0db221af844d213c9fa487f11a27350b61c50c602f021b8242b6ae363b2d6667bf208af3efbc8e54305dcd2793016bffff7f2002000000"],
  ["4fbe55ef39ee9e2ddba0b207608d95d9e6fb1880da9b3392f093f13e8ff2f8d8", "0000002024d69076779d7f56470a7bae627e48cfe8873f5d10b633b4cdfa5806d2154de2d9f3019649bf84ac8a07d05c32f3b91944ef6567c5f60fced307e23e1bc826972893016bffff7f2001000000"],
  ["2c46961cf4ff49c7a2b4159bb3d305760a425bd420a1a10cb78231e792d21527", "00000020d8f8f28f3ef193f092339bda8018fbe6d9958d6007b2a0db2d9eee39ef55be4f02b8db790d54c849ac35c25fe3028ea117c3631cd5cde22673120d359579bced2893016bffff7f2001000000"],
  ["b0611b83f883e8d37727d45cf55e5ec7407e576b4c6f01a9e8a46d1cdcb4d028", "000000202715d292e73182b70ca1a120d45b420a7605d3b39b15b4a2c749fff41c96462cee8c92cd0403233f80f98163781a898ba12932567e99d1b0dbebbb06256265312893016bffff7f2000000000"],
  ["90d50e6646b793b1aa6e4c9f10fc21caa128de8999cc9853bd38aebec36bb1b4", "0000002028d0b4dc1c6da4e8a9016f4c6b577e40c75e5ef55cd42777d3e883f8831b61b0848699037ccc451a538dd00011d9aad4e5d31ec712b1fff63e9c305de8aa23772893016bffff7f2001000000"],
];

const u32le = (b: Uint8Array, o: number): number => ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;

describe("fixture headers are what the node says", () => {
  test("sha256d(header) is the node's block hash, and regtest blocks chain", () => {
    const out = new Uint8Array(32);
    for (const g of GENESIS) {
      sha256d(nobleSha256Into, hex(g.header), out);
      expect(bytesToHexReversed(out)).toBe(g.hash);
    }
    let prev = GENESIS[2]!.hash;
    for (const [hash, header] of REGTEST) {
      const h = hex(header);
      expect(bytesToHexReversed(h.subarray(4, 36))).toBe(prev);
      sha256d(nobleSha256Into, h, out);
      expect(bytesToHexReversed(out)).toBe(hash);
      prev = hash;
    }
  });
});

for (const [name, sha] of SHA_IMPLS) {
  describe(`scryptPow (${name})`, () => {
    test("equals @noble scrypt(N=1024,r=1,p=1,dkLen=32) on 200 random 80-byte headers", () => {
      const out = new Uint8Array(32);
      for (let i = 0; i < 200; i++) {
        const h = crypto.getRandomValues(new Uint8Array(80));
        scryptPow(h, out, sha);
        expect(bytesToHex(out)).toBe(bytesToHex(nobleRef(h)));
      }
    });

    test("equals @noble for other password lengths (HMAC key ≤ and > 64 bytes)", () => {
      const out = new Uint8Array(32);
      for (const len of [0, 1, 32, 63, 64, 65, 79, 81, 128, 200]) {
        const h = crypto.getRandomValues(new Uint8Array(len));
        scryptPow(h, out, sha);
        expect(bytesToHex(out)).toBe(bytesToHex(nobleRef(h)));
      }
    });

    test("genesis PoW hashes meet their own nBits and match @noble", () => {
      const out = new Uint8Array(32);
      for (const g of GENESIS) {
        const h = hex(g.header);
        scryptPow(h, out, sha);
        expect(bytesToHex(out)).toBe(bytesToHex(nobleRef(h)));
        expect(hashMeetsTarget(out, targetToLE(bitsToTarget(u32le(h, 72))))).toBe(true);
        if (g.pow !== null) expect(bytesToHexReversed(out)).toBe(g.pow);
      }
    });

    test("regtest blocks meet 207fffff; every lower nonce the miner skipped does not", () => {
      const out = new Uint8Array(32);
      let skipped = 0;
      for (const [, header] of REGTEST) {
        const h = hex(header);
        const target = targetToLE(bitsToTarget(u32le(h, 72)));
        scryptPow(h, out, sha);
        expect(hashMeetsTarget(out, target)).toBe(true);
        const nonce = u32le(h, 76);
        const probe = h.slice();
        for (let n = 0; n < nonce; n++) {
          probe[76] = n;
          scryptPow(probe, out, sha);
          expect(hashMeetsTarget(out, target)).toBe(false);
          skipped++;
        }
      }
      expect(skipped).toBe(13); // nonces 2,6,2,1,1,1 in the fixture: a failing check would show here
    });

    test("writes only into out (a subarray works) and leaves the header untouched", () => {
      const h = hex(REGTEST[3]![1]);
      const copy = h.slice();
      const buf = new Uint8Array(64).fill(0xee);
      scryptPow(h, buf.subarray(16, 48), sha);
      expect(bytesToHex(buf.subarray(16, 48))).toBe(bytesToHex(nobleRef(h)));
      expect(buf[15]).toBe(0xee);
      expect(buf[48]).toBe(0xee);
      expect(bytesToHex(h)).toBe(bytesToHex(copy));
    });
  });
}

test("DIFF1_SCRYPT is 65536 × the sha256d difficulty-1 target", () => {
  expect(DIFF1_SCRYPT).toBe(0xffffn << 224n);
  expect(DIFF1_SCRYPT).toBe(DIFF1_SHA256 * 65536n);
  // Litecoin genesis nBits 1e0ffff0 = 0xffff·2^220: node difficulty 2^-12 (getdifficulty's 0x1d00ffff diff1),
  // stratum difficulty 16 under the scrypt diff1 — the ×65536 pools and scrypt miners apply.
  expect(DIFF1_SCRYPT % bitsToTarget(0x1e0ffff0)).toBe(0n);
  expect(DIFF1_SCRYPT / bitsToTarget(0x1e0ffff0)).toBe(16n);
  expect(bitsToTarget(0x1e0ffff0) / DIFF1_SHA256).toBe(4096n);
});
