// A simulated Bitcoin Core JSON-RPC node for benchmarks (regtest-style sha256d templates, held longpolls, checked submitblock, arrival times); no P2P, mempool or chain storage.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Sha256Into } from "../../protocols/pow/types.ts";
import { bytesToHex, bytesToHexReversed, hexToBytes } from "../../protocols/pow/hex.ts";
import { sha256d } from "../../protocols/pow/sha256d.ts";
import { bitsToTarget, hashMeetsTarget, targetToLE } from "../../protocols/pow/target.ts";
import { merkleRootFromTxids } from "../../protocols/bitcoin/merkle.ts";
import { encodeHeightPush } from "../../protocols/bitcoin/script.ts";
import { findCommitmentOutput, parseBlock, syntheticTx, witnessCommitmentScript } from "../upstream/devnet_block.ts";

/** The chain tip the node serves templates on top of. */
export interface FakeTip {
  /** Block hash, display order (what getbestblockhash returns). */
  hash: string;
  height: number;
  /** Bumped on every tip change; part of longpollid like Core's nTransactionsUpdated. */
  seq: number;
}

/** getblocktemplate's answer plus what the node needs to judge a submitted block. */
export interface FakeTemplate {
  /** The JSON-RPC result object, as Bitcoin Core 26 shapes it. */
  result: Record<string, unknown>;
  /** Internal-order txids of the template transactions (coinbase excluded). */
  txids: Uint8Array[];
  coinbaseValue: number;
}

export interface SubmitRecord {
  /** now() when the HTTP request's headers arrived (before the body was read). */
  at: number;
  /** now() when the answer was written. */
  answeredAt: number;
  /** Display-order hash of the submitted header ("" when the block did not parse). */
  hash: string;
  /** null = accepted (as Core answers), else Core's reason string. */
  result: string | null;
  bytes: number;
}

export interface TipChange {
  hash: string;
  height: number;
  /** now() when the tip changed (newTip() called, or the accepted submitblock answered). */
  changedAt: number;
  /** now() right after the last held longpoll response was written; undefined when no longpoll was held. */
  writtenAt: number | undefined;
  longpollsWoken: number;
  cause: "newTip" | "submitblock";
}

export interface FakeBitcoindOptions {
  sha: Sha256Into;
  /** Compact target; default 207fffff (regtest: about every other hash is a block). */
  bits?: string;
  /** Non-coinbase transactions per template. Default 3. */
  txCount?: number;
  /** Height of the starting tip. Default 200 (past regtest's BIP34 activation, multi-byte height push). */
  startHeight?: number;
  /** Required Basic auth; undefined = any or none accepted. */
  user?: string;
  password?: string;
  /** Clock for every recorded time; default performance.now (same base as the load generator). */
  now?: () => number;
  /** Called for every submitblock after it is answered. */
  onSubmit?: (r: SubmitRecord) => void;
  /** Called after every tip change, once held longpolls were written. */
  onTip?: (t: TipChange) => void;
}

export interface FakeBitcoind {
  readonly url: string;
  readonly port: number;
  readonly user: string | undefined;
  readonly password: string | undefined;
  tip(): FakeTip;
  /** Moves to a made-up next block and answers every held longpoll with the new template. */
  newTip(): TipChange;
  readonly submits: SubmitRecord[];
  readonly tips: TipChange[];
  /** Calls per method, longpolls counted under "getblocktemplate". */
  readonly calls: Record<string, number>;
  /** Longpolls held right now. */
  heldLongpolls(): number;
  close(): Promise<void>;
}

const VERSION = 0x20000000;
/** Regtest: 50 BTC halving every 150 blocks (chainparams.cpp, nSubsidyHalvingInterval = 150). */
export function regtestSubsidy(height: number): number {
  const halvings = Math.floor(height / 150);
  return halvings >= 64 ? 0 : Math.floor(5_000_000_000 / 2 ** halvings);
}

/** mining.notify's prevhash for a display-order hash: the eight 4-byte words in reverse order (bitcoin.json _meta.conventions). */
export function notifyPrevhash(displayHex: string): string {
  let out = "";
  for (let w = 56; w >= 0; w -= 8) out += displayHex.slice(w, w + 8);
  return out.toLowerCase();
}

/** The next made-up tip hash after `hash`: sha256d of it, display order (any 32 distinct bytes would do). */
export function nextSyntheticHash(hash: string, sha: Sha256Into): string {
  const out = new Uint8Array(32);
  sha256d(sha, hexToBytes(hash) ?? new Uint8Array(32), out);
  return bytesToHexReversed(out);
}

/**
 * A getblocktemplate result on top of `tip`, shaped like Core's (BIP22/23/9/141): synthetic non-witness
 * transactions seeded by the tip (distinct every block) and a BIP141 default_witness_commitment over their
 * wtxids (equal to their txids) with the all-zero reserved value, as Core computes it.
 */
export function buildTemplate(tip: FakeTip, o: { bits: string; txCount: number; curtime: number; sha: Sha256Into }): FakeTemplate {
  const seed = hexToBytes(tip.hash) ?? new Uint8Array(32);
  const txs = Array.from({ length: o.txCount }, (_, i) => syntheticTx(seed, i, o.sha));
  const txids = txs.map((t) => t.txid);
  const commitment = witnessCommitmentScript(txids, new Uint8Array(32), o.sha);
  const height = tip.height + 1;
  const coinbaseValue = regtestSubsidy(height);
  const target = bitsToTarget(parseInt(o.bits, 16)).toString(16).padStart(64, "0");
  const result: Record<string, unknown> = {
    capabilities: ["proposal"],
    version: VERSION,
    rules: ["csv", "!segwit", "taproot"],
    vbavailable: {},
    vbrequired: 0,
    previousblockhash: tip.hash,
    transactions: txs.map((t) => {
      const id = bytesToHexReversed(t.txid);
      return { data: bytesToHex(t.raw), txid: id, hash: id, depends: [], fee: 0, sigops: 0, weight: t.raw.length * 4 };
    }),
    coinbaseaux: {},
    coinbasevalue: coinbaseValue,
    longpollid: tip.hash + String(tip.seq),
    target,
    mintime: o.curtime - 600,
    mutable: ["time", "transactions", "prevblock"],
    noncerange: "00000000ffffffff",
    sigoplimit: 80000,
    sizelimit: 4000000,
    weightlimit: 4000000,
    curtime: o.curtime,
    bits: o.bits,
    height,
    default_witness_commitment: bytesToHex(commitment),
  };
  return { result, txids, coinbaseValue };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * What Core's submitblock would say about a block built on `tip` from `tpl`: null = valid and connected,
 * else a BIP22 reason ("high-hash", "bad-txnmrklroot", "bad-witness-merkle-match", "bad-cb-height",
 * "bad-cb-amount", "bad-txns-…"; "inconclusive" for a valid-looking block on an older known tip,
 * "prev-blk-not-found" for an unknown parent, "duplicate" for one already accepted).
 */
export function judgeBlock(
  blockHex: string,
  tip: FakeTip,
  tpl: FakeTemplate,
  o: { bits: string; sha: Sha256Into; known: ReadonlySet<string>; accepted: ReadonlySet<string> },
): { result: string | null; hash: string } {
  const bytes = hexToBytes(blockHex);
  if (!bytes) return { result: "Block decode failed", hash: "" };
  const p = parseBlock(bytes, o.sha);
  if (!p.ok) return { result: "Block decode failed", hash: "" };
  const b = p.block;
  const hash = bytesToHexReversed(b.hash);
  if (o.accepted.has(hash)) return { result: "duplicate", hash };
  const prev = bytesToHexReversed(b.prevhash);
  if (b.bits !== parseInt(o.bits, 16)) return { result: "bad-diffbits", hash };
  if (!hashMeetsTarget(b.hash, targetToLE(bitsToTarget(b.bits)))) return { result: "high-hash", hash };
  if (prev !== tip.hash) return { result: o.known.has(prev) ? "inconclusive" : "prev-blk-not-found", hash };
  const root = merkleRootFromTxids(b.txs.map((t) => t.txid), o.sha);
  if (!root || !equalBytes(root, b.merkleRoot)) return { result: "bad-txnmrklroot", hash };
  const cb = b.txs[0]!;
  const isCoinbase = cb.inputCount === 1 && cb.firstPrevout.subarray(0, 32).every((x) => x === 0) && cb.firstPrevout[32] === 0xff;
  if (!isCoinbase) return { result: "bad-cb-missing", hash };
  const push = encodeHeightPush(tip.height + 1);
  if (!equalBytes(cb.firstScriptSig.subarray(0, push.length), push)) return { result: "bad-cb-height", hash };
  let paid = 0n;
  for (const out of cb.outputs) paid += out.value;
  if (paid > BigInt(tpl.coinbaseValue)) return { result: "bad-cb-amount", hash };
  const rest = b.txs.slice(1);
  if (rest.length !== tpl.txids.length || rest.some((t, i) => !equalBytes(t.txid, tpl.txids[i]!))) return { result: "bad-txns-inputs-missingorspent", hash };
  // BIP141: a commitment needs the 32-byte reserved value as the coinbase's only witness item, and must match.
  const at = findCommitmentOutput(cb);
  if (at < 0) return rest.some((t) => t.hasWitness) ? { result: "unexpected-witness", hash } : { result: null, hash };
  const reserved = cb.firstWitness;
  if (reserved.length !== 1 || reserved[0]!.length !== 32) return { result: "bad-witness-nonce-size", hash };
  const want = witnessCommitmentScript(rest.map((t) => t.wtxid), reserved[0]!, o.sha);
  if (!equalBytes(cb.outputs[at]!.script.subarray(0, want.length), want)) return { result: "bad-witness-merkle-match", hash };
  return { result: null, hash };
}

interface Held {
  res: ServerResponse;
  id: unknown;
}

/** Starts the node on 127.0.0.1 at a free port. */
export function startFakeBitcoind(opts: FakeBitcoindOptions): Promise<FakeBitcoind> {
  const sha = opts.sha;
  const bits = (opts.bits ?? "207fffff").toLowerCase();
  const txCount = opts.txCount ?? 3;
  const now = opts.now ?? (() => performance.now());
  const auth = opts.user !== undefined ? `Basic ${btoa(`${opts.user}:${opts.password ?? ""}`)}` : undefined;
  const startHeight = opts.startHeight ?? 200;
  // A fixed, recognisable genesis-like start: sha256d("stratum-edge fake bitcoind").
  const start = new Uint8Array(32);
  sha256d(sha, new TextEncoder().encode("stratum-edge fake bitcoind"), start);
  let tip: FakeTip = { hash: bytesToHexReversed(start), height: startHeight, seq: 1 };
  const known = new Set<string>([tip.hash]);
  const accepted = new Set<string>();
  let tpl = buildTemplate(tip, { bits, txCount, curtime: Math.floor(Date.now() / 1000), sha });
  const held: Held[] = [];
  const submits: SubmitRecord[] = [];
  const tips: TipChange[] = [];
  const calls: Record<string, number> = {};

  function send(res: ServerResponse, status: number, id: unknown, result: unknown, error: { code: number; message: string } | null): void {
    const body = JSON.stringify({ result, error, id });
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  }

  function setTip(next: FakeTip, cause: TipChange["cause"]): TipChange {
    const changedAt = now();
    tip = next;
    known.add(tip.hash);
    tpl = buildTemplate(tip, { bits, txCount, curtime: Math.floor(Date.now() / 1000), sha });
    const woken = held.splice(0);
    let writtenAt: number | undefined;
    for (const h of woken) {
      send(h.res, 200, h.id, tpl.result, null);
      writtenAt = now();
    }
    const change: TipChange = { hash: tip.hash, height: tip.height, changedAt, writtenAt, longpollsWoken: woken.length, cause };
    tips.push(change);
    opts.onTip?.(change);
    return change;
  }

  function handle(req: IncomingMessage, res: ServerResponse, at: number, body: string): void {
    if (auth !== undefined && req.headers.authorization !== auth) {
      res.writeHead(401, { "www-authenticate": 'Basic realm="jsonrpc"', "content-length": "0" });
      res.end();
      return;
    }
    let msg: { id?: unknown; method?: unknown; params?: unknown };
    try {
      msg = JSON.parse(body) as typeof msg;
    } catch {
      return send(res, 500, null, null, { code: -32700, message: "Parse error" });
    }
    const id = msg.id ?? null;
    const method = typeof msg.method === "string" ? msg.method : "";
    const params = Array.isArray(msg.params) ? msg.params : [];
    calls[method] = (calls[method] ?? 0) + 1;
    switch (method) {
      case "getbestblockhash":
        return send(res, 200, id, tip.hash, null);
      case "getblockcount":
        return send(res, 200, id, tip.height, null);
      case "getblockchaininfo":
        return send(res, 200, id, {
          chain: "regtest",
          blocks: tip.height,
          headers: tip.height,
          bestblockhash: tip.hash,
          difficulty: 4.656542373906925e-10,
          verificationprogress: 1,
          initialblockdownload: false,
          pruned: false,
          warnings: "",
        }, null);
      case "getblocktemplate": {
        const req0 = (params[0] ?? {}) as { longpollid?: unknown; rules?: unknown };
        if (!Array.isArray(req0.rules) || !req0.rules.includes("segwit")) {
          // Core: "getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})".
          return send(res, 500, id, null, { code: -8, message: 'getblocktemplate must be called with the segwit rule set (call with {"rules": ["segwit"]})' });
        }
        // BIP22 longpoll: hold while the caller's longpollid is still current; answer at once otherwise.
        if (typeof req0.longpollid === "string" && req0.longpollid === tpl.result.longpollid) {
          held.push({ res, id });
          res.once("close", () => {
            const i = held.findIndex((h) => h.res === res);
            if (i >= 0) held.splice(i, 1);
          });
          return;
        }
        return send(res, 200, id, tpl.result, null);
      }
      case "submitblock": {
        const hex = typeof params[0] === "string" ? params[0] : "";
        const j = judgeBlock(hex, tip, tpl, { bits, sha, known, accepted });
        send(res, 200, id, j.result, null);
        const rec: SubmitRecord = { at, answeredAt: now(), hash: j.hash, result: j.result, bytes: hex.length / 2 };
        submits.push(rec);
        opts.onSubmit?.(rec);
        if (j.result === null) {
          accepted.add(j.hash);
          // The accepted block is the new tip: answer it first (done above), then wake the longpolls.
          setTip({ hash: j.hash, height: tip.height + 1, seq: tip.seq + 1 }, "submitblock");
        }
        return;
      }
      default:
        return send(res, 404, id, null, { code: -32601, message: "Method not found" });
    }
  }

  const server: Server = createServer((req, res) => {
    const at = now();
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => handle(req, res, at, Buffer.concat(parts).toString("utf8")));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      resolve({
        url: `http://127.0.0.1:${port}/`,
        port,
        user: opts.user,
        password: opts.password,
        tip: () => ({ ...tip }),
        newTip: () => setTip({ hash: nextSyntheticHash(tip.hash, sha), height: tip.height + 1, seq: tip.seq + 1 }, "newTip"),
        submits,
        tips,
        calls,
        heldLongpolls: () => held.length,
        close: () =>
          new Promise<void>((r) => {
            for (const h of held.splice(0)) h.res.destroy();
            server.close(() => r());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
  });
}
