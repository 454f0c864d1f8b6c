// The connection core: accepts sockets, frames lines, picks a dialect from the first message (or hands an HTTP request line to HTTP getwork) and performs session actions.
import type { Runtime, TcpListener, TlsPem } from "../runtime/types.ts";
import type { Action, CloseReason, ForwardRequest, ForwardResult, VerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import { EMPTY_CARRY, framerPush } from "../../protocols/jsonrpc/framer.ts";
import { parseLine, encodeErrorRaw } from "../../protocols/jsonrpc/envelope.ts";
import type { Logger } from "../observe/log.ts";
import type { ConnGuard } from "./guard.ts";
import { takeProxyHeader, type ProxyDeps } from "./proxy_header.ts";
import { NOT_SNIFFED, pushHttpBytes, sniffFirstBytes, tickHttpConn, type HttpDeps } from "./http_conn.ts";
import type { ShareSink } from "../store/share_sink.ts";
import type { ShareRecord } from "../../protocols/core/actions.ts";

export type { HttpAnswer, HttpConnLimits, HttpPort, PoolPort, Route, ServerHooks, ServerLimits, StratumServer } from "./types.ts";
import type { Conn, HeldReplies, HttpPort, PoolPort, Route, ServerHooks, ServerLimits, StratumServer } from "./types.ts";

export async function startStratumServer(opts: {
  runtime: Runtime;
  host: string;
  port: number;
  /** Tried in order against the first message of each connection. */
  routes: Route[];
  limits: ServerLimits;
  hooks: ServerHooks;
  log: Logger;
  /** Bans, message rates, abuse counting; absent = none (tests). */
  guard?: ConnGuard;
  /** Share the port with other threads' listeners (SO_REUSEPORT); see config stratum.threads. */
  reusePort?: boolean;
  /** Expect a PROXY protocol v1/v2 header first on every connection. */
  proxyProtocol?: boolean;
  /** HTTP getwork for connections whose first bytes are an HTTP request line; absent = such bytes are a malformed line. */
  http?: HttpPort;
  /**
   * Every judged share goes here (share log, Redis); when it returns a promise, that connection's
   * later actions (the share's reply first) wait for it, in order: a miner is told "accepted" only
   * once the share is stored.
   */
  shares?: ShareSink;
  /** Terminate TLS on this port (the core sees plaintext); the server then has setTls() for SIGHUP reloads. */
  tls?: TlsPem;
}): Promise<StratumServer> {
  const { runtime, limits, hooks, log, guard } = opts;
  const proxied = opts.proxyProtocol === true;
  if (!Number.isInteger(limits.maxLineBytes) || limits.maxLineBytes < 1) throw new RangeError(`maxLineBytes must be a positive integer, got ${limits.maxLineBytes}`);
  const clock = runtime.clock;
  // An array, not a Set: ~50 bytes less per connection, and broadcast/tick iterate it without an iterator object.
  const conns: Conn[] = [];
  const remove = (c: Conn) => {
    const last = conns.pop()!;
    if (last !== c) {
      conns[c.index] = last;
      last.index = c.index;
    }
    c.index = -1;
  };
  const perAddress = new Map<string, number>();
  /** Sessions append here; perform() takes the array, so a nested broadcast gets a fresh one. */
  let out: Action[] = [];
  let spare: Action[] | undefined;
  /** The connection perform() is carrying out, and whether a ban hit it meanwhile. */
  let performing: Conn | undefined;
  let kickedWhilePerforming = false;
  let accepting = true;

  /** Carry out a session's actions in order (after any replies still waiting for the share sink). */
  function perform(c: Conn): void {
    const acts = out;
    // A nested perform (a broadcast from inside a batch) takes another array; a finished one is
    // reused, so the share path allocates no array per batch (hold() copies what it parks).
    out = spare ?? [];
    spare = undefined;
    if (c.held !== undefined) hold(c, undefined, acts, 0, "");
    else run(c, acts);
    acts.length = 0;
    spare = acts;
  }

  /** What a share does here: the pool's figures, the ban guard, the sink; returns what its reply must wait for. */
  function record(c: Conn, share: ShareRecord): Promise<void> | undefined {
    c.port!.onShare(share, c.addr);
    guard?.share(c.addr, share, clock.now());
    return opts.shares?.put(share, c.route!.pool.name, c.addr);
  }

  /**
   * Park `text` (replies not written yet: sessions push a share's reply just before the share) and
   * acts[from..] behind `wait` (undefined: behind what is already parked). Shares among them are
   * recorded now, so pipelined submits join the sink's current batch instead of one batch each.
   * Actions before a share go out with that share's batch (its reply must not be read before it is
   * stored, even when the segment before is an earlier batch that commits first); actions after the
   * last share keep their order behind everything parked.
   */
  function hold(c: Conn, wait: Promise<void> | undefined, acts: Action[], from: number, text: string): void {
    const queue = c.held ?? (c.held = []);
    const idle = queue.length === 0;
    let seg: HeldReplies;
    if (wait !== undefined) queue.push((seg = { wait, acts: [] }));
    else seg = queue[queue.length - 1]!;
    if (text !== "") seg.acts.push({ kind: "write", data: text });
    /** Index in acts of the first action not yet placed in a segment. */
    let pending = from;
    for (let i = from; i < acts.length; i++) {
      const a = acts[i]!;
      if (a.kind !== "share") continue;
      const w = record(c, a.share);
      if (w !== undefined && w !== seg.wait) queue.push((seg = { wait: w, acts: [] }));
      for (let j = pending; j < i; j++) seg.acts.push(acts[j]!);
      pending = i + 1;
    }
    for (let j = pending; j < acts.length; j++) seg.acts.push(acts[j]!);
    if (idle) release(c);
  }

  /** Carry out the first parked segment once its shares are stored, then the next. */
  function release(c: Conn): void {
    const seg = c.held![0]!;
    seg.wait.then(() => {
      if (c.closing) return void (c.held = undefined);
      const queue = c.held!;
      queue.shift();
      if (queue.length === 0) c.held = undefined;
      run(c, seg.acts);
      if (c.held !== undefined && c.held.length > 0 && !c.closing) release(c);
    }, (e) => {
      // Not stored, so never acknowledged: the miner sees the connection close and resubmits elsewhere or later.
      c.held = undefined;
      log.error("share not stored: closing the connection without acknowledging it", { remote: c.addr, error: String(e) });
      closeConn(c, "shutdown", true);
    });
  }

  /** Carry out actions in order; consecutive string writes become one socket write. */
  function run(c: Conn, acts: Action[]): void {
    let text = "";
    let closeReason: CloseReason | undefined;
    // A ban issued while this batch is carried out closes the connection only after its replies are
    // written (see onKick), so the miner still reads why.
    performing = c;
    kickedWhilePerforming = false;
    for (let i = 0; i < acts.length; i++) {
      const a = acts[i]!;
      switch (a.kind) {
        case "write":
          if (typeof a.data === "string") text += a.data;
          else {
            if (text) {
              c.sock.write(text);
              text = "";
            }
            c.sock.write(a.data);
          }
          break;
        case "share": {
          const wait = record(c, a.share);
          if (wait === undefined) break;
          hold(c, wait, acts, i + 1, text);
          text = "";
          i = acts.length; // the rest is parked
          break;
        }
        case "block":
          c.port!.onBlock(a.block, c.addr);
          break;
        case "abuse":
          if (a.what === "malformed") guard?.malformed(c.addr, clock.now());
          else guard?.loginFailed(c.addr, clock.now());
          break;
        case "close":
          closeReason = a.reason;
          break;
        case "log":
          log[a.level](a.msg, { ...a.fields, remote: c.addr });
          break;
        case "verify":
          startVerify(c, a.request);
          break;
        case "forward":
          startForward(c, a.request);
          break;
      }
    }
    if (text) c.sock.write(text);
    performing = undefined;
    if (kickedWhilePerforming) closeConn(c, "banned", true);
    else if (closeReason !== undefined) closeConn(c, closeReason, true);
    else if (c.sock.buffered > limits.maxWriteBufferBytes) closeConn(c, "write_overflow", false);
  }

  /** Hand a slow check to the pool; its answer re-enters the session if the connection is still there. */
  function startVerify(c: Conn, req: VerifyRequest): void {
    const dialect = c.route!.dialect;
    const pool = c.port!;
    const done = (res: VerifyResult) => {
      if (c.closing || dialect.verified === undefined) return;
      pool.env.now = clock.now();
      dialect.verified(c.state, req, res, pool.env, out);
      if (out.length > 0) perform(c);
    };
    if (pool.verify === undefined) return done({ ok: false, error: "this pool verifies nothing off-loop" });
    pool.verify(req).then(done, (e) => done({ ok: false, error: String(e) }));
  }

  /** Hand a share to the upstream pool; its verdict re-enters the session if the connection is still there. */
  function startForward(c: Conn, req: ForwardRequest): void {
    const dialect = c.route!.dialect;
    const pool = c.port!;
    const done = (res: ForwardResult) => {
      if (c.closing || dialect.forwarded === undefined) return;
      pool.env.now = clock.now();
      dialect.forwarded(c.state, req, res, pool.env, out);
      if (out.length > 0) perform(c);
    };
    if (pool.forward === undefined) return done({ verdict: "unconfirmed", reason: "upstream_unavailable", message: "this pool has no upstream" });
    pool.forward(req).then(done, (e) => done({ verdict: "unconfirmed", reason: "upstream_unavailable", message: String(e) }));
  }

  function closeConn(c: Conn, reason: CloseReason, flush: boolean): void {
    if (c.closing) return;
    c.closing = true;
    hooks.closed(reason);
    if (reason !== "shutdown") log.debug("closing connection", { remote: c.addr, reason });
    if (flush) c.sock.end();
    else c.sock.destroy();
  }

  function onLine(c: Conn, line: string): void {
    if (c.limiter !== undefined && !c.limiter.take(clock.now())) {
      // Over the message rate: answer once, close, and let the policy count a flood.
      c.sock.write(encodeErrorRaw(null, [20, "Rate limited", null]));
      guard?.flood(c.addr, clock.now());
      return closeConn(c, "flood", true);
    }
    const msg = parseLine(line);
    if (c.route === undefined) {
      if (msg.kind === "invalid") {
        // Counted here only before a dialect exists; afterwards the session reports its own.
        c.sock.write(encodeErrorRaw(msg.id, [20, "Malformed request", null]));
        closeConn(c, "malformed", true);
        guard?.malformed(c.addr, clock.now());
        return;
      }
      const route = opts.routes.find((r) => r.dialect.detect(msg));
      if (route === undefined) {
        // Unknown first message (or a dialect this port does not take): a prompt error and close, so
        // auto-detecting miners fall through to a dialect we speak without waiting for a timeout.
        c.sock.write(encodeErrorRaw(msg.id, [20, "Unsupported protocol", null]));
        return closeConn(c, "unsupported_dialect", true);
      }
      const port = route.pool.portFor === undefined ? route.pool : route.pool.portFor();
      if (port === undefined) {
        c.sock.write(encodeErrorRaw(msg.id, [20, "Relay full: no upstream capacity", null]));
        hooks.refused("no_capacity");
        return closeConn(c, "shutdown", true);
      }
      c.route = route;
      c.port = port;
      port.env.now = clock.now();
      c.state = route.dialect.open({ remoteAddress: c.addr, extranonce1: port.allocateExtranonce1(), difficulty: route.difficulty }, port.env);
    }
    c.route.dialect.receive(c.state, msg, c.port!.env, out);
  }

  const proxyDeps: ProxyDeps = { guard, clock, log, perAddress, limits, hooks, closeConn };
  const httpDeps: HttpDeps | undefined = opts.http === undefined ? undefined : { http: opts.http, guard, clock, log, limits, closeConn };

  guard?.onKick((key) => {
    for (let i = conns.length - 1; i >= 0; i--) {
      const c = conns[i];
      if (c === undefined || c.closing || guard.keyOf(c.addr) !== key) continue;
      // The connection whose batch earned the ban closes after that batch's replies are written.
      if (c === performing) kickedWhilePerforming = true;
      // end(), not destroy(): replies already queued still go out.
      else closeConn(c, "banned", true);
    }
  });

  const listener: TcpListener = await runtime.listen(opts.host, opts.port, {
    open(sock) {
      const addr = sock.remoteAddress;
      // Banned sources are closed here, before any read (behind a proxy: once the header names them).
      if (!proxied && guard !== undefined && !guard.admit(addr, clock.now())) {
        hooks.refused("banned");
        sock.ctx = undefined;
        sock.destroy();
        return;
      }
      const n = perAddress.get(addr) ?? 0;
      if (!accepting || conns.length >= limits.maxConnections ||
        (!proxied && limits.maxConnectionsPerAddress > 0 && n >= limits.maxConnectionsPerAddress)) {
        hooks.refused(!accepting ? "shutting_down" : conns.length >= limits.maxConnections ? "max_connections" : "max_per_address");
        sock.ctx = undefined;
        sock.destroy();
        return;
      }
      perAddress.set(addr, n + 1);
      // One literal with every field, the framer's included: adding them afterwards (initFramerState)
      // made JSC grow the object out of line, one more allocation per miner (bench --mode idle).
      const c: Conn = {
        sock,
        index: conns.length,
        route: undefined,
        port: undefined,
        state: undefined,
        openedAt: clock.now(),
        closing: false,
        held: undefined,
        addr,
        limiter: guard?.limiter(),
        proxyBuf: proxied ? new Uint8Array(0) : undefined,
        http: httpDeps !== undefined ? NOT_SNIFFED : undefined,
        max: limits.maxLineBytes,
        carry: EMPTY_CARRY,
        carryLen: 0,
        overflowed: false,
      };
      sock.ctx = c;
      conns.push(c);
      hooks.connections(conns.length);
    },
    data(sock, chunk) {
      const c = sock.ctx as Conn | undefined;
      if (c === undefined || c.closing) return;
      if (c.proxyBuf !== undefined) {
        const rest = takeProxyHeader(proxyDeps, c, chunk);
        if (rest === undefined || c.closing) return;
        chunk = rest;
      }
      if (c.http !== undefined && httpDeps !== undefined) {
        if (c.http instanceof Uint8Array) {
          const all = sniffFirstBytes(httpDeps, c, chunk);
          if (all === undefined) return;
          chunk = all;
        }
        if (c.http !== undefined) {
          try {
            return pushHttpBytes(httpDeps, c, chunk);
          } catch (e) {
            log.error("http connection error", { remote: c.addr, error: String(e instanceof Error ? e.stack : e) });
            return closeConn(c, "malformed", false);
          }
        }
      }
      if (c.port !== undefined) c.port.env.now = clock.now();
      const r = framerPush(c, chunk);
      try {
        for (let i = 0; i < r.lines.length && !c.closing; i++) onLine(c, r.lines[i]!);
        if (c.route !== undefined && !c.closing) c.route.dialect.flush(c.state, c.port!.env, out);
      } catch (e) {
        // A bug in a session must not take the process (and every other miner) down.
        out.length = 0;
        log.error("session error", { remote: sock.remoteAddress, error: String(e instanceof Error ? e.stack : e) });
        c.sock.write(encodeErrorRaw(null, [20, "Other/Unknown", null]));
        return closeConn(c, "malformed", true);
      }
      if (!c.closing) perform(c);
      else out.length = 0;
      if (r.overflow && !c.closing) {
        c.sock.write(encodeErrorRaw(null, [20, `Line longer than ${limits.maxLineBytes} bytes`, null]));
        closeConn(c, "line_too_long", true);
        guard?.oversize(c.addr, clock.now());
      }
    },
    close(sock) {
      const c = sock.ctx as Conn | undefined;
      if (c === undefined) return;
      sock.ctx = undefined;
      if (!c.closing) {
        c.closing = true;
        hooks.closed("peer");
      }
      if (c.index >= 0) remove(c);
      const n = (perAddress.get(c.addr) ?? 1) - 1;
      if (n <= 0) perAddress.delete(c.addr);
      else perAddress.set(c.addr, n);
      if (c.route !== undefined) c.route.dialect.closed(c.state, c.port!.env);
      hooks.connections(conns.length);
    },
  }, opts.reusePort || opts.tls ? { ...(opts.reusePort ? { reusePort: true } : {}), ...(opts.tls ? { tls: opts.tls } : {}) } : undefined);

  const ticker = clock.setInterval(() => {
    const now = clock.now();
    // Downwards: a connection closed during the loop is swap-removed with one already visited.
    for (let i = conns.length - 1; i >= 0; i--) {
      const c = conns[i];
      if (c === undefined || c.closing) continue;
      if (c.route === undefined) {
        if (c.http !== undefined && !(c.http instanceof Uint8Array)) tickHttpConn(httpDeps!, c, now);
        else if (now - c.openedAt >= limits.loginTimeoutMs) closeConn(c, "login_timeout", false);
        continue;
      }
      const env = c.port!.env;
      env.now = now;
      c.route.dialect.tick(c.state, env, out);
      if (out.length > 0) perform(c);
    }
  }, limits.tickMs);

  return {
    get port() {
      return listener.port;
    },
    get connections() {
      return conns.length;
    },
    broadcast(pool, ev) {
      const t0 = performance.now();
      const env = pool.env;
      env.now = clock.now();
      let n = 0;
      for (let i = conns.length - 1; i >= 0; i--) {
        const c = conns[i];
        if (c === undefined || c.closing || c.port !== pool) continue;
        c.route!.dialect.job(c.state, ev, env, out);
        if (out.length === 0) continue;
        n++;
        perform(c);
      }
      hooks.fanout((performance.now() - t0) / 1000, n);
    },
    evict(pool, dialect) {
      pool.env.now = clock.now();
      let n = 0;
      for (let i = conns.length - 1; i >= 0; i--) {
        const c = conns[i];
        if (c === undefined || c.closing || c.port !== pool || (dialect !== undefined && c.route!.dialect.name !== dialect)) continue;
        c.route!.dialect.shutdown(c.state, pool.env, out);
        perform(c);
        closeConn(c, "shutdown", true);
        n++;
      }
      return n;
    },
    notice(pool, text) {
      pool.env.now = clock.now();
      for (let i = conns.length - 1; i >= 0; i--) {
        const c = conns[i];
        if (c === undefined || c.closing || c.port !== pool || c.route!.dialect.notice === undefined) continue;
        c.route!.dialect.notice(c.state, text, pool.env, out);
        if (out.length > 0) perform(c);
      }
    },
    async shutdown(drainMs) {
      accepting = false;
      listener.close();
      clock.clearInterval(ticker);
      for (const c of conns.slice()) {
        if (c.closing) continue;
        if (c.route !== undefined) {
          c.port!.env.now = clock.now();
          c.route.dialect.shutdown(c.state, c.port!.env, out);
          perform(c);
        }
        closeConn(c, "shutdown", true);
      }
      const deadline = Date.now() + drainMs;
      while (conns.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      for (const c of conns.slice()) c.sock.destroy();
    },
    ...(listener.setTls !== undefined ? { setTls: listener.setTls.bind(listener) } : {}),
  };
}
