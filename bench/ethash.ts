// Benchmark: ethash light-cache build time, per-share verification time (single call and amortized in hashimotoLightPair; ours vs @ethereumjs/ethash), quickCheck µs; prints, checks only that pair answers equal single ones.
// Run: npx bun bench/ethash.ts [shares=300] [laterEpoch=176]   (or: npx deno run -A bench/ethash.ts)
import { Ethash } from "@ethereumjs/ethash";
import {
  epochParams,
  ethTargetFromDifficulty,
  hashimotoLight,
  hashimotoLightPair,
  makeCache,
  quickCheck,
  verifyEthashShare,
} from "../protocols/pow/ethash.ts";

const argv: string[] = (globalThis as { process?: { argv: string[] } }).process?.argv ?? [];
const shares = Number(argv[2] ?? 300);
const laterEpoch = Number(argv[3] ?? 176);
const runtime = "Bun" in globalThis ? "bun" : "Deno" in globalThis ? "deno" : "node";

function stats(ms: number[]): { median: number; p99: number; mean: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
  return { median: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
}
const f = (x: number) => x.toFixed(3);

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  crypto.getRandomValues(b);
  return b;
}

function benchEpoch(epoch: number): { median: number } {
  const p = epochParams(epoch * 30000, { algo: "ethash" });
  if (p === undefined) throw new Error("bad epoch");
  const sab = new SharedArrayBuffer(p.cacheSize); // the shape a worker pool would use
  const t0 = performance.now();
  const cache = makeCache(p.cacheSize, p.seed, new Uint32Array(sab));
  const buildMs = performance.now() - t0;
  if (cache === undefined) throw new Error("makeCache failed");
  console.log(`[${runtime}] epoch ${epoch}: cache ${(p.cacheSize / 2 ** 20).toFixed(1)} MiB built in ${buildMs.toFixed(0)} ms`);

  // Honest shares: a real mix digest and an easy target, so every share runs quickCheck + full hashimoto.
  const work = Array.from({ length: shares }, () => {
    const headerHash = randomBytes(32);
    const nonce = randomBytes(8);
    return { headerHash, nonce, mixDigest: hashimotoLight(p.fullSize, cache, headerHash, nonce).mixDigest };
  });
  const target = ethTargetFromDifficulty(1n);
  const times: number[] = [];
  let okCount = 0;
  const wall0 = performance.now();
  for (const w of work) {
    const t = performance.now();
    const v = verifyEthashShare({ cache, fullSize: p.fullSize, target, ...w });
    times.push(performance.now() - t);
    if (v.ok) okCount++;
  }
  const wall = performance.now() - wall0;
  const s = stats(times);
  console.log(
    `[${runtime}] epoch ${epoch}: verifyEthashShare x${shares}: median ${f(s.median)} ms, p99 ${f(s.p99)} ms, mean ${f(s.mean)} ms, ` +
      `${((shares / wall) * 1000).toFixed(0)} shares/s on one core (ok ${okCount}/${shares})`,
  );

  // Pairs: two shares per hashimotoLightPair call (what a busy worker does). Per-share figure is
  // amortized (pair wall time / 2); each share's own latency is the whole pair call.
  const pairTimes: number[] = [];
  const pw0 = performance.now();
  for (let i = 0; i + 1 < work.length; i += 2) {
    const a = work[i]!;
    const b = work[i + 1]!;
    const t = performance.now();
    const [ra, rb] = hashimotoLightPair(p.fullSize, cache, a.headerHash, a.nonce, b.headerHash, b.nonce);
    pairTimes.push(performance.now() - t);
    if (!sameBytes(ra.mixDigest, a.mixDigest) || !sameBytes(rb.mixDigest, b.mixDigest)) throw new Error("hashimotoLightPair differs from hashimotoLight");
  }
  const pwall = performance.now() - pw0;
  const ps = stats(pairTimes);
  const paired = 2 * pairTimes.length;
  console.log(
    `[${runtime}] epoch ${epoch}: hashimotoLightPair x${pairTimes.length}: per call median ${f(ps.median)} ms, p99 ${f(ps.p99)} ms; ` +
      `amortized ${f(pwall / paired)} ms per share, ${((paired / pwall) * 1000).toFixed(0)} shares/s on one core`,
  );

  // quickCheck: the reject path for a share whose claimed result misses the target.
  const q: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const w = work[i % work.length]!;
    const t = performance.now();
    quickCheck(w.headerHash, w.nonce, w.mixDigest);
    q.push(performance.now() - t);
  }
  const qs = stats(q);
  console.log(`[${runtime}] quickCheck: median ${f(qs.median * 1000)} µs, mean ${f(qs.mean * 1000)} µs`);
  return { median: s.median };
}

const ours = benchEpoch(0);
if (laterEpoch > 0) benchEpoch(laterEpoch);

// @ethereumjs/ethash at epoch 0: its own mkcache, then run() on a handful of shares (it is slow).
{
  const p = epochParams(0, { algo: "ethash" })!;
  const e = new Ethash();
  const t0 = performance.now();
  e.mkcache(p.cacheSize, p.seed);
  console.log(`[${runtime}] @ethereumjs/ethash epoch 0 mkcache: ${(performance.now() - t0).toFixed(0)} ms`);
  const times: number[] = [];
  for (let i = 0; i < 8; i++) {
    const t = performance.now();
    e.run(randomBytes(32), randomBytes(8), p.fullSize);
    times.push(performance.now() - t);
  }
  const s = stats(times);
  console.log(
    `[${runtime}] @ethereumjs/ethash run x8: median ${f(s.median)} ms, p99 ${f(s.p99)} ms; ours is ${(s.median / ours.median).toFixed(0)}x faster (median)`,
  );
}
