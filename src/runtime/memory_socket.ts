// In-memory SocketHandle pair for core tests without the network: ordered delivery, pausable readers (backpressure), end/destroy propagation; no timers.
import type { SocketHandle, SocketHandlers } from "./types.ts";

export type Side = "server" | "client";

export interface MemorySocket extends SocketHandle {
  /** True once close has fired for this side. */
  readonly closed: boolean;
}

export interface SocketPairOptions {
  /** Handlers for the server side (what the core's listener would get). */
  server: SocketHandlers;
  /** Handlers for the client side (the test's fake miner); default: ignore everything. */
  client?: SocketHandlers;
  /** The miner's address as the server side sees it. Default "127.0.0.1". */
  remoteAddress?: string;
  remotePort?: number;
  /**
   * "sync" (default): write() calls the peer's data handler before returning (deterministic,
   * pairs well with the manual clock; note a reply written inside a data handler is delivered
   * re-entrantly). "microtask": each delivery and close is queued with queueMicrotask, in order,
   * like a real socket; tests then `await` a tick before asserting.
   */
  delivery?: "sync" | "microtask";
}

export interface SocketPair {
  server: MemorySocket;
  client: MemorySocket;
  /** Stop delivering to `side`: bytes written by the other side pile up in its `buffered`, as with a slow reader. */
  pauseReading(side: Side): void;
  /** Deliver what piled up, in order, and keep delivering. */
  resumeReading(side: Side): void;
}

const textEncoder = new TextEncoder();
let nextMemoryId = 1_000_000_000; // far from real socket ids, so logs show which kind it was

const noop: SocketHandlers = { open() {}, data() {}, close() {} };

interface End {
  sock: MemorySocket;
  h: SocketHandlers;
  /** Bytes written by this side, not yet delivered to the peer (the peer is paused). */
  queue: Uint8Array[];
  queued: number;
  paused: boolean;
  ending: boolean;
  /** Logically closed: no more writes. */
  closed: boolean;
  /** The close handler has run (deliveries scheduled before it still land; none after). */
  closeFired: boolean;
}

export function createSocketPair(opts: SocketPairOptions): SocketPair {
  const schedule = opts.delivery === "microtask" ? (fn: () => void) => queueMicrotask(fn) : (fn: () => void) => fn();
  const ends = {} as Record<Side, End>;
  const peerOf = (s: Side): Side => (s === "server" ? "client" : "server");

  // Close both sides (TCP without half-open: a FIN or RST closes the peer too); each close fires once, closer first.
  const closeBoth = (first: Side) => {
    for (const side of [first, peerOf(first)]) {
      const e = ends[side];
      if (e.closed) continue;
      e.closed = true;
      e.queue.length = 0;
      e.queued = 0;
      schedule(() => {
        e.closeFired = true;
        e.h.close(e.sock);
      });
    }
  };

  // Push what `from` has queued to its peer if the peer reads; finish a pending end().
  const pump = (from: Side) => {
    const a = ends[from];
    const b = ends[peerOf(from)];
    if (a.closed) return;
    while (!b.paused && a.queue.length > 0) {
      const chunk = a.queue.shift()!;
      a.queued -= chunk.byteLength;
      schedule(() => {
        if (!b.closeFired) b.h.data(b.sock, chunk);
      });
    }
    if (a.ending && a.queue.length === 0) closeBoth(from);
  };

  const make = (side: Side, h: SocketHandlers, remoteAddress: string, remotePort: number): End => {
    const e: End = { sock: undefined as unknown as MemorySocket, h, queue: [], queued: 0, paused: false, ending: false, closed: false, closeFired: false };
    e.sock = {
      id: nextMemoryId++,
      remoteAddress,
      remotePort,
      ctx: undefined,
      get buffered() {
        return e.queued;
      },
      get closed() {
        return e.closed;
      },
      write(data) {
        if (e.closed || e.ending || data.length === 0) return e.queued;
        // A real socket copies into the kernel; the receiver may keep it.
        const copy = typeof data === "string" ? textEncoder.encode(data) : data.slice();
        e.queue.push(copy);
        e.queued += copy.byteLength;
        pump(side);
        return e.queued;
      },
      end() {
        if (e.closed || e.ending) return;
        e.ending = true;
        pump(side);
      },
      destroy() {
        if (!e.closed) closeBoth(side);
      },
    };
    return e;
  };

  ends.server = make("server", opts.server, opts.remoteAddress ?? "127.0.0.1", opts.remotePort ?? 50000);
  ends.client = make("client", opts.client ?? noop, "127.0.0.1", 3333);
  ends.server.h.open(ends.server.sock);
  ends.client.h.open(ends.client.sock);

  return {
    server: ends.server.sock,
    client: ends.client.sock,
    pauseReading(side) {
      ends[side].paused = true;
    },
    resumeReading(side) {
      ends[side].paused = false;
      pump(peerOf(side));
    },
  };
}
