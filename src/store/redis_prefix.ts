// Leases this instance a unique extranonce1 prefix from Redis (INCR picks a candidate, SET NX PX takes it, renewed while up); no allocation of extranonce1 values.
import type { Clock } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { RedisLink } from "./redis_client.ts";

/** Renew only our own lease: another instance may have taken an expired one. */
const RENEW_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if v == false then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0
`;

export interface PrefixLease {
  readonly prefix: string;
  stop(): Promise<void>;
}

/**
 * Why INCR and a lease key, not INCR alone: a counter only grows, so after 256 restarts a 1-byte
 * prefix would wrap onto a live instance's. The counter spreads new instances over the space; the
 * key `<ns>:en1:<prefix>` (value: this run's id, expiring unless renewed) says which are taken.
 * A lease found missing at renewal (Redis restarted and lost it) is taken back at once.
 */
export async function leasePrefix(opts: { link: RedisLink; ns: string; bytes: number; run: string; leaseMs: number; clock: Clock; log: Logger }): Promise<PrefixLease> {
  const { link, ns, run, leaseMs, clock, log } = opts;
  const space = 2 ** (8 * opts.bytes);
  let prefix: string | undefined;
  for (let tries = 0; tries < space && prefix === undefined; tries++) {
    const n = Number(await link.call(["INCR", `${ns}:en1:counter`]));
    const candidate = ((n - 1) % space).toString(16).padStart(2 * opts.bytes, "0");
    if ((await link.call(["SET", `${ns}:en1:${candidate}`, run, "PX", leaseMs, "NX"])) === "OK") prefix = candidate;
  }
  if (prefix === undefined) throw new Error(`every ${opts.bytes}-byte extranonce1 prefix is leased (${space} instances); raise store.redis.prefixBytes`);
  const key = `${ns}:en1:${prefix}`;
  let lost = false;
  const renew = async () => {
    if (!link.ready) return;
    try {
      const r = Number(await link.call(["EVAL", RENEW_SCRIPT, 1, key, run, leaseMs]));
      if (r === 0 && !lost) {
        lost = true;
        log.error("redis: another instance holds this instance's extranonce1 prefix (our lease expired while Redis was unreachable); their shares may collide with ours: restart one of them", { prefix });
      } else if (r !== 0) lost = false;
    } catch (e) {
      log.debug("redis: prefix lease renewal failed", { error: String((e as Error).message ?? e) });
    }
  };
  const timer = clock.setInterval(() => void renew(), Math.max(1000, Math.floor(leaseMs / 3)));
  link.onReady(() => void renew());
  return {
    prefix,
    async stop() {
      clock.clearInterval(timer);
      // Free it for the next instance at once (only if still ours).
      if (link.ready) await link.call(["EVAL", "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, key, run]).catch(() => {});
    },
  };
}
