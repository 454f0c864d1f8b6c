// Stratum v1 session reducer driven with an injected clock and real jobs/hashes: every answer a miner can get.
import { describe, expect, test } from "bun:test";
import { stratumV1, type StratumV1Env, type StratumV1State, type StratumV1Policy } from "../../../protocols/stratum-v1/session.ts";
import { parseLine } from "../../../protocols/jsonrpc/envelope.ts";
import type { Action } from "../../../protocols/core/actions.ts";
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import { createJobBook } from "../../../src/pools/job_book.ts";
import { createExtranonceAllocator } from "../../../src/pools/extranonce.ts";
import { buildHeader, hashShare, validateSubmit } from "../../../protocols/stratum-v1/share.ts";
import { difficultyToTarget, hashMeetsTarget, targetToLE } from "../../../protocols/pow/target.ts";
import { hexToBytes } from "../../../protocols/pow/hex.ts";
import type { StratumJob } from "../../../protocols/stratum-v1/job_types.ts";

const sha = (i: Uint8Array, o: Uint8Array) => {
  Bun.SHA256.hash(i, o);
};

const policy: StratumV1Policy = {
  algo: "sha256d",
  diff1: 0xffffn << 208n,
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

function template(bits = "1d00ffff"): BlockTemplate {
  return {
    height: 1000,
    version: 0x20000000,
    previousBlockHash: "00000000000000000000000000000000000000000000000000000000000000aa",
    bits,
    curtime: 1_700_000_000,
    coinbaseValue: 5_000_000_000n,
    transactions: [],
  };
}

function setup(bits?: string) {
  const book = createJobBook({ keep: 4, sha, coinbase: { payoutScript: new Uint8Array([0x51]), poolTag: "/t/", extranonce1Size: 4, extranonce2Size: 4 } });
  const job = book.add(template(bits), true);
  const en1 = createExtranonceAllocator(4, "", () => 0.5);
  const env: StratumV1Env = { now: 1_000_000, sha, jobs: book, extranonce: en1, policy };
  const s = stratumV1.open({ remoteAddress: "127.0.0.1", extranonce1: en1.allocate() }, env);
  return { book, job, env, s, en1 };
}

/** Feed lines as one read (like a pipelining miner), then flush; returns the JSON written and other actions. */
function feed(s: StratumV1State, env: StratumV1Env, ...lines: string[]) {
  const out: Action[] = [];
  for (const l of lines) stratumV1.receive(s, parseLine(l), env, out);
  stratumV1.flush(s, env, out);
  return split(out);
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

const req = (id: number | string | null, method: string, params: unknown) => JSON.stringify({ id, method, params });

function login(s: StratumV1State, env: StratumV1Env, password = "x") {
  return feed(s, env, req(1, "mining.subscribe", ["test/1.0"]), req(2, "mining.authorize", ["w1", password]));
}

/** Search nonces until the share hash meets (or fails) the target of `difficulty`. */
function findNonce(job: StratumJob, en1: string, en2: string, difficulty: number, meets: boolean, start = 0): string {
  const t = targetToLE(difficultyToTarget(difficulty));
  const out = new Uint8Array(32);
  for (let n = start; n < start + 5_000_000; n++) {
    const nonce = n.toString(16).padStart(8, "0");
    const v = validateSubmit(job, { extranonce2: en2, ntime: job.ntimeHex, nonce }, 0);
    if (!v.ok) throw new Error(v.message);
    hashShare(job, hexToBytes(en1)!, v, sha, out);
    if (hashMeetsTarget(out, t) === meets) return nonce;
  }
  throw new Error("no nonce found");
}

describe("stratum v1 session", () => {
  test("pipelined configure/subscribe/authorize/suggest: results in order, then difficulty, then one job", () => {
    const { s, env, job } = setup("1a44b9f2"); // network difficulty 244112: a suggestion of 1000 fits under it
    const { writes } = feed(
      s,
      env,
      JSON.stringify({ id: 1, method: "mining.configure", params: [["version-rolling"], { "version-rolling.mask": "ffffffff" }] }),
      req(2, "mining.subscribe", ["bitaxe/BM1370/v2.6.0"]),
      req(3, "mining.authorize", ["bc1qworker.1", "x"]),
      req(4, "mining.suggest_difficulty", [1000]),
    );
    expect(writes.map((w) => w.id ?? w.method)).toEqual([1, 2, 3, 4, "mining.set_difficulty", "mining.notify"]);
    expect(writes[0].result).toEqual({ "version-rolling": true, "version-rolling.mask": "1fffe000" });
    expect(writes[1].result[1]).toBe(s.extranonce1);
    expect(writes[1].result[0][1][1]).toBe(s.extranonce1); // subscription id = extranonce1
    expect(writes[1].result[2]).toBe(4);
    expect(writes[4].params).toEqual([1000]);
    expect(writes[5].params[0]).toBe(job.id);
    expect(writes[5].params[8]).toBe(true);
  });

  test("share difficulty is capped at the network difficulty (a higher one would hide blocks)", () => {
    const { s, env } = setup("1e00ffff"); // network difficulty 1/256
    const { writes } = feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w", "d=50"]));
    expect(writes.find((w) => w.method === "mining.set_difficulty").params[0]).toBeCloseTo(1 / 256, 12);
  });

  test("submit before subscribe is 25, unknown worker 24, unknown job 21", () => {
    const { s, env, job } = setup();
    let r = feed(s, env, req(1, "mining.submit", ["w1", job.id, "00000000", job.ntimeHex, "00000000"]));
    expect(r.writes[0].error).toEqual([25, "Not subscribed", null]);
    login(s, env);
    r = feed(s, env, req(2, "mining.submit", ["nobody", job.id, "00000000", job.ntimeHex, "00000000"]));
    expect(r.writes[0].error[0]).toBe(24);
    r = feed(s, env, req(3, "mining.submit", ["w1", "deadbeef", "00000000", job.ntimeHex, "00000000"]));
    expect(r.writes[0].error[0]).toBe(21);
    expect(r.other).toContainEqual(expect.objectContaining({ kind: "share", share: expect.objectContaining({ accepted: false, reason: "stale" }) }));
  });

  test("valid share true; same share again 22; a share above target 23", () => {
    const { s, env, job } = setup();
    login(s, env, "d=0.001");
    const good = findNonce(job, s.extranonce1, "00000001", 0.001, true);
    let r = feed(s, env, req(5, "mining.submit", ["w1", job.id, "00000001", job.ntimeHex, good]));
    expect(r.writes[0]).toEqual({ id: 5, result: true, error: null });
    expect(r.other[0]).toMatchObject({ kind: "share", share: { accepted: true, difficulty: 0.001, worker: "w1" } });
    r = feed(s, env, req(6, "mining.submit", ["w1", job.id, "00000001", job.ntimeHex, good]));
    expect(r.writes[0].error[0]).toBe(22);
    const bad = findNonce(job, s.extranonce1, "00000002", 0.001, false);
    r = feed(s, env, req(7, "mining.submit", ["w1", job.id, "00000002", job.ntimeHex, bad]));
    expect(r.writes[0].error).toEqual([23, "Low difficulty share", null]);
    // Sent again it is as low as before (same hash): 23 again, not 22, and nothing was remembered for it.
    const size = s.sentJobs.find((j) => j.id === job.id)!.seen!.size;
    r = feed(s, env, req(8, "mining.submit", ["w1", job.id, "00000002", job.ntimeHex, bad]));
    expect(r.writes[0].error).toEqual([23, "Low difficulty share", null]);
    expect(size).toBe(1);
  });

  test("NerdMiner short nonce is left-padded; bad ntime and out-of-mask version bits are 20", () => {
    const { s, env, job } = setup();
    login(s, env, "d=0.000000000001");
    // At difficulty 1e-12 the target is capped at 2^256-1: any well-formed share is valid.
    let r = feed(s, env, req(1, "mining.submit", ["w1", job.id, "00000003", job.ntimeHex, "1a2b"]));
    expect(r.writes[0].result).toBe(true);
    r = feed(s, env, req(2, "mining.submit", ["w1", job.id, "00000003", job.ntimeHex, "00001a2b"]));
    expect(r.writes[0].error[0]).toBe(22); // the padded form is the same share
    const late = (job.ntime + 7001).toString(16).padStart(8, "0");
    r = feed(s, env, req(3, "mining.submit", ["w1", job.id, "00000004", late, "00000000"]));
    expect(r.writes[0].error[0]).toBe(20);
    r = feed(s, env, req(4, "mining.submit", ["w1", job.id, "00000004", job.ntimeHex, "00000000", "00002000"]));
    expect(r.writes[0].error[0]).toBe(20); // no version rolling negotiated: mask 0
  });

  test("a hash below the network target yields a block candidate", () => {
    const { s, env, job } = setup("207fffff");
    login(s, env, "d=0.000000000001");
    // bits 207fffff: network target ≈ 2^255, so a hash under 2^254 is surely a block.
    const nonce = findNonce(job, s.extranonce1, "00000009", (0xffff * 2 ** 208) / 2 ** 254, true);
    const r = feed(s, env, req(9, "mining.submit", ["w1", job.id, "00000009", job.ntimeHex, nonce]));
    expect(r.writes[0].result).toBe(true);
    const block = r.other.find((a) => a.kind === "block");
    expect(block).toBeDefined();
  });

  test("cgminer resume: the subscription id gives back the same extranonce1 when free", () => {
    const { env, en1 } = setup();
    const first = en1.allocate();
    en1.release(first);
    const s2 = stratumV1.open({ remoteAddress: "127.0.0.1", extranonce1: en1.allocate() }, env);
    const { writes } = feed(s2, env, req(1, "mining.subscribe", ["cgminer/4.10.0", first]));
    expect(writes[0].result[1]).toBe(first);
    // Taken now: a second resume of the same id gets a different one.
    const s3 = stratumV1.open({ remoteAddress: "127.0.0.1", extranonce1: en1.allocate() }, env);
    const r3 = feed(s3, env, req(1, "mining.subscribe", ["cgminer/4.10.0", first]));
    expect(r3.writes[0].result[1]).not.toBe(first);
  });

  test("vardiff raises difficulty with a clean re-issued job; old job keeps its old difficulty", () => {
    const t = setup();
    feed(t.s, t.env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "x"]), req(3, "mining.suggest_difficulty", [1e-9]));
    expect(t.s.announced).toBe(1e-9);
    let raised: any[] = [];
    for (let i = 0; i < 40 && raised.length === 0; i++) {
      t.env.now += 100;
      const e = (i + 1).toString(16).padStart(8, "0");
      const nonce = findNonce(t.job, t.s.extranonce1, e, 1e-9, true);
      const r = feed(t.s, t.env, req(10 + i, "mining.submit", ["w1", t.job.id, e, t.job.ntimeHex, nonce]));
      expect(r.writes[0].result).toBe(true);
      raised = r.writes.filter((w) => w.method);
    }
    // suggest_difficulty set a floor of 1e-9; shares every 0.1 s want ~100× more.
    expect(raised.map((w) => w.method)).toEqual(["mining.set_difficulty", "mining.notify"]);
    const newDiff = raised[0].params[0];
    expect(newDiff).toBeGreaterThan(1e-8);
    const alias = raised[1].params[0];
    expect(alias).not.toBe(t.job.id);
    expect(raised[1].params[8]).toBe(true);
    // A share for the OLD job id is still judged at 1e-9.
    const e = "0000ffff";
    const n = findNonce(t.job, t.s.extranonce1, e, newDiff, false, 0);
    const okOld = findNonce(t.job, t.s.extranonce1, e, 1e-9, true, parseInt(n, 16));
    const r = feed(t.s, t.env, req(99, "mining.submit", ["w1", t.job.id, e, t.job.ntimeHex, okOld]));
    expect(r.writes[0].result === true || r.writes[0].error?.[0] === 22).toBe(true);
  });

  test("broadcast: set_difficulty only when changed, notify bytes shared through the memo", () => {
    const { s, env, book } = setup();
    login(s, env);
    const next = book.add({ ...template(), curtime: 1_700_000_030 }, false);
    const memo = new Map();
    const out: Action[] = [];
    stratumV1.job(s, { job: next, clean: false, memo }, env, out);
    const { writes } = split(out);
    expect(writes.map((w) => w.method)).toEqual(["mining.notify"]);
    expect(memo.get("stratum-v1")).toBeInstanceOf(Uint8Array);
    const out2: Action[] = [];
    const s2 = setup().s;
    stratumV1.job(s2, { job: next, clean: false, memo }, env, out2);
    expect(out2).toEqual([]); // not yet subscribed+authorized: no work
  });

  test("timeouts, request-shaped pong, unknown method, malformed limit", () => {
    const { s, env } = setup();
    let r = feed(s, env, JSON.stringify({ id: 42, method: "pong", params: [] }));
    expect(r.writes).toEqual([]);
    r = feed(s, env, req(7, "mining.hello", []));
    expect(r.writes[0].error[0]).toBe(20);
    expect(s.closing).toBe(false);
    r = feed(s, env, "{not json", req(8, "mining.submit", [1, 2]), "[]");
    expect(r.writes.length).toBe(3);
    expect(r.other).toContainEqual({ kind: "close", reason: "malformed" });
    const t = setup();
    const out: Action[] = [];
    t.env.now += 30_000;
    stratumV1.tick(t.s, t.env, out);
    expect(out).toContainEqual({ kind: "close", reason: "login_timeout" });
  });

  test("shutdown sends client.reconnect then closes", () => {
    const { s, env } = setup();
    login(s, env);
    const out: Action[] = [];
    stratumV1.shutdown(s, env, out);
    const { writes, other } = split(out);
    expect(writes[0].method).toBe("client.reconnect");
    expect(other).toEqual([{ kind: "close", reason: "shutdown" }]);
  });
});

describe("stratum v1 session with its port's own difficulty (OpenInfo.difficulty)", () => {
  // The pool-wide policy starts at 1 with no floor to speak of; the port's: start 64, vardiff in [16, 256].
  const port = { initialDifficulty: 64, suggestFloor: 16, vardiff: { targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30, min: 16, max: 256 } };
  function onPort() {
    const t = setup("1a44b9f2"); // network difficulty 244112: above every value here
    t.s = stratumV1.open({ remoteAddress: "127.0.0.1", extranonce1: t.en1.allocate(), difficulty: port }, t.env);
    return t;
  }

  test("a new connection starts at the port's difficulty, not the pool's", () => {
    const a = setup("1a44b9f2");
    expect(login(a.s, a.env).writes.find((w) => w.method === "mining.set_difficulty").params).toEqual([1]);
    const b = onPort();
    expect(login(b.s, b.env).writes.find((w) => w.method === "mining.set_difficulty").params).toEqual([64]);
  });

  test("mining.suggest_difficulty is held inside the port's [suggestFloor, max]", () => {
    for (const [asked, got] of [[1, 16], [100, 100], [1e6, 256]] as const) {
      const t = onPort();
      const { writes } = feed(t.s, t.env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "x"]), req(3, "mining.suggest_difficulty", [asked]));
      expect(writes.find((w) => w.method === "mining.set_difficulty").params).toEqual([got]);
    }
    // The same suggestions on the pool-wide policy are taken as they are.
    const g = setup("1a44b9f2");
    const { writes } = feed(g.s, g.env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w1", "x"]), req(3, "mining.suggest_difficulty", [1]));
    expect(writes.find((w) => w.method === "mining.set_difficulty").params).toEqual([1]);
  });

  test("a d=NUMBER password is held inside the port's bounds too", () => {
    const t = onPort();
    const { writes } = login(t.s, t.env, "d=2");
    expect(writes.find((w) => w.method === "mining.set_difficulty").params).toEqual([16]);
  });

  test("vardiff lowering a quiet miner stops at the port's min", () => {
    const t = onPort();
    login(t.s, t.env);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      t.env.now += 61_000; // one quiet retarget window: vardiff halves
      const out: Action[] = [];
      stratumV1.tick(t.s, t.env, out);
      for (const w of split(out).writes) if (w.method === "mining.set_difficulty") seen.push(w.params[0]);
    }
    expect(seen).toEqual([32, 16]);
  });
});

describe("stratum v1 session on a scrypt chain", () => {
  test("the share goes to the verifier with its 80-byte header; the scrypt hash decides (diff1 = 0xffff·2^224)", () => {
    const book = createJobBook({ keep: 4, sha, coinbase: { payoutScript: new Uint8Array([0x51]), poolTag: "/t/", extranonce1Size: 4, extranonce2Size: 4 } });
    const job = book.add(template("207fffff"), true);
    const en1 = createExtranonceAllocator(4, "", () => 0.25);
    const env: StratumV1Env = { now: 1_000_000, sha, jobs: book, extranonce: en1, policy: { ...policy, algo: "scrypt", diff1: 0xffffn << 224n } };
    const s = stratumV1.open({ remoteAddress: "127.0.0.1", extranonce1: en1.allocate() }, env);
    feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w", "d=0.5"]));
    const submit = (id: number, en2: string) => {
      const out: Action[] = [];
      stratumV1.receive(s, parseLine(req(id, "mining.submit", ["w", job.id, en2, job.ntimeHex, "00000007"])), env, out);
      expect(out.some((a) => a.kind === "write")).toBe(false); // no answer before the proof of work is known
      const v = out.find((a) => a.kind === "verify");
      if (v?.kind !== "verify" || v.request.algo !== "scrypt") throw new Error("expected a scrypt verify action");
      return v.request;
    };
    const r1 = submit(3, "00000001");
    const fields = validateSubmit(job, { extranonce2: "00000001", ntime: job.ntimeHex, nonce: "00000007" }, 0);
    if (!fields.ok) throw new Error(fields.message);
    expect(Buffer.from(r1.header).toString("hex")).toBe(Buffer.from(buildHeader(job, hexToBytes(s.extranonce1)!, fields, sha)).toString("hex"));
    // A hash of zero meets the share target and the network target: true and a block.
    const good: Action[] = [];
    stratumV1.verified!(s, r1, { ok: true, result: new Uint8Array(32) }, env, good);
    expect(split(good).writes[0]).toEqual({ id: 3, result: true, error: null });
    expect(split(good).other.map((a) => a.kind)).toEqual(["share", "block"]);
    // d=0.5 is capped at this regtest chain's network difficulty; just above that share target: 23.
    expect(s.announced).toBeLessThan(0.5);
    const r2 = submit(4, "00000002");
    const above = targetToLE(difficultyToTarget(s.announced, 0xffffn << 224n) + 1n);
    const low: Action[] = [];
    stratumV1.verified!(s, r2, { ok: true, result: above }, env, low);
    expect(split(low).writes[0].error[0]).toBe(23);
    // A failed verifier is an internal error, never an accept.
    const r3 = submit(5, "00000003");
    const bad: Action[] = [];
    stratumV1.verified!(s, r3, { ok: false, error: "worker died" }, env, bad);
    expect(split(bad).writes[0].error[0]).toBe(20);
  });
});

describe("stratum v1 session before the first job", () => {
  test("a miner that authorized while the pool had no job gets the first broadcast as its work", () => {
    const book = createJobBook({ keep: 4, sha, coinbase: { payoutScript: new Uint8Array([0x51]), poolTag: "/t/", extranonce1Size: 4, extranonce2Size: 4 } });
    const en1 = createExtranonceAllocator(4, "", () => 0.75);
    const env: StratumV1Env = { now: 1_000_000, sha, jobs: book, extranonce: en1, policy };
    const s = stratumV1.open({ remoteAddress: "127.0.0.1", extranonce1: en1.allocate() }, env);
    const first = feed(s, env, req(1, "mining.subscribe", []), req(2, "mining.authorize", ["w", "x"]));
    expect(first.writes.map((w) => w.id ?? w.method)).toEqual([1, 2]); // nothing to mine yet
    const job = book.add(template(), true);
    const out: Action[] = [];
    stratumV1.job(s, { job, clean: true, memo: new Map() }, env, out);
    const { writes } = split(out);
    expect(writes.map((w) => w.method)).toEqual(["mining.set_difficulty", "mining.notify"]);
    expect(writes[1].params[0]).toBe(job.id);
    expect(s.workSent).toBe(true);
  });
});
