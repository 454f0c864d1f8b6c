// Deterministic Clock for tests: time moves only when advance() is called and timers fire in time order; no real timers.
import type { Clock, TimerId } from "./types.ts";

export interface ManualClock extends Clock {
  /** Move time forward by ms, firing every due timer in (due time, creation) order; timers scheduled by a firing timer fire too if due. */
  advance(ms: number): void;
  /** Number of scheduled (not yet fired or cleared) timers; an interval counts as one. */
  pending(): number;
}

interface Timer {
  id: number;
  due: number;
  seq: number;
  every: number; // 0 = one-shot
  fn: () => void;
}

export function createManualClock(start = 0): ManualClock {
  let now = start;
  let nextId = 1;
  let seq = 0;
  const timers = new Map<number, Timer>();

  const add = (fn: () => void, ms: number, every: number): TimerId => {
    const delay = Math.max(0, Number.isFinite(ms) ? ms : 0);
    const t: Timer = { id: nextId++, due: now + delay, seq: seq++, every, fn };
    timers.set(t.id, t);
    return t.id;
  };
  const clear = (id: TimerId) => {
    if (typeof id === "number") timers.delete(id);
  };
  const earliest = (limit: number): Timer | undefined => {
    let best: Timer | undefined;
    for (const t of timers.values()) {
      if (t.due > limit) continue;
      if (!best || t.due < best.due || (t.due === best.due && t.seq < best.seq)) best = t;
    }
    return best;
  };

  return {
    now: () => now,
    setTimeout: (fn, ms) => add(fn, ms, 0),
    clearTimeout: clear,
    // Like real timers, a 0 ms interval is treated as 1 ms so advance() terminates.
    setInterval: (fn, ms) => add(fn, ms, Math.max(1, ms)),
    clearInterval: clear,
    advance(ms) {
      if (!(ms >= 0)) throw new RangeError(`advance(${ms}): ms must be >= 0`);
      const end = now + ms;
      for (let t = earliest(end); t; t = earliest(end)) {
        now = t.due;
        if (t.every > 0) {
          t.due += t.every;
          t.seq = seq++;
        } else {
          timers.delete(t.id);
        }
        t.fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}
