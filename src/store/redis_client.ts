// The Redis connection the relay uses (RedisLink, an injected interface) and its ioredis implementation; no relay logic, no buffering.
//
// Which client (evaluated for issue 10 on this project's machines, Bun 1.4.5, Deno 2.9.5; Bun's client
// and ioredis were run under each runtime, node-redis was judged from its package only):
// - Bun's built-in `Bun.RedisClient`: works under `bun` and in the `bun build --compile` binary
//   (XADD, INCR, PUBLISH/SUBSCRIBE through `send()` and `subscribe()`), no dependency. But it does
//   not exist under Deno, and the relay runs there too (deno.json "start"): it would need a second
//   client and a second set of reconnect/error behaviours to test.
// - `redis` (node-redis 6.4): well kept, but it pulls five @redis/* modules (bloom, json, search,
//   time-series) the relay has no use for, and its reconnect/queue model is a socket option tree.
// - `ioredis` 6.1.0 (chosen): one package plus four small dependencies, 55M downloads a month,
//   pure JavaScript over node:net, so the same code runs under Bun, in the compiled binary (it
//   bundles) and under Deno (npm: import, node_modules). It reconnects by itself, resubscribes
//   a subscriber connection after a reconnect, and can be told not to queue commands while down
//   (enableOfflineQueue: false) so that *our* bounded outbox, not an unbounded client queue, holds
//   what waits for Redis. Installed from npm with package-lock.json, so `npm ci` in CI has it.
// Everything else in src/store/redis_*.ts talks to RedisLink only: tests may pass any link.
import Redis from "ioredis";
import type { Logger } from "../observe/log.ts";

export type RedisArg = string | number;

export interface RedisLink {
  /** One command. Rejects at once while the connection is down (nothing is queued here). */
  call(args: RedisArg[]): Promise<unknown>;
  /** Messages of `channel` on a second connection, resubscribed after every reconnect. */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<void>;
  /** Connected and answering. */
  readonly ready: boolean;
  /** Called on every (re)connection: after a reconnect, state that was published while down is re-sent. */
  onReady(fn: () => void): void;
  /** Called once per loss of the connection. */
  onDown(fn: (error: string) => void): void;
  close(): Promise<void>;
}

/** Redis URL without its password, for logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
}

/**
 * An ioredis connection. Reconnects forever with a backoff capped at `retryMaxMs`: a relay whose
 * Redis is gone keeps serving miners and keeps trying.
 */
export function connectIoredis(url: string, log: Logger, opts: { retryMaxMs?: number; connectTimeoutMs?: number } = {}): RedisLink {
  const retryMaxMs = opts.retryMaxMs ?? 500;
  const options = {
    lazyConnect: false,
    enableOfflineQueue: false,
    // An unanswered command fails when its connection drops instead of being re-sent on the next
    // one: the outbox retries it itself, through a Lua script that skips what already got in.
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: opts.connectTimeoutMs ?? 5000,
    retryStrategy: (times: number) => Math.min(50 * times, retryMaxMs),
  };
  const main = new Redis(url, options);
  let sub: Redis | undefined;
  const handlers = new Map<string, ((m: string) => void)[]>();
  const readyFns: (() => void)[] = [];
  const downFns: ((e: string) => void)[] = [];
  let ready = false;
  let lastError = "";
  main.on("ready", () => {
    ready = true;
    for (const fn of readyFns) fn();
  });
  main.on("error", (e: Error) => {
    lastError = e.message;
  });
  main.on("close", () => {
    if (!ready) return;
    ready = false;
    for (const fn of downFns) fn(lastError || "connection closed");
  });
  return {
    call(args) {
      const [cmd, ...rest] = args;
      return main.call(String(cmd), ...rest);
    },
    async subscribe(channel, onMessage) {
      const list = handlers.get(channel) ?? [];
      list.push(onMessage);
      handlers.set(channel, list);
      const resubscribe = (s: Redis) =>
        s.subscribe(...handlers.keys()).catch((e: Error) => log.warn("redis subscribe failed; retried at the next connection", { error: e.message }));
      if (sub === undefined) {
        // Subscribed again by us at every connection (ioredis's own resubscribe only knows channels
        // whose SUBSCRIBE got through, and the first may be sent while Redis is still away).
        const s = main.duplicate({ autoResubscribe: false });
        sub = s;
        s.on("error", () => {});
        s.on("ready", () => void resubscribe(s));
        s.on("message", (ch: string, msg: string) => {
          for (const h of handlers.get(ch) ?? []) h(msg);
        });
      } else if (sub.status === "ready") await resubscribe(sub);
    },
    get ready() {
      return ready;
    },
    onReady(fn) {
      readyFns.push(fn);
      if (ready) fn();
    },
    onDown: (fn) => void downFns.push(fn),
    async close() {
      main.disconnect();
      sub?.disconnect();
    },
  };
}
