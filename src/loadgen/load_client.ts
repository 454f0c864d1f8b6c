// Many lightweight Stratum v1 load connections over one Runtime: handshake, pipelined valid shares, notify timing; it does not hash or judge shares.
import type { Runtime, SocketHandle, SocketHandlers, TlsConnectOptions } from "../runtime/types.ts";
import { parseLine } from "../../protocols/jsonrpc/envelope.ts";
import { parseServerMessage, parseSubscribeResult } from "../../protocols/stratum-v1/server_messages.ts";
import { createSamples, type Samples } from "./stats.ts";
import { Buffer } from "node:buffer";

/** Submit ids start here; 1 = subscribe, 2 = authorize, 3..9 spare for replies to server requests. */
const FIRST_SUBMIT_ID = 10;
/** Ring of send times indexed by id & RING_MASK; the window never exceeds it. */
const RING = 64;
const RING_MASK = RING - 1;
export const MAX_WINDOW = RING - 1;

interface Conn {
  index: number;
  sock: SocketHandle | undefined;
  carry: Uint8Array | undefined;
  en2Hex: number;
  en2Counter: number;
  nonce: string;
  jobId: string | undefined;
  /** The current job; prefix/suffix are built from it only when a submit needs them (fan-out runs never do). */
  job: NotifyInfo | undefined;
  /** Job id prefix/suffix were built for. */
  builtFor: string | undefined;
  /** Everything in a submit line between the id and extranonce2, for the current job. */
  prefix: string;
  /** `","<ntime>","<nonce>"]}\n` for the current job. */
  suffix: string;
  nextId: number;
  inflight: number;
  sentAt: Float64Array;
  authorized: boolean;
  ready: boolean;
  closed: boolean;
}

export interface NotifyInfo {
  jobId: string;
  clean: boolean;
  ntime: string;
}

export interface LoadCounters {
  connected: number;
  ready: number;
  connectFailures: number;
  closedByPeer: number;
  submitted: number;
  accepted: number;
  /** Replies other than `true`, keyed by stratum error code ("21", "23", ...) or "false"/"other". */
  rejectedByCode: Record<string, number>;
  rejected: number;
  notifies: number;
  cleanNotifies: number;
  authorizeFailures: number;
  badMessages: number;
}

export interface Load {
  readonly counters: LoadCounters;
  /** Submit→reply latencies in ms, recorded only while `measuring` is true. */
  latencies: Samples;
  measuring: boolean;
  /** Opens `n` connections (at most `concurrency` connects in flight); resolves when all are up or failed. */
  open(n: number, concurrency: number): Promise<void>;
  /** Resolves once `want` connections have received their first job, or after timeoutMs (returns how many are ready). */
  waitReady(want: number, timeoutMs: number): Promise<number>;
  /**
   * Start keeping `window` submits outstanding on every ready connection; with `perSecond`, submit at
   * that total rate instead (spread over the connections every 5 ms, still at most `window` each), so two
   * relays can be compared at the same load.
   */
  startSubmitting(window: number, perSecond?: number): void;
  stopSubmitting(): void;
  /** Called for each mining.notify with the receipt time of the chunk it came in. */
  onNotify: ((index: number, n: NotifyInfo, t: number) => void) | undefined;
  closeAll(): void;
}

export interface LoadOptions {
  runtime: Runtime;
  host: string;
  port: number;
  /** Authorize password; `d=1e-12` asks for a fixed difficulty so every well-formed share is valid. */
  password: string;
  userPrefix?: string;
  /** Dial with TLS (bench --tls against a TLS listener). */
  tls?: TlsConnectOptions;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

// `{"id":` then a digit: a reply to one of our requests (notifications carry "id":null).
const ID_HEAD = enc.encode('{"id":');
const RESULT_TRUE = enc.encode(',"result":true');
const NOTIFY_HEAD = enc.encode('{"id":null,"method":"mining.notify","params":["');

function startsWithAt(b: Uint8Array, at: number, end: number, pat: Uint8Array): boolean {
  if (end - at < pat.length) return false;
  for (let i = 0; i < pat.length; i++) if (b[at + i] !== pat[i]) return false;
  return true;
}

/** memcmp via node:buffer (Bun and Deno): a JS byte loop over a 600-byte notify cost ~0.6 µs per miner, client CPU stolen from the relay on a shared machine. */
function bytesEqual(a: Uint8Array, aFrom: number, aTo: number, b: Uint8Array): boolean {
  if (aTo - aFrom !== b.length) return false;
  return Buffer.compare(a.subarray(aFrom, aTo), b) === 0;
}

function errorCode(line: string): string {
  const m = parseLine(line);
  if (m.kind !== "response") return "other";
  if (m.result === false) return "false";
  const e = m.error;
  if (Array.isArray(e) && typeof e[0] === "number") return String(e[0]);
  if (e !== null && typeof e === "object" && typeof (e as { code?: unknown }).code === "number") return String((e as { code: number }).code);
  return "other";
}

export function createLoad(opts: LoadOptions): Load {
  const { runtime, host, port, password } = opts;
  const userPrefix = opts.userPrefix ?? "bench.";
  const conns: Conn[] = [];
  const counters: LoadCounters = {
    connected: 0,
    ready: 0,
    connectFailures: 0,
    closedByPeer: 0,
    submitted: 0,
    accepted: 0,
    rejectedByCode: {},
    rejected: 0,
    notifies: 0,
    cleanNotifies: 0,
    authorizeFailures: 0,
    badMessages: 0,
  };
  let window = 0;
  let readyWaiter: (() => void) | undefined;
  let readyWant = Infinity;
  // One verified parse per distinct notify line: later copies (same job to 10k miners) are compared byte for byte.
  const notifyCache = new Map<string, { bytes: Uint8Array; info: NotifyInfo }>();

  const load: Load = {
    counters,
    latencies: createSamples(1 << 20),
    measuring: false,
    onNotify: undefined,
    open,
    waitReady,
    startSubmitting(w, perSecond) {
      window = Math.max(1, Math.min(MAX_WINDOW, Math.floor(w)));
      const now = performance.now();
      if (perSecond !== undefined && perSecond > 0) return startPaced(perSecond, now);
      for (const c of conns) refill(c, now);
    },
    stopSubmitting() {
      window = 0;
      if (pacer !== undefined) clearInterval(pacer);
      pacer = undefined;
    },
    closeAll() {
      for (const c of conns) {
        c.closed = true;
        c.sock?.destroy();
      }
    },
  };

  function setJob(c: Conn, info: NotifyInfo): void {
    c.jobId = info.jobId;
    c.job = info;
  }

  function buildSubmitParts(c: Conn, info: NotifyInfo): void {
    c.builtFor = info.jobId;
    c.prefix = ',"method":"mining.submit","params":["' + userPrefix + c.index + '",' + JSON.stringify(info.jobId) + ',"';
    c.suffix = '","' + info.ntime + '","' + c.nonce + '"]}\n';
  }

  let pacer: ReturnType<typeof setInterval> | undefined;
  /** Paced mode: submits owed (fractional), and where the round-robin over connections goes on. */
  let budget = 0;
  let cursor = 0;
  function startPaced(perSecond: number, t0: number): void {
    let last = t0;
    pacer = setInterval(() => {
      const now = performance.now();
      // At most 50 ms owed: a stalled relay is not flooded with a backlog when it recovers.
      budget = Math.min(budget + (perSecond * (now - last)) / 1000, perSecond / 20);
      last = now;
      let idle = 0;
      while (budget >= 1 && idle < conns.length) {
        const c = conns[cursor]!;
        cursor = (cursor + 1) % conns.length;
        if (refill(c, now, 1) === 0) idle++;
        else {
          idle = 0;
          budget--;
        }
      }
    }, 5);
  }

  /** Tops the connection up to `window` outstanding submits (or `max` more), written as one buffer; returns how many. */
  function refill(c: Conn, now: number, max = Infinity): number {
    if (window === 0 || !c.ready || c.closed || c.jobId === undefined || c.sock === undefined) return 0;
    let k = Math.min(window - c.inflight, max);
    if (k <= 0) return 0;
    const sent = k;
    if (c.builtFor !== c.jobId) buildSubmitParts(c, c.job!);
    let text = "";
    while (k-- > 0) {
      const id = c.nextId++;
      c.sentAt[id & RING_MASK] = now;
      text += '{"id":' + id + c.prefix + (c.en2Counter++).toString(16).padStart(c.en2Hex, "0") + c.suffix;
      c.inflight++;
      counters.submitted++;
    }
    c.sock.write(enc.encode(text));
    return sent;
  }

  function onReply(c: Conn, b: Uint8Array, s: number, e: number, now: number): void {
    // Parse the numeric id by hand: replies to submits are the hot path (~60k/s).
    let p = s + ID_HEAD.length;
    let id = 0;
    while (p < e) {
      const ch = b[p]!;
      if (ch < 48 || ch > 57) break;
      id = id * 10 + (ch - 48);
      p++;
    }
    if (id >= FIRST_SUBMIT_ID) {
      c.inflight--;
      if (load.measuring) load.latencies.add(now - c.sentAt[id & RING_MASK]!);
      if (startsWithAt(b, p, e, RESULT_TRUE)) counters.accepted++;
      else {
        counters.rejected++;
        const code = errorCode(dec.decode(b.subarray(s, e)));
        counters.rejectedByCode[code] = (counters.rejectedByCode[code] ?? 0) + 1;
      }
      return;
    }
    onOther(c, dec.decode(b.subarray(s, e)), now);
  }

  function markReady(c: Conn): void {
    if (c.ready || !c.authorized || c.jobId === undefined) return;
    c.ready = true;
    counters.ready++;
    if (readyWaiter && counters.ready >= readyWant) readyWaiter();
  }

  function onNotifyInfo(c: Conn, info: NotifyInfo, now: number): void {
    counters.notifies++;
    if (info.clean) counters.cleanNotifies++;
    // A clean job voids the old one: switch before refilling so no stale share is sent afterwards.
    setJob(c, info);
    markReady(c);
    load.onNotify?.(c.index, info, now);
  }

  function onNotifyLine(c: Conn, b: Uint8Array, s: number, e: number, now: number): boolean {
    // Job id is the first param: read it up to its closing quote (ids are short hex/ascii; no escapes expected).
    const from = s + NOTIFY_HEAD.length;
    let q = from;
    while (q < e && b[q] !== 34 && b[q] !== 92) q++;
    if (q >= e || b[q] !== 34) return false;
    let jobId = "";
    for (let i = from; i < q; i++) jobId += String.fromCharCode(b[i]!);
    const hit = notifyCache.get(jobId);
    if (hit !== undefined && bytesEqual(b, s, e, hit.bytes)) {
      onNotifyInfo(c, hit.info, now);
      return true;
    }
    return false;
  }

  function onOther(c: Conn, line: string, now: number, bytes?: Uint8Array): void {
    const m = parseLine(line);
    if (m.kind === "invalid") {
      counters.badMessages++;
      return;
    }
    const msg = parseServerMessage(m);
    switch (msg.type) {
      case "result":
        if (msg.id === 1) {
          const sub = parseSubscribeResult(msg.result);
          if (!sub) counters.badMessages++;
          else c.en2Hex = sub.extranonce2Size * 2;
        } else if (msg.id === 2) {
          if (msg.result === true) {
            c.authorized = true;
            markReady(c);
          } else counters.authorizeFailures++;
        }
        return;
      case "notify": {
        const info: NotifyInfo = { jobId: msg.jobId, clean: msg.clean, ntime: msg.ntime };
        if (bytes !== undefined) notifyCache.set(msg.jobId, { bytes: bytes.slice(), info });
        if (notifyCache.size > 256) notifyCache.clear();
        onNotifyInfo(c, info, now);
        return;
      }
      case "ping":
        c.sock?.write(enc.encode('{"id":' + JSON.stringify(msg.id) + ',"result":"pong","error":null}\n'));
        return;
      case "invalid":
        counters.badMessages++;
        return;
      default:
        return; // set_difficulty, show_message, reconnect: nothing to do for a load generator
    }
  }

  function onLine(c: Conn, b: Uint8Array, s: number, e: number, now: number): void {
    if (e > s && b[e - 1] === 13) e--;
    if (e <= s) return;
    if (startsWithAt(b, s, e, ID_HEAD) && b[s + ID_HEAD.length]! >= 48 && b[s + ID_HEAD.length]! <= 57) {
      return onReply(c, b, s, e, now);
    }
    if (startsWithAt(b, s, e, NOTIFY_HEAD)) {
      if (onNotifyLine(c, b, s, e, now)) return;
      return onOther(c, dec.decode(b.subarray(s, e)), now, b.subarray(s, e));
    }
    onOther(c, dec.decode(b.subarray(s, e)), now);
  }

  const handlers: SocketHandlers = {
    open() {},
    data(sock, chunk) {
      const c = sock.ctx as Conn | undefined;
      if (c === undefined || c.closed) return;
      const now = performance.now();
      let b = chunk;
      if (c.carry !== undefined) {
        const joined = new Uint8Array(c.carry.length + chunk.length);
        joined.set(c.carry, 0);
        joined.set(chunk, c.carry.length);
        b = joined;
        c.carry = undefined;
      }
      let s = 0;
      for (;;) {
        const nl = b.indexOf(10, s);
        if (nl < 0) break;
        onLine(c, b, s, nl, now);
        s = nl + 1;
      }
      if (s < b.length) c.carry = b.slice(s);
      if (pacer === undefined) refill(c, now);
    },
    close(sock) {
      const c = sock.ctx as Conn | undefined;
      if (c === undefined || c.closed) return;
      c.closed = true;
      counters.closedByPeer++;
    },
  };

  async function connectOne(index: number): Promise<void> {
    const c: Conn = {
      index,
      sock: undefined,
      carry: undefined,
      en2Hex: 8,
      en2Counter: 0,
      // Distinct nonce per connection on top of distinct extranonce2 per share: no two shares hash alike.
      nonce: ((index * 2654435761) >>> 0).toString(16).padStart(8, "0"),
      jobId: undefined,
      job: undefined,
      builtFor: undefined,
      prefix: "",
      suffix: "",
      nextId: FIRST_SUBMIT_ID,
      inflight: 0,
      sentAt: new Float64Array(RING),
      authorized: false,
      ready: false,
      closed: false,
    };
    conns.push(c);
    let sock: SocketHandle;
    try {
      sock = await runtime.connect(host, port, handlers, opts.tls ? { tls: opts.tls } : undefined);
    } catch {
      counters.connectFailures++;
      c.closed = true;
      return;
    }
    sock.ctx = c;
    c.sock = sock;
    counters.connected++;
    // Pipelined handshake, as cgminer does: subscribe and authorize in one write.
    sock.write(
      enc.encode(
        '{"id":1,"method":"mining.subscribe","params":["stratum-edge-bench/1"]}\n' +
          '{"id":2,"method":"mining.authorize","params":["' + userPrefix + index + '",' + JSON.stringify(password) + "]}\n",
      ),
    );
  }

  async function open(n: number, concurrency: number): Promise<void> {
    let next = conns.length;
    const end = next + n;
    const worker = async () => {
      while (next < end) await connectOne(next++);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, n)) }, worker));
  }

  function waitReady(want: number, timeoutMs: number): Promise<number> {
    if (counters.ready >= want) return Promise.resolve(counters.ready);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        readyWaiter = undefined;
        resolve(counters.ready);
      }, timeoutMs);
      readyWant = want;
      readyWaiter = () => {
        clearTimeout(t);
        readyWaiter = undefined;
        readyWant = Infinity;
        resolve(counters.ready);
      };
    });
  }

  return load;
}
