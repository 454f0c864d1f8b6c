// Benchmark: µs per Litecoin scrypt PoW hash (80-byte header): ours with @noble and Bun.SHA256 inside vs @noble's generic scrypt; prints, asserts nothing.
// Run: npx bun bench/scrypt.ts [iterations=2000]
import { scrypt } from "@noble/hashes/scrypt.js";
import type { Sha256Into } from "../protocols/pow/types.ts";
import { scryptPow } from "../protocols/pow/scrypt.ts";
import { nobleSha256Into } from "../protocols/pow/sha256d.ts";

const iters = Number(process.argv[2] ?? 2000);
const header = crypto.getRandomValues(new Uint8Array(80));
const out = new Uint8Array(32);
const bunSha: Sha256Into = (i, o) => void Bun.SHA256.hash(i, o);

const cases: [string, () => void][] = [
  ["scryptPow + @noble sha256", () => scryptPow(header, out, nobleSha256Into)],
  ["scryptPow + Bun.SHA256", () => scryptPow(header, out, bunSha)],
  ["@noble scrypt (generic)", () => void scrypt(header, header, { N: 1024, r: 1, p: 1, dkLen: 32 })],
];

for (const [name, fn] of cases) {
  for (let i = 0; i < 200; i++) {
    header[76] = i;
    fn();
  }
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) {
    header[76] = i & 0xff;
    header[77] = i >> 8;
    fn();
  }
  const us = ((performance.now() - t0) * 1000) / iters;
  console.log(`${name.padEnd(28)} ${us.toFixed(1).padStart(7)} µs/hash  (${(1e6 / us).toFixed(0)} H/s)`);
}
