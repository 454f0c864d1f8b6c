// Test support: two peered Litecoin Core regtest nodes as child processes on loopback (free ports, stop/restart on the same datadir), a JSON-RPC helper and wallet setup; no assertions.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const RPC_USER = "edge";
export const RPC_PASSWORD = "regtest-pw";
/** getblocktemplate rules Litecoin Core 0.21 requires (it refuses a request without "mweb"). */
export const LTC_RULES = ["mweb", "segwit"];

/** Why a test needs the binary, as a failure message (CI installs it: test/run.sh, apt-get install litecoind). */
export const MISSING_LITECOIND =
  "litecoind not found on PATH: install Litecoin Core 0.21 (Debian package litecoind; test/run.sh installs it in CI)";

/** Path of litecoind, or null when it is not installed. */
export function findLitecoind(): string | null {
  return Bun.which("litecoind");
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/** A node's JSON-RPC error answer (code from Core, e.g. -9 not connected) or an unparsable reply (code undefined). */
export type RpcError = Error & { method: string; code: number | undefined };

function rpcError(method: string, code: number | undefined, message: string): RpcError {
  return Object.assign(new Error(message), { method, code });
}

/** One JSON-RPC 1.0 call to a node (Core answers errors with HTTP 500 and a JSON body); throws RpcError or a transport error. */
export async function rpcCall(port: number, method: string, params: unknown[] = [], timeoutMs = 30_000): Promise<any> {
  const r = await fetch(`http://127.0.0.1:${port}/`, {
    method: "POST",
    // Connection: close — litecoind 0.21 waits on idle keep-alive RPC connections at shutdown (measured: SIGTERM took > 15 s, 0.1 s without).
    headers: { connection: "close", "content-type": "application/json", authorization: `Basic ${btoa(`${RPC_USER}:${RPC_PASSWORD}`)}` },
    body: JSON.stringify({ jsonrpc: "1.0", id: 1, method, params }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  let body: { result?: unknown; error?: { code?: number; message?: string } | null };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw rpcError(method, undefined, `${method} on :${port}: HTTP ${r.status}: ${text.slice(0, 200)}`);
  }
  if (body.error) throw rpcError(method, body.error.code, `${method} on :${port}: ${body.error.code}: ${body.error.message}`);
  return body.result;
}

/** Polls fn (every 100 ms) until it returns something other than undefined/false; errors count as "not yet". */
export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let last = "";
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface LitecoindNode {
  readonly name: string;
  readonly rpcPort: number;
  readonly p2pPort: number;
  readonly datadir: string;
  /** http://127.0.0.1:RPCPORT/ */
  readonly url: string;
  rpc(method: string, params?: unknown[]): Promise<any>;
  /** Spawns litecoind (same datadir and ports every time) and waits until RPC answers. */
  start(): Promise<void>;
  /** SIGTERM (clean shutdown; SIGKILL after 25 s, which costs the node its unflushed chain state) or SIGKILL (crash); resolves once the process is gone. */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  running(): boolean;
}

export interface LitecoindPair {
  readonly dir: string;
  /** A listens; B connects to A only (-connect), so each has exactly one peer. */
  readonly a: LitecoindNode;
  readonly b: LitecoindNode;
  /** Waits until A and B see each other (getblocktemplate answers -9 without a peer). */
  waitPeered(ms?: number): Promise<void>;
  /** Stops both nodes and removes the datadirs. */
  cleanup(): Promise<void>;
}

function createNode(bin: string, dir: string, name: string, rpcPort: number, p2pPort: number, connectTo?: number): LitecoindNode {
  const datadir = join(dir, name);
  mkdirSync(datadir, { recursive: true });
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const alive = () => proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  const node: LitecoindNode = {
    name,
    rpcPort,
    p2pPort,
    datadir,
    url: `http://127.0.0.1:${rpcPort}/`,
    rpc: (method, params = []) => rpcCall(rpcPort, method, params),
    async start() {
      if (alive()) return;
      const args = [
        "-regtest", "-server", `-rpcuser=${RPC_USER}`, `-rpcpassword=${RPC_PASSWORD}`, `-rpcport=${rpcPort}`, `-port=${p2pPort}`,
        `-datadir=${datadir}`, "-fallbackfee=0.0001", "-daemon=0", "-printtoconsole=0",
        "-rpcbind=127.0.0.1", "-rpcallowip=127.0.0.1", "-bind=127.0.0.1", "-listen", "-listenonion=0", "-discover=0", "-dnsseed=0",
        // Keep MWEB from activating here (test/src/upstream/litecoin_mweb.test.ts covers MWEB-active chains).
        "-vbparams=mweb:4000000000:4000000001:1000000:1000001",
      ];
      if (connectTo !== undefined) args.push(`-connect=127.0.0.1:${connectTo}`);
      const p = spawn(bin, args, { stdio: "ignore" });
      proc = p;
      exited = new Promise((r) => p.once("exit", () => r()));
      await waitUntil(`litecoind ${name} RPC on :${rpcPort}`, async () => {
        if (p.exitCode !== null) throw new Error(`litecoind ${name} exited with ${p.exitCode}`);
        return (await rpcCall(rpcPort, "getblockcount", [], 2000)) >= 0;
      }, 30_000);
    },
    async stop(signal = "SIGTERM") {
      if (!alive()) return;
      const p = proc as ChildProcess;
      p.kill(signal);
      const t = setTimeout(() => p.kill("SIGKILL"), 25_000);
      await exited;
      clearTimeout(t);
    },
    running: alive,
  };
  return node;
}

/** Starts two regtest nodes on free loopback ports in a fresh temp dir, B connected to A; resolves once both answer RPC. */
export async function startLitecoindPair(bin: string): Promise<LitecoindPair> {
  const dir = mkdtempSync(join(tmpdir(), "edge-ltc-"));
  const [rpcA, rpcB, p2pA, p2pB] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const a = createNode(bin, dir, "a", rpcA, p2pA);
  const b = createNode(bin, dir, "b", rpcB, p2pB, p2pA);
  const pair: LitecoindPair = {
    dir,
    a,
    b,
    async waitPeered(ms = 30_000) {
      await waitUntil("nodes A and B to peer", async () => (await a.rpc("getconnectioncount")) >= 1 && (await b.rpc("getconnectioncount")) >= 1, ms);
    },
    async cleanup() {
      await Promise.all([a.stop(), b.stop()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all([a.start(), b.start()]);
  } catch (e) {
    await pair.cleanup();
    throw e;
  }
  return pair;
}

export interface Wallet {
  /** bech32 address the 101 setup blocks paid (coins to spend). */
  fundAddress: string;
}

/**
 * Wallet "edge" on the node (loaded again on restart), 101 blocks to a bech32 address so 50 coins are
 * spendable (coinbase maturity 100), and `txs` sendtoaddress payments left in the mempool, so templates
 * carry transactions and a witness commitment. Needs no peer: generatetoaddress works alone.
 */
export async function setupWallet(node: LitecoindNode, txs: number): Promise<Wallet> {
  // createwallet(name, disable_private_keys, blank, passphrase, avoid_reuse, descriptors, load_on_startup)
  await node.rpc("createwallet", ["edge", false, false, "", false, false, true]);
  const fundAddress: string = await node.rpc("getnewaddress", ["", "bech32"]);
  await node.rpc("generatetoaddress", [101, fundAddress]);
  await sendPayments(node, txs);
  return { fundAddress };
}

/** `n` wallet payments (1, 2, … LTC to fresh bech32 addresses); returns their txids. */
export async function sendPayments(node: LitecoindNode, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await node.rpc("sendtoaddress", [await node.rpc("getnewaddress", ["", "bech32"]), 1 + i]));
  return ids;
}
