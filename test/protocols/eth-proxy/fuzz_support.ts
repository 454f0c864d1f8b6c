// Shared fuzz harness for both Ethereum dialects: line → parseLine → parseEthProxyMessage and parseEthStratumMessage, checking every result is a well-formed typed value.
import { prng } from "../../support/prng.ts";
import { parseLine, type RpcMessage, type RpcParseError } from "../../../protocols/jsonrpc/envelope.ts";
import { parseEthProxyMessage } from "../../../protocols/eth-proxy/client_to_server.ts";
import { parseEthStratumMessage } from "../../../protocols/eth-stratum/client_to_server.ts";

const PROXY_TYPES = new Set(["login", "invalid_login", "get_work", "submit_work", "submit_hashrate", "response", "unknown", "invalid"]);
const STRATUM_TYPES = new Set(["subscribe", "authorize", "submit", "extranonce_subscribe", "submit_hashrate", "response", "unknown", "invalid"]);

const ADDRESS = /^0x[0-9a-f]{40}$/;
const H16 = /^0x[0-9a-f]{16}$/;
const H64 = /^0x[0-9a-f]{64}$/;
const MINER_NONCE = /^(?:[0-9a-f]{2}){1,8}$/;

export const WEIRD: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, "", "x", "zz", "0x", "0X", "0x0", "-0x1", "0".repeat(300),
  "0x" + "f".repeat(16), "0x" + "f".repeat(17), "0x" + "a".repeat(64), "a".repeat(40), "0x" + "b".repeat(40), "\u0000", "\ud800",
  [], [1], ["a"], {}, { a: 1 }, [[[]]],
];

export const METHODS = [
  "eth_submitLogin", "eth_getWork", "eth_submitWork", "eth_submitHashrate", "mining.subscribe", "mining.authorize",
  "mining.submit", "mining.extranonce.subscribe", "mining.notify", "other", "",
];

export const counters = { lines: 0, typed: 0 };

function fail(what: string, line: string): never {
  throw new Error(`${what} from ${line.slice(0, 120)}`);
}

/** Parses one line and runs both dialect parsers; throws (failing the test) on any malformed result. */
export function checkLine(line: string): RpcMessage | RpcParseError {
  const m = parseLine(line);
  counters.lines++;
  if (m.kind === "invalid") return m;

  const p = parseEthProxyMessage(m);
  if (!PROXY_TYPES.has(p.type)) fail(`bad proxy type ${p.type}`, line);
  if (p.id !== m.id) fail("proxy id changed", line);
  switch (p.type) {
    case "login":
      if (!ADDRESS.test(p.address)) fail("bad address", line);
      if (p.worker !== undefined && (typeof p.worker !== "string" || p.worker.length === 0)) fail("bad worker", line);
      if (p.email !== undefined && typeof p.email !== "string") fail("bad email", line);
      break;
    case "submit_work":
      if (!H16.test(p.nonce) || !H64.test(p.headerHash) || !H64.test(p.mixDigest)) fail("bad submit_work fields", line);
      break;
    case "submit_hashrate":
      if (typeof p.hashrate !== "bigint" || p.hashrate < 0n || p.hashrate >= 1n << 64n || typeof p.clientId !== "string") {
        fail("bad hashrate", line);
      }
      break;
    case "invalid":
    case "invalid_login":
      if (typeof p.detail !== "string" || p.detail.length === 0) fail("invalid without detail", line);
      break;
  }
  if (m.kind === "request" && p.type !== "response" && p.type !== "unknown") {
    // Known methods never come back as unknown, unknown ones never as anything else.
    if (!METHODS.slice(0, 4).includes(m.method)) fail("unknown method classified", line);
  }

  const s = parseEthStratumMessage(m);
  if (!STRATUM_TYPES.has(s.type)) fail(`bad stratum type ${s.type}`, line);
  if (s.id !== m.id) fail("stratum id changed", line);
  switch (s.type) {
    case "submit":
      if (!MINER_NONCE.test(s.minerNonce) || typeof s.worker !== "string" || typeof s.jobId !== "string") fail("bad submit", line);
      break;
    case "subscribe":
      if (typeof s.agent !== "string" || typeof s.protocol !== "string") fail("bad subscribe", line);
      break;
    case "authorize":
      if (typeof s.user !== "string" || typeof s.password !== "string") fail("bad authorize", line);
      break;
    case "invalid":
      if (typeof s.detail !== "string" || s.detail.length === 0) fail("invalid without detail", line);
      break;
  }
  counters.typed++;
  return m;
}

/** A random JSON-ish value from WEIRD, arrays and objects, up to depth 3. */
export function randomValue(rnd: () => number, depth = 0): unknown {
  const r = rnd();
  if (depth > 3 || r < 0.4) return WEIRD[Math.floor(rnd() * WEIRD.length)];
  if (r < 0.8) return Array.from({ length: Math.floor(rnd() * 6) }, () => randomValue(rnd, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = 0; i < Math.floor(rnd() * 4); i++) o[["worker", "params", "k", "id"][i]!] = randomValue(rnd, depth + 1);
  return o;
}

/** Runs `n` hostile variations of each corpus message: truncations, byte flips, wrong types per position. */
export function fuzzCorpus(corpus: Record<string, unknown>[], seed: number): void {
  const rnd = prng(seed);
  for (const msg of corpus) {
    const text = JSON.stringify(msg);
    for (let cut = 0; cut <= text.length; cut++) checkLine(text.slice(0, cut));
    for (let k = 0; k < 200; k++) {
      const chars = text.split("");
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(Math.floor(rnd() * 128));
      checkLine(chars.join(""));
    }
    const params = Array.isArray(msg.params) ? (msg.params as unknown[]) : [];
    for (let pos = 0; pos <= params.length; pos++) {
      for (const w of WEIRD) {
        const p = params.slice();
        p[pos] = w;
        checkLine(JSON.stringify({ ...msg, params: p }));
        checkLine(JSON.stringify({ ...msg, params: p.slice(0, pos + 1) }));
      }
    }
    for (const w of WEIRD) {
      checkLine(JSON.stringify({ ...msg, id: w }));
      checkLine(JSON.stringify({ ...msg, method: w }));
      checkLine(JSON.stringify({ ...msg, params: w }));
      checkLine(JSON.stringify({ ...msg, worker: w }));
    }
  }
}
