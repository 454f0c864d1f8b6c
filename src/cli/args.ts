// Parses the command line into a command and options; knows nothing about running them.

export type Command = "run" | "demo" | "bench" | "help" | "version";

export interface CliOptions {
  command: Command;
  configFile?: string;
  /** `--set path=value` overrides, applied after the config file. */
  sets: Record<string, string>;
  json: boolean;
  /** Remaining command-specific flags (demo/bench), as strings. */
  flags: Record<string, string | boolean>;
}

export const HELP = `stratum-edge — a single-binary Stratum relay (Bitcoin Stratum v1 today; see README)

Usage:
  stratum-edge [run] [--config FILE] [--set KEY=VALUE]... [--log-json]
      Run the relay. With no config it serves the embedded devnet:
      Stratum on 0.0.0.0:3333, HTTP (/healthz /metrics /api/stats) on 0.0.0.0:8080.
  stratum-edge demo [--miners N] [--seconds S] [--config FILE] [--set KEY=VALUE]...
      Run the relay plus N built-in CPU miners that find real shares and devnet
      blocks against it, with a live status line. Start here.
  stratum-edge bench [--connections N] [--seconds S] [--threads N] [--target HOST:PORT] [--mode MODE] [--tls] [--redis URL]
      Load generator (another process). MODE: shares (default), idle, fanout, all,
      abuse (an honest miner's latency while 1,000 connections/s from a banned source are refused),
      blocks (block share → submitblock latency and new-tip fan-out, against a simulated bitcoind),
      baseline (RSS before the first miner, 5 starts each with the binary downloaded, copied and read from disk).
      Without --target it starts the relay itself as a child process (--threads sets its stratum.threads,
      --redis URL its store.redis.url: shares are then also published to that Redis;
      --share-log on|off|both sets store.shareLog for --mode shares and idle, both = off then on, with the log's cost).
      --tls (shares, idle): miners connect over TLS (to a TLS [[listeners]] port of the child, made
      with a throw-away openssl certificate, or to --target's TLS port), to compare with plain runs.
  stratum-edge --help | --version

Options:
  --config FILE       TOML config file (see README for every key)
  --set KEY=VALUE     Override one config key, e.g. --set stratum.port=4444
  --log-json          JSON log lines instead of human ones (same as --set log.format=json)
`;

/** Every option the CLI knows: string options take a value, boolean ones none. */
const OPTIONS = {
  config: { type: "string", short: "c" },
  set: { type: "string", multiple: true },
  "log-json": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
  miners: { type: "string" },
  seconds: { type: "string" },
  connections: { type: "string" },
  target: { type: "string" },
  mode: { type: "string" },
  binary: { type: "string" },
  threads: { type: "string" },
  tls: { type: "boolean" },
  redis: { type: "string" },
  "share-log": { type: "string" },
} as const satisfies Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }>;

type Name = keyof typeof OPTIONS;
type Values = { -readonly [K in Name]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K] extends { type: "string" } ? string : boolean };

const SHORT: Record<string, Name> = Object.fromEntries(
  Object.entries(OPTIONS).flatMap(([name, o]) => ("short" in o ? [[o.short, name as Name]] : [])),
);

/**
 * node:util parseArgs in strict mode, for the options above: `--name value`, `--name=value`, `-c value`,
 * boolean `--name` / `-h`, repeated `--set`, `--` ends options. Hand-written because loading node:util
 * is the relay's only use of it and cost 0.5 MB of start-up RSS (compiled binary, median of starts).
 */
function parseOptions(argv: string[]): { values: Values; positionals: string[] } {
  const values: Values = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let name: Name | undefined;
    let inline: string | undefined;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const key = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      if (eq >= 0) inline = arg.slice(eq + 1);
      if (!Object.hasOwn(OPTIONS, key)) throw new Error(`unknown option "--${key}" (try --help)`);
      name = key as Name;
    } else if (arg.startsWith("-") && arg.length > 1) {
      name = SHORT[arg.slice(1)];
      if (name === undefined) throw new Error(`unknown option "${arg}" (try --help)`);
    } else {
      positionals.push(arg);
      continue;
    }
    const o: { type: string; multiple?: boolean } = OPTIONS[name];
    if (o.type === "boolean") {
      if (inline !== undefined) throw new Error(`option "--${name}" takes no value`);
      (values as Record<string, unknown>)[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      // A following option is a forgotten value (`--config --set …`), not the value itself.
      if (next === undefined || (next.startsWith("-") && next.length > 1)) throw new Error(`option "--${name}" needs a value`);
      value = next;
      i++;
    }
    if (o.multiple) ((values as Record<string, string[]>)[name] ??= []).push(value);
    else (values as Record<string, unknown>)[name] = value;
  }
  return { values, positionals };
}

export function parseCli(argv: string[]): CliOptions {
  const { values, positionals } = parseOptions(argv);
  const first = positionals[0];
  let command: Command = "run";
  if (values.help) command = "help";
  else if (values.version) command = "version";
  else if (first === "run" || first === "demo" || first === "bench" || first === "help" || first === "version") command = first;
  else if (first !== undefined) throw new Error(`unknown command "${first}" (try --help)`);
  if (positionals.length > 1) throw new Error(`unexpected argument "${positionals[1]}" (try --help)`);
  const sets: Record<string, string> = {};
  for (const s of values.set ?? []) {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new Error(`--set expects KEY=VALUE, got "${s}"`);
    sets[s.slice(0, eq)] = s.slice(eq + 1);
  }
  const flags: Record<string, string | boolean> = {};
  for (const k of ["miners", "seconds", "connections", "target", "mode", "binary", "threads", "redis", "share-log"] as const) {
    const v = values[k];
    if (v !== undefined) flags[k] = v;
  }
  if (values.tls) flags.tls = true;
  return { command, ...(values.config ? { configFile: values.config } : {}), sets, json: values["log-json"] === true, flags };
}
