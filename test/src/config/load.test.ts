// Config loading: defaults, a good TOML file, and exact error messages for typos, wrong types, refine failures, TOML syntax and --set overrides.
import { describe, expect, test } from "bun:test";
import * as z from "zod/mini";
import { applyOverrides, ConfigError, loadConfig } from "../../../src/config/load.ts";
import { ConfigSchema, DEFAULT_CONFIG } from "../../../src/config/schema.ts";

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("schema", () => {
  test("defaults are the documented values", () => {
    expect(DEFAULT_CONFIG).toEqual({
      log: { format: "human", level: "info" },
      dataDir: "./stratum-edge-data",
      http: { enabled: true, host: "0.0.0.0", port: 8080, adminToken: "" },
      stratum: {
        host: "0.0.0.0",
        port: 3333,
        maxLineBytes: 16384,
        maxConnections: 20000,
        maxConnectionsPerAddress: 0,
        threads: 1,
        loginTimeoutMs: 30000,
        idleTimeoutMs: 600000,
        extranonce1Size: 4,
        extranonce2Size: 4,
        versionMask: "1fffe000",
        maxMessagesPerSecond: 50,
        messageBurst: 200,
        proxyProtocol: false,
        maxMalformedRequests: 10,
        maxWriteBufferBytes: 1048576,
      },
      difficulty: { initial: 0.01, min: 0.0001, max: 1e15, suggestFloor: 0.0001, targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30 },
      coinbase: { payoutScript: "", poolTag: "/stratum-edge/" },
      jobs: { refreshSeconds: 30, keepJobs: 8 },
      upstream: { type: "devnet", devnet: { bits: "1e00ffff", blockIntervalSeconds: 60, transactionsPerBlock: 3, startHeight: 1, coinbaseValueSats: 5000000000 } },
      ethash: {
        enabled: true,
        algo: "ethash",
        etchashActivationBlock: 11700000,
        initialDifficulty: 0.0000007,
        minDifficulty: 1e-9,
        maxDifficulty: 1e6,
        suggestFloor: 1e-9,
        keepHeights: 8,
        extranonceBytes: 2,
        verifierThreads: 0,
        prebuild: false,
        saveCaches: true,
        disconnectOnError: false,
        upstream: { type: "devnet", devnet: { blockDifficulty: 100000, blockIntervalSeconds: 15, startBlock: 1 } },
      },
      getwork: { stratumPort: true, maxBodyBytes: 16384, maxHeaderBytes: 8192, maxRequestsPerConnection: 1000, keepAliveMs: 30000, maxSessions: 10000 },
      bans: {
        enabled: true,
        windowMs: 600000,
        minShares: 20,
        invalidRatio: 0.9,
        maxMalformed: 20,
        maxOversize: 1,
        maxFloods: 3,
        maxFailedLogins: 10,
        banMs: 600000,
        maxBanMs: 86400000,
        failedLoginBanMs: 60000,
        maxFailedLoginBanMs: 3600000,
        offenceMemoryMs: 86400000,
        maxTrackedKeys: 100000,
        maxBans: 100000,
        allowlist: [],
      },
      listeners: [],
      shutdown: { drainMs: 1000, reconnectHost: "", reconnectPort: 0 },
      store: {
        shareLog: true,
        commitIntervalMs: 0,
        retentionDays: 30,
        fsync: false,
        redis: {
          url: "",
          keyPrefix: "stratum-edge",
          instancePrefix: "",
          prefixBytes: 1,
          leaseSeconds: 60,
          sharesStream: "shares",
          blocksStream: "blocks",
          streamMaxLen: 1_000_000,
          bufferMaxEntries: 200_000,
          batchSize: 2000,
          banPollMs: 2000,
          statsIntervalMs: 2000,
          connectTimeoutMs: 5000,
        },
      },
    });
    expect(loadConfig(undefined, "none")).toEqual(DEFAULT_CONFIG);
    expect(loadConfig("", "empty.toml")).toEqual(DEFAULT_CONFIG);
  });

  test("every field and section carries a description (README is generated from them)", () => {
    const js = z.toJSONSchema(ConfigSchema, { io: "input" }) as Record<string, unknown>;
    const missing: string[] = [];
    let fields = 0;
    const walk = (s: Record<string, any>, p: string) => {
      if (p) fields++;
      if (p && !s.description) missing.push(p);
      const props = s.properties ?? s.oneOf?.[0]?.properties;
      if (props) for (const [k, v] of Object.entries(props)) walk(v as Record<string, any>, p ? `${p}.${k}` : k);
    };
    walk(js, "");
    expect(missing).toEqual([]);
    expect(fields).toBeGreaterThan(45);
  });
});

describe("loadConfig", () => {
  test("a good file: sections, camelCase and snake_case keys, dotted keys, partial sections keep defaults", () => {
    const c = loadConfig(
      `
dataDir = "/var/lib/se"
http.port = 9090

[log]
format = "json"
level = "debug"

[stratum]
port = 4444
maxConnectionsPerAddress = 50
extranonce2_size = 8
version-mask = "1fffe000"

[difficulty]
initial = 16
min = 1
max = 65536

[upstream]
type = "devnet"

[upstream.devnet]
bits = "207fffff"
blockIntervalSeconds = 5
`,
      "config.toml",
    );
    expect(c.dataDir).toBe("/var/lib/se");
    expect(c.http).toEqual({ enabled: true, host: "0.0.0.0", port: 9090, adminToken: "" });
    expect(c.log).toEqual({ format: "json", level: "debug" });
    expect(c.stratum.port).toBe(4444);
    expect(c.stratum.maxConnectionsPerAddress).toBe(50);
    expect(c.stratum.extranonce2Size).toBe(8);
    expect(c.stratum.maxLineBytes).toBe(16384);
    expect(c.difficulty).toEqual({ ...DEFAULT_CONFIG.difficulty, initial: 16, min: 1, max: 65536 });
    if (c.upstream.type !== "devnet" || DEFAULT_CONFIG.upstream.type !== "devnet") throw new Error("expected the devnet upstream");
    expect(c.upstream.devnet).toEqual({ ...DEFAULT_CONFIG.upstream.devnet, bits: "207fffff", blockIntervalSeconds: 5 });
  });

  test("HTTP getwork: [getwork] limits, listeners accept it by default and a pinned dialect list leaves it out", () => {
    const c = loadConfig(
      `
[getwork]
stratumPort = false
maxHeaderBytes = 4096
keep_alive_ms = 5000

[[listeners]]
port = 4444

[[listeners]]
port = 4445
dialects = ["eth-proxy"]

[[listeners]]
port = 4446
dialects = ["http-getwork"]
`,
      "config.toml",
    );
    expect(c.getwork).toEqual({ ...DEFAULT_CONFIG.getwork, stratumPort: false, maxHeaderBytes: 4096, keepAliveMs: 5000 });
    expect(c.listeners.map((l) => l.dialects)).toEqual([["stratum-v1", "eth-proxy", "eth-stratum", "eth-stratum2", "http-getwork"], ["eth-proxy"], ["http-getwork"]]);
    const e = errorOf(() => loadConfig(`[getwork]\nmaxHeaderBytes = 10\n[[listeners]]\nport = 1\ndialects = ["http"]\n`, "config.toml"));
    expect(e.problems).toEqual([
      "config.toml: getwork.maxHeaderBytes = 10: expected >= 256",
      `config.toml: listeners.0.dialects.0 = "http": expected one of "stratum-v1", "eth-proxy", "eth-stratum", "eth-stratum2", "http-getwork"`,
    ]);
  });

  test("a typo key is an error naming the path, the value and the likely intended key", () => {
    const e = errorOf(() => loadConfig(`[stratum]\nprot = 4444\n`, "config.toml"));
    expect(e.message).toBe(`config.toml: stratum.prot = 4444: unknown key (did you mean "port"?)`);
    const top = errorOf(() => loadConfig(`dataDirectory = "x"\n[upstream.devnet]\nfoo = true\n`, "config.toml"));
    expect(top.problems).toEqual([
      `config.toml: upstream.devnet.foo = true: unknown key`,
      `config.toml: dataDirectory = "x": unknown key`,
    ]);
  });

  test("a wrong type", () => {
    const e = errorOf(() => loadConfig(`[stratum]\nport = "abc"\n`, "config.toml"));
    expect(e.message).toBe(`config.toml: stratum.port = "abc": expected number`);
  });

  test("range, integer, enum, format and union problems, all reported at once", () => {
    const e = errorOf(() =>
      loadConfig(
        `[stratum]\nport = 70000\nextranonce2Size = 1.5\nextranonce1Size = 9\nversionMask = "xyz"\n[log]\nformat = "xml"\n[upstream]\ntype = "stratum-pool"\n`,
        "c.toml",
      ),
    );
    expect(e.problems).toEqual([
      `c.toml: log.format = "xml": expected one of "human", "json"`,
      `c.toml: stratum.port = 70000: expected <= 65535`,
      `c.toml: stratum.extranonce1Size = 9: expected <= 8`,
      `c.toml: stratum.extranonce2Size = 1.5: expected integer`,
      `c.toml: stratum.versionMask = "xyz": expected 8 hex digits`,
      `c.toml: upstream.type = "stratum-pool": expected one of "devnet", "bitcoind", "pool"`,
    ]);
  });

  test("a refine failure (min <= initial <= max) names the field and shows the effective value", () => {
    const e = errorOf(() => loadConfig(`[difficulty]\nmin = 1\n`, "config.toml"));
    expect(e.message).toBe(`config.toml: difficulty.initial = 0.01: expected min (1) <= initial <= max (1000000000000000)`);
    const e2 = errorOf(() => loadConfig(`[difficulty]\ninitial = 100\nmax = 10\n`, "config.toml"));
    expect(e2.message).toBe(`config.toml: difficulty.initial = 100: expected min (0.0001) <= initial <= max (10)`);
  });

  test("the same key in two spellings, and TOML syntax errors", () => {
    expect(errorOf(() => loadConfig(`[stratum]\nmaxLineBytes = 1000\nmax_line_bytes = 2000\n`, "a.toml")).message).toBe(
      `a.toml: stratum.maxLineBytes: written twice (as "maxLineBytes" and "max_line_bytes")`,
    );
    expect(errorOf(() => loadConfig(`[stratum\nport = 1\n`, "b.toml")).message).toMatch(/^b\.toml: invalid TOML at line 1, column \d+: /);
  });

  test("pool tag byte limit and payout script hex", () => {
    expect(errorOf(() => loadConfig(`[coinbase]\npayoutScript = "abc"\npoolTag = "${"é".repeat(21)}"\n`, "c.toml")).problems).toEqual([
      `c.toml: coinbase.payoutScript = "abc": expected hex bytes`,
      `c.toml: coinbase.poolTag = "${"é".repeat(21)}": expected at most 40 bytes (coinbase scriptSig is limited to 100 bytes in all)`,
    ]);
  });
});

describe("applyOverrides", () => {
  test("numbers, booleans and strings follow the type of the field they replace", () => {
    const c = applyOverrides(DEFAULT_CONFIG, {
      "stratum.port": "4444",
      "http.enabled": "false",
      "stratum.version_mask": "00000000",
      "difficulty.initial": "1e-3",
      "log.format": "json",
    });
    expect(c.stratum.port).toBe(4444);
    expect(c.http.enabled).toBe(false);
    expect(c.stratum.versionMask).toBe("00000000");
    expect(c.difficulty.initial).toBe(0.001);
    expect(c.log.format).toBe("json");
    expect(DEFAULT_CONFIG.stratum.port).toBe(3333); // input not mutated
  });

  test("bad overrides are reported with source --set", () => {
    expect(errorOf(() => applyOverrides(DEFAULT_CONFIG, { "stratum.port": "abc" })).message).toBe(`--set: stratum.port = "abc": expected number`);
    expect(errorOf(() => applyOverrides(DEFAULT_CONFIG, { "http.enabled": "yes" })).message).toBe(`--set: http.enabled = "yes": expected boolean`);
    expect(errorOf(() => applyOverrides(DEFAULT_CONFIG, { "stratum.prot": "1" })).message).toBe(`--set: stratum.prot = 1: unknown key (did you mean "port"?)`);
    expect(errorOf(() => applyOverrides(DEFAULT_CONFIG, { "log.level.x": "1" })).message).toBe(`--set: log.level.x = "1": level is not a section`);
    expect(errorOf(() => applyOverrides(DEFAULT_CONFIG, { stratum: "1" })).message).toBe(`--set: stratum = "1": is a section, set one of its keys`);
  });
});
