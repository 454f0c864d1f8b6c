// Tests Stratum v1 job building and share checking against every stratum vector in test/fixtures/bitcoin.json, plus a buildJob → share → block round trip.
import { describe, expect, test } from "bun:test";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import type { SubmitFields } from "../../../protocols/stratum-v1/share.ts";
import { writeHeader } from "../../../protocols/bitcoin/header.ts";
import { merkleRootFromBranch, merkleRootFromTxids } from "../../../protocols/bitcoin/merkle.ts";
import { encodeHeightPush } from "../../../protocols/bitcoin/script.ts";
import { bytesToHex, bytesToHexReversed, hexToBytes, reverseHex } from "../../../protocols/pow/hex.ts";
import { sha256d } from "../../../protocols/pow/sha256d.ts";
import { bitsToTarget, hashMeetsTarget, hashToDifficulty, targetToLE } from "../../../protocols/pow/target.ts";
import { buildJob, tryBuildJob } from "../../../protocols/stratum-v1/job.ts";
import {
  assembleBlock,
  buildHeader,
  coinbaseTxid,
  hashShare,
  NTIME_MAX_AHEAD,
  validateSubmit,
} from "../../../protocols/stratum-v1/share.ts";
import { SHA_IMPLS } from "../pow/sha_impls.ts";
import { allHeaders, espVector, fx, notifyVectors, versionRollingVector } from "../pow/vectors.ts";
import { jobFromNotify, parseTx } from "./helpers.ts";

const bytes = (hex: string) => hexToBytes(hex) as Uint8Array;
const relClose = (a: number, b: number, tol = 1e-12) => expect(Math.abs(a - b) / Math.abs(b)).toBeLessThanOrEqual(tol);
const MASK = Number.parseInt(fx.constants.bip320_version_rolling_mask_hex, 16);

function accept(r: ReturnType<typeof validateSubmit>): SubmitFields {
  if (!r.ok) throw new Error(`unexpected reject ${r.reason}: ${r.message}`);
  return r;
}

const block542213 = fx.blocks.find((b) => b.name === "block_542213_segwit");
const genesis = fx.blocks.find((b) => b.name === "genesis");
if (block542213 === undefined || genesis === undefined) throw new Error("fixture blocks missing");

/** Synthetic template: block 542213's three non-coinbase transactions and its witness commitment. */
function segwitTemplate(): BlockTemplate {
  const b = block542213 as NonNullable<typeof block542213>;
  const txids = b.txids as string[];
  const txHex = b.tx_hex as string[];
  return {
    height: 542213,
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

for (const [name, sha] of SHA_IMPLS) {
  describe(`stratum vectors (${name})`, () => {
    test("vector inventory", () => {
      expect(notifyVectors.map((v) => v.name)).toEqual([
        "slush_doc_testnet_block",
        "synthetic_split_block_542213_segwit",
        "synthetic_split_block_540107_segwit",
        "synthetic_split_block_574200_segwit",
      ]);
    });

    for (const v of notifyVectors) {
      test(`${v.name}: notify + submit → coinbase, header, hash, difficulty`, () => {
        const job = jobFromNotify(v.notify_params, v.extranonce1.length / 2, v.extranonce2_size);
        const [, , en2, ntime, nonce] = v.submit_params;
        const s = accept(validateSubmit(job, { extranonce2: en2, ntime, nonce }, MASK));
        const en1 = bytes(v.extranonce1);
        expect(coinbaseTxid(job, en1, s.extranonce2, sha)).toBe(v.expected.coinbase_txid);
        const coinbase = (v.expected.coinbase_stripped_hex ?? v.expected.coinbase_hex) as string;
        expect(v.notify_params[2] + v.extranonce1 + v.extranonce2 + v.notify_params[3]).toBe(coinbase);
        expect(bytesToHex(buildHeader(job, en1, s, sha))).toBe(v.expected.header_hex);
        const out = new Uint8Array(32);
        expect(hashShare(job, en1, s, sha, out)).toBe(true);
        expect(bytesToHexReversed(out)).toBe(v.expected.hash);
        relClose(hashToDifficulty(out), v.expected.share_difficulty);
        expect(hashMeetsTarget(out, job.networkTargetLE)).toBe(true); // all four are real blocks
        expect(hashMeetsTarget(out, targetToLE(job.networkTarget / 2n ** 40n))).toBe(false);
        if (v.expected.merkle_root_internal !== undefined) {
          expect(bytesToHex(bytes(v.expected.header_hex).subarray(36, 68))).toBe(v.expected.merkle_root_internal);
        }
      });
    }

    test("slush doc: prevhash convention, 7.8857 share difficulty, notify ntime gives the documented wrong hash", () => {
      const v = notifyVectors[0];
      if (v === undefined) throw new Error("missing");
      const job = jobFromNotify(v.notify_params, 4, 4);
      expect(bytesToHexReversed(job.prevhash)).toBe(v.expected.prevhash_display as string);
      const en1 = bytes(v.extranonce1);
      const s = accept(validateSubmit(job, { extranonce2: "00000001", ntime: "504e86ed", nonce: "b2957c02" }, 0));
      const out = new Uint8Array(32);
      hashShare(job, en1, s, sha, out);
      expect(hashToDifficulty(out)).toBeCloseTo(7.885780934960986, 10);
      const atNotifyTime = accept(validateSubmit(job, { extranonce2: "00000001", ntime: "504e86b9", nonce: "b2957c02" }, 0));
      hashShare(job, en1, atNotifyTime, sha, out);
      expect(bytesToHexReversed(out)).toBe("9998664f794db55cdf7a9b4462626115b3af2541944f0fcdec1547c6493a3618");
      expect(hashMeetsTarget(out, job.networkTargetLE)).toBe(false);
    });

    test("ESP-Miner mainnet share: difficulty 683.51, not a block", () => {
      const j = espVector.job;
      const job = jobFromNotify(
        ["e", j.prevhash_notify, j.coinbase_hex_with_extranonces, "", j.merkle_branch, j.version_hex, j.nbits_hex, j.ntime_hex, false],
        0,
        0,
      );
      const s = accept(validateSubmit(job, { extranonce2: "", ntime: j.ntime_hex, nonce: espVector.nonce_hex }, MASK));
      const none = new Uint8Array(0);
      expect(coinbaseTxid(job, none, "", sha)).toBe(espVector.expected.coinbase_txid);
      const header = buildHeader(job, none, s, sha);
      expect(bytesToHex(header)).toBe(espVector.expected.header_hex);
      expect(bytesToHex(header.subarray(36, 68))).toBe(espVector.expected.merkle_root_internal);
      const out = new Uint8Array(32);
      hashShare(job, none, s, sha, out);
      expect(bytesToHexReversed(out)).toBe(espVector.expected.hash);
      relClose(hashToDifficulty(out), espVector.expected.share_difficulty);
      expect(Math.trunc(hashToDifficulty(out))).toBe(espVector.expected.share_difficulty_int);
      expect(hashMeetsTarget(out, job.networkTargetLE)).toBe(false);
    });

    test("version rolling block 785530 (BIP310) and its negative cases", () => {
      const v = versionRollingVector;
      const h = allHeaders.find((x) => x.name === v.header_ref);
      if (h === undefined) throw new Error("missing header");
      const mask = Number.parseInt(v.negotiated_mask_hex, 16);
      const job = jobFromNotify(["v", "00".repeat(32), "", "", [], v.job_version_hex, h.header.bits_hex, h.header.time.toString(16), false], 0, 0);
      const ntime = h.header.time.toString(16).padStart(8, "0");
      const nonce = h.header.nonce.toString(16);
      const s = accept(validateSubmit(job, { extranonce2: "", ntime, nonce, versionBits: v.submit_version_bits_hex }, mask));
      expect(s.version).toBe(Number.parseInt(v.expected.final_version_hex, 16));
      const header = new Uint8Array(80);
      const prev = bytes(h.header.prevhash).reverse();
      const root = bytes(h.header.merkle_root).reverse();
      writeHeader(header, s.version, prev, root, s.ntime, job.bits, s.nonce);
      expect(bytesToHex(header)).toBe(v.expected.header_hex);
      const out = new Uint8Array(32);
      sha256d(sha, header, out);
      expect(bytesToHexReversed(out)).toBe(v.expected.hash);
      expect(hashMeetsTarget(out, targetToLE(bitsToTarget(h.header.bits)))).toBe(true);

      const [outside, inside] = v.negative_cases;
      if (outside === undefined || inside === undefined) throw new Error("missing cases");
      const rOut = validateSubmit(job, { extranonce2: "", ntime, nonce, versionBits: outside.version_bits_hex }, Number.parseInt(outside.mask_hex, 16));
      expect(rOut.ok ? "accepted" : rOut.reason).toBe("bad_version");
      const rIn = accept(validateSubmit(job, { extranonce2: "", ntime, nonce, versionBits: inside.version_bits_hex }, Number.parseInt(inside.mask_hex, 16)));
      expect(rIn.version).toBe(0x20002000);
    });

    test("assembleBlock reproduces real block 542213 (segwit coinbase witness) and genesis byte for byte", () => {
      const v = notifyVectors.find((x) => x.block_ref === "block_542213_segwit");
      if (v === undefined) throw new Error("missing");
      const b = block542213 as NonNullable<typeof block542213>;
      const txids = b.txids as string[];
      const txHex = b.tx_hex as string[];
      const job = jobFromNotify(v.notify_params, 4, 8, {
        transactions: [1, 2, 3].map((i) => ({ txid: txids[i] as string, data: txHex[i] as string })),
        witnessCommitment: b.witness?.commitment_script_hex,
      });
      const [, , en2, ntime, nonce] = v.submit_params;
      const s = accept(validateSubmit(job, { extranonce2: en2, ntime, nonce }, MASK));
      expect(assembleBlock(job, bytes(v.extranonce1), s, sha)).toBe(b.block_hex as string);

      const g = genesis as NonNullable<typeof genesis>;
      const gjob = jobFromNotify(["g", "00".repeat(32), g.coinbase_hex as string, "", [], "00000001", g.header.bits_hex, g.header.time.toString(16), false], 0, 0);
      const gs = accept(validateSubmit(gjob, { extranonce2: "", ntime: g.header.time.toString(16), nonce: g.header.nonce.toString(16) }, 0));
      expect(assembleBlock(gjob, new Uint8Array(0), gs, sha)).toBe(g.block_hex as string);
    });
  });

  describe(`buildJob round trip (${name})`, () => {
    const en1 = bytes("0a0b0c0d");
    const en2 = "00112233445566ff";
    const t = segwitTemplate();
    const job = buildJob("1f", t, { payoutScript: PAYOUT, poolTag: "/stratum-edge/", extranonce1Size: 4, extranonce2Size: 8 }, sha);

    test("notify fields are consistent with the binary forms and the template", () => {
      expect(job.coinb1).toBe(bytesToHex(job.coinb1Bytes));
      expect(job.coinb2).toBe(bytesToHex(job.coinb2Bytes));
      expect(job.merkleBranch.join("")).toBe(bytesToHex(job.branchBytes));
      expect(job.merkleBranch.length).toBe(2);
      expect(job.versionHex).toBe("20000000");
      expect(job.nbitsHex).toBe(t.bits);
      expect(job.ntimeHex).toBe(t.curtime.toString(16).padStart(8, "0"));
      expect(bytesToHexReversed(job.prevhash)).toBe(t.previousBlockHash);
      // word-swapped notify prevhash == display hex with its eight 4-byte words in reverse order
      const words = t.previousBlockHash.match(/.{8}/g) as string[];
      expect(job.prevhashNotify).toBe(words.reverse().join(""));
      expect(job.networkTarget).toBe(bitsToTarget(Number.parseInt(t.bits, 16)));
      expect(job.height).toBe(542213);
    });

    test("coinb1 ‖ en1 ‖ en2 ‖ coinb2 is a valid coinbase transaction", () => {
      const cb = bytes(job.coinb1 + bytesToHex(en1) + en2 + job.coinb2);
      const tx = parseTx(cb);
      expect(tx.end).toBe(cb.length);
      expect(tx.segwit).toBe(false);
      expect(tx.inputs.length).toBe(1);
      const input = tx.inputs[0] as (typeof tx.inputs)[number];
      expect(input.prevHash).toEqual(new Uint8Array(32));
      expect(input.prevIndex).toBe(0xffffffff);
      expect(input.sequence).toBe(0xffffffff);
      expect(input.scriptSig.length).toBeGreaterThanOrEqual(2);
      expect(input.scriptSig.length).toBeLessThanOrEqual(100);
      const ss = bytesToHex(input.scriptSig);
      expect(ss.startsWith(bytesToHex(encodeHeightPush(542213)))).toBe(true);
      expect(ss).toContain("0c" + bytesToHex(en1) + en2); // direct push of the 12-byte slot
      expect(new TextDecoder().decode(input.scriptSig)).toContain("/stratum-edge/");
      expect(tx.outputs.map((o) => [o.value, bytesToHex(o.script)])).toEqual([
        [t.coinbaseValue, bytesToHex(PAYOUT)],
        [0n, t.witnessCommitment as string],
      ]);
      expect(tx.locktime).toBe(0);
      const h = new Uint8Array(32);
      sha256d(sha, cb, h);
      expect(coinbaseTxid(job, en1, en2, sha)).toBe(bytesToHexReversed(h));
    });

    test("the branch reproduces the merkle root of all txids", () => {
      const cb = bytes(job.coinb1 + bytesToHex(en1) + en2 + job.coinb2);
      const cbHash = new Uint8Array(32);
      sha256d(sha, cb, cbHash);
      const fromBranch = new Uint8Array(32);
      merkleRootFromBranch(cbHash, job.branchBytes, sha, fromBranch);
      const leaves = [cbHash, ...t.transactions.map((x) => bytes(x.txid).reverse())];
      expect(bytesToHex(fromBranch)).toBe(bytesToHex(merkleRootFromTxids(leaves, sha) as Uint8Array));
    });

    test("assembleBlock: header hashes like hashShare; block parses with witness coinbase and template txs", () => {
      const s = accept(validateSubmit(job, { extranonce2: en2.toUpperCase(), ntime: job.ntimeHex, nonce: "1234abcd" }, MASK));
      expect(s.extranonce2).toBe(en2);
      const shareHash = new Uint8Array(32);
      expect(hashShare(job, en1, s, sha, shareHash)).toBe(true);
      const blockHex = assembleBlock(job, en1, s, sha);
      const block = bytes(blockHex);
      const headerHash = new Uint8Array(32);
      sha256d(sha, block.subarray(0, 80), headerHash);
      expect(headerHash).toEqual(shareHash);
      expect(block.subarray(0, 80)).toEqual(buildHeader(job, en1, s, sha));
      expect(block[80]).toBe(4); // varint tx count
      const cb = parseTx(block, 81);
      expect(cb.segwit).toBe(true);
      expect(cb.witness).toEqual([[new Uint8Array(32)]]);
      const stripped = bytes(job.coinb1 + bytesToHex(en1) + en2 + job.coinb2);
      expect(parseTx(stripped).outputs).toEqual(cb.outputs);
      expect(bytesToHex(block.subarray(cb.end))).toBe(t.transactions.map((x) => x.data).join(""));
      // the header's merkle root is the stripped-coinbase tree, matching what the miner hashed
      const cbHash = new Uint8Array(32);
      sha256d(sha, stripped, cbHash);
      const root = new Uint8Array(32);
      merkleRootFromBranch(cbHash, job.branchBytes, sha, root);
      expect(block.subarray(36, 68)).toEqual(root);
    });

    test("no witness commitment, no txs: one output, empty branch, stripped coinbase in the block", () => {
      const bare: BlockTemplate = { ...t, transactions: [], witnessCommitment: undefined };
      const j = buildJob("2", bare, { payoutScript: PAYOUT, poolTag: "x", extranonce1Size: 4, extranonce2Size: 4 }, sha);
      expect(j.merkleBranch).toEqual([]);
      const cb = parseTx(bytes(j.coinb1 + "00000000" + "00000000" + j.coinb2));
      expect(cb.outputs.length).toBe(1);
      const s = accept(validateSubmit(j, { extranonce2: "00000000", ntime: j.ntimeHex, nonce: "0" }, 0));
      const blockHex = assembleBlock(j, new Uint8Array(4), s, sha);
      expect(blockHex.slice(162)).toBe(j.coinb1 + "0000000000000000" + j.coinb2);
    });

    test("long pool tag is truncated to one direct push and to the 100-byte scriptSig limit", () => {
      const opts = { payoutScript: PAYOUT, poolTag: "T".repeat(300), extranonce1Size: 4, extranonce2Size: 8 };
      const j = buildJob("3", t, opts, sha);
      const ss = parseTx(bytes(j.coinb1 + "00".repeat(12) + j.coinb2)).inputs[0]?.scriptSig as Uint8Array;
      // height push 4 + slot push 1 + slot 12 + tag push 1 + tag 75 (largest direct push)
      expect(ss.length).toBe(93);
      expect(bytesToHex(ss.subarray(17, 18))).toBe("4b");
      // with 20 bytes of coinbase flags the tag must shrink so the scriptSig is exactly 100 bytes
      const j2 = buildJob("4", { ...t, coinbaseFlags: "ab".repeat(20) }, opts, sha);
      const ss2 = parseTx(bytes(j2.coinb1 + "00".repeat(12) + j2.coinb2)).inputs[0]?.scriptSig as Uint8Array;
      expect(ss2.length).toBe(100);
      expect(bytesToHex(ss2.subarray(4, 24))).toBe("ab".repeat(20));
      // no room left for any tag: it is dropped, the slot still fits
      const j3 = buildJob("5", { ...t, coinbaseFlags: "ab".repeat(82) }, opts, sha);
      const ss3 = parseTx(bytes(j3.coinb1 + "00".repeat(12) + j3.coinb2)).inputs[0]?.scriptSig as Uint8Array;
      expect(ss3.length).toBe(99);
    });

    test("invalid templates and options are typed failures; buildJob throws RangeError", () => {
      const opts = { payoutScript: PAYOUT, poolTag: "", extranonce1Size: 4, extranonce2Size: 8 };
      const bad: [string, BlockTemplate, typeof opts][] = [
        ["prevhash", { ...t, previousBlockHash: "zz" }, opts],
        ["bits", { ...t, bits: "1d00ff" }, opts],
        ["txid", { ...t, transactions: [{ txid: "00", data: "00" }] }, opts],
        ["tx data", { ...t, transactions: [{ txid: "00".repeat(32), data: "0g" }] }, opts],
        ["flags", { ...t, coinbaseFlags: "abc" }, opts],
        ["commitment", { ...t, witnessCommitment: "xyz" }, opts],
        ["flags too long", { ...t, coinbaseFlags: "00".repeat(95) }, opts],
        ["en2 size", t, { ...opts, extranonce2Size: 0 }],
        ["height", { ...t, height: -5 }, opts],
      ];
      for (const [label, tpl, o] of bad) {
        const r = tryBuildJob("x", tpl, o, sha);
        expect(`${label}: ${r.ok}`).toBe(`${label}: false`);
      }
      expect(() => buildJob("x", { ...t, bits: "nothex!!" }, opts, sha)).toThrow(RangeError);
    });
  });

  describe(`validateSubmit (${name})`, () => {
    const v = notifyVectors[0];
    if (v === undefined) throw new Error("missing");
    const job = jobFromNotify(v.notify_params, 4, 4);
    const ok = { extranonce2: "00000001", ntime: "504e86ed", nonce: "b2957c02" };
    const reason = (f: Partial<typeof ok> & { versionBits?: string }, mask = MASK) => {
      const r = validateSubmit(job, { ...ok, ...f }, mask);
      return r.ok ? "ok" : r.reason;
    };

    test("malformed: lengths and hex", () => {
      expect(reason({})).toBe("ok");
      expect(reason({ extranonce2: "000001" })).toBe("malformed");
      expect(reason({ extranonce2: "0000000001" })).toBe("malformed");
      expect(reason({ extranonce2: "0000000g" })).toBe("malformed");
      expect(reason({ ntime: "504e86e" })).toBe("malformed");
      expect(reason({ ntime: "504e86edd" })).toBe("malformed");
      expect(reason({ ntime: "504e86eg" })).toBe("malformed");
      expect(reason({ nonce: "" })).toBe("malformed");
      expect(reason({ nonce: "b2957c021" })).toBe("malformed");
      expect(reason({ nonce: "b2957c0x" })).toBe("malformed");
      expect(reason({ versionBits: "" })).toBe("malformed");
      expect(reason({ versionBits: "zz" })).toBe("malformed");
      // malformed wins over a bad ntime (check order)
      expect(reason({ ntime: "00000000", nonce: "" })).toBe("malformed");
    });

    test("bad_ntime: window is job.ntime .. job.ntime + 7000", () => {
      const hex = (n: number) => n.toString(16).padStart(8, "0");
      expect(reason({ ntime: hex(job.ntime) })).toBe("ok");
      expect(reason({ ntime: hex(job.ntime + NTIME_MAX_AHEAD) })).toBe("ok");
      expect(reason({ ntime: hex(job.ntime - 1) })).toBe("bad_ntime");
      expect(reason({ ntime: hex(job.ntime + NTIME_MAX_AHEAD + 1) })).toBe("bad_ntime");
      // bad ntime is reported before bad version bits
      expect(reason({ ntime: hex(job.ntime - 1), versionBits: "ffffffff" })).toBe("bad_ntime");
    });

    test("bad_version: bits outside the mask; no mask negotiated means any bit is outside", () => {
      expect(reason({ versionBits: "00002000" })).toBe("ok");
      expect(reason({ versionBits: "20000000" })).toBe("bad_version");
      expect(reason({ versionBits: "00001000" })).toBe("bad_version");
      expect(reason({ versionBits: "00002000" }, 0)).toBe("bad_version");
      expect(reason({ versionBits: "0" }, 0)).toBe("ok");
      const r = accept(validateSubmit(job, ok, MASK));
      expect(r.version).toBe(job.version);
      const rolled = accept(validateSubmit(job, { ...ok, versionBits: "1fffe000" }, MASK));
      expect(rolled.version).toBe(((job.version & ~MASK) | 0x1fffe000) >>> 0);
    });

    test("short nonces are left-padded (NerdMiner) and hash like the padded form", () => {
      const short = accept(validateSubmit(job, { ...ok, nonce: "957c02" }, MASK));
      const padded = accept(validateSubmit(job, { ...ok, nonce: "00957c02" }, MASK));
      expect(short.nonce).toBe(0x00957c02);
      expect(short).toEqual(padded);
      const en1 = bytes(v.extranonce1);
      const a = new Uint8Array(32);
      const b = new Uint8Array(32);
      hashShare(job, en1, short, sha, a);
      hashShare(job, en1, padded, sha, b);
      expect(a).toEqual(b);
      expect(reverseHex(bytesToHex(buildHeader(job, en1, short, sha)).slice(152))).toBe("00957c02");
    });

    test("hashShare refuses fields whose extranonce2 does not fit the job", () => {
      const out = new Uint8Array(32);
      const fields: SubmitFields = { ok: true, ntime: job.ntime, nonce: 0, version: job.version, extranonce2: "00" };
      expect(hashShare(job, bytes(v.extranonce1), fields, sha, out)).toBe(false);
      expect(out).toEqual(new Uint8Array(32));
      expect(() => assembleBlock(job, bytes(v.extranonce1), fields, sha)).toThrow(RangeError);
      expect(() => buildHeader(job, bytes(v.extranonce1), fields, sha)).toThrow(RangeError);
      expect(() => coinbaseTxid(job, bytes(v.extranonce1), "zzzzzzzz", sha)).toThrow(RangeError);
    });
  });
}
