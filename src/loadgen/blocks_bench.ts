// `bench --mode blocks`: block-share → submitblock latency and new-tip → clean-job fan-out, against a spawned relay whose bitcoind is the in-process fake node; no relay logic.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import type { Runtime, SocketHandle } from "../runtime/types.ts";
import type { Sha256Into } from "../../protocols/pow/types.ts";
import { parseLine } from "../../protocols/jsonrpc/envelope.ts";
import { parseServerMessage, parseSubscribeResult } from "../../protocols/stratum-v1/server_messages.ts";
import { bitsToTarget, hashMeetsTarget, targetToLE } from "../../protocols/pow/target.ts";
import { bytesToHexReversed, hexToU32 } from "../../protocols/pow/hex.ts";
import { encodeP2wpkh } from "../../protocols/bitcoin/address.ts";
import { computeShareHash, type NotifyJob } from "../client/stratum_miner.ts";
import { createLoad } from "./load_client.ts";
import { fetchText, startRelay, type RelayCommand } from "./relay_child.ts";
import { histogramFigures, parsePromHistogram, roundSummary, summarize, type Summary } from "./stats.ts";
import { notifyPrevhash, startFakeBitcoind, type FakeBitcoind, type SubmitRecord } from "./fake_bitcoind.ts";

/** Issue 5 target: share that solves a block → submitblock sent, p50 and p99. */
export const BLOCK_SUBMIT_TARGET_MS = 5;

export interface BlocksBenchOptions {
  runtime: Runtime;
  relayCmd: RelayCommand;
  /** --set overrides (difficulty floor, limits, bans off, log level, dataDir) from the caller. */
  sets: Record<string, string>;
  dataDir: string;
  /** Block-finding miners (phase 1). Default 50. */
  miners?: number;
  /** Block shares sent one at a time (phase 1). Default 300, bounded by ~10 s. */
  blocks?: number;
  /** Subscribed miners for the new-tip fan-out (phase 2). Default 10,000. */
  connections?: number;
  /** New tips in phase 2. Default 12. */
  tips?: number;
  tipSpacingMs?: number;
}

export interface BlocksFigures {
  submit: {
    miners: number;
    blocks: number;
    /** Generator write of the block share → submitblock request arrival at the node (same process, one clock). */
    shareToSubmitblockMs: Summary;
    /** Generator write → the relay's reply to the share. */
    shareReplyMs: Summary;
    /** submitblock answered → every block miner has the clean job on the new tip. */
    acceptToMinersOnNewTipMs: Summary;
    nodeAnswers: Record<string, number>;
    rejectedShares: number;
    journalCandidates: number | null;
    targetMs: number;
  };
  fsync: { samples: number; bytes: number; ms: Summary; shareOfSubmitP50: number };
  fanout: {
    connections: number;
    ready: number;
    tips: number;
    complete: number;
    /** Longpoll response written by the node → last/first of `ready` miners got the clean notify for the new prevhash. */
    toLastMs: Summary;
    toFirstMs: Summary;
    relayFanout: { count: number; meanMs: number; p50BoundMs: number; p99BoundMs: number } | null;
    tipsWithoutHeldLongpoll: number;
  } | null;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const fmtInt = (x: number) => Math.round(x).toLocaleString("en-US");
const enc = new TextEncoder();
const dec = new TextDecoder();


/** Polls `cond` every millisecond; the figures come from event timestamps, so polling adds nothing to them. */
async function waitFor(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(1);
  }
  return true;
}

async function waitForAsync(cond: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** A block share ready to write: the line, and the block hash it gives (display order). */
export interface BlockSolution {
  line: string;
  hash: string;
  hashes: number;
}

/**
 * Searches extranonce2 × nonce for a header meeting the job's network target (nbits), with computeShareHash
 * (the miner's own header construction). At 207fffff about every other hash qualifies.
 */
export function solveBlock(job: NotifyJob, en1: string, en2Size: number, en2Start: number, user: string, id: number, sha: Sha256Into, maxHashes = 1000): BlockSolution | undefined {
  const targetLE = targetToLE(bitsToTarget(hexToU32(job.nbits)));
  const version = hexToU32(job.version);
  const ntime = hexToU32(job.ntime);
  for (let k = 0; k < maxHashes; k++) {
    const en2 = ((en2Start + k) >>> 0).toString(16).padStart(en2Size * 2, "0").slice(-en2Size * 2);
    const hash = computeShareHash(job, en1, en2, ntime, 0, version, sha);
    if (hashMeetsTarget(hash, targetLE)) {
      const line = JSON.stringify({ id, method: "mining.submit", params: [user, job.jobId, en2, job.ntime, "00000000"] }) + "\n";
      return { line, hash: bytesToHexReversed(hash), hashes: k + 1 };
    }
  }
  return undefined;
}

interface Reply {
  at: number;
  ok: boolean;
  error: unknown;
}

/** One Stratum connection that keeps full notify fields (the load client keeps only job id and ntime). */
interface BlockMiner {
  user: string;
  sock: SocketHandle | undefined;
  en1: string | undefined;
  en2Size: number;
  en2Next: number;
  job: NotifyJob | undefined;
  /** Receipt time of each prevhash's first clean notify on this connection. */
  tipSeenAt: Map<string, number>;
  authorized: boolean;
  nextId: number;
  replies: Map<number, Reply>;
  closed: boolean;
}

async function connectMiner(runtime: Runtime, host: string, port: number, user: string, jobPrevhash: Map<string, string>): Promise<BlockMiner> {
  const m: BlockMiner = { user, sock: undefined, en1: undefined, en2Size: 4, en2Next: 0, job: undefined, tipSeenAt: new Map(), authorized: false, nextId: 10, replies: new Map(), closed: false };
  let carry = "";
  const onLine = (line: string, at: number) => {
    const msg = parseLine(line);
    if (msg.kind === "invalid") return;
    const s = parseServerMessage(msg);
    if (s.type === "notify") {
      jobPrevhash.set(s.jobId, s.prevhash);
      m.job = s;
      if (s.clean && !m.tipSeenAt.has(s.prevhash)) m.tipSeenAt.set(s.prevhash, at);
    } else if (s.type === "result") {
      if (s.id === 1) {
        const sub = parseSubscribeResult(s.result);
        if (sub) {
          m.en1 = sub.extranonce1;
          m.en2Size = sub.extranonce2Size;
        }
      } else if (s.id === 2) m.authorized = s.result === true;
      else if (typeof s.id === "number") m.replies.set(s.id, { at, ok: s.result === true, error: s.error });
    } else if (s.type === "ping") {
      m.sock?.write(enc.encode(JSON.stringify({ id: s.id, result: "pong", error: null }) + "\n"));
    }
  };
  m.sock = await runtime.connect(host, port, {
    open() {},
    data(_s, chunk) {
      const at = performance.now();
      const text = carry + dec.decode(chunk);
      const lines = text.split("\n");
      carry = lines.pop() ?? "";
      for (const l of lines) if (l.trim() !== "") onLine(l, at);
    },
    close() {
      m.closed = true;
    },
  });
  m.sock.write(enc.encode(
    JSON.stringify({ id: 1, method: "mining.subscribe", params: ["stratum-edge-bench-blocks/1"] }) + "\n" +
      JSON.stringify({ id: 2, method: "mining.authorize", params: [user, "d=1e-12"] }) + "\n",
  ));
  return m;
}

/** fsync cost on the filesystem holding `dir`: what BlockJournal.record pays (open O_APPEND, write, fsync, close). */
export function measureFsync(dir: string, samples: number, bytes: number): number[] {
  mkdirSync(dir, { recursive: true });
  const path = `${dir}/fsync-probe-${process.pid}.jsonl`;
  const line = enc.encode("x".repeat(Math.max(1, bytes - 1)) + "\n");
  const out: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      const fd = openSync(path, "a");
      try {
        writeSync(fd, line);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      out.push(performance.now() - t0);
    }
  } finally {
    rmSync(path, { force: true });
  }
  return out;
}

function tomlString(s: string): string {
  return JSON.stringify(s);
}

/** Relay config pointing its bitcoind upstream at the fake node (nodes is an array: TOML, not --set). */
export function relayToml(node: { url: string; user?: string; password?: string }, payoutAddress: string): string {
  return [
    "[upstream]",
    'type = "bitcoind"',
    "[upstream.bitcoind]",
    'chain = "bitcoin-regtest"',
    'algorithm = "sha256d"',
    `payoutAddress = ${tomlString(payoutAddress)}`,
    "[[upstream.bitcoind.nodes]]",
    `url = ${tomlString(node.url)}`,
    `user = ${tomlString(node.user ?? "")}`,
    `password = ${tomlString(node.password ?? "")}`,
    "",
  ].join("\n");
}

export async function runBlocksBench(o: BlocksBenchOptions): Promise<BlocksFigures> {
  const { runtime } = o;
  const sha = runtime.sha256;
  const nMiners = o.miners ?? 50;
  const wantBlocks = o.blocks ?? 300;
  const nConn = o.connections ?? 10_000;
  const nTips = o.tips ?? 12;
  const spacing = o.tipSpacingMs ?? 2000;
  console.log(`\n== blocks: simulated bitcoind (regtest, bits 207fffff) in this process; ${nMiners} block miners, then ${fmtInt(nConn)} miners × ${nTips} new tips ==`);

  const node: FakeBitcoind = await startFakeBitcoind({ sha, user: "bench", password: "bench" });
  const payout = encodeP2wpkh(new Uint8Array(20).fill(0x11), "bitcoin-regtest");
  if (payout === null) throw new Error("no bech32 prefix for bitcoin-regtest");
  mkdirSync(o.dataDir, { recursive: true });
  const cfgPath = `${o.dataDir}.toml`;
  writeFileSync(cfgPath, relayToml(node, payout));
  const cmd: RelayCommand = { ...o.relayCmd, args: [...o.relayCmd.args, "--config", cfgPath] };
  const child = await startRelay(cmd, o.sets);
  console.log(`  relay pid ${child.pid} (${o.relayCmd.label}) listening on :${child.stratumPort} after ${Math.round(child.startMs)} ms; node ${node.url}`);
  const jobPrevhash = new Map<string, string>();
  const miners: BlockMiner[] = [];
  let load: ReturnType<typeof createLoad> | undefined;
  try {
    // ---------------------------------------------------------- phase 1: block shares
    // The relay listens before its first getblocktemplate answer; a miner authorized in that gap never gets a job
    // (stratum-v1 session: sendWork finds no job, and job() skips sessions with workSent false). /healthz is
    // 200 once the pool has a job, so wait for it.
    const healthy = await waitForAsync(async () => (await fetchText(`http://127.0.0.1:${child.httpPort}/healthz`, 1000)) !== undefined, 10_000);
    if (!healthy) throw new Error(`relay /healthz not ok within 10 s (no template from the node?); relay output: ${child.output().trim().slice(-600)}`);
    for (let i = 0; i < nMiners; i++) miners.push(await connectMiner(runtime, "127.0.0.1", child.stratumPort, `blocks.${i}`, jobPrevhash));
    const tip0 = notifyPrevhash(node.tip().hash);
    const allOnTip = (p: string) => miners.every((m) => m.authorized && m.en1 !== undefined && m.job?.prevhash === p);
    if (!(await waitFor(() => allOnTip(tip0), 10_000))) {
      throw new Error(`block miners not ready on the node's tip within 10 s: ${miners.filter((m) => m.authorized).length}/${nMiners} authorized, ${miners.filter((m) => m.job?.prevhash === tip0).length} with a job on it, ${miners.filter((m) => m.job === undefined).length} with no job, ${miners.filter((m) => m.en1 === undefined).length} not subscribed, ${miners.filter((m) => m.closed).length} closed; relay output: ${child.output().trim().slice(-600)}`);
    }
    const submitMs: number[] = [];
    const replyMs: number[] = [];
    const acceptToTip: number[] = [];
    const answers: Record<string, number> = {};
    let rejectedShares = 0;
    const byHash = new Map<string, SubmitRecord>();
    const records0 = node.submits.length;
    const t0 = performance.now();
    let sent = 0;
    for (let r = 0; r < wantBlocks && performance.now() - t0 < 10_000; r++) {
      const m = miners[r % nMiners]!;
      const want = notifyPrevhash(node.tip().hash);
      if (!(await waitFor(() => m.job?.prevhash === want, 3000))) throw new Error(`miner ${m.user} got no job on tip ${node.tip().hash} within 3 s`);
      // Let the relay finish its own follow-up of the last block (getbestblockhash, template fetch, longpoll re-issue):
      // a found block arrives at a relay at rest, not on the heels of the previous one.
      await sleep(10);
      const job = m.job!;
      const id = m.nextId++;
      const sol = solveBlock(job, m.en1!, m.en2Size, m.en2Next, m.user, id, sha);
      if (!sol) throw new Error("no block-grade hash in 1000 tries (is the node's bits 207fffff?)");
      m.en2Next += sol.hashes;
      const sentAt = performance.now();
      m.sock!.write(enc.encode(sol.line));
      sent++;
      const got = await waitFor(() => {
        for (let k = records0; k < node.submits.length; k++) byHash.set(node.submits[k]!.hash, node.submits[k]!);
        return byHash.has(sol.hash) && m.replies.has(id);
      }, 3000);
      if (!got) throw new Error(`block ${sol.hash} (round ${r}): submitblock ${byHash.has(sol.hash) ? "arrived" : "did not arrive"}, share reply ${m.replies.has(id) ? "arrived" : "did not arrive"} within 3 s; relay output: ${child.output().trim().slice(-600)}`);
      const rec = byHash.get(sol.hash)!;
      const reply = m.replies.get(id)!;
      submitMs.push(rec.at - sentAt);
      replyMs.push(reply.at - sentAt);
      if (!reply.ok) rejectedShares++;
      const key = rec.result === null ? "null (accepted)" : rec.result;
      answers[key] = (answers[key] ?? 0) + 1;
      if (rec.result !== null) throw new Error(`the node refused the relay's block: ${rec.result}`);
      const newTip = notifyPrevhash(rec.hash);
      if (await waitFor(() => allOnTip(newTip), 3000)) {
        let last = 0;
        for (const mm of miners) last = Math.max(last, mm.tipSeenAt.get(newTip) ?? 0);
        acceptToTip.push(last - rec.answeredAt);
      }
    }
    const sub = roundSummary(summarize(submitMs));
    const rep = roundSummary(summarize(replyMs));
    const acc = roundSummary(summarize(acceptToTip));
    let journalCandidates: number | null = null;
    try {
      journalCandidates = readFileSync(`${o.dataDir}/blocks.jsonl`, "utf8").split("\n").filter((l) => l.includes('"type":"candidate"')).length;
    } catch {
      journalCandidates = null;
    }
    const fs = roundSummary(summarize(measureFsync(o.dataDir, 200, 2 * (node.submits[node.submits.length - 1]?.bytes ?? 500) + 200)));
    const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
    console.log(`  ${sent} block shares, one at a time over ${nMiners} miners, ${r3((performance.now() - t0) / 1000)} s; node answers ${JSON.stringify(answers)}; share replies not true: ${rejectedShares}; journal candidates ${journalCandidates ?? "n/a"}`);
    console.log(`  share write → submitblock arrival ms: p50 ${sub.p50}  p99 ${sub.p99}  max ${sub.max}   target ≤ ${BLOCK_SUBMIT_TARGET_MS} ms: p50 ${verdict(sub.p50 <= BLOCK_SUBMIT_TARGET_MS)}, p99 ${verdict(sub.p99 <= BLOCK_SUBMIT_TARGET_MS)}`);
    console.log(`  share write → relay's reply ms: p50 ${rep.p50}  p99 ${rep.p99}; submitblock answered → all ${nMiners} miners on the new tip ms: p50 ${acc.p50}  p99 ${acc.p99}`);
    const share = sub.p50 > 0 ? r3(fs.p50 / sub.p50) : Number.NaN;
    console.log(`  fsync (open+append ${2 * (node.submits[node.submits.length - 1]?.bytes ?? 500) + 200} B+fsync+close, ${o.dataDir.replace(/\/[^/]*$/, "")}): p50 ${fs.p50} ms  p99 ${fs.p99} ms  → ${Math.round(share * 100)}% of the p50 above is the journal's fsync`);
    const figures: BlocksFigures = {
      submit: { miners: nMiners, blocks: sent, shareToSubmitblockMs: sub, shareReplyMs: rep, acceptToMinersOnNewTipMs: acc, nodeAnswers: answers, rejectedShares, journalCandidates, targetMs: BLOCK_SUBMIT_TARGET_MS },
      fsync: { samples: fs.count, bytes: 2 * (node.submits[node.submits.length - 1]?.bytes ?? 500) + 200, ms: fs, shareOfSubmitP50: share },
      fanout: null,
    };

    // ---------------------------------------------------------- phase 2: new tip → clean job to every miner
    load = createLoad({ runtime, host: "127.0.0.1", port: child.stratumPort, password: "d=1e-12", userPrefix: "fan." });
    const c0 = performance.now();
    await load.open(nConn, 256);
    const ready = await load.waitReady(nConn - load.counters.connectFailures, 30_000);
    console.log(`  ${fmtInt(ready)}/${fmtInt(nConn)} fan-out miners subscribed+authorized+notified in ${fmtInt(performance.now() - c0)} ms (connect failures ${load.counters.connectFailures})`);
    const perJob = new Map<string, { first: number; last: number; count: number }>();
    load.onNotify = (_i, info, t) => {
      if (!info.clean) return;
      let e = perJob.get(info.jobId);
      if (e === undefined) perJob.set(info.jobId, (e = { first: t, last: t, count: 0 }));
      if (t < e.first) e.first = t;
      if (t > e.last) e.last = t;
      e.count++;
    };
    const metricsUrl = `http://127.0.0.1:${child.httpPort}/metrics`;
    const hName = "stratum_edge_notify_fanout_seconds";
    const h0t = await fetchText(metricsUrl);
    const h0 = h0t ? parsePromHistogram(h0t, hName) : undefined;
    const toLast: number[] = [];
    const toFirst: number[] = [];
    let noHeld = 0;
    let complete = 0;
    const p0 = performance.now();
    for (let k = 0; k < nTips && performance.now() - p0 < 40_000; k++) {
      const start = performance.now();
      // The relay re-issues its longpoll after each tip; a tip while none is held would be noticed by polling instead.
      await waitFor(() => node.heldLongpolls() > 0, 2000);
      const change = node.newTip();
      if (change.longpollsWoken === 0) noHeld++;
      const want = notifyPrevhash(change.hash);
      const from = change.writtenAt ?? change.changedAt;
      const jobOf = () => {
        for (const [id, p] of jobPrevhash) if (p === want) return id;
        return undefined;
      };
      const done = await waitFor(() => {
        const id = jobOf();
        return id !== undefined && (perJob.get(id)?.count ?? 0) >= ready;
      }, 5000);
      const id = jobOf();
      const e = id === undefined ? undefined : perJob.get(id);
      if (done && e) {
        complete++;
        toLast.push(e.last - from);
        toFirst.push(e.first - from);
      } else {
        console.log(`  tip ${k + 1}: only ${e?.count ?? 0}/${ready} miners got the clean job within 5 s`);
      }
      const left = spacing - (performance.now() - start);
      if (left > 0 && k < nTips - 1) await sleep(left);
    }
    const h1t = await fetchText(metricsUrl);
    const h1 = h1t ? parsePromHistogram(h1t, hName) : undefined;
    const relayFanout = h1 ? histogramFigures(h1, h0) : null;
    const last = roundSummary(summarize(toLast));
    const first = roundSummary(summarize(toFirst));
    console.log(`  ${complete}/${nTips} new tips reached all ${fmtInt(ready)} miners (${noHeld} without a held longpoll)`);
    console.log(`  longpoll answer written → LAST miner has the clean job ms: p50 ${last.p50}  p99 ${last.p99}  max ${last.max}`);
    console.log(`  longpoll answer written → FIRST miner has it ms: p50 ${first.p50}  p99 ${first.p99}`);
    if (relayFanout) console.log(`  relay-side ${hName}: ${relayFanout.count} broadcasts, mean ${relayFanout.meanMs} ms, p50 ≤ ${relayFanout.p50BoundMs} ms, p99 ≤ ${relayFanout.p99BoundMs} ms (bucket bounds)`);
    figures.fanout = { connections: nConn, ready, tips: nTips, complete, toLastMs: last, toFirstMs: first, relayFanout, tipsWithoutHeldLongpoll: noHeld };
    return figures;
  } finally {
    if (load) {
      load.onNotify = undefined;
      load.closeAll();
    }
    for (const m of miners) m.sock?.destroy();
    await child.stop();
    await node.close();
    rmSync(cfgPath, { force: true });
    rmSync(o.dataDir, { recursive: true, force: true });
    const warn = child.output().trim();
    if (warn) console.log(`  relay output (tail):\n    ${warn.split("\n").slice(-8).join("\n    ")}`);
  }
}
