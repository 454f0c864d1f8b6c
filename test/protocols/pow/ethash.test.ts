// Tests protocols/pow/ethash.ts + keccak.ts against test/fixtures/ethash.json, @noble/hashes and @ethereumjs/ethash; builds real caches (~15 s total in Bun).
import { describe, expect, test } from "bun:test";
import { Ethash } from "@ethereumjs/ethash";
import { keccakP, keccak_256, keccak_512 } from "@noble/hashes/sha3.js";
import raw from "../../fixtures/ethash.json";
import {
  cacheSize,
  datasetSize,
  epochOf,
  epochParams,
  ethDifficultyOfHash,
  ethTargetFromDifficulty,
  ethTargetToHex,
  hashimotoLight,
  hashimotoLightPair,
  makeCache,
  nicehashDifficultyOfHash,
  nicehashDifficultyToTarget,
  quickCheck,
  seedHash,
  uint256BE,
  verifyEthashShare,
  type EthashChain,
} from "../../../protocols/pow/ethash.ts";
import { bytesToHex, hexToBytes } from "../../../protocols/pow/hex.ts";
import { keccakF1600 } from "../../../protocols/pow/keccak.ts";

interface Vector {
  id: string;
  algo: string;
  block_number: number;
  epoch_length: number;
  epoch: number;
  seed_hash: string;
  cache_size: number;
  full_size: number;
  header_hash: string;
  nonce: string;
  mix_hash: string;
  final_hash: string;
  difficulty?: string;
  boundary?: string;
}
interface EpochParamRow {
  epoch: number;
  seed_hash?: string;
  cache_size?: number;
  full_size?: number;
}
interface CacheHashRow {
  epoch: number;
  epoch_length?: number;
  cache_keccak256: string;
}
const fx = raw as unknown as {
  epoch_params: EpochParamRow[];
  cache_keccak256_by_epoch: CacheHashRow[];
  vectors: Vector[];
  share_examples: {
    full_nonce: string;
    extranonce: string;
    miner_nonce_submitted: string;
    seed_hash: string;
    epoch: number;
    cache_size: number;
    full_size: number;
    header_hash: string;
    mix_hash: string;
    final_hash: string;
    nicehash_difficulty_of_share: number;
    ethash_difficulty_of_share: string;
    nicehash_diff1_target: string;
  }[];
  target_examples: { difficulty: string; boundary_32byte?: string }[];
};

const h = (s: string): Uint8Array => {
  const b = hexToBytes(s.startsWith("0x") ? s.slice(2) : s);
  if (b === undefined) throw new Error(`bad hex ${s}`);
  return b;
};
const hex = (b: Uint8Array): string => "0x" + bytesToHex(b);
/** Same mix digest and final hash, compared as hex so a failure shows both. */
function sameResult(r: { mixDigest: Uint8Array; result: Uint8Array }, want: { mixDigest: Uint8Array; result: Uint8Array }): void {
  expect(hex(r.mixDigest)).toBe(hex(want.mixDigest));
  expect(hex(r.result)).toBe(hex(want.result));
}
const ETHASH: EthashChain = { algo: "ethash" };
const ETC: EthashChain = { algo: "etchash", activationBlock: 11_700_000 };
const MORDOR: EthashChain = { algo: "etchash", activationBlock: 2_520_000 };

/** Cache bytes as the spec serialises them (little-endian words), for cache_keccak256: a view on little-endian hosts. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
function cacheBytes(c: Uint32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
  const out = new Uint8Array(c.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < c.length; i++) dv.setUint32(4 * i, c[i] as number, true);
  return out;
}

/** One cache at a time (they are 16–42 MB): rebuilt when the (epoch, epochLength) key changes. */
let held: { key: string; cache: Uint32Array } | undefined;
function cacheFor(epoch: number, epochLength: number): Uint32Array {
  const key = `${epoch}/${epochLength}`;
  if (held?.key !== key) {
    held = undefined;
    const c = makeCache(cacheSize(epoch), seedHash(epoch, epochLength));
    if (c === undefined) throw new Error("makeCache refused valid input");
    held = { key, cache: c };
  }
  return held.cache;
}

describe("keccak-f[1600]", () => {
  test("matches @noble keccakP on random states", () => {
    for (let t = 0; t < 200; t++) {
      const a = new Uint32Array(50);
      crypto.getRandomValues(a);
      const b = a.slice();
      keccakP(a);
      keccakF1600(b);
      expect(Array.from(b)).toEqual(Array.from(a));
    }
  });
  test("keccak512/keccak256 modes match @noble (via quickCheck on random inputs)", () => {
    for (let t = 0; t < 100; t++) {
      const header = crypto.getRandomValues(new Uint8Array(32));
      const nonce = crypto.getRandomValues(new Uint8Array(8));
      const mix = crypto.getRandomValues(new Uint8Array(32));
      const seed = keccak_512(new Uint8Array([...header, ...nonce.slice().reverse()]));
      const want = keccak_256(new Uint8Array([...seed, ...mix]));
      expect(hex(quickCheck(header, nonce, mix))).toBe(hex(want));
    }
  });
});

describe("epochs, seeds, sizes", () => {
  for (const row of fx.epoch_params) {
    test(`epoch ${row.epoch}`, () => {
      if (row.cache_size !== undefined) expect(cacheSize(row.epoch)).toBe(row.cache_size);
      if (row.full_size !== undefined) expect(datasetSize(row.epoch)).toBe(row.full_size);
      if (row.seed_hash !== undefined) expect(hex(seedHash(row.epoch))).toBe(row.seed_hash);
    });
  }
  test("every vector's epoch, seed and sizes from its block number", () => {
    for (const v of fx.vectors) {
      const chain = v.algo.startsWith("etchash") ? ETC : ETHASH;
      const p = epochParams(v.block_number, chain);
      expect(p).toBeDefined();
      expect([p!.epoch, p!.epochLength, hex(p!.seed), p!.cacheSize, p!.fullSize]).toEqual([
        v.epoch,
        v.epoch_length,
        v.seed_hash,
        v.cache_size,
        v.full_size,
      ]);
    }
  });
  test("etchash: ECIP-1099 boundary on ETC mainnet and Mordor; seed shared with ethash 390, sizes not", () => {
    expect(epochOf(11_699_999, ETC)).toEqual({ epoch: 389, epochLength: 30000 });
    expect(epochOf(11_700_000, ETC)).toEqual({ epoch: 195, epochLength: 60000 });
    expect(epochOf(11_700_000, ETHASH)).toEqual({ epoch: 390, epochLength: 30000 });
    expect(epochOf(2_519_999, MORDOR)).toEqual({ epoch: 83, epochLength: 30000 });
    expect(epochOf(2_520_000, MORDOR)).toEqual({ epoch: 42, epochLength: 60000 });
    const etc = epochParams(11_700_000, ETC)!;
    const eth = epochParams(11_700_000, ETHASH)!;
    expect(hex(etc.seed)).toBe(hex(eth.seed));
    expect(etc.cacheSize).toBe(42334912);
    expect(eth.cacheSize).toBe(67895104);
    expect(etc.fullSize).toBe(2709518464);
    expect(eth.fullSize).toBe(4345295488);
  });
  test("bad block numbers are undefined, not exceptions", () => {
    expect(epochOf(-1, ETHASH)).toBeUndefined();
    expect(epochOf(1.5, ETHASH)).toBeUndefined();
    expect(epochParams(Number.NaN, ETC)).toBeUndefined();
  });
});

describe("makeCache", () => {
  test("rejects bad arguments", () => {
    expect(makeCache(100, new Uint8Array(32))).toBeUndefined();
    expect(makeCache(64 * 10, new Uint8Array(31))).toBeUndefined();
    expect(makeCache(64 * 10, new Uint8Array(32), new Uint32Array(10))).toBeUndefined();
  });
  test("writes into a SharedArrayBuffer view and reports progress up to 1", () => {
    const size = 64 * 1009; // small prime item count: fast, same algorithm
    const seed = seedHash(3);
    const view = new Uint32Array(new SharedArrayBuffer(size));
    const fractions: number[] = [];
    const c = makeCache(size, seed, view, (x) => fractions.push(x));
    expect(c).toBe(view);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((x, i) => i === 0 || x >= fractions[i - 1]!)).toBe(true);
    expect(Array.from(makeCache(size, seed)!)).toEqual(Array.from(view));
  });
});

describe("verifyEthashShare and quickCheck at epoch 0", () => {
  const v = fx.vectors.find((x) => x.id === "chfast-2")!;
  const base = () => ({ cache: cacheFor(0, 30000), fullSize: v.full_size, headerHash: h(v.header_hash), nonce: h(v.nonce) });
  const final = uint256BE(h(v.final_hash));

  test("accepts at target = final hash, rejects one below (with and without a mix digest)", () => {
    expect(verifyEthashShare({ ...base(), mixDigest: h(v.mix_hash), target: final }).ok).toBe(true);
    expect(verifyEthashShare({ ...base(), target: final })).toMatchObject({ ok: true, meetsBlockTarget: false });
    expect(verifyEthashShare({ ...base(), mixDigest: h(v.mix_hash), target: final - 1n })).toEqual({ ok: false, reason: "low_difficulty" });
    expect(verifyEthashShare({ ...base(), target: final - 1n })).toEqual({ ok: false, reason: "low_difficulty" });
  });
  test("a wrong mix digest is invalid_solution even when its quick check meets the target", () => {
    const bad = h(v.mix_hash);
    bad[5] = (bad[5] as number) ^ 1;
    const r = verifyEthashShare({ ...base(), mixDigest: bad, target: (1n << 256n) - 1n });
    expect(r).toEqual({ ok: false, reason: "invalid_solution" });
  });
  test("malformed inputs are typed rejections", () => {
    const t = (1n << 256n) - 1n;
    expect(verifyEthashShare({ ...base(), headerHash: new Uint8Array(31), target: t })).toEqual({ ok: false, reason: "malformed" });
    expect(verifyEthashShare({ ...base(), nonce: 1n << 64n, target: t })).toEqual({ ok: false, reason: "malformed" });
    expect(verifyEthashShare({ ...base(), nonce: -1n, target: t })).toEqual({ ok: false, reason: "malformed" });
    expect(verifyEthashShare({ ...base(), nonce: new Uint8Array(7), target: t })).toEqual({ ok: false, reason: "malformed" });
    expect(verifyEthashShare({ ...base(), mixDigest: new Uint8Array(31), target: t })).toEqual({ ok: false, reason: "malformed" });
    expect(verifyEthashShare({ ...base(), fullSize: 1000, target: t })).toEqual({ ok: false, reason: "malformed" });
    expect(verifyEthashShare({ ...base(), cache: new Uint32Array(17), target: t })).toEqual({ ok: false, reason: "malformed" });
  });
  test("quickCheck equals hashimoto's result for its own mix digest on random shares", () => {
    const c = cacheFor(0, 30000);
    for (let i = 0; i < 5; i++) {
      const hh = crypto.getRandomValues(new Uint8Array(32));
      const n = crypto.getRandomValues(new Uint8Array(8));
      const r = hashimotoLight(v.full_size, c, hh, n);
      expect(hex(quickCheck(hh, n, r.mixDigest))).toBe(hex(r.result));
    }
  });
  test("cross-check against @ethereumjs/ethash run() on random headers and nonces", () => {
    const c = cacheFor(0, 30000);
    const e = new Ethash();
    // Its mkcache takes ~8.4 s here; the cache itself is pinned by cache_keccak256, so hand it ours as its Uint8Array[] items.
    const bytes = cacheBytes(c);
    e.cache = Array.from({ length: c.length / 16 }, (_, i) => bytes.slice(64 * i, 64 * i + 64));
    for (let i = 0; i < 5; i++) {
      const hh = crypto.getRandomValues(new Uint8Array(32));
      const n = crypto.getRandomValues(new Uint8Array(8));
      const theirs = e.run(hh, n, v.full_size);
      const ours = hashimotoLight(v.full_size, c, hh, n);
      expect(hex(ours.mixDigest)).toBe(hex(theirs.mix));
      expect(hex(ours.result)).toBe(hex(theirs.hash));
    }
  }, 30_000);
  test("hashimotoLightPair equals two hashimotoLight calls on random headers and nonces", () => {
    const c = cacheFor(0, 30000);
    for (let i = 0; i < 6; i++) {
      const ha = crypto.getRandomValues(new Uint8Array(32));
      const hb = crypto.getRandomValues(new Uint8Array(32));
      const na = crypto.getRandomValues(new Uint8Array(8));
      const nb = crypto.getRandomValues(new Uint8Array(8));
      const [a, b] = hashimotoLightPair(v.full_size, c, ha, na, hb, nb);
      sameResult(a, hashimotoLight(v.full_size, c, ha, na));
      sameResult(b, hashimotoLight(v.full_size, c, hb, nb));
      expect(hex(a.result)).not.toBe(hex(b.result));
      // Results are fresh arrays: a later call must not overwrite them.
      const keep = hex(a.mixDigest) + hex(b.result);
      hashimotoLightPair(v.full_size, c, hb, nb, ha, na);
      expect(hex(a.mixDigest) + hex(b.result)).toBe(keep);
    }
  }, 30_000);
});

// Grouped per epoch so each cache (16–42 MB, 1.3–3.5 s to build) is built once: every epoch a vector
// needs, plus 171 (chfast's table); 2047 (285 MB, ~25 s) is not built.
const groups = new Map<string, { epoch: number; len: number; cacheHash?: string; vectors: Vector[] }>();
for (const row of fx.cache_keccak256_by_epoch) {
  if (row.epoch === 2047) continue;
  const len = row.epoch_length ?? 30000;
  groups.set(`${row.epoch}/${len}`, { epoch: row.epoch, len, cacheHash: row.cache_keccak256, vectors: [] });
}
for (const v of fx.vectors) {
  const key = `${v.epoch}/${v.epoch_length}`;
  const g = groups.get(key) ?? { epoch: v.epoch, len: v.epoch_length, vectors: [] };
  g.vectors.push(v);
  groups.set(key, g);
}
const vectorCount = [...groups.values()].reduce((n, g) => n + g.vectors.length, 0);

describe("light cache keccak256 and hashimotoLight vectors, per epoch", () => {
  test("all fixture vectors are covered", () => {
    expect(vectorCount).toBe(fx.vectors.length);
    expect(vectorCount).toBe(10);
  });
  for (const g of groups.values()) {
    if (g.cacheHash !== undefined) {
      const want = g.cacheHash;
      test(`cache_keccak256 epoch ${g.epoch} (epoch length ${g.len})`, () => {
        expect(hex(keccak_256(cacheBytes(cacheFor(g.epoch, g.len))))).toBe(want);
      }, 30_000);
    }
    for (const v of g.vectors) {
      test(`hashimoto ${v.id}`, () => {
        const c = cacheFor(v.epoch, v.epoch_length);
        const r = hashimotoLight(v.full_size, c, h(v.header_hash), h(v.nonce));
        expect(hex(r.mixDigest)).toBe(v.mix_hash);
        expect(hex(r.result)).toBe(v.final_hash);
        // Same answer with the nonce as a bigint.
        const r2 = hashimotoLight(v.full_size, c, h(v.header_hash), BigInt(v.nonce));
        expect(hex(r2.result)).toBe(v.final_hash);
        // The quick check reproduces the final hash from the claimed mix digest.
        expect(hex(quickCheck(h(v.header_hash), h(v.nonce), h(v.mix_hash)))).toBe(v.final_hash);
        if (v.difficulty !== undefined && v.boundary !== undefined) {
          const target = ethTargetFromDifficulty(BigInt(v.difficulty));
          expect(ethTargetToHex(target)).toBe(v.boundary);
          const verdict = verifyEthashShare({
            cache: c,
            fullSize: v.full_size,
            headerHash: h(v.header_hash),
            nonce: h(v.nonce),
            mixDigest: h(v.mix_hash),
            target,
            blockTarget: target,
          });
          expect(verdict).toEqual({ ok: true, mixDigest: h(v.mix_hash), result: h(v.final_hash), meetsBlockTarget: true });
        }
      }, 30_000);
      test(`hashimotoLightPair ${v.id}: paired with a random share (both orders) and with itself`, () => {
        const c = cacheFor(v.epoch, v.epoch_length);
        const hh = h(v.header_hash);
        const want = { mixDigest: h(v.mix_hash), result: h(v.final_hash) };
        const rh = crypto.getRandomValues(new Uint8Array(32));
        const rn = crypto.getRandomValues(new Uint8Array(8));
        const other = hashimotoLight(v.full_size, c, rh, rn);
        const [a, b] = hashimotoLightPair(v.full_size, c, hh, h(v.nonce), rh, rn);
        sameResult(a, want);
        sameResult(b, other);
        const [b2, a2] = hashimotoLightPair(v.full_size, c, rh, rn, hh, BigInt(v.nonce));
        sameResult(a2, want);
        sameResult(b2, other);
        const [x, y] = hashimotoLightPair(v.full_size, c, hh, h(v.nonce), hh, h(v.nonce));
        sameResult(x, want);
        sameResult(y, want);
      }, 30_000);
    }
  }
});

describe("targets and difficulties", () => {
  test("target_examples", () => {
    for (const ex of fx.target_examples) {
      if (ex.boundary_32byte === undefined) continue;
      expect(ethTargetToHex(ethTargetFromDifficulty(BigInt(ex.difficulty)))).toBe(ex.boundary_32byte);
      expect(ethTargetToHex(ethTargetFromDifficulty(Number(ex.difficulty)))).toBe(ex.boundary_32byte);
    }
    expect(ethTargetFromDifficulty(1n)).toBe((1n << 256n) - 1n);
    expect(ethTargetFromDifficulty(0n)).toBe(0n);
    expect(ethTargetFromDifficulty(-5)).toBe(0n);
  });
  test("NiceHash EthereumStratum/1.0.0 example share (epoch 50): nonce layout, mix, difficulty 1.863085", () => {
    const ex = fx.share_examples[0]!;
    expect(`0x${ex.extranonce}${ex.miner_nonce_submitted}`).toBe(ex.full_nonce);
    expect(ethTargetToHex(nicehashDifficultyToTarget(1))).toBe(ex.nicehash_diff1_target);
    const d = nicehashDifficultyOfHash(h(ex.final_hash));
    expect(d).toBeCloseTo(ex.nicehash_difficulty_of_share, 5);
    expect(ethDifficultyOfHash(h(ex.final_hash))).toBe(BigInt(ex.ethash_difficulty_of_share));
    const p = epochParams(ex.epoch * 30000, ETHASH)!;
    expect([hex(p.seed), p.cacheSize, p.fullSize]).toEqual([ex.seed_hash, ex.cache_size, ex.full_size]);
    const r = verifyEthashShare({
      cache: cacheFor(ex.epoch, 30000),
      fullSize: ex.full_size,
      headerHash: h(ex.header_hash),
      nonce: h(ex.full_nonce),
      mixDigest: h(ex.mix_hash),
      target: nicehashDifficultyToTarget(1),
    });
    expect(r).toMatchObject({ ok: true });
    // At NiceHash difficulty 1.9 the same share is too weak.
    const r2 = verifyEthashShare({
      cache: cacheFor(ex.epoch, 30000),
      fullSize: ex.full_size,
      headerHash: h(ex.header_hash),
      nonce: h(ex.full_nonce),
      mixDigest: h(ex.mix_hash),
      target: nicehashDifficultyToTarget(1.9),
    });
    expect(r2).toEqual({ ok: false, reason: "low_difficulty" });
  }, 30_000);
});
