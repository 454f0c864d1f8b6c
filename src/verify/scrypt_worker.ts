// Worker thread of the scrypt verifier: Litecoin-style scrypt(N=1024, r=1, p=1) of 80-byte headers; no sockets, no logging.
import { normalJitPolicy } from "../runtime/jit_policy.ts";
import { scryptPow } from "../../protocols/pow/scrypt.ts";

export type ToScryptWorker = { id: number; header: Uint8Array };
export type FromScryptWorker = { id: number; hash?: Uint8Array; error?: string };

const post = (m: FromScryptWorker) => (self as unknown as { postMessage(m: FromScryptWorker): void }).postMessage(m);

// A worker thread is ready once loaded: its hot code (hashing, commits, sessions) compiles as usual.
normalJitPolicy();

self.onmessage = (e: MessageEvent<ToScryptWorker>) => {
  const { id, header } = e.data;
  try {
    const out = new Uint8Array(32);
    scryptPow(header, out);
    post({ id, hash: out });
  } catch (err) {
    post({ id, error: String(err) });
  }
};
