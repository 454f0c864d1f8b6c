// Benchmark: µs per full Stratum v1 share check (validateSubmit + hashShare + target compare) with Bun.SHA256, node:crypto and @noble; prints, asserts nothing.
// Run: npx bun bench/share_check.ts [txCount=3000]
import { createHash } from "node:crypto";
import type { BlockTemplate } from "../protocols/bitcoin/template.ts";
import type { Sha256Into } from "../protocols/pow/types.ts";
import { bytesToHexReversed } from "../protocols/pow/hex.ts";
import { nobleSha256Into, sha256d } from "../protocols/pow/sha256d.ts";
import { difficultyToTarget, hashMeetsTarget, targetToLE } from "../protocols/pow/target.ts";
import { buildJob } from "../protocols/stratum-v1/job.ts";
import { hashShare, validateSubmit } from "../protocols/stratum-v1/share.ts";

const impls: [string, Sha256Into][] = [
  ["Bun.SHA256", (i, o) => void Bun.SHA256.hash(i, o)],
  ["node:crypto", (i, o) => o.set(createHash("sha256").update(i).digest())],
  ["@noble/hashes", nobleSha256Into],
];

const txCount = Number(process.argv[2] ?? 3000);
const transactions = Array.from({ length: txCount }, (_, i) => {
  const h = new Uint8Array(32);
  sha256d(nobleSha256Into, Uint8Array.of(i & 0xff, i >> 8, i >> 16), h);
  return { txid: bytesToHexReversed(h), data: "00" };
});
const template: BlockTemplate = {
  height: 840000,
  version: 0x20000000,
  previousBlockHash: "0000000000000000000320283a032748cef8227873ff4872689bf23f1cda83a5",
  bits: "17034219",
  curtime: 1713571767,
  coinbaseValue: 312_500_000n,
  transactions,
  witnessCommitment: "6a24aa21a9ed" + "11".repeat(32),
};
const opts = { payoutScript: new Uint8Array(22), poolTag: "/stratum-edge/", extranonce1Size: 4, extranonce2Size: 8 };
const en1 = Uint8Array.of(1, 2, 3, 4);
const shareTargetLE = targetToLE(difficultyToTarget(1024));
const nonces = Array.from({ length: 4096 }, (_, i) => ((i * 2654435761) >>> 0).toString(16).padStart(8, "0"));
const MASK = 0x1fffe000;

for (const [name, sha] of impls) {
  const job = buildJob("b", template, opts, sha);
  const out = new Uint8Array(32);
  const ntime = job.ntimeHex;
  const run = (n: number): number => {
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const s = validateSubmit(job, { extranonce2: "0000000000000001", ntime, nonce: nonces[i & 4095] as string, versionBits: "00002000" }, MASK);
      if (!s.ok) throw new Error(s.message);
      hashShare(job, en1, s, sha, out);
      if (hashMeetsTarget(out, shareTargetLE)) hits++;
    }
    return hits;
  };
  const n = name === "@noble/hashes" ? 20_000 : 100_000;
  run(n / 10); // warm-up (JIT)
  const t0 = performance.now();
  run(n);
  const us = ((performance.now() - t0) * 1000) / n;
  console.log(`${name.padEnd(14)} ${us.toFixed(2)} µs/share  (branch ${job.merkleBranch.length} steps, ${txCount} txs, ${n} shares)`);
}
