// Stratum v1 CPU miner: computeShareHash against the slush-doc vector, a full session against a scripted pool on the devnet, and the scrypt path against a scripted Litecoin-style pool.
import { describe, expect, test } from "bun:test";
import { computeShareHash, createStratumMiner, type MinerEvent } from "../../../src/client/stratum_miner.ts";
import { createDevnet } from "../../../src/upstream/devnet.ts";
import { createManualClock } from "../../../src/runtime/manual_clock.ts";
import { createSocketPair } from "../../../src/runtime/memory_socket.ts";
import type { Runtime, SocketHandle, SocketHandlers } from "../../../src/runtime/types.ts";
import type { StratumJob } from "../../../protocols/stratum-v1/job_types.ts";
import { buildJob } from "../../../protocols/stratum-v1/job.ts";
import { assembleBlock, buildHeader, hashShare, validateSubmit } from "../../../protocols/stratum-v1/share.ts";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import { DIFF1_SCRYPT, scryptPow } from "../../../protocols/pow/scrypt.ts";
import { scrypt as nobleScrypt } from "@noble/hashes/scrypt.js";
import {
  encodeNotify,
  encodeSetDifficulty,
  encodeSetExtranonce,
  encodeStratumError,
  encodeSubscribeResult,
  encodeTrue,
} from "../../../protocols/stratum-v1/server_to_client.ts";
import { nobleSha256Into } from "../../../protocols/pow/sha256d.ts";
import { bytesToHexReversed, hexToBytes, hexToU32 } from "../../../protocols/pow/hex.ts";
import { difficultyToTarget, hashMeetsTarget, targetToLE } from "../../../protocols/pow/target.ts";
import fixtures from "../../fixtures/bitcoin.json";

const sha = nobleSha256Into;

describe("computeShareHash", () => {
  test("slush-doc testnet block: submit ntime/nonce give the doc's block hash", () => {
    const v = fixtures.stratum_vectors[0] as (typeof fixtures.stratum_vectors)[number];
    const [, prevhash, coinb1, coinb2, branch, version, nbits, ntime] = v.notify_params as [
      string, string, string, string, string[], string, string, string, boolean,
    ];
    const [, , en2, subNtime, subNonce] = v.submit_params as string[];
    const job = { prevhash, coinb1, coinb2, branch, version, nbits, ntime };
    const hash = computeShareHash(job, v.extranonce1 as string, en2 as string, hexToU32(subNtime as string), hexToU32(subNonce as string), hexToU32(version), sha);
    expect(bytesToHexReversed(hash)).toBe(v.expected.hash);
    expect(v.expected.hash.startsWith("000000002076870f")).toBe(true);
    // The notify's own ntime gives the documented wrong hash: the function really uses its ntime argument.
    const other = computeShareHash(job, v.extranonce1 as string, en2 as string, hexToU32(ntime), hexToU32(subNonce as string), hexToU32(version), sha);
    expect(bytesToHexReversed(other)).toBe("9998664f794db55cdf7a9b4462626115b3af2541944f0fcdec1547c6493a3618");
  });

  test("malformed hex throws RangeError", () => {
    const v = fixtures.stratum_vectors[0] as (typeof fixtures.stratum_vectors)[number];
    const [, prevhash, coinb1, coinb2, branch, version, nbits, ntime] = v.notify_params as [
      string, string, string, string, string[], string, string, string, boolean,
    ];
    expect(() => computeShareHash({ prevhash, coinb1: "zz", coinb2, branch, version, nbits, ntime }, "00", "00", 0, 0, 2, sha)).toThrow(
      RangeError,
    );
  });
});

/** A tiny pool written against the protocol modules: jobs from the devnet, shares checked with share.ts, blocks to the devnet. */
function scriptedPool(opts: { difficulty: number; rejectAll?: string; refuseAuth?: boolean }) {
  const clock = createManualClock(1_700_000_000_000);
  // Share difficulty 1e-6 ≈ one share per 4300 hashes; these bits make blocks ~15x rarer, so both kinds occur.
  const devnet = createDevnet({
    bits: "1f00ffff", // target ≈ 2^240: ~65536 hashes per block
    blockIntervalSeconds: 0,
    transactionsPerBlock: 3,
    startHeight: 300,
    coinbaseValueSats: 625_000_000n,
    sha,
    clock,
  });
  let en1 = "f0000001";
  let job: StratumJob | undefined;
  // Older jobs stay valid for shares (a second block-grade share from the same job in one slice is still a valid share).
  const byId = new Map<string, StratumJob>();
  let jobs = 0;
  const seen: string[] = [];
  const submits: Array<{ params: unknown[]; ok: boolean }> = [];
  let server: SocketHandle | undefined;
  let mask = 0;
  const blocks: string[] = [];
  const blockResults: string[] = [];
  const send = (line: string) => server?.write(new TextEncoder().encode(line));

  function newJob(clean: boolean) {
    const t = devnet.current();
    if (!t) throw new Error("devnet not started");
    job = buildJob(String(++jobs), t, { payoutScript: Uint8Array.of(0x51), poolTag: "test", extranonce1Size: 4, extranonce2Size: 4 }, sha);
    byId.set(job.id, job);
    send(encodeNotify(job, clean));
  }
  devnet.onTemplate(() => {
    if (server) newJob(true);
  });

  let carry = "";
  const handlers: SocketHandlers = {
    open(s) {
      server = s;
    },
    data(_s, chunk) {
      carry += new TextDecoder().decode(chunk);
      let i: number;
      while ((i = carry.indexOf("\n")) >= 0) {
        const line = carry.slice(0, i);
        carry = carry.slice(i + 1);
        seen.push(line);
        const m = JSON.parse(line) as { id: number; method?: string; params?: unknown[]; result?: unknown };
        if (m.method === undefined) continue; // the miner's replies to ping/get_version; asserted via `seen`
        switch (m.method) {
          case "mining.configure":
            mask = 0x1fffe000;
            send(`{"id":${m.id},"result":{"version-rolling":true,"version-rolling.mask":"1fffe000"},"error":null}\n`);
            break;
          case "mining.subscribe":
            send(encodeSubscribeResult(m.id, "s1", en1, 4));
            break;
          case "mining.authorize":
            if (opts.refuseAuth) {
              send(encodeStratumError(m.id, 24, "Unauthorized worker"));
              break;
            }
            send(encodeTrue(m.id));
            send(encodeSetDifficulty(opts.difficulty));
            newJob(true);
            break;
          case "mining.suggest_difficulty":
            send(encodeTrue(m.id));
            break;
          case "mining.submit": {
            const p = m.params as string[];
            const sj = byId.get(p[1] as string);
            const f = validateSubmit(sj ?? (job as StratumJob), { extranonce2: p[2] as string, ntime: p[3] as string, nonce: p[4] as string, versionBits: p[5] }, mask);
            let ok = false;
            if (f.ok && sj) {
              const out = new Uint8Array(32);
              hashShare(sj, hexToBytes(en1) as Uint8Array, f, sha, out);
              ok = hashMeetsTarget(out, targetToLE(difficultyToTarget(opts.difficulty)));
              if (ok && hashMeetsTarget(out, sj.networkTargetLE)) {
                const hex = assembleBlock(sj, hexToBytes(en1) as Uint8Array, f, sha) as string;
                blocks.push(hex);
                void devnet.submitBlock(hex).then((r) => blockResults.push(r.accepted ? "accepted" : `${r.reason}`));
              }
            }
            submits.push({ params: p, ok });
            if (opts.rejectAll) send(encodeStratumError(m.id, 23, opts.rejectAll));
            else send(ok ? encodeTrue(m.id) : encodeStratumError(m.id, 23, "Low difficulty share"));
            break;
          }
        }
      }
    },
    close() {
      server = undefined;
    },
  };

  const runtime = {
    name: "bun",
    async connect(_host: string, _port: number, h: SocketHandlers) {
      return createSocketPair({ server: handlers, client: h, delivery: "microtask" }).client;
    },
  } as unknown as Runtime;

  return {
    runtime,
    devnet,
    seen,
    submits,
    blocks,
    blockResults,
    send,
    setEn1(v: string) {
      en1 = v;
    },
    newJob,
  };
}

async function waitFor(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("stratum miner against a scripted pool", () => {
  test("pipelined handshake, valid shares, a devnet block, version rolling, set_extranonce, ping and get_version", async () => {
    const pool = scriptedPool({ difficulty: 0.000001 });
    await pool.devnet.start();
    const events: MinerEvent[] = [];
    const miner = createStratumMiner({
      runtime: pool.runtime,
      host: "pool",
      port: 3333,
      user: "bc1qtest.worker1",
      agent: "test-miner/1.0",
      sha,
      configure: { versionRolling: true },
      suggestDifficulty: 0.5,
      hashesPerSlice: 2000,
      onEvent: (e) => events.push(e),
    });
    await miner.start();
    // The four handshake requests arrived in order, before any reply could have been awaited.
    const methods = pool.seen.slice(0, 4).map((l) => (JSON.parse(l) as { method: string }).method);
    expect(methods).toEqual(["mining.configure", "mining.subscribe", "mining.authorize", "mining.suggest_difficulty"]);
    expect(JSON.parse(pool.seen[1] as string).params).toEqual(["test-miner/1.0"]);

    await waitFor(() => miner.stats().accepted >= 5 && miner.stats().blocksFound >= 1);
    // Block-grade shares became blocks that passed the devnet's full checks and moved its tip. (A rare second
    // block from an already-replaced job would be 'prev-blk-not-found', which is the devnet being right.)
    await waitFor(() => pool.blockResults.length === pool.blocks.length);
    const acceptedBlocks = pool.blockResults.filter((r) => r === "accepted").length;
    expect(acceptedBlocks).toBeGreaterThanOrEqual(1);
    expect(pool.blockResults.every((r) => r === "accepted" || r === "prev-blk-not-found")).toBe(true);
    expect(pool.devnet.tip().height).toBe(299 + acceptedBlocks);
    expect(miner.stats().rejected).toBe(0);
    expect(miner.stats().difficulty).toBe(0.000001);
    expect(miner.stats().hashes).toBeGreaterThan(1000);
    // Version rolling negotiated: every submit carries version bits inside the BIP320 mask, not all equal.
    const vbits = pool.submits.map((s) => hexToU32(s.params[5] as string));
    expect(vbits.every((v) => v !== 0 && (v & ~0x1fffe000) === 0)).toBe(true);
    expect(new Set(vbits).size).toBeGreaterThan(1);

    // ping / get_version answered.
    pool.send('{"id":"p1","method":"mining.ping","params":[]}\n');
    pool.send('{"id":77,"method":"client.get_version","params":[]}\n');
    await waitFor(() => pool.seen.some((l) => l.includes('"p1"')) && pool.seen.some((l) => l.startsWith('{"id":77')));
    expect(JSON.parse(pool.seen.find((l) => l.includes('"p1"')) as string).result).toBe("pong");
    expect(JSON.parse(pool.seen.find((l) => l.startsWith('{"id":77')) as string).result).toBe("test-miner/1.0");

    // set_extranonce applies from the next job: shares after it validate only with the new extranonce1.
    pool.send(encodeSetExtranonce("f00000aa", 4));
    pool.setEn1("f00000aa");
    pool.newJob(true);
    const before = miner.stats().accepted;
    await waitFor(() => miner.stats().accepted >= before + 3);
    expect(miner.stats().rejected).toBe(0);

    miner.stop();
    const shares = events.filter((e) => e.type === "share");
    expect(shares.length).toBeGreaterThan(0);
    expect(shares.some((e) => e.type === "share" && e.block)).toBe(true);
    const after = miner.stats().hashes;
    await new Promise((r) => setTimeout(r, 30));
    expect(miner.stats().hashes).toBe(after); // stop() really stops hashing
  }, 30_000);

  test("server rejections are counted by message and reported with the error array", async () => {
    const pool = scriptedPool({ difficulty: 0.000001, rejectAll: "Job not found" });
    await pool.devnet.start();
    const events: MinerEvent[] = [];
    const miner = createStratumMiner({
      runtime: pool.runtime,
      host: "pool",
      port: 3333,
      user: "w",
      sha,
      hashesPerSlice: 2000,
      onEvent: (e) => events.push(e),
    });
    await miner.start();
    await waitFor(() => miner.stats().rejected >= 2);
    miner.stop();
    const s = miner.stats();
    expect(s.accepted).toBe(0);
    expect(s.rejectReasons["Job not found"]).toBe(s.rejected);
    const ev = events.find((e) => e.type === "share");
    expect(ev && ev.type === "share" && ev.error).toEqual([23, "Job not found", null]);
    // Without configure, no version bits are sent.
    expect(pool.submits.every((x) => x.params.length === 5)).toBe(true);
  }, 30_000);

  test("a refused authorize rejects start() and no share is ever sent", async () => {
    const pool = scriptedPool({ difficulty: 0.000001, refuseAuth: true });
    await pool.devnet.start();
    const events: MinerEvent[] = [];
    const miner = createStratumMiner({ runtime: pool.runtime, host: "pool", port: 1, user: "nobody", sha, onEvent: (e) => events.push(e) });
    await expect(miner.start()).rejects.toThrow(/authorize refused/);
    expect(events).toContainEqual({ type: "authorized", ok: false, error: [24, "Unauthorized worker", null] });
    await new Promise((r) => setTimeout(r, 20));
    expect(miner.stats().hashes).toBe(0);
    expect(pool.submits.length).toBe(0);
    miner.stop();
  });
});

describe("scrypt miner (algo: 'scrypt')", () => {
  // A Litecoin-style template; bits 2000ffff = target 0xffff·2^232, i.e. network difficulty 1/256 in scrypt
  // units: one block per ~256 scrypt hashes, so blocks and plain shares both occur within a second.
  const template: BlockTemplate = {
    height: 500,
    version: 0x20000000,
    previousBlockHash: "11".repeat(32),
    bits: "2000ffff",
    curtime: 1_700_000_000,
    coinbaseValue: 5_000_000_000n,
    transactions: [
      { data: "02000000" + "ab".repeat(60), txid: "22".repeat(32) },
      { data: "02000000" + "cd".repeat(60), txid: "33".repeat(32) },
    ],
  };
  const en1 = "f0000001";

  /** Scripted scrypt pool: checks every share with scryptPow against DIFF1_SCRYPT / difficulty, as a Litecoin pool does. */
  function scryptPool(difficulty: number) {
    const job = buildJob("s1", template, { payoutScript: Uint8Array.of(0x51), poolTag: "ltc", extranonce1Size: 4, extranonce2Size: 4 }, sha);
    const shareLE = targetToLE(difficultyToTarget(difficulty, DIFF1_SCRYPT));
    const results: Array<{ ok: boolean; block: boolean; sha256dWouldPass: boolean }> = [];
    let server: SocketHandle | undefined;
    let carry = "";
    const send = (line: string) => server?.write(new TextEncoder().encode(line));
    const handlers: SocketHandlers = {
      open(s) {
        server = s;
      },
      data(_s, chunk) {
        carry += new TextDecoder().decode(chunk);
        let i: number;
        while ((i = carry.indexOf("\n")) >= 0) {
          const m = JSON.parse(carry.slice(0, i)) as { id: number; method?: string; params?: unknown[] };
          carry = carry.slice(i + 1);
          if (m.method === "mining.subscribe") send(encodeSubscribeResult(m.id, "s1", en1, 4));
          else if (m.method === "mining.authorize") {
            send(encodeTrue(m.id));
            send(encodeSetDifficulty(difficulty));
            send(encodeNotify(job, true));
          } else if (m.method === "mining.submit") {
            const p = m.params as string[];
            const f = validateSubmit(job, { extranonce2: p[2] as string, ntime: p[3] as string, nonce: p[4] as string }, 0);
            let ok = false;
            let block = false;
            let sha256dWouldPass = false;
            if (f.ok && p[1] === job.id) {
              const header = buildHeader(job, hexToBytes(en1) as Uint8Array, f, sha);
              const pow = new Uint8Array(32);
              scryptPow(header, pow, sha);
              ok = hashMeetsTarget(pow, shareLE);
              block = hashMeetsTarget(pow, job.networkTargetLE);
              const d = new Uint8Array(32);
              hashShare(job, hexToBytes(en1) as Uint8Array, f, sha, d);
              sha256dWouldPass = hashMeetsTarget(d, shareLE);
            }
            results.push({ ok, block, sha256dWouldPass });
            send(ok ? encodeTrue(m.id) : encodeStratumError(m.id, 23, "Low difficulty share"));
          }
        }
      },
      close() {
        server = undefined;
      },
    };
    const runtime = {
      name: "bun",
      async connect(_h: string, _p: number, h: SocketHandlers) {
        return createSocketPair({ server: handlers, client: h, delivery: "microtask" }).client;
      },
    } as unknown as Runtime;
    return { runtime, job, results };
  }

  test("shares are scrypt hashes meeting DIFF1_SCRYPT/difficulty; a hash under nbits is flagged as a block", async () => {
    // 0.0002 in scrypt units = target 0xffff·2^224·5000: a share per ~13 hashes, ~1 in 20 of them a block.
    // Read with Bitcoin's diff1 (65536x harder) no share would come within the test's time.
    const pool = scryptPool(0.0002);
    const events: MinerEvent[] = [];
    const miner = createStratumMiner({ runtime: pool.runtime, host: "pool", port: 3333, user: "ltc1qtest.w", sha, algo: "scrypt", onEvent: (e) => events.push(e) });
    await miner.start();
    await waitFor(() => miner.stats().accepted >= 5 && miner.stats().blocksFound >= 1, 20_000);
    miner.stop();
    const s = miner.stats();
    expect(s.rejected).toBe(0);
    expect(pool.results.every((r) => r.ok)).toBe(true);
    // The pool's own scrypt check agrees with the miner's block flag, share by share.
    const shares = events.filter((e): e is Extract<MinerEvent, { type: "share" }> => e.type === "share");
    expect(shares.map((e) => e.block)).toEqual(pool.results.slice(0, shares.length).map((r) => r.block));
    expect(shares.every((e) => e.hashDifficulty >= e.difficulty && e.difficulty === 0.0002)).toBe(true);
    // Not sha256d: every share passed the scrypt check, while the same headers' sha256d hashes pass only
    // ~7.6% of the time (target/2^256), so all ≥ 5 passing by chance has probability < 3e-6.
    expect(pool.results.filter((r) => r.sha256dWouldPass).length).toBeLessThan(pool.results.length);
    // About 13 hashes a share: a generous bound that still fails if the target were read with Bitcoin's diff1.
    expect(s.hashes).toBeLessThan(50_000);
  }, 30_000);

  test("maxHashesPerSecond paces hashing (a slow device), without changing what is mined", async () => {
    const pool = scryptPool(0.0002);
    const miner = createStratumMiner({ runtime: pool.runtime, host: "pool", port: 3333, user: "w", sha, algo: "scrypt", maxHashesPerSecond: 40 });
    await miner.start();
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 600));
    miner.stop();
    const elapsed = (Date.now() - t0) / 1000;
    const h = miner.stats().hashes;
    // 40/s for ~0.6 s = ~24, in slices of 4; unthrottled the same time gives ~3000 scrypt hashes.
    expect(h).toBeGreaterThanOrEqual(8);
    expect(h).toBeLessThanOrEqual(Math.ceil(40 * elapsed) + 8);
    expect(miner.stats().rejected).toBe(0);
  });

  test("computeShareHash with algo 'scrypt' equals @noble's scrypt of the share header", () => {
    const job = buildJob("c1", template, { payoutScript: Uint8Array.of(0x51), poolTag: "ltc", extranonce1Size: 4, extranonce2Size: 4 }, sha);
    const wire = { prevhash: job.prevhashNotify, coinb1: job.coinb1, coinb2: job.coinb2, branch: job.merkleBranch, version: job.versionHex, nbits: job.nbitsHex, ntime: job.ntimeHex };
    const h = computeShareHash(wire, en1, "0000002a", job.ntime, 12345, job.version, sha, "scrypt");
    const f = validateSubmit(job, { extranonce2: "0000002a", ntime: job.ntime.toString(16).padStart(8, "0"), nonce: (12345).toString(16).padStart(8, "0") }, 0);
    if (!f.ok) throw new Error("fields");
    const header = buildHeader(job, hexToBytes(en1) as Uint8Array, f, sha);
    expect(bytesToHexReversed(h)).toBe(bytesToHexReversed(nobleScrypt(header, header, { N: 1024, r: 1, p: 1, dkLen: 32 })));
    // and the default stays sha256d
    const d = computeShareHash(wire, en1, "0000002a", job.ntime, 12345, job.version, sha);
    const dd = new Uint8Array(32);
    hashShare(job, hexToBytes(en1) as Uint8Array, f, sha, dd);
    expect(bytesToHexReversed(d)).toBe(bytesToHexReversed(dd));
  });
});
