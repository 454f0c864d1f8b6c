// Runtime pieces identical on Bun, Deno and Node: the real clock and node:fs file helpers; no sockets, no runtime globals.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import type { Clock, Files } from "./types.ts";

/** Wall-clock milliseconds (Date.now, not performance.now: timestamps are compared with ntime and logged). */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (id) => clearInterval(id as ReturnType<typeof setInterval>),
};

/** node:fs helpers: Bun and Deno both implement node:fs, so one implementation serves all three. */
export const nodeFiles: Files = {
  mkdirp(path) {
    mkdirSync(path, { recursive: true });
  },
  appendDurable(path, text) {
    // open(O_APPEND) + write + fsync + close: a found-block record is on disk before we return.
    const fd = openSync(path, "a");
    try {
      const bytes = new TextEncoder().encode(text);
      let off = 0;
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  },
  readText(path) {
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw e;
    }
  },
  writeText(path, text) {
    writeFileSync(path, text);
  },
  readBytes(path) {
    try {
      return new Uint8Array(readFileSync(path));
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw e;
    }
  },
  writeBytesAtomic(path, data) {
    // Write then rename: a crash mid-write never leaves a truncated file under the real name.
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  },
};

/** "::ffff:1.2.3.4" (IPv4-mapped, seen when a dual-stack socket accepts IPv4) → "1.2.3.4", so bans and per-address limits see one form. */
const interned = new Map<string, string>();

/**
 * `::ffff:1.2.3.4` → `1.2.3.4`. Interned: thousands of miners behind one NAT address then share
 * one string (measured ~40 bytes per connection saved; idle memory per miner is a target).
 */
export function normalizeAddress(a: string | undefined): string {
  if (!a) return "";
  let n = interned.get(a);
  if (n === undefined) {
    n = a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
    if (interned.size >= 65536) interned.clear();
    interned.set(a, n);
  }
  return n;
}
