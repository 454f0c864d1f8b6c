// Bounded in-memory outbox of stream entries (shares, blocks) written to Redis in batches, held while Redis is down and replayed without duplicates; no formatting, no connection handling.
import type { Clock } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { RedisLink } from "./redis_client.ts";

/**
 * Why a Lua script and not plain XADD: a batch whose reply is lost (Redis killed after writing,
 * connection cut) must be retried, and a blind retry would add its entries twice. Every entry
 * carries this run's sequence number; the script remembers the highest one written (key
 * `<ns>:hw:<run>`, written in the same atomic call as the entries) and skips entries at or below
 * it. Redis auto-ids (`*`) keep the stream ordered across instances (explicit ids from two
 * instances would collide or go backwards); the `id` field is what consumers dedup on.
 */
export const OUTBOX_SCRIPT = `
local hw = tonumber(redis.call('GET', KEYS[1]) or '0')
local maxlen = ARGV[1]
local i = 3
local last = hw
local added = 0
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  local seq = tonumber(ARGV[i + 1])
  local n = tonumber(ARGV[i + 2])
  if seq > last then
    local args = {KEYS[k + 1], 'MAXLEN', '~', maxlen, '*'}
    for j = 1, n do args[#args + 1] = ARGV[i + 2 + j] end
    redis.call('XADD', unpack(args))
    last = seq
    added = added + 1
  end
  i = i + 3 + n
end
redis.call('SET', KEYS[1], last, 'EX', ARGV[2])
return added
`;

export type EntryKind = "share" | "block";

interface Entry {
  kind: EntryKind;
  seq: number;
  fields: string[];
}

export interface OutboxHooks {
  published(kind: EntryKind, n: number): void;
  dropped(kind: EntryKind): void;
  buffered(n: number): void;
}

export interface Outbox {
  /** Queue one entry, its fields made from its sequence number; false when the buffer is full and it was dropped (counted). */
  push(kind: EntryKind, fields: (seq: number) => string[]): boolean;
  /** Entries waiting (not yet confirmed by Redis). */
  readonly pending: number;
  /** Resolves once every entry queued so far is in Redis, or after `ms`; true = all written. */
  drain(ms: number): Promise<boolean>;
  stop(): void;
}

export function createOutbox(opts: {
  link: RedisLink;
  clock: Clock;
  log: Logger;
  hooks: OutboxHooks;
  /** Keys: the high-water mark of this run, the share stream, the block stream. */
  hwKey: string;
  streams: Record<EntryKind, string>;
  maxLen: number;
  maxEntries: number;
  batchSize: number;
}): Outbox {
  const { link, clock, log, hooks } = opts;
  const queue: Entry[] = [];
  // queue[head..] is waiting; the front slice is compacted away now and then, not per shift.
  let head = 0;
  let seq = 0;
  let inflight = false;
  let scheduled = false;
  let sha: string | undefined;
  let stopped = false;
  let failing = false;
  let retryTimer: unknown;
  const waiters: (() => void)[] = [];
  const HW_TTL_SECONDS = 7 * 24 * 3600;

  const pending = () => queue.length - head;

  function schedule(delayMs = 0): void {
    if (scheduled || inflight || stopped) return;
    scheduled = true;
    // A timer, not a microtask: shares arriving in the same tick join one batch.
    retryTimer = clock.setTimeout(() => {
      scheduled = false;
      void flush();
    }, delayMs);
  }

  async function script(keys: string[], argv: (string | number)[]): Promise<unknown> {
    if (sha === undefined) sha = String(await link.call(["SCRIPT", "LOAD", OUTBOX_SCRIPT]));
    try {
      return await link.call(["EVALSHA", sha, keys.length, ...keys, ...argv]);
    } catch (e) {
      // A restarted Redis has forgotten the script.
      if (!String((e as Error).message).includes("NOSCRIPT")) throw e;
      sha = String(await link.call(["SCRIPT", "LOAD", OUTBOX_SCRIPT]));
      return link.call(["EVALSHA", sha, keys.length, ...keys, ...argv]);
    }
  }

  async function flush(): Promise<void> {
    if (inflight || stopped || pending() === 0) return settle();
    if (!link.ready) return; // onReady schedules the catch-up
    inflight = true;
    const end = Math.min(queue.length, head + opts.batchSize);
    const argv: (string | number)[] = [opts.maxLen, HW_TTL_SECONDS];
    for (let i = head; i < end; i++) {
      const e = queue[i]!;
      argv.push(e.kind === "share" ? 1 : 2, e.seq, e.fields.length);
      for (const f of e.fields) argv.push(f);
    }
    try {
      await script([opts.hwKey, opts.streams.share, opts.streams.block], argv);
      let shares = 0;
      for (let i = head; i < end; i++) if (queue[i]!.kind === "share") shares++;
      if (shares > 0) hooks.published("share", shares);
      if (end - head > shares) hooks.published("block", end - head - shares);
      head = end;
      if (head > 4096 && head * 2 > queue.length) {
        queue.splice(0, head);
        head = 0;
      }
      hooks.buffered(pending());
      if (failing) {
        failing = false;
        log.info("redis: stream writes resumed", { waiting: pending() });
      }
      inflight = false;
      if (pending() > 0) schedule();
      else settle();
    } catch (e) {
      inflight = false;
      if (!failing) {
        failing = true;
        log.warn("redis: stream write failed; entries stay buffered and are retried", { waiting: pending(), error: String((e as Error).message ?? e) });
      }
      // Down: onReady restarts the flush. Up but failing (e.g. OOM): retry after a pause.
      if (link.ready) schedule(500);
    }
  }

  function settle(): void {
    if (pending() > 0) return;
    for (const w of waiters.splice(0)) w();
  }

  link.onReady(() => {
    sha = undefined;
    if (pending() > 0) log.info("redis: connected; writing buffered stream entries", { waiting: pending() });
    schedule();
  });

  return {
    push(kind, fields) {
      if (pending() >= opts.maxEntries) {
        hooks.dropped(kind);
        return false;
      }
      seq++;
      queue.push({ kind, seq, fields: fields(seq) });
      hooks.buffered(pending());
      schedule();
      return true;
    },
    get pending() {
      return pending();
    },
    drain(ms) {
      if (pending() === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const t = clock.setTimeout(() => resolve(pending() === 0), ms);
        waiters.push(() => {
          clock.clearTimeout(t);
          resolve(true);
        });
      });
    },
    stop() {
      stopped = true;
      clock.clearTimeout(retryTimer);
    },
  };
}
