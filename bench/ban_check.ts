// Benchmark: ns per isBanned() with 100k bans in the table (the per-accepted-connection cost; target ≤ 1 µs), plus recorder costs; no I/O beyond printing.
import { createBanPolicy, createRateLimiter } from "../src/policy/ban_policy.ts";

const BANS = 100_000;
const CHECKS = 1_000_000;
const now = 1_800_000_000_000;

const policy = createBanPolicy({ maxBans: BANS, allowlist: ["192.168.0.0/16", "2001:db8:ffff::/48"] });
const v4 = (i: number) => `${11 + ((i >> 16) & 127)}.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}`;
const v6 = (i: number) => `2001:db8:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::${(i * 13) & 0xffff}`;
for (let i = 0; i < BANS / 2; i++) {
  policy.ban(v4(i), 3_600_000, "manual", now);
  policy.ban(v6(i), 3_600_000, "manual", now);
}
if (policy.stats().active !== BANS) throw new Error(`expected ${BANS} bans, have ${policy.stats().active}`);

/** Connections arrive from a mix of banned and clean addresses; the address strings exist already (as from the socket). */
function measure(label: string, addrs: string[], expectBanned: number): number {
  let banned = 0;
  // Warm-up so the JIT has compiled the lookup before timing.
  for (let i = 0; i < 200_000; i++) if (policy.isBanned(addrs[i % addrs.length]!, now).banned) banned++;
  banned = 0;
  const t0 = performance.now();
  for (let i = 0; i < CHECKS; i++) if (policy.isBanned(addrs[i % addrs.length]!, now).banned) banned++;
  const ns = ((performance.now() - t0) * 1e6) / CHECKS;
  const frac = banned / CHECKS;
  if (Math.abs(frac - expectBanned) > 0.01) throw new Error(`${label}: banned fraction ${frac}, expected ${expectBanned}`);
  console.log(`${label.padEnd(44)} ${ns.toFixed(1).padStart(7)} ns/check  (banned ${(frac * 100).toFixed(0)}%)`);
  return ns;
}

const N = 4096;
const mixV4: string[] = [];
const mixV6: string[] = [];
for (let i = 0; i < N; i++) {
  // Half banned, half clean (clean ones outside the banned ranges).
  mixV4.push(i % 2 === 0 ? v4((i * 97) % (BANS / 2)) : `10.${(i >> 8) & 255}.${i & 255}.1`);
  mixV6.push(i % 2 === 0 ? v6((i * 97) % (BANS / 2)) : `2001:db9::${i.toString(16)}`);
}
const cleanV4 = mixV4.filter((_, i) => i % 2 === 1);

const results = {
  isBannedV4Mixed: measure("isBanned IPv4, 50% banned", mixV4, 0.5),
  isBannedV4Clean: measure("isBanned IPv4, clean (the common accept)", cleanV4, 0),
  isBannedV6Mixed: measure("isBanned IPv6 (/64 key, interned), 50% banned", mixV6, 0.5),
};

// Recorders on the share path: one accepted share per call from 4096 miners.
{
  const p = createBanPolicy();
  const addrs = cleanV4;
  const M = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < M; i++) p.shareResult(addrs[i & (addrs.length - 1) & 2047]!, i % 50 !== 0, now + i);
  const ns = ((performance.now() - t0) * 1e6) / M;
  console.log(`${"shareResult (2% invalid)".padEnd(44)} ${ns.toFixed(1).padStart(7)} ns/call`);
  Object.assign(results, { shareResult: ns });
}
// Worst case for memory: a scan, every event from a new address, table at its cap.
{
  const p = createBanPolicy({ maxTrackedKeys: 100_000 });
  const M = 300_000;
  const addrs = Array.from({ length: M }, (_, i) => `100.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const t0 = performance.now();
  for (let i = 0; i < M; i++) p.malformed(addrs[i]!, now + i);
  const ns = ((performance.now() - t0) * 1e6) / M;
  console.log(`${"malformed from a new address each (scan)".padEnd(44)} ${ns.toFixed(1).padStart(7)} ns/call  (tracked ${p.stats().tracked})`);
  Object.assign(results, { scanMalformed: ns });
}
{
  const r = createRateLimiter({ perSecond: 20, burst: 40 });
  const M = 5_000_000;
  let ok = 0;
  const t0 = performance.now();
  for (let i = 0; i < M; i++) if (r.take(now + i)) ok++;
  const ns = ((performance.now() - t0) * 1e6) / M;
  console.log(`${"rateLimiter.take".padEnd(44)} ${ns.toFixed(1).padStart(7)} ns/call  (passed ${ok})`);
  Object.assign(results, { rateLimiterTake: ns });
}
console.log(JSON.stringify({ bench: "ban_check", bans: BANS, checks: CHECKS, nsPer: results }));
