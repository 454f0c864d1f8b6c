// Checks of bench's numeric flags, shared by the flag parser and the modes; no I/O, nothing else imported (the floor process loads it).

/** A positive number flag (floored), undefined when absent; throws naming the flag otherwise. */
export function positiveInt(v: string | boolean | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== "string" || !Number.isFinite(n) || n <= 0) throw new Error(`${what} expects a positive number, got "${String(v)}"`);
  return Math.floor(n);
}
