// Joins the per-thread fan-out reports of one job broadcast into one figure (slowest thread, all sockets); no I/O.

/**
 * Each of `parts` threads reports (seq, ms, sockets) once per broadcast; when all have, `observe`
 * gets the slowest time and the socket total. Broadcasts a thread never reports (it stopped) are
 * dropped once 64 newer ones are pending.
 */
export function createFanoutTally(parts: number, observe: (ms: number, sockets: number) => void): { report(seq: number, ms: number, sockets: number): void } {
  const pending = new Map<number, { ms: number; sockets: number; seen: number }>();
  return {
    report(seq, ms, sockets) {
      if (parts <= 1) return observe(ms, sockets);
      let p = pending.get(seq);
      if (p === undefined) {
        p = { ms: 0, sockets: 0, seen: 0 };
        pending.set(seq, p);
        if (pending.size > 64) pending.delete(pending.keys().next().value!);
      }
      p.ms = Math.max(p.ms, ms);
      p.sockets += sockets;
      if (++p.seen === parts) {
        pending.delete(seq);
        observe(p.ms, p.sockets);
      }
    },
  };
}
