// End-to-end test helpers: spawn the relay (compiled binary or any command) on 127.0.0.1 with a temp data dir, a line-oriented TCP client, HTTP GET and share crafting; no assertions.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createConnection, type Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Sha256Into } from "../../protocols/pow/types.ts";
import { computeShareHash } from "../../src/client/stratum_miner.ts";
import { sha256d } from "../../protocols/pow/sha256d.ts";
import { merkleRootFromBranch } from "../../protocols/bitcoin/merkle.ts";
import { writeHeader } from "../../protocols/bitcoin/header.ts";
import { writeU32LE } from "../../protocols/bitcoin/script.ts";
import { bytesToHexReversed, hexToBytes, hexToU32, u32ToHex } from "../../protocols/pow/hex.ts";
import { bitsToTarget, difficultyToTarget, hashMeetsTarget, targetToLE } from "../../protocols/pow/target.ts";
import { scratchDir } from "../support/scratch_dir.ts";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BINARY = join(ROOT, "dist/stratum-edge");
export const HOST = "127.0.0.1";

/** Bun.SHA256 (≈10x @noble for 80-byte inputs, see protocols/pow/types.ts): the nonce searches below need the speed. */
export const sha: Sha256Into = (i, o) => {
  Bun.SHA256.hash(i, o);
};

// --- the binary ------------------------------------------------------------------------------

let building: Promise<string> | undefined;

/** Path of dist/stratum-edge; builds it once with `bash compile.sh` when missing (E2E_REBUILD=1 forces a build). */
export function ensureBinary(): Promise<string> {
  building ??= (async () => {
    if (existsSync(BINARY) && process.env.E2E_REBUILD !== "1") return BINARY;
    console.log(`e2e: ${existsSync(BINARY) ? "E2E_REBUILD=1: rebuilding" : "missing, building"} ${BINARY} with bash compile.sh`);
    // SKIP_DENO_COMPILE: the deno half of compile.sh is not needed here and only costs time.
    const r = spawnSync("bash", ["compile.sh"], { cwd: ROOT, env: { ...process.env, SKIP_DENO_COMPILE: "1" }, encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0 || !existsSync(BINARY)) {
      throw new Error(`bash compile.sh failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
    }
    return BINARY;
  })();
  return building;
}

/** A fresh temporary directory, removed when the test process exits. */
export function tempDir(prefix = "stratum-edge-e2e-"): string {
  return scratchDir(prefix);
}

// --- output capture --------------------------------------------------------------------------

/** Collects a stream's text, split into lines, for later inspection and for failure messages. */
interface Capture {
  lines: string[];
  partial: string;
  listeners: Set<() => void>;
}

function capture(stream: NodeJS.ReadableStream | null): Capture {
  const c: Capture = { lines: [], partial: "", listeners: new Set() };
  stream?.setEncoding("utf8");
  stream?.on("data", (chunk: string) => {
    const parts = (c.partial + chunk).split("\n");
    c.partial = parts.pop() ?? "";
    c.lines.push(...parts);
    for (const l of [...c.listeners]) l();
  });
  stream?.on("end", () => {
    if (c.partial) c.lines.push(c.partial);
    c.partial = "";
    for (const l of [...c.listeners]) l();
  });
  return c;
}

function tailOf(c: Capture, n: number): string {
  const all = c.partial ? [...c.lines, c.partial] : c.lines;
  return all.slice(-n).join("\n");
}

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

// --- a running relay -------------------------------------------------------------------------

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

export interface RelayProcess {
  readonly child: ChildProcess;
  readonly dataDir: string;
  readonly stratumPort: number;
  readonly httpPort: number;
  /** Every stdout line that parsed as a JSON object, in order. */
  logs(): LogLine[];
  /** Last n lines of stdout and stderr, for failure messages. */
  tail(n?: number): string;
  /** Resolves with the first log line (already written or future) matching pred; rejects with the tail on timeout. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs: number, what?: string): Promise<LogLine>;
  readonly exited: Promise<Exit>;
  /** SIGTERM, then SIGKILL if still alive after 3 s; removes the data dir. Safe to call twice. */
  stop(): Promise<Exit>;
}

export interface StartOptions {
  /** `--set` overrides on top of the loopback / port 0 / temp dataDir defaults. */
  sets?: Record<string, string>;
  /** Command to run instead of the binary (e.g. deno run … src/main.ts); the relay arguments are appended. */
  command?: string[];
  /** Give up waiting for both "listening" lines after this long. */
  startTimeoutMs?: number;
}

function parseJsonLine(line: string): LogLine | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

/** Starts `stratum-edge --log-json` (or opts.command) on 127.0.0.1, ports 0, a fresh data dir; resolves once both ports are logged. */
export async function startRelay(opts: StartOptions = {}): Promise<RelayProcess> {
  const cmd = opts.command ?? [await ensureBinary()];
  const dataDir = tempDir();
  const sets: Record<string, string> = {
    "stratum.host": HOST,
    "stratum.port": "0",
    "http.host": HOST,
    "http.port": "0",
    dataDir,
    // Every test client connects from 127.0.0.1: the protocol tests deliberately send malformed and
    // invalid input, which would add up to a ban shared by all of them. The ban tests turn it back on.
    "bans.enabled": "false",
    // The Ethereum tests bound per-reply times once the light cache exists, so it is built at start here;
    // the default (built when the first Ethereum-style miner asks) has its own test (eth_lazy.e2e.test.ts).
    "ethash.prebuild": "true",
    ...opts.sets,
  };
  const args = [...cmd.slice(1), "--log-json"];
  for (const [k, v] of Object.entries(sets)) args.push("--set", `${k}=${v}`);
  const child = spawn(cmd[0]!, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  const exited = exitOf(child);
  let exitInfo: Exit | undefined;
  void exited.then((e) => (exitInfo = e));
  let stopped: Promise<Exit> | undefined;

  const tail = (n = 30) =>
    `--- relay stdout (last ${n} lines) ---\n${tailOf(out, n)}\n--- relay stderr (last ${n} lines) ---\n${tailOf(err, n)}`;
  const logs = () => out.lines.map(parseJsonLine).filter((x): x is LogLine => x !== undefined);

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs: number, what = "log line"): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const check = () => {
        const hit = logs().find(pred);
        if (hit) {
          done();
          resolve(hit);
        } else if (exitInfo !== undefined) {
          done();
          reject(new Error(`relay exited (${JSON.stringify(exitInfo)}) before ${what}\n${tail()}`));
        }
      };
      const done = () => {
        out.listeners.delete(check);
        if (timer) clearTimeout(timer);
      };
      out.listeners.add(check);
      void exited.then(() => setTimeout(check, 50));
      timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${tail()}`));
      }, timeoutMs);
      check();
    });

  const stop = (): Promise<Exit> => {
    stopped ??= (async () => {
      if (exitInfo === undefined) {
        child.kill("SIGTERM");
        const t = setTimeout(() => {
          if (exitInfo === undefined) child.kill("SIGKILL");
        }, 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
      return exited;
    })();
    return stopped;
  };

  try {
    const timeout = opts.startTimeoutMs ?? 15_000;
    const s = await waitForLog((l) => l.msg === "stratum listening" && typeof l.port === "number", timeout, '"stratum listening"');
    const h = await waitForLog((l) => l.msg === "http listening" && typeof l.port === "number", timeout, '"http listening"');
    return { child, dataDir, stratumPort: s.port as number, httpPort: h.port as number, logs, tail, waitForLog, exited, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

// --- one-shot commands -----------------------------------------------------------------------

export interface RunResult extends Exit {
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs a command to completion (SIGKILL after timeoutMs) and returns its exit and output. */
export async function run(cmd: string[], timeoutMs: number, cwd = ROOT): Promise<RunResult> {
  const child = spawn(cmd[0]!, cmd.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const out = capture(child.stdout);
  const err = capture(child.stderr);
  let timedOut = false;
  const t = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const exit = await exitOf(child);
  clearTimeout(t);
  // Let the pipes drain after exit.
  await new Promise((r) => setTimeout(r, 20));
  return { ...exit, stdout: tailOf(out, 1e9), stderr: tailOf(err, 1e9), timedOut };
}

/** Runs the compiled binary with args. */
export async function runBinary(args: string[], timeoutMs: number): Promise<RunResult> {
  return run([await ensureBinary(), ...args], timeoutMs);
}

// --- HTTP ------------------------------------------------------------------------------------

export async function httpGet(port: number, path: string): Promise<{ status: number; text: string; json: () => unknown }> {
  const r = await fetch(`http://${HOST}:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  const text = await r.text();
  return { status: r.status, text, json: () => JSON.parse(text) as unknown };
}

/** Polls fn until it returns a value other than undefined; throws with `what` (and extra context) on timeout. */
export async function until<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number, what: string, context?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${context ? "\n" + context() : ""}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// --- a line-oriented Stratum client ----------------------------------------------------------

/** One JSON line from the server (fields unchecked: tests assert them). */
export type Msg = { id?: unknown; method?: string; params?: unknown[]; result?: unknown; error?: unknown; [k: string]: unknown };

export interface StratumClient {
  /** Every line received, parsed, in arrival order (unparsable lines appear as { unparsable: text }). */
  readonly received: Msg[];
  send(obj: unknown): void;
  /** Raw text written as is (one write): pipelined openings, malformed lines. */
  sendRaw(text: string): void;
  /** First message not yet taken by next() that matches pred (already received or future). */
  next(pred: (m: Msg) => boolean, timeoutMs?: number, what?: string): Promise<Msg>;
  isClosed(): boolean;
  /** Resolves when the server closes the socket; rejects on timeout. */
  waitClosed(timeoutMs?: number): Promise<void>;
  close(): void;
}

export const byId = (id: unknown) => (m: Msg) => m.id === id && m.method === undefined;
export const byMethod = (method: string) => (m: Msg) => m.method === method;

/** `tls`: connect with node:tls using these options (e.g. { rejectUnauthorized: false } for a self-signed cert); resolves after the handshake. */
export function connectStratum(port: number, relay?: RelayProcess, o: { tls?: ConnectionOptions } = {}): Promise<StratumClient & { sock: Socket }> {
  return new Promise((resolve, reject) => {
    const sock: Socket = o.tls !== undefined ? tlsConnect({ host: HOST, port, ...o.tls }) : createConnection({ host: HOST, port });
    const received: Msg[] = [];
    const taken = new Set<number>();
    const listeners = new Set<() => void>();
    let partial = "";
    let closed = false;
    const notify = () => {
      for (const l of [...listeners]) l();
    };
    sock.setEncoding("utf8");
    sock.setNoDelay(true);
    sock.on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) {
        if (line.trim() === "") continue;
        try {
          received.push(JSON.parse(line) as Msg);
        } catch {
          received.push({ unparsable: line });
        }
      }
      notify();
    });
    sock.on("close", () => {
      closed = true;
      notify();
    });
    sock.on("error", () => {
      // A reset is a close as far as the tests are concerned ("close" follows).
    });
    const context = () =>
      `client received (last 12): \n${received.slice(-12).map((m) => JSON.stringify(m)).join("\n")}\nclosed=${closed}` +
      (relay ? "\n" + relay.tail() : "");

    const client: StratumClient & { sock: Socket } = {
      sock,
      received,
      send(obj) {
        sock.write(JSON.stringify(obj) + "\n");
      },
      sendRaw(text) {
        sock.write(text);
      },
      next(pred, timeoutMs = 5000, what = "a matching message") {
        return new Promise((res, rej) => {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const check = () => {
            for (let i = 0; i < received.length; i++) {
              if (taken.has(i) || !pred(received[i]!)) continue;
              taken.add(i);
              done();
              return res(received[i]!);
            }
            if (closed) {
              done();
              rej(new Error(`connection closed while waiting for ${what}\n${context()}`));
            }
          };
          const done = () => {
            listeners.delete(check);
            if (timer) clearTimeout(timer);
          };
          listeners.add(check);
          timer = setTimeout(() => {
            done();
            rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${context()}`));
          }, timeoutMs);
          check();
        });
      },
      isClosed: () => closed,
      waitClosed(timeoutMs = 5000) {
        return waitUntil(listeners, () => closed, timeoutMs, () => `timed out after ${timeoutMs} ms waiting for the server to close\n${context()}`);
      },
      close() {
        sock.destroy();
      },
    };
    let connected = false;
    sock.once(o.tls !== undefined ? "secureConnect" : "connect", () => {
      connected = true;
      resolve(client);
    });
    sock.once("error", (e) => {
      if (!connected) reject(new Error(`connect ${HOST}:${port}: ${e.message}${relay ? "\n" + relay.tail() : ""}`));
    });
  });
}

// --- jobs and shares -------------------------------------------------------------------------

/** mining.notify params by name. */
export interface Job {
  jobId: string;
  prevhash: string;
  coinb1: string;
  coinb2: string;
  branch: string[];
  version: string;
  nbits: string;
  ntime: string;
  clean: boolean;
}

export function notifyJob(m: Msg): Job {
  const p = m.params;
  if (m.method !== "mining.notify" || !Array.isArray(p) || p.length < 9) throw new Error(`not a mining.notify: ${JSON.stringify(m)}`);
  return {
    jobId: p[0] as string,
    prevhash: p[1] as string,
    coinb1: p[2] as string,
    coinb2: p[3] as string,
    branch: p[4] as string[],
    version: p[5] as string,
    nbits: p[6] as string,
    ntime: p[7] as string,
    clean: p[8] as boolean,
  };
}

export interface Share {
  extranonce2: string;
  ntime: string;
  nonce: number;
  /** The final header version hashed (job version with rolled bits). */
  version: number;
  /** Raw (little-endian) sha256d of the header, as computeShareHash returns it. */
  hash: Uint8Array;
  /** Display-order block hash (what the relay logs and lists). */
  hashHex: string;
}

export const shareTarget = (difficulty: number): bigint => difficultyToTarget(difficulty);
export const networkTarget = (job: Job): bigint => bitsToTarget(hexToU32(job.nbits));

/** notify prevhash → header order (each 4-byte word byte-swapped back). */
function unswap(hex: string): Uint8Array {
  const b = hexToBytes(hex)!;
  const out = new Uint8Array(32);
  for (let w = 0; w < 32; w += 4) for (let k = 0; k < 4; k++) out[w + k] = b[w + 3 - k]!;
  return out;
}

/**
 * Searches nonces from `startNonce` up for a share whose hash meets (meets=true) or misses (meets=false)
 * `target`. The loop rebuilds the header itself for speed, and the winner is re-hashed with the client's
 * computeShareHash, so a wrong header here throws instead of producing a wrong expectation.
 */
export function findShare(
  job: Job,
  extranonce1: string,
  extranonce2: string,
  o: { target: bigint; meets: boolean; version?: number; startNonce?: number; maxTries?: number; accept?: (nonce: number) => boolean },
): Share {
  const version = o.version ?? hexToU32(job.version);
  const ntime = hexToU32(job.ntime);
  const coinbase = hexToBytes(job.coinb1 + extranonce1 + extranonce2 + job.coinb2);
  if (!coinbase) throw new Error("findShare: malformed coinbase hex");
  const cbHash = new Uint8Array(32);
  sha256d(sha, coinbase, cbHash);
  const branch = new Uint8Array(32 * job.branch.length);
  job.branch.forEach((h, i) => branch.set(hexToBytes(h)!, 32 * i));
  const root = new Uint8Array(32);
  merkleRootFromBranch(cbHash, branch, sha, root);
  const header = new Uint8Array(80);
  writeHeader(header, version, unswap(job.prevhash), root, ntime, hexToU32(job.nbits), 0);
  const targetLE = targetToLE(o.target);
  const hash = new Uint8Array(32);
  const max = o.maxTries ?? 50_000_000;
  let nonce = o.startNonce ?? 0;
  for (let i = 0; i < max; i++, nonce = (nonce + 1) >>> 0) {
    if (o.accept && !o.accept(nonce)) continue;
    writeU32LE(header, 76, nonce);
    sha256d(sha, header, hash);
    if (hashMeetsTarget(hash, targetLE) !== o.meets) continue;
    const check = computeShareHash(job, extranonce1, extranonce2, ntime, nonce, version, sha);
    if (bytesToHexReversed(check) !== bytesToHexReversed(hash)) throw new Error("findShare: header built here disagrees with computeShareHash");
    return { extranonce2, ntime: job.ntime, nonce, version, hash: check, hashHex: bytesToHexReversed(check) };
  }
  throw new Error(`findShare: no nonce ${o.meets ? "meeting" : "missing"} the target in ${max} tries`);
}

/** mining.submit params [worker, job, en2, ntime, nonce(, versionBits)], nonce zero-padded to 8 hex unless given. */
export function submitParams(worker: string, job: Job, s: Share, nonceHex = u32ToHex(s.nonce), versionBits?: string): unknown[] {
  const p: unknown[] = [worker, job.jobId, s.extranonce2, s.ntime, nonceHex];
  if (versionBits !== undefined) p.push(versionBits);
  return p;
}

/** The usual opening, pipelined: subscribe (id 1) + authorize (id 2); resolves with extranonce1/size, the first difficulty and job. */
export async function handshake(
  c: StratumClient,
  o: { user: string; password?: string; agent?: string },
): Promise<{ extranonce1: string; extranonce2Size: number; difficulty: number; job: Job }> {
  c.sendRaw(
    JSON.stringify({ id: 1, method: "mining.subscribe", params: o.agent === undefined ? [] : [o.agent] }) + "\n" +
      JSON.stringify({ id: 2, method: "mining.authorize", params: [o.user, o.password ?? "x"] }) + "\n",
  );
  const sub = await c.next(byId(1), 5000, "subscribe result");
  const auth = await c.next(byId(2), 5000, "authorize result");
  if (auth.result !== true) throw new Error(`authorize refused: ${JSON.stringify(auth)}`);
  const r = sub.result as [unknown, string, number];
  const diff = await c.next(byMethod("mining.set_difficulty"), 5000, "mining.set_difficulty");
  const job = notifyJob(await c.next(byMethod("mining.notify"), 5000, "mining.notify"));
  return { extranonce1: r[1], extranonce2Size: r[2], difficulty: (diff.params as number[])[0]!, job };
}

export function zeroExtranonce2(size: number, last = 0): string {
  return last.toString(16).padStart(size * 2, "0");
}

/** Value of one Prometheus sample `name{labels}` (labels given in the order rendered), or undefined when absent. */
export function metricValue(text: string, name: string, labels = ""): number | undefined {
  const key = labels === "" ? name : `${name}{${labels}}`;
  for (const line of text.split("\n")) {
    if (line.startsWith(key + " ")) return Number(line.slice(key.length + 1));
  }
  return undefined;
}

/** Resolves once `ready()` holds, re-checked whenever a listener in `listeners` is called; rejects with `message()` after timeoutMs. */
export function waitUntil(listeners: Set<() => void>, ready: () => boolean, timeoutMs: number, message: () => string): Promise<void> {
  return new Promise((res, rej) => {
    if (ready()) return res();
    const timer = setTimeout(() => {
      listeners.delete(check);
      rej(new Error(message()));
    }, timeoutMs);
    const check = () => {
      if (!ready()) return;
      listeners.delete(check);
      clearTimeout(timer);
      res();
    };
    listeners.add(check);
  });
}
