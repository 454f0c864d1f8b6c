// Benchmarks the ethash verifier pool: cache build time, event-loop lag during the build, verifications/s, queue latency and lone-share round trip over worker threads; checks 50 answers.
import { createEthashVerifier } from "../src/verify/ethash_verifier.ts";
import { createLogger } from "../src/observe/log.ts";
import { epochParams, hashimotoLight, makeCache } from "../protocols/pow/ethash.ts";
import { bytesToHex } from "../protocols/pow/hex.ts";

const threads = Number(process.argv[2] ?? navigator.hardwareConcurrency ?? 2);
const shares = Number(process.argv[3] ?? 1000);
const log = createLogger({ format: "human", level: "warn" });
const v = createEthashVerifier({ threads, log });
const p = epochParams(1, { algo: "ethash" })!;

// Event-loop lag: a 1 ms interval's worst lateness while the cache builds in a worker.
let worstLag = 0;
let last = performance.now();
const lagTimer = setInterval(() => {
  const now = performance.now();
  worstLag = Math.max(worstLag, now - last - 1);
  last = now;
}, 1);
const t0 = performance.now();
await v.prepare(p.seed, p.cacheSize, "ethash epoch 0");
const buildMs = performance.now() - t0;
clearInterval(lagTimer);
console.log(`cache build (epoch 0, ${(p.cacheSize / 2 ** 20).toFixed(1)} MiB, in a worker): ${buildMs.toFixed(0)} ms; worst event-loop lag meanwhile: ${worstLag.toFixed(1)} ms`);

// Random shares with their true mix digests (computed here once, not timed).
const cache = makeCache(p.cacheSize, p.seed)!;
const reqs = [];
for (let i = 0; i < shares; i++) {
  const header = crypto.getRandomValues(new Uint8Array(32));
  const nonce = crypto.getRandomValues(new Uint8Array(8));
  const mix = i < 50 ? hashimotoLight(p.fullSize, cache, header, nonce).mixDigest : undefined;
  reqs.push({ algo: "ethash" as const, epoch: 0, seed: p.seed, cacheSize: p.cacheSize, fullSize: p.fullSize, headerHash: header, nonce, ...(mix ? { mixDigest: mix } : {}), ctx: undefined });
}
// Shares with a precomputed mix are checked: workers pair queued shares, so a mixed-up answer id would show here.
const lat: number[] = [];
let checked = 0;
const t1 = performance.now();
await Promise.all(reqs.map(async (r) => {
  const s = performance.now();
  const res = await v.verify(r);
  if (!res.ok) throw new Error(res.error);
  lat.push(performance.now() - s);
  if (r.mixDigest !== undefined) {
    if (res.mixDigest === undefined || bytesToHex(res.mixDigest) !== bytesToHex(r.mixDigest)) throw new Error("worker answered with the wrong mix digest");
    checked++;
  }
}));
const secs = (performance.now() - t1) / 1000;
lat.sort((a, b) => a - b);
const q = (f: number) => lat[Math.min(lat.length - 1, Math.floor(f * lat.length))]!.toFixed(1);
console.log(`${shares} verifications on ${threads} worker thread(s): ${(shares / secs).toFixed(0)}/s (target ≥ 500/s on 2 cores); queue latency p50 ${q(0.5)} ms, p99 ${q(0.99)} ms (all submitted at once); ${checked} mix digests checked`);

// Unloaded latency: one share at a time, so workers never pair (what a lone share waits, round trip included).
const solo: number[] = [];
for (let i = 0; i < 50; i++) {
  const s = performance.now();
  const res = await v.verify(reqs[i]!);
  if (!res.ok) throw new Error(res.error);
  solo.push(performance.now() - s);
}
solo.sort((a, b) => a - b);
console.log(`one at a time: round trip p50 ${solo[25]!.toFixed(2)} ms, max ${solo[49]!.toFixed(2)} ms`);
console.log(JSON.stringify({ bench: { ethashPool: { threads, cacheBuildMs: Math.round(buildMs), eventLoopLagMs: Number(worstLag.toFixed(1)), verificationsPerSecond: Math.round(shares / secs), soloP50Ms: Number(solo[25]!.toFixed(2)) } } }));
v.stop();
process.exit(0);
