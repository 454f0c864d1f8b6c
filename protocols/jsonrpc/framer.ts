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
/** The carry of a framer holding no partial line (shared: never written, replaced on first append). */
export const EMPTY_CARRY = new Uint8Array(0);
const EMPTY = EMPTY_CARRY;
const CR = 13;

// One decoder for every connection: decode() without {stream: true} keeps no state between calls
// (partial UTF-8 sequences stay in the carry bytes until their line completes).
const sharedDecoder = new TextDecoder("utf-8");

/**
 * A framer's whole state as plain fields, so a connection object can carry them itself instead of
 * holding a separate framer (idle memory per miner is a benchmark target: ~70 bytes saved each).
 */
export interface FramerState {
  max: number;
  carry: Uint8Array;
  carryLen: number;
  overflowed: boolean;
}

export function initFramerState<T extends object>(target: T, maxLineBytes = DEFAULT_MAX_LINE_BYTES): T & FramerState {
  if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
    throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
  }
  const f = target as T & FramerState;
  f.max = maxLineBytes;
  f.carry = EMPTY;
  f.carryLen = 0;
  f.overflowed = false;
  return f;
}
function appendCarry(f: FramerState, src: Uint8Array, from: number, to: number): void {
  const need = f.carryLen + (to - from);
  if (need > f.carry.length) {
    const next = new Uint8Array(Math.max(need, 256, Math.min(f.carry.length * 2, f.max)));
    next.set(f.carry.subarray(0, f.carryLen));
    f.carry = next;
  }
  f.carry.set(src.subarray(from, to), f.carryLen);
  f.carryLen = need;
}
function fail(f: FramerState, lines: string[]): FramerOutput {
  f.overflowed = true;
  f.carryLen = 0;
  f.carry = EMPTY;
  return { lines, overflow: true };
}
/**
 * Push bytes, get the lines they complete. Lines end at "\n"; one trailing "\r" is stripped; empty
 * and whitespace-only lines are skipped. The cap is checked on bytes since the last "\n", so the
 * result does not depend on how the stream was chunked (a line split into 1-byte pushes overflows
 * exactly when the same line in one push does).
 */
export function framerPush(f: FramerState, chunk: Uint8Array): FramerOutput {
  const max = f.max;
  const decoder = sharedDecoder;
  if (f.overflowed) return { lines: [], overflow: true };
  const len = chunk.length;
  if (len === 0) return { lines: [], overflow: false };
  const lines: string[] = [];
  let start = 0;
  if (f.carryLen > 0) {
    const nl = chunk.indexOf(NL);
    if (nl < 0) {
      if (f.carryLen + len > max) return fail(f, lines);
      appendCarry(f, chunk, 0, len);
      return { lines, overflow: false };
    }
    if (f.carryLen + nl > max) return fail(f, lines);
    appendCarry(f, chunk, 0, nl);
    addLine(lines, decoder.decode(f.carry.subarray(0, f.carryLen)));
    f.carryLen = 0;
    f.carry = EMPTY;
    start = nl + 1;
  }
  let lineStart = start;
  let lastNl = -1;
  for (;;) {
    const nl = chunk.indexOf(NL, lineStart);
    if (nl < 0) break;
    if (nl - lineStart > max) {
      if (lastNl >= start) splitInto(lines, decoder.decode(chunk.subarray(start, lastNl)));
      return fail(f, lines);
    }
    lastNl = nl;
    lineStart = nl + 1;
  }
  if (lastNl >= start) splitInto(lines, decoder.decode(chunk.subarray(start, lastNl)));
  const rest = len - lineStart;
  if (rest > 0) {
    if (rest > max) return fail(f, lines);
    appendCarry(f, chunk, lineStart, len);
  }
  return { lines, overflow: false };
}

const framerProto = {
  get buffered(): number {
    return (this as unknown as FramerState).carryLen;
  },
  push(chunk: Uint8Array): FramerOutput {
    return framerPush(this as unknown as FramerState, chunk);
  },
};

/** A standalone framer object (the connection core embeds FramerState in its own object instead). */
export function createLineFramer(opts?: LineFramerOptions): LineFramer {
  return initFramerState(Object.create(framerProto) as LineFramer, opts?.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES);
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
