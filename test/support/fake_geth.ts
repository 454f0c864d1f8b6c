// Test-only simulated core-geth JSON-RPC node (eth_getWork, eth_submitWork with real ethash verification, eth_submitHashrate, eth_blockNumber) on loopback HTTP; no chain, no p2p, no DAG.
import { keccak_256 } from "@noble/hashes/sha3.js";
import { cacheSize, datasetSize, epochParams, hashimotoLight, makeCache, seedHash, ETHASH_EPOCH_LENGTH } from "../../protocols/pow/ethash.ts";
import { bytesToHex, hexToBytes } from "../../protocols/pow/hex.ts";

/*
 * Wire formats follow go-ethereum / core-geth (consensus/ethash/api.go, sealer.go remoteSealer):
 * - eth_getWork → [sealHash.Hex(), BytesToHash(seed).Hex(), BytesToHash(2^256/difficulty).Hex(), hexutil.EncodeBig(number)];
 *   before work exists the error is errNoMiningWork: {"code":-32000,"message":"no mining work available yet"}.
 * - eth_submitWork(BlockNonce, sealHash, mixDigest) → false for unknown work, an invalid seal, or work with
 *   number + staleThreshold(7) <= current number; true otherwise (then the block is imported: the head moves on).
 * - eth_submitHashrate(hexutil.Uint64, common.Hash) → true; hexutil rejects leading zeros and a hash must be 32 bytes.
 */
const TWO_256 = 1n << 256n;
const STALE_THRESHOLD = 7;

export interface FakeGethWork {
  headerHash: string;
  seedHash: string;
  difficulty: bigint;
  blockNumber: number;
}

export type FakeGethFailure = "none" | "http500" | "hang" | "no-work";

export interface FakeGethOptions {
  /** Start with work for this block (default 1); `false` starts without work (eth_getWork errors). */
  blockNumber?: number | false;
  /** Block difficulty; default 2 (every other hash is a block, so tests find one in a few hashimotos). */
  difficulty?: bigint;
  /** Answer eth_getWork with 3 elements like geth before the block number was added. */
  legacy?: boolean;
  /** "ethash": verify seals with hashimoto-light (default); "accept" / "reject": answer without checking. */
  verify?: "ethash" | "accept" | "reject";
}

export interface FakeGeth {
  readonly url: string;
  readonly port: number;
  /** The pending work (what eth_getWork returns), undefined before work exists. */
  work(): FakeGethWork | undefined;
  /** Replace the pending work (it is remembered for eth_submitWork); undefined clears it. */
  setWork(w: Partial<FakeGethWork> & { blockNumber: number }): FakeGethWork;
  /** A new block arrived from the network: height + 1, new seal hash. */
  advanceBlock(): FakeGethWork;
  /** New transactions at the same height: new seal hash, same number. */
  newSealHash(): FakeGethWork;
  setLegacy(on: boolean): void;
  setVerify(v: "ethash" | "accept" | "reject"): void;
  fail(kind: FakeGethFailure): void;
  /** Close the listener (connections refused) / listen again on the same port. */
  down(): void;
  up(): void;
  calls(method: string): number;
  readonly hashrates: { rate: string; id: string }[];
  readonly submissions: { nonce: string; headerHash: string; mixDigest: string; accepted: boolean; reason: string }[];
  stop(): Promise<void>;
}

const caches = new Map<number, Uint32Array>();
/** Epoch light cache, memoized per process (epoch 0 builds in ~1.5 s); tests use it to mine real blocks. */
export function ethashCache(epoch: number): Uint32Array {
  let c = caches.get(epoch);
  if (c === undefined) {
    c = makeCache(cacheSize(epoch), seedHash(epoch))!;
    caches.set(epoch, c);
  }
  return c;
}

/** hashimoto-light for a block of this height (ethash epochs): what a miner computes. */
export function ethashHash(blockNumber: number, headerHash: string, nonce: bigint): { mixDigest: string; result: bigint } {
  const epoch = Math.floor(blockNumber / ETHASH_EPOCH_LENGTH);
  const r = hashimotoLight(datasetSize(epoch), ethashCache(epoch), hexToBytes(headerHash.slice(2))!, nonce);
  return { mixDigest: "0x" + bytesToHex(r.mixDigest), result: BigInt("0x" + bytesToHex(r.result)) };
}

const hash32 = (s: string): string => "0x" + bytesToHex(keccak_256(new TextEncoder().encode(s)));

export function startFakeGeth(opts: FakeGethOptions = {}): FakeGeth {
  const difficulty = opts.difficulty ?? 2n;
  let legacy = opts.legacy ?? false;
  let verify = opts.verify ?? "ethash";
  let failure: FakeGethFailure = "none";
  let counter = 0;
  let current: FakeGethWork | undefined;
  let head = 0;
  const works = new Map<string, FakeGethWork>();
  const counts = new Map<string, number>();
  const hashrates: { rate: string; id: string }[] = [];
  const submissions: FakeGeth["submissions"] = [];
  const hanging = new Set<() => void>();

  function setWork(w: Partial<FakeGethWork> & { blockNumber: number }): FakeGethWork {
    const work: FakeGethWork = {
      blockNumber: w.blockNumber,
      difficulty: w.difficulty ?? difficulty,
      headerHash: (w.headerHash ?? hash32(`fake-geth seal ${w.blockNumber} ${counter++}`)).toLowerCase(),
      seedHash: (w.seedHash ?? "0x" + bytesToHex(epochParams(w.blockNumber, { algo: "ethash" })!.seed)).toLowerCase(),
    };
    current = work;
    head = work.blockNumber - 1;
    works.set(work.headerHash, work);
    // remoteSealer drops works once they are staleThreshold blocks behind the current block.
    for (const [h, x] of works) if (x.blockNumber + STALE_THRESHOLD <= work.blockNumber) works.delete(h);
    return work;
  }
  if (opts.blockNumber !== false) setWork({ blockNumber: opts.blockNumber ?? 1 });

  const ok = (id: unknown, result: unknown) => ({ jsonrpc: "2.0", id, result });
  const err = (id: unknown, code: number, message: string) => ({ jsonrpc: "2.0", id, error: { code, message } });
  const quantity = (n: bigint | number) => "0x" + n.toString(16);

  function submitWork(params: unknown[]): { accepted: boolean; reason: string } {
    const [nonce, sealHash, mix] = params as string[];
    const w = works.get(sealHash!.toLowerCase());
    if (current === undefined) return { accepted: false, reason: "No block found while submitting work" };
    if (w === undefined) return { accepted: false, reason: "Work submitted but none pending" };
    if (verify === "reject") return { accepted: false, reason: "Invalid proof-of-work submitted" };
    if (verify === "ethash") {
      const r = ethashHash(w.blockNumber, w.headerHash, BigInt(nonce!));
      if (r.mixDigest !== mix!.toLowerCase()) return { accepted: false, reason: "invalid mix digest" };
      if (r.result > TWO_256 / w.difficulty) return { accepted: false, reason: "invalid proof-of-work" };
    }
    if (w.blockNumber + STALE_THRESHOLD <= current.blockNumber) return { accepted: false, reason: "Work submitted is too old" };
    // The sealed block is imported: the next pending block is built on it.
    setWork({ blockNumber: w.blockNumber + 1 });
    return { accepted: true, reason: "" };
  }

  function hexArg(v: unknown, i: number, bytes: number | undefined, name: string): string | undefined {
    if (typeof v !== "string" || !/^0x/i.test(v)) return `invalid argument ${i}: hex string without 0x prefix`;
    const digits = v.slice(2);
    if (!/^[0-9a-fA-F]*$/.test(digits)) return `invalid argument ${i}: invalid hex string`;
    if (bytes === undefined) {
      if (digits.length === 0) return `invalid argument ${i}: hex string "0x"`;
      if (digits.length > 1 && digits[0] === "0") return `invalid argument ${i}: hex number with leading zero digits`;
      if (digits.length > 16) return `invalid argument ${i}: hex number > 64 bits`;
      return undefined;
    }
    if (digits.length !== bytes * 2) return `invalid argument ${i}: hex string has length ${digits.length}, want ${bytes * 2} for ${name}`;
    return undefined;
  }

  function handle(req: { id?: unknown; method?: unknown; params?: unknown }): object {
    const id = req.id ?? null;
    const method = typeof req.method === "string" ? req.method : "";
    counts.set(method, (counts.get(method) ?? 0) + 1);
    const params = Array.isArray(req.params) ? req.params : [];
    const need = (n: number) => (params.length < n ? err(id, -32602, `missing value for required argument ${params.length}`) : undefined);
    switch (method) {
      case "eth_getWork": {
        if (current === undefined || failure === "no-work") return err(id, -32000, "no mining work available yet");
        const w = current;
        const boundary = "0x" + ((TWO_256 / w.difficulty) % TWO_256).toString(16).padStart(64, "0");
        const res = [w.headerHash, w.seedHash, boundary, quantity(w.blockNumber)];
        return ok(id, legacy ? res.slice(0, 3) : res);
      }
      case "eth_blockNumber":
        return ok(id, quantity(head));
      case "eth_submitWork": {
        const m = need(3);
        if (m) return m;
        const bad = hexArg(params[0], 0, 8, "BlockNonce") ?? hexArg(params[1], 1, 32, "common.Hash") ?? hexArg(params[2], 2, 32, "common.Hash");
        if (bad) return err(id, -32602, bad);
        const r = submitWork(params);
        submissions.push({ nonce: params[0] as string, headerHash: params[1] as string, mixDigest: params[2] as string, ...r });
        return ok(id, r.accepted);
      }
      case "eth_submitHashrate": {
        const m = need(2);
        if (m) return m;
        const bad = hexArg(params[0], 0, undefined, "hexutil.Uint64") ?? hexArg(params[1], 1, 32, "common.Hash");
        if (bad) return err(id, -32602, bad);
        hashrates.push({ rate: params[0] as string, id: params[1] as string });
        return ok(id, true);
      }
      default:
        return err(id, -32601, `the method ${method} does not exist/is not available`);
    }
  }

  async function fetchHandler(request: Request): Promise<Response> {
    if (failure === "http500") return new Response("internal error", { status: 500 });
    if (failure === "hang") {
      await new Promise<void>((r) => hanging.add(r));
      return new Response("released", { status: 503 });
    }
    let body: unknown;
    try {
      body = JSON.parse(await request.text());
    } catch {
      return Response.json(err(null, -32700, "parse error"));
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) return Response.json(err(null, -32600, "invalid request"));
    return Response.json(handle(body as { id?: unknown; method?: unknown; params?: unknown }));
  }

  let server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: fetchHandler });
  const port = server.port!;
  const release = () => {
    for (const r of hanging) r();
    hanging.clear();
  };

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    work: () => current,
    setWork,
    advanceBlock: () => setWork({ blockNumber: (current?.blockNumber ?? head) + 1 }),
    newSealHash: () => setWork({ blockNumber: current?.blockNumber ?? head + 1 }),
    setLegacy(on) {
      legacy = on;
    },
    setVerify(v) {
      verify = v;
    },
    fail(kind) {
      failure = kind;
      if (kind !== "hang") release();
    },
    down() {
      release();
      server.stop(true);
    },
    up() {
      server = Bun.serve({ hostname: "127.0.0.1", port, fetch: fetchHandler });
    },
    calls: (m) => counts.get(m) ?? 0,
    hashrates,
    submissions,
    async stop() {
      release();
      await server.stop(true);
    },
  };
}
