// Ethash/etchash verification off the event loop: a pool of worker threads sharing light caches (SharedArrayBuffer); no protocol logic.
import type { EthashVerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import { bytesToHex } from "../../protocols/pow/hex.ts";
import type { Files } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { FromWorker, ToWorker } from "./ethash_worker.ts";

export interface EthashVerifier {
  verify(req: EthashVerifyRequest): Promise<VerifyResult>;
  /** Build (or load) the cache for an epoch ahead of need: the current one at start, the next one early. */
  prepare(seed: Uint8Array, cacheSize: number, label: string): Promise<void>;
  /** Caches held in memory (≤ 3: previous, current, next). */
  cached(): string[];
  stats(): { threads: number; queued: number; verified: number; cacheBuilds: number; cacheBuildMs: number[] };
  stop(): void;
}

interface Cache {
  key: string;
  label: string;
  size: number;
  sab: SharedArrayBuffer;
  ready: Promise<void>;
  lastUsed: number;
  /** Workers that were handed this cache's memory. */
  sharedWith: Set<number>;
}

interface Slot {
  worker: Worker;
  busy: number;
  index: number;
}

const KEEP_CACHES = 3;

/**
 * `threads` workers (default: CPU count) verify in parallel; each cache is built once, in a worker,
 * into shared memory every worker reads. Cache files in `cacheDir` (when given) skip the rebuild
 * after a restart: a 16 MB epoch-0 cache takes seconds to build, a read takes milliseconds.
 */
export function createEthashVerifier(opts: {
  threads?: number;
  log: Logger;
  files?: Files;
  cacheDir?: string;
  workerUrl?: string | URL;
}): EthashVerifier {
  const n = Math.max(1, opts.threads ?? (globalThis.navigator?.hardwareConcurrency ?? 2));
  const url = opts.workerUrl ?? new URL("./ethash_worker.ts", import.meta.url).href;
  const slots: Slot[] = [];
  const pending = new Map<number, { resolve: (r: VerifyResult) => void; slot: Slot }>();
  const builds = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  const caches = new Map<string, Cache>();
  let nextId = 1;
  let verified = 0;
  const buildMs: number[] = [];
  let lastProgressLog = 0;

  const send = (slot: Slot, m: ToWorker) => slot.worker.postMessage(m);

  function onMessage(slot: Slot, m: FromWorker): void {
    switch (m.t) {
      case "result": {
        const p = pending.get(m.id);
        if (p === undefined) return;
        pending.delete(m.id);
        slot.busy--;
        verified++;
        p.resolve({ ok: true, mixDigest: m.mix, result: m.result });
        return;
      }
      case "progress": {
        const now = Date.now();
        if (now - lastProgressLog >= 2000 || m.fraction >= 1) {
          lastProgressLog = now;
          opts.log.info("building ethash cache", { cache: caches.get(m.key)?.label ?? m.key, percent: Math.round(m.fraction * 100) });
        }
        return;
      }
      case "built": {
        slot.busy--;
        buildMs.push(Math.round(m.ms));
        const c = caches.get(m.key);
        if (c !== undefined) c.sharedWith.add(slot.index);
        builds.get(m.key)?.resolve();
        builds.delete(m.key);
        return;
      }
      case "error": {
        if (m.id !== undefined) {
          const p = pending.get(m.id);
          if (p !== undefined) {
            pending.delete(m.id);
            slot.busy--;
            p.resolve({ ok: false, error: m.message });
          }
        } else if (m.key !== undefined) {
          slot.busy--;
          builds.get(m.key)?.reject(new Error(m.message));
          builds.delete(m.key);
        }
        return;
      }
    }
  }

  /**
   * Threads start with the first cache or verification, not with the verifier: a Bun worker costs
   * ~10 MB resident, and an edge serving only Bitcoin-family miners never needs one (issue 13).
   */
  let stopped = false;
  function ensureWorkers(): void {
    if (stopped) throw new Error("verifier stopped");
    if (slots.length > 0) return;
    for (let i = 0; i < n; i++) {
      const worker = new Worker(url, { type: "module", smol: true } as WorkerOptions);
      const slot: Slot = { worker, busy: 0, index: i };
      worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(slot, e.data);
      worker.onerror = (e: ErrorEvent) => opts.log.error("ethash worker error", { worker: i, error: e.message });
      // A verifier thread must not keep the process alive on shutdown.
      (worker as { unref?: () => void }).unref?.();
      slots.push(slot);
    }
  }

  const leastBusy = () => slots.reduce((a, b) => (b.busy < a.busy ? b : a));

  function evict(): void {
    if (caches.size <= KEEP_CACHES) return;
    const old = [...caches.values()].sort((a, b) => a.lastUsed - b.lastUsed);
    while (caches.size > KEEP_CACHES) {
      const c = old.shift()!;
      caches.delete(c.key);
      for (const s of slots) send(s, { t: "drop", key: c.key });
      opts.log.info("dropped ethash cache", { cache: c.label });
    }
  }

  function cacheFor(seed: Uint8Array, size: number, label: string): Cache {
    ensureWorkers();
    const key = `${bytesToHex(seed)}-${size}`;
    let c = caches.get(key);
    if (c !== undefined) {
      c.lastUsed = Date.now();
      return c;
    }
    const sab = new SharedArrayBuffer(size);
    const file = opts.cacheDir !== undefined ? `${opts.cacheDir}/ethash-${key}.bin` : undefined;
    let ready: Promise<void>;
    const saved = file !== undefined && opts.files !== undefined ? safeRead(opts.files, file) : undefined;
    const entry: Cache = { key, label, size, sab, ready: Promise.resolve(), lastUsed: Date.now(), sharedWith: new Set() };
    if (saved !== undefined && saved.byteLength === size) {
      new Uint8Array(sab).set(saved);
      opts.log.info("loaded ethash cache", { cache: label, file });
      ready = Promise.resolve();
    } else {
      const slot = leastBusy();
      slot.busy++;
      opts.log.info("building ethash cache", { cache: label, bytes: size });
      ready = new Promise<void>((resolve, reject) => builds.set(key, { resolve, reject }));
      send(slot, { t: "build", key, size, seed, sab });
      if (file !== undefined && opts.files !== undefined) {
        const files = opts.files;
        ready = ready.then(() => {
          try {
            files.mkdirp(opts.cacheDir!);
            files.writeBytesAtomic(file, new Uint8Array(sab));
          } catch (e) {
            opts.log.warn("could not save ethash cache", { file, error: String(e) });
          }
        });
      }
    }
    entry.ready = ready;
    caches.set(key, entry);
    evict();
    return entry;
  }

  return {
    async verify(req) {
      let c: Cache;
      try {
        c = cacheFor(req.seed, req.cacheSize, `${req.algo} epoch ${req.epoch}`);
        await c.ready;
      } catch (e) {
        return { ok: false, error: `cache: ${String(e)}` };
      }
      if (slots.length === 0) return { ok: false, error: "verifier stopped" };
      const slot = leastBusy();
      if (!c.sharedWith.has(slot.index)) {
        send(slot, { t: "cache", key: c.key, sab: c.sab, words: c.size / 4 });
        c.sharedWith.add(slot.index);
      }
      const id = nextId++;
      slot.busy++;
      return new Promise<VerifyResult>((resolve) => {
        pending.set(id, { resolve, slot });
        send(slot, { t: "verify", id, key: c.key, fullSize: req.fullSize, header: req.headerHash, nonce: req.nonce });
      });
    },
    async prepare(seed, cacheSize, label) {
      await cacheFor(seed, cacheSize, label).ready;
    },
    cached: () => [...caches.values()].map((c) => c.label),
    stats: () => ({ threads: n, queued: pending.size, verified, cacheBuilds: buildMs.length, cacheBuildMs: buildMs.slice() }),
    stop() {
      stopped = true;
      for (const s of slots) s.worker.terminate();
      slots.length = 0;
      for (const p of pending.values()) p.resolve({ ok: false, error: "verifier stopped" });
      pending.clear();
    },
  };
}

function safeRead(files: Files, path: string): Uint8Array | undefined {
  try {
    return files.readBytes(path);
  } catch {
    return undefined;
  }
}
