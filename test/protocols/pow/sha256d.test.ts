// Tests sha256d with both Sha256Into implementations: every fixture header hashes to its block hash; known empty-input digest.
import { describe, expect, test } from "bun:test";
import { bytesToHex, bytesToHexReversed, hexToBytes } from "../../../protocols/pow/hex.ts";
import { makeSha256d, sha256d } from "../../../protocols/pow/sha256d.ts";
import { SHA_IMPLS } from "./sha_impls.ts";
import { allHeaders } from "./vectors.ts";

for (const [name, sha] of SHA_IMPLS) {
  describe(`sha256d (${name})`, () => {
    test("sha256d of empty input", () => {
      const out = new Uint8Array(32);
      sha256d(sha, new Uint8Array(0), out);
      expect(bytesToHex(out)).toBe("5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456");
    });

    test("single sha256 writes into a subarray at an offset", () => {
      const buf = new Uint8Array(64);
      sha(new TextEncoder().encode("abc"), buf.subarray(16, 48));
      expect(bytesToHex(buf.subarray(16, 48))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
      expect(buf[15]).toBe(0);
      expect(buf[48]).toBe(0);
    });

    test("every fixture header hashes to its block hash", () => {
      const d = makeSha256d(sha);
      expect(allHeaders.length).toBe(11);
      for (const b of allHeaders) {
        const out = new Uint8Array(32);
        d(hexToBytes(b.header_hex) as Uint8Array, out);
        expect(bytesToHexReversed(out)).toBe(b.hash);
      }
    });
  });
}
