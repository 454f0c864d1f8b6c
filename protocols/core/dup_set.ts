// A set of share keys (integers below 2^52, e.g. hash bits) for duplicate detection, in one Float64Array with open addressing; no I/O, no hashing of its own.
// Why not a Set<number>: at share load a JS Set costs ~55 bytes of RSS per entry plus the garbage of
// each rehash (bench --mode shares, 1k connections paced at 35k shares/s: the relay's RSS mean 98 MB with
// Sets against 75 MB with no duplicate check at all); this costs 10.7–21 bytes per entry, in one
// buffer per set. Keys are uniformly random bits already, so their low 32 bits index the table directly.

export interface DupSet {
  /** Slots hold key + 1 (0 = empty), so key 0 is storable. */
  slots: Float64Array;
  size: number;
}

const MIN_SLOTS = 8;

export function newDupSet(): DupSet {
  return { slots: new Float64Array(MIN_SLOTS), size: 0 };
}

/** Adds `key` (an integer 0 <= key < 2^52); returns false when it was already there. */
export function dupAdd(set: DupSet, key: number): boolean {
  const v = key + 1;
  let slots = set.slots;
  let mask = slots.length - 1;
  let i = (key >>> 0) & mask;
  for (;;) {
    const x = slots[i]!;
    if (x === 0) break;
    if (x === v) return false;
    i = (i + 1) & mask;
  }
  if ((set.size + 1) * 4 > slots.length * 3) {
    // Load factor 3/4 reached: double and re-insert, then place the new key in the new table.
    slots = grow(set);
    mask = slots.length - 1;
    i = (key >>> 0) & mask;
    while (slots[i] !== 0) i = (i + 1) & mask;
  }
  slots[i] = v;
  set.size++;
  return true;
}

export function dupHas(set: DupSet, key: number): boolean {
  const v = key + 1;
  const slots = set.slots;
  const mask = slots.length - 1;
  for (let i = (key >>> 0) & mask; ; i = (i + 1) & mask) {
    const x = slots[i]!;
    if (x === 0) return false;
    if (x === v) return true;
  }
}

function grow(set: DupSet): Float64Array {
  const old = set.slots;
  const next = new Float64Array(old.length * 2);
  const mask = next.length - 1;
  for (let j = 0; j < old.length; j++) {
    const v = old[j]!;
    if (v === 0) continue;
    let i = ((v - 1) >>> 0) & mask;
    while (next[i] !== 0) i = (i + 1) & mask;
    next[i] = v;
  }
  set.slots = next;
  return next;
}
