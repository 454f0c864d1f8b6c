// End-to-end helpers for the Ethereum-style dialects: an epoch-0 light cache built once, real ethash share search, eth-proxy / EthereumStratum openings and HTTP getwork POSTs; no assertions.
import { epochParams, hashimotoLight, makeCache } from "../../protocols/pow/ethash.ts";
import { bytesToHex, hexToBytes } from "../../protocols/pow/hex.ts";
import { byId, byMethod, HOST, httpGet, until, type Msg, type RelayProcess, type StratumClient } from "./helpers.ts";

/** Epoch 0 (blocks 0..29999): the devnet's epoch. Built once per test process (~1.5 s, 16 MiB). */
export interface EthCache {
  fullSize: number;
  cache: Uint32Array;
  seedHex: string;
}

let cache0: EthCache | undefined;

export function epoch0Cache(): EthCache {
  if (cache0 === undefined) {
    const p = epochParams(0, { algo: "ethash" })!;
    const c = makeCache(p.cacheSize, p.seed);
    if (c === undefined) throw new Error("makeCache refused the epoch-0 parameters");
    cache0 = { fullSize: p.fullSize, cache: c, seedHex: "0x" + bytesToHex(p.seed) };
  }
  return cache0;
}

export interface EthHash {
  /** 0x + 64 hex. */
  mix: string;
  /** Hashimoto result as a big-endian number. */
  value: bigint;
  /** 0x + 64 hex. */
  hash: string;
}

const strip0x = (h: string) => (h.startsWith("0x") || h.startsWith("0X") ? h.slice(2) : h);

/** Hashimoto (light) of header (with or without 0x) and an 8-byte big-endian nonce given as 16 hex digits (with or without 0x). */
export function ethHash(headerHex: string, nonceHex: string): EthHash {
  const c = epoch0Cache();
  const header = hexToBytes(strip0x(headerHex));
  const nonce = hexToBytes(strip0x(nonceHex));
  if (header === undefined || header.length !== 32 || nonce === undefined || nonce.length !== 8) throw new Error(`ethHash: bad header or nonce ${headerHex} ${nonceHex}`);
  const r = hashimotoLight(c.fullSize, c.cache, header, nonce);
  const hash = bytesToHex(r.result);
  return { mix: "0x" + bytesToHex(r.mixDigest), value: BigInt("0x" + hash), hash: "0x" + hash };
}

export interface EthShare extends EthHash {
  /** Full nonce, 0x + 16 hex. */
  nonce: string;
  /** The part the miner sends in EthereumStratum (the full nonce without the extranonce), no 0x. */
  minerNonce: string;
}

/**
 * Searches nonces prefix ‖ counter (counter from `start`, filling the 16 − prefix digits) for a hashimoto value
 * in (above, atMost] (meets=true), or above atMost (meets=false). A few calls at ~2^254 targets (≈1 in 4).
 */
export function findEthShare(
  headerHex: string,
  o: { atMost: bigint; above?: bigint; meets?: boolean; prefix?: string; start?: number; maxTries?: number },
): EthShare {
  const prefix = o.prefix ?? "";
  const digits = 16 - prefix.length;
  const max = o.maxTries ?? 5000;
  const start = o.start ?? 0;
  for (let i = 0; i < max; i++) {
    const minerNonce = (start + i).toString(16).padStart(digits, "0");
    const nonce = "0x" + prefix + minerNonce;
    const h = ethHash(headerHex, nonce);
    const ok = o.meets === false ? h.value > o.atMost : h.value <= o.atMost && (o.above === undefined || h.value > o.above);
    if (ok) return { ...h, nonce, minerNonce };
  }
  throw new Error(`findEthShare: no nonce in ${max} tries (atMost ${o.atMost.toString(16)}, meets ${o.meets !== false})`);
}

/** Block boundary of the devnet for `ethash.upstream.devnet.blockDifficulty` (geth: 2^256 / difficulty). */
export const ethBlockTarget = (blockDifficulty: bigint): bigint => (1n << 256n) / blockDifficulty;

export const ADDRESS = "0x" + "ab".repeat(20);

// --- eth-proxy over TCP ----------------------------------------------------------------------

export type EthWorkResult = [string, string, string, string];

/** eth_submitLogin (id 1, ethminer shape: worker in the top-level field) + eth_getWork (id 2); resolves with the login reply and the work. */
export async function ethProxyOpen(
  c: StratumClient,
  o: { address?: string; worker?: string; email?: string } = {},
): Promise<{ login: Msg; work: EthWorkResult }> {
  const params: unknown[] = [o.address ?? ADDRESS];
  if (o.email !== undefined) params.push(o.email);
  c.send({ id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params, worker: o.worker ?? "rig1" });
  const login = await c.next(byId(1), 5000, "eth_submitLogin reply");
  c.send({ id: 2, jsonrpc: "2.0", method: "eth_getWork", params: [] });
  const gw = await c.next(byId(2), 5000, "eth_getWork reply");
  if (!Array.isArray(gw.result) || gw.result.length !== 4) throw new Error(`eth_getWork: no work: ${JSON.stringify(gw)}`);
  return { login, work: gw.result as EthWorkResult };
}

/** eth_submitWork [nonce, header, mix] with request id `id`; resolves with the reply. */
export async function ethSubmit(c: StratumClient, id: number, params: unknown[], timeoutMs = 5000): Promise<Msg> {
  c.send({ id, jsonrpc: "2.0", method: "eth_submitWork", params, worker: "" });
  return c.next(byId(id), timeoutMs, `eth_submitWork reply id ${id}`);
}

/** A work push (id 0, result array) — optionally only one for a header other than `notHeader`. */
export const isWorkPush = (notHeader?: string) => (m: Msg) =>
  m.id === 0 && Array.isArray(m.result) && m.method === undefined && (notHeader === undefined || (m.result as string[])[0] !== notHeader);

// --- EthereumStratum/1.0.0 over TCP ----------------------------------------------------------

export interface EthStratumOpening {
  subscribe: Msg;
  extranonce: string;
  difficulty: number;
  /** mining.notify params [jobId, seedHash, headerHash, clean] (hashes without 0x). */
  notify: [string, string, string, boolean];
  /** Indices in c.received, to check that set_difficulty came before notify. */
  order: { setDifficulty: number; notify: number };
}

/** mining.subscribe (id 1) + mining.authorize (id 2), pipelined; resolves with the extranonce, first difficulty and job. */
export async function ethStratumOpen(c: StratumClient, o: { user?: string; password?: string } = {}): Promise<EthStratumOpening> {
  c.sendRaw(
    JSON.stringify({ id: 1, method: "mining.subscribe", params: ["ethminer-0.19.0", "EthereumStratum/1.0.0"] }) + "\n" +
      JSON.stringify({ id: 2, method: "mining.authorize", params: [o.user ?? ADDRESS + ".rig1", o.password ?? "x"] }) + "\n",
  );
  const subscribe = await c.next(byId(1), 5000, "EthereumStratum subscribe result");
  const auth = await c.next(byId(2), 5000, "EthereumStratum authorize result");
  if (auth.result !== true) throw new Error(`authorize refused: ${JSON.stringify(auth)}`);
  const sd = await c.next(byMethod("mining.set_difficulty"), 5000, "mining.set_difficulty");
  const nt = await c.next(byMethod("mining.notify"), 5000, "mining.notify");
  const r = subscribe.result as [unknown, string];
  return {
    subscribe,
    extranonce: r[1],
    difficulty: (sd.params as number[])[0]!,
    notify: nt.params as [string, string, string, boolean],
    order: { setDifficulty: c.received.indexOf(sd), notify: c.received.indexOf(nt) },
  };
}

/** mining.submit [worker, jobId, minerNonce]; resolves with the reply. */
export async function ethStratumSubmit(c: StratumClient, id: number, worker: string, jobId: string, minerNonce: string, timeoutMs = 5000): Promise<Msg> {
  c.send({ id, method: "mining.submit", params: [worker, jobId, minerNonce] });
  return c.next(byId(id), timeoutMs, `mining.submit reply id ${id}`);
}

// --- HTTP getwork ----------------------------------------------------------------------------

/** POSTs one JSON-RPC body to the HTTP port; resolves with the status and parsed body. */
export async function postRpc(port: number, path: string, body: unknown): Promise<{ status: number; json: Msg; text: string }> {
  const r = await fetch(`http://${HOST}:${port}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  let json: Msg;
  try {
    json = JSON.parse(text) as Msg;
  } catch {
    json = { unparsable: text };
  }
  return { status: r.status, json, text };
}

/** Resolves once the relay's first light cache is built: Ethereum-style miners get work only from then on. */
export async function ethCacheReady(r: RelayProcess, timeoutMs = 45_000): Promise<void> {
  await until(
    async () => {
      const st = (await httpGet(r.httpPort, "/api/stats")).json() as { eth?: { lightCache?: string } };
      return st.eth?.lightCache === "ready" ? true : undefined;
    },
    timeoutMs,
    "the relay's ethash cache",
    () => r.tail(),
  );
}
