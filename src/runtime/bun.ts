// Bun adapter for the Runtime seam: Bun.listen/connect sockets (plain or TLS) with an ordered user-space write queue, Bun.serve, Bun.SHA256; no protocol logic.
import type { Socket } from "bun";
import { parseAddress } from "../../protocols/net/ip_address.ts";
import { nodeBuiltin } from "./node_builtin.ts";
import { nodeFiles, normalizeAddress, realClock, tlsErrorText } from "./shared.ts";
import { DEFAULT_TLS_HANDSHAKE_MS, type HttpServer, type Runtime, type SocketHandle, type SocketHandlers, type SqliteDb, type TcpListener, type TlsConnectOptions, type TlsPem } from "./types.ts";

const textEncoder = new TextEncoder();
let nextSocketId = 1;

/** Our handle plus the two hooks the Bun handlers call; stored in Bun's `socket.data`. */
interface BunConn extends SocketHandle {
  onDrain(): void;
  /** Marks closed; returns true only the first time (close fires once). */
  markClosed(): boolean;
}

/**
 * Bun's socket.write is unbuffered (sendto(2)): it returns how many bytes the kernel took,
 * possibly fewer than given, or -1 once closed. The unwritten rest goes to `queue` in order and
 * is flushed by the `drain` handler. Queued chunks are subarrays of the caller's buffers, not
 * copies: callers must not mutate a buffer after writing it (so the core can encode one notify
 * and write the same bytes to every miner).
 */
interface ConnFields {
  raw: Socket<BunConn>;
  queue: Uint8Array[] | undefined;
  queued: number;
  ending: boolean;
  closed: boolean;
}
type ConnImpl = BunConn & ConnFields;
function flushQ(c: ConnImpl): boolean {
  const q = c.queue;
  while (q !== undefined && q.length > 0) {
    const head = q[0]!;
    const n = c.raw.write(head);
    if (n < 0) return false;
    c.queued -= n;
    if (n < head.byteLength) {
      q[0] = head.subarray(n);
      return false;
    }
    q.shift();
  }
  c.queue = undefined;
  return true;
}
const connProto = {
  get buffered(): number {
    return (this as unknown as ConnImpl).queued;
  },
  write(this: ConnImpl, data: Uint8Array | string) {
    if (this.closed || this.ending || data.length === 0) return this.queued;
    if (typeof data === "string") {
      // Text goes to the kernel as it is (Bun encodes it natively): no Uint8Array per reply on the share
      // path. Only a partial write pays for an encode, of what is left.
      if (this.queue !== undefined) return this.write(textEncoder.encode(data));
      const n = this.raw.write(data);
      if (n < 0) return this.queued;
      const total = Buffer.byteLength(data, "utf8");
      if (n < total) {
        const rest = textEncoder.encode(data).subarray(n);
        this.queue = [rest];
        this.queued += rest.byteLength;
      }
      return this.queued;
    }
    if (this.queue !== undefined) {
      this.queue.push(data);
      this.queued += data.byteLength;
      return this.queued;
    }
    const n = this.raw.write(data);
    if (n >= 0 && n < data.byteLength) {
      this.queue = [n === 0 ? data : data.subarray(n)];
      this.queued += data.byteLength - n;
    }
    return this.queued;
  },
  end(this: ConnImpl) {
    if (this.closed || this.ending) return;
    this.ending = true;
    if (this.queue === undefined) this.raw.end();
  },
  destroy(this: ConnImpl) {
    if (this.closed) return;
    this.queue = undefined;
    this.queued = 0;
    this.raw.terminate();
  },
  onDrain(this: ConnImpl) {
    if (!this.closed && flushQ(this) && this.ending) this.raw.end();
  },
  markClosed(this: ConnImpl) {
    if (this.closed) return false;
    this.closed = true;
    this.queue = undefined;
    this.queued = 0;
    return true;
  },
};
function makeConn(raw: Socket<BunConn>): BunConn {
  const c = Object.create(connProto) as ConnImpl;
  const w = c as { -readonly [K in keyof ConnImpl]: ConnImpl[K] };
  w.id = nextSocketId++;
  w.remoteAddress = normalizeAddress(raw.remoteAddress);
  w.remotePort = raw.remotePort ?? 0;
  c.ctx = undefined;
  c.raw = raw;
  c.queue = undefined;
  c.queued = 0;
  c.ending = false;
  c.closed = false;
  return c;
}

/** `onEarlyClose`: the socket closed or failed before `open` (a dialled TLS socket whose handshake failed). */
function bunHandlers(h: SocketHandlers, onOpen?: (c: BunConn) => void, onEarlyClose?: (err?: Error) => void) {
  return {
    binaryType: "uint8array" as const,
    open(raw: Socket<BunConn>) {
      const c = makeConn(raw);
      raw.data = c;
      onOpen?.(c);
      h.open(c);
    },
    // Each data event gets a fresh buffer (checked on Bun 1.4.5: 11 reads, 11 distinct ArrayBuffers), so the core may keep it.
    data(raw: Socket<BunConn>, chunk: Uint8Array) {
      h.data(raw.data, chunk);
    },
    drain(raw: Socket<BunConn>) {
      raw.data?.onDrain();
    },
    close(raw: Socket<BunConn>) {
      const c = raw.data;
      if (c === undefined) return onEarlyClose?.();
      if (c.markClosed()) h.close(c);
    },
    error(raw: Socket<BunConn>, err: Error) {
      // A handler threw or the socket failed: drop it; `close` still fires exactly once.
      if (raw.data === undefined) onEarlyClose?.(err);
      raw.data?.destroy();
    },
  };
}

/**
 * Bun.connect with TLS: `open` fires at TCP connect, `handshake` once TLS is done (with Bun's own
 * verdict when rejectUnauthorized is on). The core sees the socket only after the handshake and
 * `checkPeer` passed; before that a close rejects the promise instead of calling `h.close`.
 */
function connectBunTls(host: string, port: number, h: SocketHandlers, t: TlsConnectOptions): Promise<SocketHandle> {
  return new Promise((resolve, reject) => {
    let opened = false;
    let settled = false;
    let raw: Socket<BunConn> | undefined;
    const ms = t.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_MS;
    const timer = setTimeout(() => {
      fail(`no TLS handshake within ${ms} ms`);
      raw?.terminate();
    }, ms);
    const fail = (why: string) => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      reject(new Error(why));
    };
    const base = bunHandlers(h);
    // SNI carries names only; node:net isIP is not imported for this (loading node:net costs idle RSS).
    const serverName = t.serverName ?? (parseAddress(host) === undefined ? host : undefined);
    const verify = t.rejectUnauthorized ?? true;
    Bun.connect<BunConn>({
      hostname: host,
      port,
      tls: {
        rejectUnauthorized: verify,
        ...(t.ca !== undefined && t.ca.length > 0 ? { ca: [...nodeBuiltin<typeof import("node:tls")>("node:tls").rootCertificates, ...t.ca] } : {}),
        ...(serverName !== undefined ? { serverName } : {}),
      },
      socket: {
        ...base,
        open(r: Socket<BunConn>) {
          raw = r;
          r.data = makeConn(r);
        },
        handshake(raw: Socket<BunConn>, ok: boolean, err: Error | null) {
          const c = raw.data;
          if (verify && (!ok || err)) {
            fail(tlsErrorText(err ?? new Error("TLS handshake failed")));
            return raw.terminate();
          }
          if (t.checkPeer) {
            const der = raw.getPeerCertificate()?.raw as Uint8Array | undefined;
            const why = der === undefined ? "the server sent no certificate" : t.checkPeer(new Uint8Array(der));
            if (why !== undefined) {
              fail(why);
              return raw.terminate();
            }
          }
          if (settled) return raw.terminate();
          clearTimeout(timer);
          opened = true;
          settled = true;
          h.open(c);
          resolve(c);
        },
        close(raw: Socket<BunConn>) {
          if (opened) return base.close(raw);
          raw.data?.markClosed();
          fail("connection closed during the TLS handshake");
        },
      },
    }).then((r) => {
      if (settled && !opened) r.terminate(); // timed out before Bun.connect resolved
    }, (e) => fail(tlsErrorText(e)));
  });
}

/**
 * Arguments after the program: Bun.argv is [bun, script, ...args] under `bun src/main.ts` and
 * [bun, "/$bunfs/root/<binary>", ...args] in a --compile binary (checked on Bun 1.4.5); in both
 * argv[1] equals Bun.main. Falls back to cutting after an entry ending in main.ts, else argv[0].
 */
export function userArgs(argv: readonly string[], main: string): string[] {
  const i = argv.indexOf(main, 1);
  if (i >= 0) return argv.slice(i + 1);
  const j = argv.findIndex((a) => a.endsWith("main.ts"));
  return argv.slice(j >= 0 ? j + 1 : 1);
}

/**
 * A TLS port. Bun's listener.reload({ tls }) keeps serving the old certificate (checked on Bun 1.4.5:
 * a connection after reload still saw the first cert's fingerprint), so a new certificate means a new
 * listener bound to the same port with SO_REUSEPORT, then stop(false) on the old one: open sockets
 * stay up. Linux resets connections still queued on the closed listener (measured: 1 per swap under
 * a connect loop, 0 with sysctl net.ipv4.tcp_migrate_req=1). Bun.listen over node:tls because it
 * measured 8.9 MB RSS per 1k idle TLS sockets against 21 MB for node:tls on Bun.
 */
/** Bun honours `reusePort` on listen but its types (1.4.5) do not declare it; spread so the literal still typechecks. */
const REUSE_PORT = { reusePort: true };

function listenTls(host: string, port: number, h: SocketHandlers, pem: TlsPem, sharedAlready: boolean): TcpListener {
  const socket = bunHandlers(h);
  // SO_REUSEPORT would let a second process bind this port unnoticed: bind once without it first, so
  // a port in use is still an error (callers that share the port on purpose did this check already).
  if (!sharedAlready && port !== 0) Bun.listen<BunConn>({ hostname: host, port, socket }).stop(true);
  let l = Bun.listen<BunConn>({ hostname: host, port, socket, tls: pem, ...REUSE_PORT });
  const bound = l.port;
  return {
    host: l.hostname,
    port: bound,
    close: () => l.stop(false),
    setTls(next) {
      const fresh = Bun.listen<BunConn>({ hostname: host, port: bound, socket, tls: next, ...REUSE_PORT });
      l.stop(false);
      l = fresh;
    },
  };
}

export function createBunRuntime(): Runtime {
  return {
    name: "bun",
    canShareListeners: true,
    async listen(host, port, h, opts): Promise<TcpListener> {
      if (opts?.tls !== undefined) return listenTls(host, port, h, opts.tls, opts.reusePort === true);
      const l = Bun.listen<BunConn>({ hostname: host, port, socket: bunHandlers(h), ...(opts?.reusePort ? { reusePort: true } : {}) });
      return { host: l.hostname, port: l.port, close: () => l.stop(false) };
    },
    async connect(host, port, h, opts): Promise<SocketHandle> {
      if (opts?.tls) return connectBunTls(host, port, h, opts.tls);
      // Plain sockets open before Bun.connect resolves; the handle comes from the open event.
      let settle: { ok(c: BunConn): void; fail(e?: Error): void } | undefined;
      const opened = new Promise<BunConn>((ok, no) => (settle = { ok, fail: (e) => no(e ?? new Error(`connect ${host}:${port}: closed before open`)) }));
      await Bun.connect<BunConn>({ hostname: host, port, socket: bunHandlers(h, (c) => settle!.ok(c), (e) => settle!.fail(e)) });
      return opened;
    },
    async serveHttp(host, port, fetch): Promise<HttpServer> {
      const s = Bun.serve({ hostname: host, port, fetch });
      return {
        port: s.port ?? port,
        close: async () => {
          await s.stop(true);
        },
      };
    },
    // Measured: Bun.SHA256.hash ~10x faster than @noble for short inputs; it writes at out's byteOffset (checked with a subarray).
    sha256: (i, o) => {
      Bun.SHA256.hash(i, o);
    },
    clock: realClock,
    files: nodeFiles,
    async openSqlite(path) {
      // Loaded on first use only: a relay without a share log never opens the SQLite library.
      const { Database } = await import("bun:sqlite");
      return new Database(path, { create: true }) as unknown as SqliteDb;
    },
    rss: () => process.memoryUsage().rss,
    onSignal(signal, fn) {
      process.on(signal, fn);
    },
    exit(code): never {
      process.exit(code);
    },
    args: () => userArgs(Bun.argv, Bun.main),
    env: (name) => process.env[name],
  };
}
