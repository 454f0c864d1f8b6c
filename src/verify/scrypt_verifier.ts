// Scrypt proof of work off the event loop: a pool of worker threads hashing 80-byte headers; no protocol logic.
import type { ScryptVerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import type { Logger } from "../observe/log.ts";
import type { FromScryptWorker, ToScryptWorker } from "./scrypt_worker.ts";

export interface ScryptVerifier {
  verify(req: ScryptVerifyRequest): Promise<VerifyResult>;
  stats(): { threads: number; queued: number; verified: number };
  stop(): void;
}

/**
 * Measured 200–550 µs per scrypt hash here: at a few thousand shares a second that is whole cores,
 * so hashing happens on `threads` workers (default: one per CPU), least-busy first.
 */
export function createScryptVerifier(opts: { threads?: number; log: Logger; workerUrl?: string | URL }): ScryptVerifier {
  const n = Math.max(1, opts.threads ?? (globalThis.navigator?.hardwareConcurrency ?? 2));
  const url = opts.workerUrl ?? new URL("./scrypt_worker.ts", import.meta.url).href;
  const pending = new Map<number, { resolve: (r: VerifyResult) => void; slot: { busy: number } }>();
  const slots: { worker: Worker; busy: number }[] = [];
  let nextId = 1;
  let verified = 0;
  for (let i = 0; i < n; i++) {
    const worker = new Worker(url, { type: "module", smol: true } as WorkerOptions);
    const slot = { worker, busy: 0 };
    worker.onmessage = (e: MessageEvent<FromScryptWorker>) => {
      const p = pending.get(e.data.id);
      if (p === undefined) return;
      pending.delete(e.data.id);
      slot.busy--;
      verified++;
      p.resolve(e.data.hash !== undefined ? { ok: true, result: e.data.hash } : { ok: false, error: e.data.error ?? "scrypt failed" });
    };
    worker.onerror = (e: ErrorEvent) => opts.log.error("scrypt worker error", { worker: i, error: e.message });
    (worker as { unref?: () => void }).unref?.();
    slots.push(slot);
  }
  return {
    verify(req) {
      const slot = slots.reduce((a, b) => (b.busy < a.busy ? b : a));
      const id = nextId++;
      slot.busy++;
      return new Promise((resolve) => {
        pending.set(id, { resolve, slot });
        const m: ToScryptWorker = { id, header: req.header };
        slot.worker.postMessage(m);
      });
    },
    stats: () => ({ threads: n, queued: pending.size, verified }),
    stop() {
      for (const s of slots) s.worker.terminate();
      for (const p of pending.values()) p.resolve({ ok: false, error: "verifier stopped" });
      pending.clear();
    },
  };
}
