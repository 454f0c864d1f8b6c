// Main-thread side of the session threads: starts them, posts jobs and bans, feeds their shares, blocks, checks and counters to the pools, guard and metrics; no sessions here.
import type { JobEvent } from "../../protocols/core/dialect.ts";
import type { CloseReason } from "../../protocols/core/actions.ts";
import type { Config } from "../config/schema.ts";
import type { Guard } from "../server/guard.ts";
import type { Logger } from "../observe/log.ts";
import type { HttpAnswer, PoolPort } from "../server/server.ts";
import type { HttpRequest } from "../../protocols/http/parse_request.ts";
import type { TlsPem } from "../runtime/types.ts";
import type { FromSessionThread, JobMessage, PoolIndex, ThreadEvent, ToSessionThread } from "./messages.ts";

/** A thread's counters as it reports them (every 250 ms): its open connections and what changed since. */
export interface ThreadHooks {
  report(thread: number, r: { connections: number; refused: Record<string, number>; closed: Partial<Record<CloseReason | "peer", number>> }): void;
}

const NOTHING = { refused: {}, closed: {} } as const;

export interface SessionThreads {
  /** Resolves when every thread listens; rejects (and stops them all) if one cannot start. */
  readonly ready: Promise<void>;
  /** Open connections on the session threads (the main thread's own are not included). */
  readonly connections: number;
  /** The same per thread (thread 1 first). */
  perThread(): number[];
  /** Post a job to every thread; returns at once (the threads write it out in parallel). */
  job(pool: PoolIndex, ev: JobEvent<unknown>, seq: number): void;
  clear(pool: PoolIndex): void;
  /** SIGHUP: every thread's listener for config.listeners[listener] takes this pair for new connections. */
  setTls(listener: number, tls: TlsPem): void;
  /** Resolves when every thread has sent its shutdown messages and closed (or drainMs + 2 s passed). */
  stop(drainMs: number): Promise<void>;
}

/** Epoch ms with sub-ms precision, comparable across threads. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * `threads` more listeners on the same ports (the main thread is the first of the group). Jobs
 * posted before a thread listens wait in its queue, so none is missed. A thread that cannot start
 * fails the whole start: a relay silently serving on fewer threads than configured would hide the
 * error until the farm grows.
 */
export function createSessionThreads(opts: {
  /** Total threads including the main one (count − 1 are started here); extranonce slices are split this many ways. */
  count: number;
  config: Config;
  port: number;
  listenerPorts: number[];
  /** The TLS pairs the listeners serve now (undefined = plain), given to a thread at its (re)start. */
  listenerTls: () => (TlsPem | undefined)[];
  /** The pools' current jobs, given to a thread at its (re)start. */
  jobs: () => JobMessage[];
  // deno-lint-ignore no-explicit-any
  pools: (PoolPort<any> | undefined)[];
  guard: Guard;
  hooks: ThreadHooks;
  /** A job's fan-out as reported by one thread: ms from post to its last socket write. */
  fanout(seq: number, ms: number, sockets: number): void;
  log: Logger;
  /** HTTP getwork requests the threads' Stratum ports received (the main thread's getwork dispatch); absent = none arrive. */
  http?: (req: HttpRequest, addr: string) => Promise<HttpAnswer>;
  workerUrl?: string | URL;
  startTimeoutMs?: number;
}): SessionThreads {
  const { guard, hooks, log, pools } = opts;
  const url = opts.workerUrl ?? new URL("./session_thread.ts", import.meta.url).href;
  const workers: Worker[] = [];
  const open: number[] = [];
  const stopped: (() => void)[] = [];
  const now = () => Date.now();

  const onEvents = (events: ThreadEvent[]) => {
    const t = now();
    for (const ev of events) {
      if (ev.k === "share") {
        pools[ev.pool]?.onShare(ev.share, ev.addr);
        guard.share(ev.addr, ev.share, t);
      } else if (ev.what === "malformed") guard.malformed(ev.addr, t);
      else if (ev.what === "oversize") guard.oversize(ev.addr, t);
      else if (ev.what === "flood") guard.flood(ev.addr, t);
      else guard.loginFailed(ev.addr, t);
    }
  };

  let stopping = false;
  const ups: Promise<void>[] = [];
  /**
   * Starts (or restarts) thread i. A thread that dies after start-up (a bug; sessions' own errors are
   * caught in the core) loses its connections; the miners reconnect and the replacement, given the
   * current jobs and bans, serves them, so one crash never takes the relay down.
   */
  const spawn = (i: number): Promise<void> => {
    const slot = i - 1;
    const w = new Worker(url, { type: "module" } as WorkerOptions);
    workers[slot] = w;
    open[slot] = 0;
    let isUp = false;
    let resolveUp: () => void = () => {};
    let rejectUp: (e: Error) => void = () => {};
    const up = new Promise<void>((res, rej) => {
      resolveUp = res;
      rejectUp = rej;
    });
    const failed = (msg: string) => {
      if (!isUp) return rejectUp(new Error(`session thread ${i}: ${msg}`));
      log.error("session thread failed; restarting it", { thread: i, error: msg });
      w.terminate();
      open[slot] = 0;
      hooks.report(i, { connections: 0, ...NOTHING });
      if (!stopping) setTimeout(() => void (!stopping && spawn(i).catch((e) => log.error("session thread restart failed", { thread: i, error: String(e) }))), 1000);
    };
    w.onmessage = (e: MessageEvent<FromSessionThread>) => {
      const m = e.data;
      switch (m.t) {
        case "up":
          isUp = true;
          return resolveUp();
        case "error":
          return failed(m.message);
        case "events":
          return onEvents(m.events);
        case "block":
          return pools[m.pool]?.onBlock(m.block, m.addr);
        case "verify": {
          const pool = pools[m.pool];
          const reply = (res: Extract<ToSessionThread, { t: "verified" }>["res"]) => w.postMessage({ t: "verified", id: m.id, res } satisfies ToSessionThread);
          if (pool?.verify === undefined) return reply({ ok: false, error: "this pool verifies nothing off-loop" });
          pool.verify(m.req).then(reply, (err) => reply({ ok: false, error: String(err) }));
          return;
        }
        case "http": {
          const reply = (answer: HttpAnswer) => w.postMessage({ t: "http_answer", id: m.id, answer } satisfies ToSessionThread);
          const refuse = (message: string) => reply({ status: 503, headers: [["content-type", "application/json"]], body: new TextEncoder().encode(JSON.stringify({ id: null, jsonrpc: "2.0", error: { code: -1, message } })), shares: [], abuse: [] });
          if (opts.http === undefined) return refuse("HTTP getwork is not served");
          opts.http(m.req, m.addr).then(reply, (err) => refuse(String(err)));
          return;
        }
        case "want":
          // The main pool's own lookup is what starts an on-demand build (ethash light cache).
          (pools[m.pool]?.env as { jobs?: { current?: () => unknown } } | undefined)?.jobs?.current?.();
          return;
        case "metrics":
          open[slot] = m.connections;
          hooks.report(i, m);
          for (const [seq, ms, sockets] of m.fanout) opts.fanout(seq, ms, sockets);
          return;
        case "stopped":
          return stopped[slot]?.();
      }
    };
    w.onerror = (e) => failed((e as ErrorEvent).message ?? String(e));
    const bans: [string, number][] = guard.policy.list(now()).map((b) => [b.key, b.until]);
    w.postMessage({
      t: "init",
      index: i,
      count: opts.count,
      config: opts.config,
      port: opts.port,
      listenerPorts: opts.listenerPorts,
      listenerTls: opts.listenerTls(),
      jobs: opts.jobs(),
      bans,
    } satisfies ToSessionThread);
    return up;
  };
  for (let i = 1; i < opts.count; i++) ups.push(spawn(i));

  const all = (m: ToSessionThread) => {
    for (const w of workers) w.postMessage(m);
  };
  guard.onKick((key, until) => all({ t: "ban", key, until }));
  guard.onLift(() => all({ t: "bans", bans: guard.policy.list(now()).map((b) => [b.key, b.until]) }));

  const timeoutMs = opts.startTimeoutMs ?? 15_000;
  const ready = (async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        Promise.all(ups),
        new Promise<never>((_, rej) => {
          timer = setTimeout(() => rej(new Error(`session threads did not start within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (e) {
      for (const w of workers) w.terminate();
      throw e;
    } finally {
      clearTimeout(timer);
    }
  })();
  // Observed by the caller through `ready`; this keeps an early failure from being reported as unhandled twice.
  ready.catch(() => {});

  return {
    ready,
    get connections() {
      return open.reduce((a, b) => a + b, 0);
    },
    perThread: () => open.slice(),
    job(pool, ev, seq) {
      all({ t: "job", pool, job: ev.job, clean: ev.clean, seq, sentAt: wallNow() });
    },
    clear(pool) {
      all({ t: "clear", pool });
    },
    setTls(listener, tls) {
      all({ t: "tls", listener, tls });
    },
    async stop(drainMs) {
      stopping = true;
      const done = workers.map((w, i) =>
        new Promise<void>((res) => {
          stopped[i] = res;
          w.postMessage({ t: "shutdown", drainMs } satisfies ToSessionThread);
        })
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(done), new Promise<void>((r) => (timer = setTimeout(r, drainMs + 2000)))]);
      clearTimeout(timer);
      for (const w of workers) w.terminate();
      for (let i = 0; i < open.length; i++) {
        open[i] = 0;
        hooks.report(i + 1, { connections: 0, ...NOTHING });
      }
    },
  };
}
