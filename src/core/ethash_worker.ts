// Worker thread of the ethash verifier: builds light caches into shared memory and runs hashimoto; no sockets, no logging.
import { hashimotoLight, makeCache } from "../../protocols/pow/ethash.ts";

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

const caches = new Map<string, Uint32Array>();
const post = (m: FromWorker) => (self as unknown as { postMessage(m: FromWorker): void }).postMessage(m);

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
        const r = hashimotoLight(m.fullSize, cache, m.header, m.nonce);
        return post({ t: "result", id: m.id, mix: r.mixDigest, result: r.result });
      }
    }
  } catch (err) {
    post({ t: "error", id: m.t === "verify" ? m.id : undefined, message: String(err) });
  }
};
