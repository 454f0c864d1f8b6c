// Library entry: createRelay(config) runs the whole relay in-process on Bun or Deno; re-exports config types. No CLI.
import { validateConfig } from "./config/load.ts";
import type { Config } from "./config/schema.ts";
import type { Runtime } from "./runtime/types.ts";
import { loadRuntime } from "./runtime/select.ts";
import { createRelayWith, type Relay, type RelayStats } from "./relay/relay.ts";
import { createLogger, type Logger } from "./observe/log.ts";

export type { Config } from "./config/schema.ts";
export { ConfigSchema, DEFAULT_CONFIG } from "./config/schema.ts";
export type { RelayStats } from "./relay/relay.ts";
export type { Runtime } from "./runtime/types.ts";
export { VERSION } from "./version.ts";

/** Deep-partial config as written in TOML (every key optional, defaults filled in). */
export type ConfigInput = { [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> | Record<string, unknown> : Config[K] };

export interface EmbeddedRelay {
  /** Listen and start work; resolves with the bound ports (port 0 in config = any free port). */
  start(): Promise<{ stratumPort: number; httpPort: number | undefined }>;
  /** Graceful stop: client.reconnect to every miner, wait for block submissions, close listeners. */
  stop(): Promise<void>;
  stats(): RelayStats | undefined;
}

/**
 * Run a relay inside another Bun or Deno program. The config is validated now (throws a
 * ConfigError naming each bad path and value); the runtime adapter is picked on start().
 */
export function createRelay(config: ConfigInput = {}, opts: { runtime?: Runtime; log?: Logger } = {}): EmbeddedRelay {
  const parsed = validateConfig(config, "createRelay");
  let relay: Relay | undefined;
  return {
    async start() {
      if (relay !== undefined) throw new Error("relay already started");
      const runtime = opts.runtime ?? (await loadRuntime());
      let config = parsed;
      let redis: Parameters<typeof createRelayWith>[3];
      if (config.store.redis.url !== "") {
        const { openRedisStore, withPrefix } = await import("./store/redis_store.ts");
        const log = opts.log ?? createLogger({ format: config.log.format, level: config.log.level });
        redis = await openRedisStore(config, runtime.clock, log);
        config = withPrefix(config, redis.prefix);
        relay = createRelayWith(config, runtime, log, redis);
      } else relay = createRelayWith(config, runtime, opts.log);
      return relay.start();
    },
    async stop() {
      await relay?.stop();
    },
    stats() {
      return relay?.stats();
    },
  };
}
