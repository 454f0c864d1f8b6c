// Push-based newline framer: bytes in, complete UTF-8 lines out, with a per-line byte cap; it does not parse JSON or own a socket.

/** Result of one push: the lines completed by this chunk, and whether the line cap was exceeded. */
export interface FramerOutput {
  lines: string[];
  /** True once a line grew past maxLineBytes; the framer then drops everything and the caller should close. */
  overflow: boolean;
}

export interface LineFramer {
  push(chunk: Uint8Array): FramerOutput;
  /** Bytes of the current partial line held in the carry buffer. */
  readonly buffered: number;
}

export interface LineFramerOptions {
  /** Largest line accepted, in bytes, counted before the "\n" (a trailing "\r" counts). Default 16384. */
  maxLineBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 16384;

const NL = 10;
const CR = 13;

/**
 * Creates a framer. Lines are terminated by "\n"; one trailing "\r" is stripped; empty and
 * whitespace-only lines are skipped. The cap is checked on bytes since the last "\n" so the result
 * does not depend on how the stream was chunked (a line split into 1-byte pushes overflows exactly
 * when the same line in one push does).
 */
export function createLineFramer(opts?: LineFramerOptions): LineFramer {
  const max = opts?.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${max}`);
  // Non-fatal: invalid UTF-8 becomes U+FFFD and then fails JSON/param validation downstream as a typed error.
  const decoder = new TextDecoder("utf-8");
  // Carry for the partial line; grows on demand up to max+1 bytes, never beyond (the cap bounds memory per connection).
  let carry = new Uint8Array(256);
  let carryLen = 0;
  let overflowed = false;

  function appendCarry(src: Uint8Array, from: number, to: number): void {
    const need = carryLen + (to - from);
    if (need > carry.length) {
      // Double, but never past the cap: push() checks need <= max before calling.
      const next = new Uint8Array(Math.max(need, Math.min(carry.length * 2, max)));
      next.set(carry.subarray(0, carryLen));
      carry = next;
    }
    carry.set(src.subarray(from, to), carryLen);
    carryLen = need;
  }

  function fail(lines: string[]): FramerOutput {
    overflowed = true;
    carryLen = 0;
    carry = new Uint8Array(0);
    return { lines, overflow: true };
  }

  function push(chunk: Uint8Array): FramerOutput {
    if (overflowed) return { lines: [], overflow: true };
    const len = chunk.length;
    if (len === 0) return { lines: [], overflow: false };
    const lines: string[] = [];
    let start = 0;

    if (carryLen > 0) {
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        if (carryLen + len > max) return fail(lines);
        appendCarry(chunk, 0, len);
        return { lines, overflow: false };
      }
      if (carryLen + nl > max) return fail(lines);
      appendCarry(chunk, 0, nl);
      addLine(lines, decoder.decode(carry.subarray(0, carryLen)));
      carryLen = 0;
      start = nl + 1;
    }

    // Scan the complete lines of this chunk for the cap, then decode them in one call and split:
    // measured 10-15 M lines/s against 6-7 M/s for one decode per line (bun 1.4, 125-byte submits).
    let lineStart = start;
    let lastNl = -1;
    for (;;) {
      const nl = chunk.indexOf(NL, lineStart);
      if (nl < 0) break;
      if (nl - lineStart > max) {
        if (lastNl >= start) splitInto(lines, decoder.decode(chunk.subarray(start, lastNl)));
        return fail(lines);
      }
      lastNl = nl;
      lineStart = nl + 1;
    }
    if (lastNl >= start) splitInto(lines, decoder.decode(chunk.subarray(start, lastNl)));

    const rest = len - lineStart;
    if (rest > 0) {
      if (rest > max) return fail(lines);
      appendCarry(chunk, lineStart, len);
    }
    return { lines, overflow: false };
  }

  return {
    push,
    get buffered() {
      return carryLen;
    },
  };
}

function splitInto(out: string[], text: string): void {
  // Single line: skip the split allocation.
  if (text.indexOf("\n") < 0) {
    addLine(out, text);
    return;
  }
  const parts = text.split("\n");
  for (let i = 0; i < parts.length; i++) addLine(out, parts[i]!);
}

function addLine(out: string[], line: string): void {
  let s = line;
  if (s.length > 0 && s.charCodeAt(s.length - 1) === CR) s = s.slice(0, -1);
  if (s.length === 0) return;
  // Fast path: JSON lines start with "{"; only other first chars pay for the whitespace check.
  const c = s.charCodeAt(0);
  if (c !== 123 && s.trim().length === 0) return;
  out.push(s);
}
