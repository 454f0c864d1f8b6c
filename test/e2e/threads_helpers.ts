// Helpers for the session-thread end-to-end tests: which thread served a connection (read from its extranonce slice), Stratum v1 openings on raw sockets from a chosen source, shares that are valid but no block, /api/stats reads; no assertions.
import { rawConnect, line, type RawConn } from "./abuse_helpers.ts";
import { byId, byMethod, findShare, httpGet, networkTarget, notifyJob, shareTarget, type Job, type Share } from "./helpers.ts";
import { hashMeetsTarget, targetToLE } from "../../protocols/pow/target.ts";

/**
 * The thread that handed out `hex` (an extranonce1 / EthereumStratum extranonce): the relay splits
 * the value space into `count` equal slices, slice i = thread i (0 = main), see
 * src/pools/extranonce.ts. This is the only thing a client can observe about which thread serves it.
 */
export function sliceOf(hex: string, count: number): number {
  const whole = 2 ** (4 * hex.length);
  const space = Math.floor(whole / count);
  return Math.floor(parseInt(hex, 16) / space);
}

export interface V1Conn {
  readonly conn: RawConn;
  readonly en1: string;
  readonly en2Size: number;
  readonly difficulty: number;
  /** The first job. */
  readonly job: Job;
  /** The thread serving it (extranonce1 slice). */
  readonly thread: number;
  readonly user: string;
}

/** Connects (optionally from `localAddress`), pipelines subscribe (id 1) + authorize (id 2), waits for set_difficulty and the first notify. */
export async function openV1(
  port: number,
  count: number,
  o: { user: string; password?: string; localAddress?: string },
): Promise<V1Conn> {
  const c = await rawConnect(port, o.localAddress !== undefined ? { localAddress: o.localAddress } : {});
  c.write(line({ id: 1, method: "mining.subscribe", params: ["threads-e2e/1.0"] }) + line({ id: 2, method: "mining.authorize", params: [o.user, o.password ?? "x"] }));
  const sub = await c.next(byId(1), 10_000, "subscribe result");
  const auth = await c.next(byId(2), 10_000, "authorize result");
  if (auth.result !== true) throw new Error(`authorize refused: ${JSON.stringify(auth)}`);
  const [, en1, en2Size] = sub.result as [unknown, string, number];
  const diff = await c.next(byMethod("mining.set_difficulty"), 10_000, "mining.set_difficulty");
  const job = notifyJob(await c.next(byMethod("mining.notify"), 10_000, "mining.notify"));
  return { conn: c, en1, en2Size, difficulty: (diff.params as number[])[0]!, job, thread: sliceOf(en1, count), user: o.user };
}

/** Runs `f(i)` for i < n, at most `batch` at once (a burst of hundreds of SYNs on a 2-CPU box only adds retransmits). */
export async function inBatches<T>(n: number, batch: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += batch) {
    const part = await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, k) => f(i + k)));
    out.push(...part);
  }
  return out;
}

/**
 * A share meeting the share target but NOT the network target: at the default devnet bits a
 * share of difficulty 1e-6 is a block once in ~4000, which would move the chain mid-test.
 */
export function validNonBlockShare(job: Job, en1: string, en2: string, difficulty: number): Share {
  const net = targetToLE(networkTarget(job));
  let start = 0;
  for (let i = 0; i < 100; i++) {
    const s = findShare(job, en1, en2, { target: shareTarget(difficulty), meets: true, startNonce: start });
    if (!hashMeetsTarget(s.hash, net)) return s;
    start = s.nonce + 1;
  }
  throw new Error("validNonBlockShare: every share found was a block");
}

export interface ThreadStats {
  connections: number;
  connectionsByThread?: number[];
  pool: { accepted: number; rejected: number; rejectedByReason: Record<string, number>; height: number; blocks: { hash: string; result?: { accepted: boolean } }[] };
  eth?: { accepted: number; rejected: number; rejectedByReason: Record<string, number>; verifier?: { cacheBuilds?: number } };
}

export async function stats(httpPort: number): Promise<ThreadStats> {
  return (await httpGet(httpPort, "/api/stats")).json() as ThreadStats;
}

/** How many of `xs` each of `count` threads serves. */
export function perThread(xs: { thread: number }[], count: number): number[] {
  const n = new Array<number>(count).fill(0);
  for (const x of xs) n[x.thread] = (n[x.thread] ?? 0) + 1;
  return n;
}
