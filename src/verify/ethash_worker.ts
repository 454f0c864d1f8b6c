// Worker thread of the ethash verifier: builds light caches into shared memory and runs hashimoto (two queued shares at a time); no sockets, no logging.
import { normalJitPolicy } from "../runtime/jit_policy.ts";
import { hashimotoLight, hashimotoLightPair, makeCache } from "../../protocols/pow/ethash.ts";
import type { HashimotoResult } from "../../protocols/pow/ethash.ts";

/** Messages from the main thread (see ethash_verifier.ts). */
export type ToWorker =
  | { t: "build"; key: string; size: number; seed: Uint8Array; sab: SharedArrayBuffer }
  | { t: "cache"; key: string; sab: SharedArrayBuffer; words: number }
  | { t: "drop"; key: string }
  | { t: "verify"; id: number; key: string; fullSize: number; header: Uint8Array; nonce: Uint8Array };

export type FromWorker =
  | { t: "progress"; key: string; fraction: number }
  | { t: "built"; key: string; ms: number }
  | { t: "result"; id: number; mix: Uint8Array; result: Uint8Array }
  | { t: "error"; id?: number; key?: string; message: string };

/** A verify request waiting its turn; the cache is resolved on arrival so a later "drop" cannot strand it. */
interface Job {
  id: number;
  cache: Uint32Array;
  fullSize: number;
  header: Uint8Array;
  nonce: Uint8Array;
}

const caches = new Map<string, Uint32Array>();
const post = (m: FromWorker) => (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);

/*
 * Verify requests are queued and drained one macrotask step at a time (at most two shares per step),
 * so requests that arrived during a step are delivered to onmessage before the next step and can be
 * paired. Two shares through hashimotoLightPair overlap their cache misses: ~1.85 ms per share
 * amortized against ~2.15 ms for lone calls (bench/ethash.ts). A lone request still runs alone, at
 * single-call latency; a 1000-share burst over 2 workers ran as 250 pairs per worker, 0–2 singles.
 * setImmediate (Bun, Node) runs after pending I/O and messages; setTimeout(0) is the portable fallback.
 */
const queue: Job[] = [];
let head = 0;
let scheduled = false;
const later: (f: () => void) => void =
  typeof (globalThis as { setImmediate?: unknown }).setImmediate === "function"
    ? (f) => (globalThis as unknown as { setImmediate(f: () => void): void }).setImmediate(f)
    : (f) => setTimeout(f, 0);

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  later(step);
}

const answer = (job: Job, r: HashimotoResult) => post({ t: "result", id: job.id, mix: r.mixDigest, result: r.result });

/** Runs the oldest job, paired with the next one that shares its cache and dataset size when there is one. */
function step(): void {
  scheduled = false;
  const a = queue[head++];
  if (a === undefined) return;
  let b: Job | undefined;
  for (let k = head; k < queue.length; k++) {
    const c = queue[k] as Job;
    if (c.cache === a.cache && c.fullSize === a.fullSize) {
      b = c;
      // Keep FIFO for the rest: move the skipped jobs up one slot over the taken one.
      for (let m = k; m > head; m--) queue[m] = queue[m - 1] as Job;
      head++;
      break;
    }
  }
  if (head === queue.length) {
    queue.length = 0;
    head = 0;
  } else if (head >= 1024) {
    queue.splice(0, head); // a backlog that never empties must not grow the array forever
    head = 0;
  }
  try {
    if (b === undefined) {
      answer(a, hashimotoLight(a.fullSize, a.cache, a.header, a.nonce));
    } else {
      const [ra, rb] = hashimotoLightPair(a.fullSize, a.cache, a.header, a.nonce, b.header, b.nonce);
      answer(a, ra);
      answer(b, rb);
    }
  } catch (err) {
    post({ t: "error", id: a.id, message: String(err) });
    if (b !== undefined) post({ t: "error", id: b.id, message: String(err) });
  }
  if (head < queue.length) schedule();
}

// A worker thread is ready once loaded: its hot code (hashing, commits, sessions) compiles as usual.
normalJitPolicy();

self.onmessage = (e: MessageEvent<ToWorker>) => {
  const m = e.data;
  try {
    switch (m.t) {
      case "build": {
        const t0 = performance.now();
        const view = new Uint32Array(m.sab, 0, m.size / 4);
        const c = makeCache(m.size, m.seed, view, (fraction) => post({ t: "progress", key: m.key, fraction }));
        if (c === undefined) return post({ t: "error", key: m.key, message: `bad cache parameters (size ${m.size})` });
        caches.set(m.key, view);
        return post({ t: "built", key: m.key, ms: performance.now() - t0 });
      }
      case "cache":
        caches.set(m.key, new Uint32Array(m.sab, 0, m.words));
        return;
      case "drop":
        caches.delete(m.key);
        return;
      case "verify": {
        const cache = caches.get(m.key);
        if (cache === undefined) return post({ t: "error", id: m.id, message: `no cache ${m.key} in worker` });
        queue.push({ id: m.id, cache, fullSize: m.fullSize, header: m.header, nonce: m.nonce });
        return schedule();
      }
    }
  } catch (err) {
    post({ t: "error", id: m.t === "verify" ? m.id : undefined, message: String(err) });
  }
};
