// Shares the guard's bans across instances through Redis (a key per ban with the ban's TTL, plus a pub/sub channel); no ban policy here, the guard decides.
import type { Clock } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { Guard } from "../server/guard.ts";
import type { BanEntry } from "../policy/ban_policy.ts";
import type { RedisLink } from "./redis_client.ts";

/**
 * Why both keys and a channel: PUBLISH reaches every connected instance at once (a ban is enforced
 * everywhere within milliseconds), but a message sent while an instance was disconnected is gone.
 * The keys `<ns>:ban:<key>` (value: the BanEntry as JSON, expiring when the ban does) are the
 * shared state: read at every (re)connection and every `pollMs`, so a missed message is repaired
 * within that time. A key that was there at the last read and is gone now was lifted (or
 * expired): it is lifted here too.
 */
export interface BanSyncMessage {
  op: "ban" | "lift";
  origin: string;
  entry?: BanEntry;
  key?: string;
}

export interface BanSync {
  stop(): void;
  /** One read of the shared ban keys (also run every pollMs). */
  poll(): Promise<void>;
}

export function startBanSync(opts: { link: RedisLink; guard: Guard; clock: Clock; log: Logger; ns: string; origin: string; pollMs: number; received(op: "ban" | "lift"): void }): BanSync {
  const { link, guard, clock, log, ns, origin } = opts;
  const channel = `${ns}:bans`;
  const keyOf = (k: string) => `${ns}:ban:${k}`;
  /** Shared keys seen at the last poll: one missing now was lifted elsewhere. */
  let seen = new Set<string>();
  let pushed = false;
  let polling = false;

  async function publish(ev: { op: "ban"; entry: BanEntry } | { op: "lift"; key: string }): Promise<void> {
    if (!link.ready) return; // re-sent from the guard's table at the next connection (pushLocal)
    try {
      if (ev.op === "ban") {
        const ttl = ev.entry.until - clock.now();
        if (ttl <= 0) return;
        await link.call(["SET", keyOf(ev.entry.key), JSON.stringify(ev.entry), "PX", Math.ceil(ttl)]);
        seen.add(ev.entry.key);
        await link.call(["PUBLISH", channel, JSON.stringify({ op: "ban", origin, entry: ev.entry } satisfies BanSyncMessage)]);
      } else {
        await link.call(["DEL", keyOf(ev.key)]);
        seen.delete(ev.key);
        await link.call(["PUBLISH", channel, JSON.stringify({ op: "lift", origin, key: ev.key } satisfies BanSyncMessage)]);
      }
    } catch (e) {
      log.warn("redis: could not share a ban change; re-sent at the next connection", { op: ev.op, error: String((e as Error).message ?? e) });
      pushed = false;
    }
  }

  /** Our bans into Redis (those decided while it was away, or before it lost its data); never shortens one there. */
  async function pushLocal(): Promise<void> {
    const now = clock.now();
    for (const b of guard.policy.list(now)) {
      const ttl = b.until - now;
      if (ttl <= 0) continue;
      // NX: an entry already there (ours or another instance's) is left as is.
      await link.call(["SET", keyOf(b.key), JSON.stringify(b), "PX", Math.ceil(ttl), "NX"]);
    }
    pushed = true;
  }

  function onMessage(text: string): void {
    let m: BanSyncMessage;
    try {
      m = JSON.parse(text) as BanSyncMessage;
    } catch {
      return;
    }
    if (m.origin === origin) return;
    if (m.op === "ban" && m.entry !== undefined) {
      opts.received("ban");
      seen.add(m.entry.key);
      guard.adopt(m.entry, clock.now());
    } else if (m.op === "lift" && typeof m.key === "string") {
      opts.received("lift");
      seen.delete(m.key);
      guard.liftAdopted(m.key);
    }
  }

  async function poll(): Promise<void> {
    if (!link.ready || polling) return;
    polling = true;
    let before: Set<string> | undefined;
    try {
      if (!pushed) await pushLocal();
      const now = clock.now();
      // Keys published while this poll runs go into the new set: only what was seen before it can be judged lifted.
      before = seen;
      seen = new Set();
      const found = new Set<string>();
      let cursor = "0";
      do {
        const [next, keys] = (await link.call(["SCAN", cursor, "MATCH", keyOf("*"), "COUNT", 1000])) as [string, string[]];
        cursor = next;
        if (keys.length === 0) continue;
        const values = (await link.call(["MGET", ...keys])) as (string | null)[];
        for (const v of values) {
          if (v === null) continue;
          try {
            const e = JSON.parse(v) as BanEntry;
            found.add(e.key);
            guard.adopt(e, now);
          } catch {
            // not ours: skipped
          }
        }
      } while (cursor !== "0");
      // Only a ban still held here: lifting one that merely expired would also forget its offence count.
      for (const k of before) if (!found.has(k) && !seen.has(k) && guard.policy.isBanned(k, clock.now()).banned) guard.liftAdopted(k);
      for (const k of found) seen.add(k);
    } catch (e) {
      if (before !== undefined) for (const k of before) seen.add(k);
      log.debug("redis: ban poll failed", { error: String((e as Error).message ?? e) });
    } finally {
      polling = false;
    }
  }

  guard.onChange((ev) => void publish(ev));
  void link.subscribe(channel, onMessage);
  link.onReady(() => {
    pushed = false;
    void poll();
  });
  link.onDown(() => {
    pushed = false;
  });
  const timer = clock.setInterval(() => void poll(), opts.pollMs);
  return {
    stop: () => clock.clearInterval(timer),
    poll,
  };
}
