// CLI entry point: picks the runtime (Bun, Deno or Node), parses arguments and config, runs a command; nothing else.
import { loadRuntime } from "./runtime/select.ts";
import { HELP, parseCli, type CliOptions } from "./cli/args.ts";
import type { Config } from "./config/schema.ts";
import type { Runtime } from "./runtime/types.ts";
import type { createRelayWith as CreateRelayWith } from "./relay/relay.ts";
import { createLogger } from "./observe/log.ts";
import { VERSION } from "./version.ts";
import { normalJitPolicy } from "./runtime/jit_policy.ts";
import { releaseStartupMemory } from "./runtime/release_startup.ts";

async function readConfig(cli: CliOptions, runtime: Runtime): Promise<Config> {
  const { applyOverrides, loadConfig } = await import("./config/load.ts");
  let text: string | undefined;
  let source = "defaults";
  if (cli.configFile !== undefined) {
    text = runtime.files.readText(cli.configFile);
    if (text === undefined) throw new Error(`cannot read config file ${cli.configFile}`);
    source = cli.configFile;
  }
  const sets = { ...cli.sets };
  if (cli.json) sets["log.format"] = "json";
  let config = loadConfig(text, source);
  if (Object.keys(sets).length > 0) config = applyOverrides(config, sets);
  return config;
}

async function main(): Promise<void> {
  const runtime = await loadRuntime();
  let cli: CliOptions;
  let config!: Config;
  try {
    cli = parseCli(runtime.args());
    if (cli.command === "help") {
      console.log(HELP);
      return runtime.exit(0);
    }
    if (cli.command === "version") {
      console.log(`stratum-edge ${VERSION} (${runtime.name})`);
      return runtime.exit(0);
    }
    // bench reads no config and loads no relay code (modules are imported per command), so its
    // bare-listener floor costs what the runtime's I/O costs, not what loading the relay does.
    if (cli.command !== "bench") config = await readConfig(cli, runtime);
  } catch (e) {
    console.error(`stratum-edge: ${e instanceof Error ? e.message : String(e)}`);
    return runtime.exit(2);
  }
  // bench and demo are load generators: full JIT from the start.
  if (cli.command === "bench" || cli.command === "demo") normalJitPolicy();
  if (cli.command === "bench") {
    const { runBench } = await import("./cli/bench.ts");
    return runtime.exit(await runBench(runtime, cli.flags));
  }
  if (cli.command === "demo") {
    const { runDemo } = await import("./cli/demo.ts");
    return runtime.exit(await runDemo(runtime, config, cli.flags));
  }
  const log = createLogger({ format: config.log.format, level: config.log.level });
  const { createRelayWith } = await import("./relay/relay.ts");
  let relay: ReturnType<typeof CreateRelayWith>;
  try {
    let redis: Parameters<typeof CreateRelayWith>[3];
    if (config.store.redis.url !== "") {
      // Before the relay is built: the pools' extranonce1 allocators need this instance's prefix.
      const { openRedisStore, withPrefix } = await import("./store/redis_store.ts");
      redis = await openRedisStore(config, runtime.clock, log);
      config = withPrefix(config, redis.prefix);
    }
    try {
      relay = createRelayWith(config, runtime, log, redis);
    } catch (e) {
      // Settings that parse but cannot be used (a CA file that does not load, a bad payout address): one line, no stack.
      console.error(`stratum-edge: ${e instanceof Error ? e.message : String(e)}`);
      return runtime.exit(2);
    }
    await relay.start();
    normalJitPolicy();
    releaseStartupMemory();
  } catch (e) {
    log.error("could not start", { error: e instanceof Error ? e.message : String(e) });
    return runtime.exit(1);
  }
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    relay.log.info("shutting down: sending client.reconnect, draining");
    await relay.stop();
    runtime.exit(0);
  };
  runtime.onSignal("SIGINT", stop);
  runtime.onSignal("SIGTERM", stop);
  // Only with TLS ports: otherwise SIGHUP keeps its default (terminate), as before TLS existed.
  if (config.listeners.some((l) => l.tls !== undefined)) runtime.onSignal("SIGHUP", () => relay.reloadTls());
}

main().catch((e) => {
  console.error(`stratum-edge: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  (globalThis as { process?: { exit(code: number): never } }).process?.exit(1);
});
