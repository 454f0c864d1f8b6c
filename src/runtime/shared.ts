// Runtime pieces identical on Bun, Deno and Node: the real clock and node:fs file helpers; no sockets, no runtime globals.
import { accessSync, closeSync, constants as fsConstants, fdatasyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from "node:fs";
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
/** Append-only journals keep their descriptor open (one per path, for the life of the process). */
const durableFds = new Map<string, number>();

export const nodeFiles: Files = {
  mkdirp(path) {
    mkdirSync(path, { recursive: true });
  },
  appendDurable(path, text) {
    // write + fdatasync on a descriptor kept open per file: a found-block record is on disk before
    // we return, without paying open/close on the block-submission path (measured p99 ~0.26 ms idle).
    let fd = durableFds.get(path);
    if (fd === undefined) {
      fd = openSync(path, "a");
      durableFds.set(path, fd);
    }
    const bytes = new TextEncoder().encode(text);
    let off = 0;
    try {
      while (off < bytes.byteLength) off += writeSync(fd, bytes, off, bytes.byteLength - off);
      fdatasyncSync(fd);
    } catch (e) {
      // A stale descriptor (file removed or rotated): reopen once and write the whole record again.
      durableFds.delete(path);
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      if (off > 0) throw e;
      const again = openSync(path, "a");
      durableFds.set(path, again);
      while (off < bytes.byteLength) off += writeSync(again, bytes, off, bytes.byteLength - off);
      fdatasyncSync(again);
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
  readHead(path, bytes) {
    let fd: number;
    try {
      fd = openSync(path, "r");
    } catch (e) {
      if ((e as { code?: string }).code === "ENOENT") return undefined;
      throw e;
    }
    try {
      const buf = new Uint8Array(bytes);
      let n = 0;
      for (let k; n < bytes && (k = readSync(fd, buf, n, bytes - n, n)) > 0; ) n += k;
      return buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  },
  writable(path) {
    try {
      accessSync(path, fsConstants.W_OK);
      return true;
    } catch {
      return false;
    }
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

/** A TLS failure as one line: certificate errors name OpenSSL's code (DEPTH_ZERO_SELF_SIGNED_CERT, ERR_TLS_CERT_ALTNAME_INVALID…). */
export function tlsErrorText(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown } | undefined;
  const code = typeof err?.code === "string" ? err.code : "";
  const msg = typeof err?.message === "string" ? err.message : String(e);
  if (/CERT|SELF_SIGNED|ISSUER|VERIFY|ALTNAME|EXPIRED|UNABLE_TO/.test(code)) return `TLS certificate refused: ${code} (${msg})`;
  return code !== "" && !msg.includes(code) ? `${msg} (${code})` : msg;
}
