// Tests relay-mode extranonce carving and job translation: prefix sizes, carve plans, BIP34 height from coinb1, and that a miner's share hashes to exactly the header the upstream pool rebuilds.
import { describe, expect, test } from "bun:test";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import { bytesToHex, hexToBytes } from "../../../protocols/pow/hex.ts";
import { difficultyToTarget, targetToLE } from "../../../protocols/pow/target.ts";
import { buildJob } from "../../../protocols/stratum-v1/job.ts";
import type { StratumJob } from "../../../protocols/stratum-v1/job_types.ts";
import {
  buildRelayJob,
  heightFromCoinb1,
  planCarve,
  prefixBytesFor,
  upstreamExtranonce2,
  type Carve,
} from "../../../protocols/stratum-v1/relay_job.ts";
import { parseServerMessage } from "../../../protocols/stratum-v1/server_messages.ts";
import { encodeNotify } from "../../../protocols/stratum-v1/server_to_client.ts";
import { buildHeader, hashShare, validateSubmit, type SubmitFields } from "../../../protocols/stratum-v1/share.ts";
import type { UpstreamNotify } from "../../../protocols/stratum-v1/upstream_session.ts";
import { SHA_IMPLS, bunSha256Into as sha } from "../pow/sha_impls.ts";
import { fx } from "../pow/vectors.ts";

const DIFF1 = 0xffffn << 208n;
const MASK = 0x1fffe000;
const bytes = (hex: string) => hexToBytes(hex) as Uint8Array;

const block542213 = fx.blocks.find((b) => b.name === "block_542213_segwit");
if (block542213 === undefined) throw new Error("fixture block_542213_segwit missing");

/** Block 542213's three non-coinbase transactions and its witness commitment: a real merkle branch of 2 steps. */
function segwitTemplate(height = 542213): BlockTemplate {
  const b = block542213!;
  const txids = b.txids as string[];
  const txHex = b.tx_hex as string[];
  return {
    height,
    version: 0x20000000,
    previousBlockHash: b.header.prevhash,
    bits: b.header.bits_hex,
    curtime: b.header.time,
    coinbaseValue: 1_253_117_834n,
    transactions: [1, 2, 3].map((i) => ({ txid: txids[i] as string, data: txHex[i] as string })),
    witnessCommitment: b.witness?.commitment_script_hex,
  };
}

const PAYOUT = bytes("001497cfc76442fe717f2a3f0cc9c175f7561b661997");
const UP_EN1 = "a1b2c3d4";

/** The upstream pool's own job: extranonce1 4 bytes, extranonce2 8 bytes (what a typical pool hands a proxy). */
function upstreamJob(template: BlockTemplate = segwitTemplate()): StratumJob {
  return buildJob("up-7", template, { payoutScript: PAYOUT, poolTag: "/upstream/", extranonce1Size: 4, extranonce2Size: 8 }, sha);
}

/** The notify as our client reads it off the wire (encodeNotify → parseLine → parseServerMessage). */
function notifyOf(job: StratumJob, clean = true): UpstreamNotify {
  const line = encodeNotify(job, clean).trimEnd();
  const msg = parseLine(line);
  if (msg.kind === "invalid") throw new Error(msg.detail);
  const m = parseServerMessage(msg);
  if (m.type !== "notify") throw new Error(`not a notify: ${m.type}`);
  return m;
}

function carve(upstreamEn2Size = 8, prefixBytes = 2, want = 4): Carve {
  const p = planCarve(UP_EN1, upstreamEn2Size, prefixBytes, want);
  if (!p.ok) throw new Error(p.why);
  return p.carve;
}

function relay(notify: UpstreamNotify, c: Carve = carve(), upstreamDifficulty = 65536, link = 3): StratumJob {
  const r = buildRelayJob({ id: "r1", notify, carve: c, upstreamDifficulty, diff1: DIFF1, link });
  if (!r.ok) throw new Error(r.why);
  return r.job;
}

function accept(r: ReturnType<typeof validateSubmit>): SubmitFields {
  if (!r.ok) throw new Error(`unexpected reject ${r.reason}: ${r.message}`);
  return r;
}

describe("prefixBytesFor", () => {
  const cases: [number, number][] = [
    [1, 1],
    [2, 1],
    [256, 1],
    [257, 2],
    [65536, 2],
    [65537, 3],
    [2 ** 24, 3],
    [2 ** 24 + 1, 4],
    [2 ** 40, 4], // capped at 4 bytes
  ];
  for (const [miners, k] of cases) test(`${miners} miners → ${k} byte(s)`, () => expect(prefixBytesFor(miners)).toBe(k));
});

describe("planCarve", () => {
  test("upstream en2 8, prefix 2, want 4 → miner 4, pad 2", () => {
    expect(planCarve("A1B2C3D4", 8, 2, 4)).toEqual({
      ok: true,
      carve: { upstreamEn1: "a1b2c3d4", upstreamEn2Size: 8, prefixBytes: 2, minerEn2Size: 4, padBytes: 2 },
    });
  });

  test("upstream en2 4, prefix 2, want 4 → miner 2, pad 0", () => {
    expect(planCarve(UP_EN1, 4, 2, 4)).toEqual({
      ok: true,
      carve: { upstreamEn1: UP_EN1, upstreamEn2Size: 4, prefixBytes: 2, minerEn2Size: 2, padBytes: 0 },
    });
  });

  test("upstream en2 3, prefix 2 → refused with the reason", () => {
    expect(planCarve(UP_EN1, 3, 2, 4)).toEqual({
      ok: false,
      why: "upstream extranonce2 of 3 bytes leaves 1 after a 2-byte miner prefix (need 2)",
    });
  });

  test("the minimum miner extranonce2 is a parameter", () => {
    expect(planCarve(UP_EN1, 8, 2, 4, 8)).toEqual({
      ok: false,
      why: "upstream extranonce2 of 8 bytes leaves 6 after a 2-byte miner prefix (need 8)",
    });
    const p = planCarve(UP_EN1, 3, 2, 4, 1);
    expect(p).toEqual({ ok: true, carve: { upstreamEn1: UP_EN1, upstreamEn2Size: 3, prefixBytes: 2, minerEn2Size: 1, padBytes: 0 } });
  });

  test("upstreamExtranonce2 is pad ‖ prefix ‖ miner extranonce2", () => {
    expect(upstreamExtranonce2("0000", "0102", "deadbeef")).toBe("00000102deadbeef");
    expect(upstreamExtranonce2("", "ff", "0001")).toBe("ff0001");
  });
});

describe("heightFromCoinb1", () => {
  for (const h of [0, 1, 16, 17, 127, 128, 255, 256, 32768, 500000, 840000, 8_388_608]) {
    test(`height ${h} read back from a coinb1 built by buildJob`, () => {
      const job = upstreamJob(segwitTemplate(h));
      expect(heightFromCoinb1(job.coinb1Bytes)).toBe(h);
    });
  }

  test("coinbase flags after the height push do not disturb it", () => {
    const job = buildJob("f", { ...segwitTemplate(840000), coinbaseFlags: "0a0b0c" }, { payoutScript: PAYOUT, poolTag: "/t/", extranonce1Size: 4, extranonce2Size: 8 }, sha);
    expect(heightFromCoinb1(job.coinb1Bytes)).toBe(840000);
  });

  test("the slush testnet coinb1 (real pool, height 25096)", () => {
    expect(heightFromCoinb1(bytes("01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008"))).toBe(25096);
  });

  test("too short or a push past the end → 0", () => {
    const job = upstreamJob(segwitTemplate(840000));
    expect(heightFromCoinb1(job.coinb1Bytes.subarray(0, 42))).toBe(0);
    expect(heightFromCoinb1(job.coinb1Bytes.subarray(0, 44))).toBe(0); // 03 push, only 1 byte of it present
  });
});

describe("buildRelayJob", () => {
  test("translation: coinb1 = upstream coinb1 ‖ upstream en1 ‖ pad; the rest as the upstream sent it", () => {
    const up = upstreamJob();
    const job = relay(notifyOf(up));
    expect(job.id).toBe("r1");
    expect(job.coinb1).toBe(up.coinb1 + UP_EN1 + "0000");
    expect(bytesToHex(job.coinb1Bytes)).toBe(job.coinb1);
    expect(job.coinb2).toBe(up.coinb2);
    expect(bytesToHex(job.coinb2Bytes)).toBe(up.coinb2);
    expect(job.merkleBranch).toEqual(up.merkleBranch);
    expect(job.merkleBranch).toHaveLength(2);
    expect(bytesToHex(job.branchBytes)).toBe(bytesToHex(up.branchBytes));
    expect(job.extranonce1Size).toBe(2);
    expect(job.extranonce2Size).toBe(4);
    expect([job.versionHex, job.nbitsHex, job.ntimeHex]).toEqual([up.versionHex, up.nbitsHex, up.ntimeHex]);
    expect([job.version, job.bits, job.ntime]).toEqual([up.version, up.bits, up.ntime]);
    expect(job.networkTarget).toBe(up.networkTarget);
    expect(bytesToHex(job.networkTargetLE)).toBe(bytesToHex(up.networkTargetLE));
  });

  test("upstream ref: job id, link, pad, difficulty and target", () => {
    const job = relay(notifyOf(upstreamJob()), carve(), 65536, 3);
    const target = difficultyToTarget(65536, DIFF1);
    expect(job.upstream).toEqual({ jobId: "up-7", link: 3, pad: "0000", difficulty: 65536, target, targetLE: targetToLE(target) });
    expect(target).toBe((0xffffn << 208n) / 65536n);
  });

  test("no pad when the carve leaves none", () => {
    const up = upstreamJob();
    const job = relay(notifyOf(up), carve(4, 2, 4));
    expect(job.coinb1).toBe(up.coinb1 + UP_EN1);
    expect(job.upstream?.pad).toBe("");
    expect(job.extranonce2Size).toBe(2);
  });

  test("prevhash round trip and height", () => {
    const t = segwitTemplate(840000);
    const up = upstreamJob(t);
    const job = relay(notifyOf(up));
    expect(job.prevhashNotify).toBe(up.prevhashNotify);
    expect(bytesToHex(job.prevhash)).toBe(bytesToHex(up.prevhash));
    expect(job.template.previousBlockHash).toBe(t.previousBlockHash);
    expect(job.height).toBe(840000);
    expect(job.template.height).toBe(840000);
    expect(job.template.bits).toBe(t.bits.toLowerCase());
    expect(job.template.curtime).toBe(t.curtime);
    expect(job.template.version).toBe(t.version);
  });

  test("upper-case hex from the pool is lowercased", () => {
    const n = notifyOf(upstreamJob());
    const upper: UpstreamNotify = {
      ...n,
      prevhash: n.prevhash.toUpperCase(),
      coinb1: n.coinb1.toUpperCase(),
      coinb2: n.coinb2.toUpperCase(),
      branch: n.branch.map((h) => h.toUpperCase()),
      nbits: n.nbits.toUpperCase(),
    };
    const a = relay(n);
    const b = relay(upper);
    expect([b.prevhashNotify, b.coinb1, b.coinb2, b.merkleBranch, b.nbitsHex]).toEqual([a.prevhashNotify, a.coinb1, a.coinb2, a.merkleBranch, a.nbitsHex]);
    expect(bytesToHex(b.prevhash)).toBe(bytesToHex(a.prevhash));
  });

  for (const [sname, s] of SHA_IMPLS) {
    test(`THE KEY PROPERTY (${sname}): the miner's header is the header the upstream rebuilds`, () => {
      const up = upstreamJob();
      const job = relay(notifyOf(up));
      const minerEn1 = "0102";
      const minerEn2 = "deadbeef";
      const upEn2 = upstreamExtranonce2(job.upstream!.pad, minerEn1, minerEn2);
      expect(upEn2).toBe("00000102deadbeef");
      for (const [ntime, nonce] of [[up.ntimeHex, "00000000"], [(up.ntime + 60).toString(16).padStart(8, "0"), "9a3c01ff"]] as const) {
        const ours = accept(validateSubmit(job, { extranonce2: minerEn2, ntime, nonce }, 0));
        const theirs = accept(validateSubmit(up, { extranonce2: upEn2, ntime, nonce }, 0));
        const hOurs = bytesToHex(buildHeader(job, bytes(minerEn1), ours, s));
        const hTheirs = bytesToHex(buildHeader(up, bytes(UP_EN1), theirs, s));
        expect(hOurs).toHaveLength(160);
        expect(hOurs).toBe(hTheirs);
        const a = new Uint8Array(32);
        const b = new Uint8Array(32);
        expect(hashShare(job, bytes(minerEn1), ours, s, a)).toBe(true);
        expect(hashShare(up, bytes(UP_EN1), theirs, s, b)).toBe(true);
        expect(bytesToHex(a)).toBe(bytesToHex(b));
      }
      // A different miner prefix is different work (no two miners search the same space).
      const other = accept(validateSubmit(job, { extranonce2: minerEn2, ntime: up.ntimeHex, nonce: "00000000" }, 0));
      const mine = bytesToHex(buildHeader(job, bytes("0102"), other, s));
      expect(bytesToHex(buildHeader(job, bytes("0103"), other, s))).not.toBe(mine);
    });
  }

  test("the key property holds with version rolling (same bits on both sides)", () => {
    const up = upstreamJob();
    const job = relay(notifyOf(up));
    const f = { ntime: up.ntimeHex, nonce: "0badcafe", versionBits: "1234e000" };
    const ours = accept(validateSubmit(job, { ...f, extranonce2: "00c0ffee" }, MASK));
    const theirs = accept(validateSubmit(up, { ...f, extranonce2: upstreamExtranonce2("0000", "ab01", "00c0ffee") }, MASK));
    expect(ours.version).toBe((0x20000000 | 0x1234e000) >>> 0);
    expect(bytesToHex(buildHeader(job, bytes("ab01"), ours, sha))).toBe(bytesToHex(buildHeader(up, bytes(UP_EN1), theirs, sha)));
  });

  test("with a 3-byte prefix and no pad the property still holds", () => {
    const up = upstreamJob();
    const c = carve(8, 3, 5);
    expect(c).toMatchObject({ minerEn2Size: 5, padBytes: 0 });
    const job = relay(notifyOf(up), c);
    const ours = accept(validateSubmit(job, { extranonce2: "0102030405", ntime: up.ntimeHex, nonce: "00000001" }, 0));
    const theirs = accept(validateSubmit(up, { extranonce2: upstreamExtranonce2("", "aabbcc", "0102030405"), ntime: up.ntimeHex, nonce: "00000001" }, 0));
    expect(bytesToHex(buildHeader(job, bytes("aabbcc"), ours, sha))).toBe(bytesToHex(buildHeader(up, bytes(UP_EN1), theirs, sha)));
  });

  test("bad hex in the notify (or the carve) is refused with a reason", () => {
    const n = notifyOf(upstreamJob());
    const c = carve();
    const build = (notify: UpstreamNotify, cv: Carve = c) => buildRelayJob({ id: "r", notify, carve: cv, upstreamDifficulty: 1, diff1: DIFF1, link: 0 });
    expect(build({ ...n, coinb1: "zz" + n.coinb1.slice(2) })).toEqual({ ok: false, why: "coinb1/coinb2/extranonce1 not hex" });
    expect(build({ ...n, coinb2: n.coinb2 + "0" })).toEqual({ ok: false, why: "coinb1/coinb2/extranonce1 not hex" });
    expect(build(n, { ...c, upstreamEn1: "a1b2c3dx" })).toEqual({ ok: false, why: "coinb1/coinb2/extranonce1 not hex" });
    expect(build({ ...n, prevhash: n.prevhash.slice(2) })).toEqual({ ok: false, why: "prevhash not 32 bytes" });
    expect(build({ ...n, prevhash: "g" + n.prevhash.slice(1) })).toEqual({ ok: false, why: "prevhash not 32 bytes" });
    expect(build({ ...n, branch: [n.branch[0]!, n.branch[1]!.slice(0, 62)] })).toEqual({ ok: false, why: "merkle branch entry not 32 bytes" });
    expect(build({ ...n, branch: ["q".repeat(64)] })).toEqual({ ok: false, why: "merkle branch entry not 32 bytes" });
  });

  // parseServerMessage already insists on 8 hex chars; buildRelayJob refuses such a notify itself too
  // (parseInt would read "0000002g" as 2 and "zzzzzzzz" as 0).
  test("bad version/nbits/ntime hex is refused too", () => {
    const n = notifyOf(upstreamJob());
    const build = (notify: UpstreamNotify) => buildRelayJob({ id: "r", notify, carve: carve(), upstreamDifficulty: 1, diff1: DIFF1, link: 0 });
    expect(build({ ...n, version: "zzzzzzzz" }).ok).toBe(false);
    expect(build({ ...n, nbits: "1d00fffg" }).ok).toBe(false);
    expect(build({ ...n, ntime: "5" }).ok).toBe(false);
  });
});
