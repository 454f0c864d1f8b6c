// Tests relay mode in the Stratum v1 session: shares meeting the upstream target become one `forward` action, the miner is answered from the upstream verdict, and the upstream difficulty caps the miner's.
import { describe, expect, test } from "bun:test";
import type { Action, ForwardRequest, ForwardResult, StratumForward } from "../../../protocols/core/actions.ts";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import { hexToBytes } from "../../../protocols/pow/hex.ts";
import { difficultyToTarget, hashMeetsTarget, hashToDifficulty, targetToLE } from "../../../protocols/pow/target.ts";
import { buildJob } from "../../../protocols/stratum-v1/job.ts";
import type { StratumJob } from "../../../protocols/stratum-v1/job_types.ts";
import { buildRelayJob, planCarve } from "../../../protocols/stratum-v1/relay_job.ts";
import { stratumV1, type StratumV1Env, type StratumV1Policy, type StratumV1State } from "../../../protocols/stratum-v1/session.ts";
import { hashShare, validateSubmit } from "../../../protocols/stratum-v1/share.ts";
import type { UpstreamNotify } from "../../../protocols/stratum-v1/upstream_session.ts";
import { createJobBook, type JobBook } from "../../../src/pools/job_book.ts";

const sha = (i: Uint8Array, o: Uint8Array) => {
  Bun.SHA256.hash(i, o);
};
const DIFF1 = 0xffffn << 208n;
const MINER_EN1 = "0102";
const UP_JOB_ID = "up-42";
const LINK = 5;

const policy: StratumV1Policy = {
  algo: "sha256d",
  diff1: DIFF1,
  versionMask: 0x1fffe000,
  extranonce2Size: 4,
  initialDifficulty: 1,
  suggestFloor: 1e-12,
  vardiff: { targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30, min: 1e-12, max: 1e15 },
  loginTimeoutMs: 30_000,
  idleTimeoutMs: 600_000,
  maxMalformed: 3,
  reconnectHost: "",
  reconnectPort: 0,
};

function template(bits: string): BlockTemplate {
  return {
    height: 840000,
    version: 0x20000000,
    previousBlockHash: "00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054",
    bits,
    curtime: 1_713_571_767,
    coinbaseValue: 312_500_000n,
    transactions: [],
  };
}

/** The upstream pool's job (en1 4 + en2 8), its notify, and our relay job carved for 2-byte miner prefixes. */
function relayJob(id: string, upstreamDifficulty: number, bits = "1d00ffff"): StratumJob {
  const up = buildJob(UP_JOB_ID, template(bits), { payoutScript: new Uint8Array([0x51]), poolTag: "/up/", extranonce1Size: 4, extranonce2Size: 8 }, sha);
  const notify: UpstreamNotify = {
    type: "notify",
    jobId: up.id,
    prevhash: up.prevhashNotify,
    coinb1: up.coinb1,
    coinb2: up.coinb2,
    branch: up.merkleBranch,
    version: up.versionHex,
    nbits: up.nbitsHex,
    ntime: up.ntimeHex,
    clean: true,
  };
  const plan = planCarve("a1b2c3d4", 8, 2, 4);
  if (!plan.ok) throw new Error(plan.why);
  const r = buildRelayJob({ id, notify, carve: plan.carve, upstreamDifficulty, diff1: DIFF1, link: LINK });
  if (!r.ok) throw new Error(r.why);
  return r.job;
}

function setup(upstreamDifficulty: number, bits?: string) {
  const book: JobBook = createJobBook({ keep: 4, sha, coinbase: { payoutScript: new Uint8Array([0x51]), poolTag: "/t/", extranonce1Size: 2, extranonce2Size: 4 } });
  const job = relayJob("r1", upstreamDifficulty, bits);
  book.adopt(job, true);
  const env: StratumV1Env = { now: 2_000_000, sha, jobs: book, extranonce: { claim: () => false, release: () => {} }, policy };
  const s = stratumV1.open({ remoteAddress: "127.0.0.1", extranonce1: MINER_EN1 }, env);
  return { book, job, env, s };
}

function split(out: Action[]) {
  const writes: any[] = [];
  const other: Action[] = [];
  for (const a of out) {
    if (a.kind === "write") {
      const text = typeof a.data === "string" ? a.data : new TextDecoder().decode(a.data);
      for (const l of text.split("\n")) if (l) writes.push(JSON.parse(l));
    } else other.push(a);
  }
  return { writes, other };
}

function feed(s: StratumV1State, env: StratumV1Env, ...lines: string[]) {
  const out: Action[] = [];
  for (const l of lines) stratumV1.receive(s, parseLine(l), env, out);
  stratumV1.flush(s, env, out);
  return { out, ...split(out) };
}

const req = (id: number | string | null, method: string, params: unknown) => JSON.stringify({ id, method, params });

const targetOf = (d: number) => targetToLE(difficultyToTarget(d, DIFF1));

interface Found {
  nonce: string;
  hash: Uint8Array;
}

/** Searches nonces until `want(hash)` holds for the share (en1 = the miner's prefix). */
function findNonce(job: StratumJob, en2: string, want: (h: Uint8Array) => boolean, versionBits?: string, mask = 0): Found {
  const en1 = hexToBytes(MINER_EN1)!;
  const out = new Uint8Array(32);
  for (let n = 0; n < 5_000_000; n++) {
    const nonce = n.toString(16).padStart(8, "0");
    const v = validateSubmit(job, { extranonce2: en2, ntime: job.ntimeHex, nonce, ...(versionBits ? { versionBits } : {}) }, mask);
    if (!v.ok) throw new Error(v.message);
    hashShare(job, en1, v, sha, out);
    if (want(out)) return { nonce, hash: out.slice() };
  }
  throw new Error("no nonce found");
}

function forwardOf(out: Action[]): StratumForward {
  const f = out.filter((a) => a.kind === "forward");
  expect(f).toHaveLength(1);
  const a = f[0]!;
  if (a.kind !== "forward" || a.request.kind !== "stratum-v1") throw new Error("expected a stratum-v1 forward");
  return a.request;
}

function answer(s: StratumV1State, env: StratumV1Env, r: ForwardRequest, res: ForwardResult) {
  const out: Action[] = [];
  stratumV1.forwarded!(s, r, res, env, out);
  return split(out);
}

const UP_DIFF = 1e-5; // ~43k hashes per upstream share: quick to find in a test
const MINER_DIFF = 1e-8;

describe("relay mode: forwarding shares upstream", () => {
  test("a share meeting the upstream target: exactly one forward, no answer and no share yet", () => {
    const { s, env, job } = setup(UP_DIFF);
    const login = feed(s, env, req(1, "mining.subscribe", ["bitaxe/2.6"]), req(2, "mining.authorize", ["w1", "d=0.00000001"]));
    expect(login.writes.map((w) => w.id ?? w.method)).toEqual([1, 2, "mining.set_difficulty", "mining.notify"]);
    expect(login.writes[0].result[1]).toBe(MINER_EN1);
    expect(login.writes[0].result[2]).toBe(4);
    expect(login.writes[2].params).toEqual([MINER_DIFF]);
    expect(login.writes[3].params[0]).toBe("r1");

    const found = findNonce(job, "deadbeef", (h) => hashMeetsTarget(h, job.upstream!.targetLE));
    const r = feed(s, env, req(5, "mining.submit", ["w1", "r1", "deadbeef", job.ntimeHex, found.nonce]));
    expect(r.writes).toEqual([]);
    expect(r.other.map((a) => a.kind)).toEqual(["forward"]);
    const fwd = forwardOf(r.out);
    expect(fwd).toEqual({
      kind: "stratum-v1",
      link: LINK,
      worker: "w1",
      jobId: UP_JOB_ID,
      extranonce2: "0000" + MINER_EN1 + "deadbeef",
      ntime: job.ntimeHex,
      nonce: found.nonce,
      ctx: expect.anything(),
    });
    expect("versionBits" in fwd).toBe(false);
    expect(fwd.ntime).toMatch(/^[0-9a-f]{8}$/);
    expect(fwd.nonce).toMatch(/^[0-9a-f]{8}$/);

    // accepted upstream → true to the miner, share counted accepted with upstream:"accepted"
    const ok = answer(s, env, fwd, { verdict: "accepted" });
    expect(ok.writes).toEqual([{ id: 5, result: true, error: null }]);
    expect(ok.other).toEqual([
      {
        kind: "share",
        share: {
          worker: "w1",
          accepted: true,
          upstream: "accepted",
          difficulty: MINER_DIFF,
          shareDifficulty: hashToDifficulty(found.hash, DIFF1),
          jobId: "r1",
          height: 840000,
          at: env.now,
        },
      },
    ]);
    expect(hashToDifficulty(found.hash, DIFF1)).toBeGreaterThanOrEqual(UP_DIFF);
  });

  test("rejected upstream (23) → 23 to the miner with the pool's text; share rejected", () => {
    const { s, env, job } = setup(UP_DIFF);
    feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "d=0.00000001"]));
    const found = findNonce(job, "00000007", (h) => hashMeetsTarget(h, job.upstream!.targetLE));
    const r = feed(s, env, req("s7", "mining.submit", ["w1", "r1", "00000007", job.ntimeHex, found.nonce]));
    expect(r.writes).toEqual([]);
    const fwd = forwardOf(r.out);
    env.now += 250;
    const no = answer(s, env, fwd, { verdict: "rejected", reason: "low_difficulty", message: "upstream: 23 Low difficulty" });
    expect(no.writes).toEqual([{ id: "s7", result: null, error: [23, "Low difficulty share: upstream: 23 Low difficulty", null] }]);
    expect(no.other).toEqual([
      {
        kind: "share",
        share: {
          worker: "w1",
          accepted: false,
          reason: "low_difficulty",
          upstream: "rejected",
          difficulty: MINER_DIFF,
          shareDifficulty: hashToDifficulty(found.hash, DIFF1),
          jobId: "r1",
          height: 840000,
          at: env.now,
        },
      },
    ]);
  });

  test("no verdict (upstream_timeout) → 20 'Upstream pool did not answer in time'; share unconfirmed", () => {
    const { s, env, job } = setup(UP_DIFF);
    feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "d=0.00000001"]));
    const found = findNonce(job, "00000008", (h) => hashMeetsTarget(h, job.upstream!.targetLE));
    const r = feed(s, env, req(8, "mining.submit", ["w1", "r1", "00000008", job.ntimeHex, found.nonce]));
    const fwd = forwardOf(r.out);
    const late = answer(s, env, fwd, { verdict: "unconfirmed", reason: "upstream_timeout", message: "" });
    expect(late.writes).toEqual([{ id: 8, result: null, error: [20, "Upstream pool did not answer in time", null] }]);
    expect(late.other).toHaveLength(1);
    expect(late.other[0]).toMatchObject({ kind: "share", share: { accepted: false, reason: "upstream_timeout", upstream: "unconfirmed", jobId: "r1" } });
  });

  test("a share meeting only the miner's target is answered true at once, no forward", () => {
    const { s, env, job } = setup(UP_DIFF);
    feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "d=0.00000001"]));
    const up = job.upstream!.targetLE;
    const mine = targetOf(MINER_DIFF);
    const found = findNonce(job, "0000000a", (h) => hashMeetsTarget(h, mine) && !hashMeetsTarget(h, up));
    const r = feed(s, env, req(10, "mining.submit", ["w1", "r1", "0000000a", job.ntimeHex, found.nonce]));
    expect(r.writes).toEqual([{ id: 10, result: true, error: null }]);
    expect(r.other.map((a) => a.kind)).toEqual(["share"]);
    const sh = r.other[0]!;
    if (sh.kind !== "share") throw new Error("unreachable");
    expect(sh.share).toMatchObject({ accepted: true, difficulty: MINER_DIFF, jobId: "r1" });
    expect("upstream" in sh.share).toBe(false);
  });

  test("a share below the miner's own target is refused locally (23), never forwarded", () => {
    const { s, env, job } = setup(UP_DIFF);
    feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "d=0.00000001"]));
    const mine = targetOf(MINER_DIFF);
    const found = findNonce(job, "0000000b", (h) => !hashMeetsTarget(h, mine));
    const r = feed(s, env, req(11, "mining.submit", ["w1", "r1", "0000000b", job.ntimeHex, found.nonce]));
    expect(r.writes).toEqual([{ id: 11, result: null, error: [23, "Low difficulty share", null] }]);
    expect(r.other.some((a) => a.kind === "forward")).toBe(false);
  });

  test("version rolling negotiated: the forward carries versionBits as 8 hex", () => {
    const { s, env, job } = setup(UP_DIFF);
    const login = feed(
      s,
      env,
      JSON.stringify({ id: 1, method: "mining.configure", params: [["version-rolling"], { "version-rolling.mask": "ffffffff" }] }),
      req(2, "mining.subscribe", []),
      req(3, "mining.authorize", ["w1", "d=0.00000001"]),
    );
    expect(login.writes[0].result).toEqual({ "version-rolling": true, "version-rolling.mask": "1fffe000" });
    const found = findNonce(job, "0000000c", (h) => hashMeetsTarget(h, job.upstream!.targetLE), "00002000", 0x1fffe000);
    const r = feed(s, env, req(12, "mining.submit", ["w1", "r1", "0000000c", job.ntimeHex, found.nonce, "00002000"]));
    expect(r.writes).toEqual([]);
    expect(forwardOf(r.out)).toEqual({
      kind: "stratum-v1",
      link: LINK,
      worker: "w1",
      jobId: UP_JOB_ID,
      extranonce2: "00000102" + "0000000c",
      ntime: job.ntimeHex,
      nonce: found.nonce,
      versionBits: "00002000",
      ctx: expect.anything(),
    });
  });

  test("a block candidate goes upstream too (the pool submits it): no local block action", () => {
    // bits 207fffff: the network target is ~2^255, far easier than the upstream's difficulty 1000.
    const { s, env, job } = setup(1000, "207fffff");
    feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "d=0.00000001"]));
    const found = findNonce(job, "0000000d", (h) => hashMeetsTarget(h, job.networkTargetLE) && hashMeetsTarget(h, targetOf(s.announced)));
    const r = feed(s, env, req(13, "mining.submit", ["w1", "r1", "0000000d", job.ntimeHex, found.nonce]));
    expect(r.writes).toEqual([]);
    expect(r.other.map((a) => a.kind)).toEqual(["forward"]);
    const ok = answer(s, env, forwardOf(r.out), { verdict: "accepted" });
    expect(ok.writes).toEqual([{ id: 13, result: true, error: null }]);
    expect(ok.other).toHaveLength(1);
    expect(ok.other[0]).toMatchObject({ kind: "share", share: { accepted: true, upstream: "accepted", block: true } });
  });
});

describe("relay mode: the upstream difficulty caps the miner's", () => {
  test("initial difficulty 1 above upstream 0.001: the miner is told 0.001", () => {
    const { s, env } = setup(0.001);
    const r = feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "x"]));
    const sd = r.writes.filter((w) => w.method === "mining.set_difficulty");
    expect(sd).toHaveLength(1);
    expect(sd[0].params[0]).toBeLessThanOrEqual(0.001);
    expect(sd[0].params).toEqual([0.001]);
  });

  test("a fixed d= above the upstream difficulty is capped too", () => {
    const { s, env } = setup(0.001);
    const r = feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "d=50"]));
    expect(r.writes.find((w) => w.method === "mining.set_difficulty").params).toEqual([0.001]);
  });

  test("vardiff wanting more never goes past the upstream difficulty; a lower upstream difficulty is announced with the next job", () => {
    const UD = 1e-6;
    const { s, env, job, book } = setup(UD);
    const login = feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "x"]));
    expect(login.writes.find((w) => w.method === "mining.set_difficulty").params).toEqual([UD]);
    const t = targetOf(UD);
    // Shares every 100 ms, far faster than one per 10 s: vardiff asks for more each early retarget.
    for (let i = 0; i < 30; i++) {
      env.now += 100;
      const en2 = (0x100 + i).toString(16).padStart(8, "0");
      const f = findNonce(job, en2, (h) => hashMeetsTarget(h, t));
      const r = feed(s, env, req(100 + i, "mining.submit", ["w1", "r1", en2, job.ntimeHex, f.nonce]));
      // At the ceiling every share meets the upstream target: each one is forwarded.
      expect(r.other.map((a) => a.kind)).toEqual(["forward"]);
      expect(r.writes.filter((w) => w.method === "mining.set_difficulty")).toEqual([]);
    }
    expect(s.difficulty).toBeGreaterThan(UD); // vardiff did ask for more…
    expect(s.announced).toBe(UD); // …but the miner was never told more than the upstream's

    const lower = relayJob("r2", UD / 2);
    book.adopt(lower, true);
    const out: Action[] = [];
    stratumV1.job(s, { job: lower, clean: true, memo: new Map() }, env, out);
    const { writes } = split(out);
    expect(writes.map((w) => w.method)).toEqual(["mining.set_difficulty", "mining.notify"]);
    expect(writes[0].params).toEqual([UD / 2]);
    expect(writes[1].params[0]).toBe("r2");
  });
});
