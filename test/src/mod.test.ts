// The embedding API: createRelay() runs a real relay in-process; a real CPU miner gets shares accepted through it.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRelay, VERSION } from "../../src/mod.ts";
import * as protocols from "../../protocols/mod.ts";
import { createBunRuntime } from "../../src/runtime/bun.ts";
import { createStratumMiner } from "../../src/client/stratum_miner.ts";
import pkg from "../../package.json";

describe("embedding", () => {
  test("createRelay: start on free ports, a miner's shares are accepted, stats reflect them, stop", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "se-mod-"));
    const relay = createRelay({
      dataDir,
      stratum: { host: "127.0.0.1", port: 0 },
      http: { enabled: false },
      log: { level: "warn" },
      upstream: { type: "devnet", devnet: { bits: "1f00ffff" } },
    });
    const { stratumPort, httpPort } = await relay.start();
    expect(stratumPort).toBeGreaterThan(0);
    expect(httpPort).toBeUndefined();
    const rt = createBunRuntime();
    const miner = createStratumMiner({ runtime: rt, host: "127.0.0.1", port: stratumPort, user: "embed.w1", sha: rt.sha256, suggestDifficulty: 0.0001 });
    await miner.start();
    const deadline = Date.now() + 15_000;
    while (miner.stats().accepted < 2 && Date.now() < deadline) await Bun.sleep(50);
    miner.stop();
    const stats = relay.stats()!;
    expect(stats.pool.accepted).toBeGreaterThanOrEqual(2);
    expect(stats.workers.map((w) => w.name)).toContain("embed.w1");
    await relay.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 20_000);

  test("createRelay validates config up front and names the bad path", () => {
    expect(() => createRelay({ stratum: { port: -1 } })).toThrow(/stratum\.port/);
  });

  test("protocols/mod.ts exposes the pure codecs and checks", () => {
    expect(typeof protocols.buildJob).toBe("function");
    expect(typeof protocols.validateSubmit).toBe("function");
    expect(typeof protocols.createLineFramer).toBe("function");
    expect(protocols.STRATUM_V1_ERRORS.duplicate.code).toBe(22);
  });

  test("VERSION matches package.json", () => {
    expect(VERSION).toBe(pkg.version);
  });
});
