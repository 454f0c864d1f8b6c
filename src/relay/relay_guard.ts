// The abuse guard of a relay from config.bans and the message-rate limits; builds, does not run.
import type { Config } from "../config/schema.ts";
import type { Runtime } from "../runtime/types.ts";
import type { Logger } from "../observe/log.ts";
import type { createRelayMetrics } from "../observe/relay_metrics.ts";
import { createGuard, type Guard } from "../server/guard.ts";

export function createRelayGuard(config: Config, runtime: Runtime, logger: Logger, metrics: ReturnType<typeof createRelayMetrics>): Guard {
  const clock = runtime.clock;
  const b = config.bans;
  return createGuard({
    enabled: b.enabled,
    policy: {
      windowMs: b.windowMs,
      minShares: b.minShares,
      invalidRatio: b.invalidRatio,
      maxMalformed: b.maxMalformed,
      maxOversize: b.maxOversize,
      maxFloods: b.maxFloods,
      maxFailedLogins: b.maxFailedLogins,
      banMs: b.banMs,
      maxBanMs: b.maxBanMs,
      failedLoginBanMs: b.failedLoginBanMs,
      maxFailedLoginBanMs: b.maxFailedLoginBanMs,
      offenceMemoryMs: b.offenceMemoryMs,
      maxTrackedKeys: b.maxTrackedKeys,
      maxBans: b.maxBans,
      allowlist: b.allowlist,
    },
    rate: { perSecond: config.stratum.maxMessagesPerSecond, burst: config.stratum.messageBurst },
    log: logger,
    hooks: metrics.guardHooks,
    files: runtime.files,
    dataDir: config.dataDir,
    now: clock.now(),
  });
}
