// End-to-end CLI checks of the compiled binary: --help, --version, config errors (exit 2 with the key named) and a short demo run; no relay internals.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBinary, runBinary, tempDir } from "./helpers.ts";

const T = 20_000;
let dir: string;

beforeAll(async () => {
  await ensureBinary();
  dir = tempDir("stratum-edge-cli-");
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("stratum-edge CLI", () => {
  test("--help exits 0 and lists run, demo and bench", async () => {
    const r = await runBinary(["--help"], 10_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage:");
    for (const cmd of ["stratum-edge [run]", "stratum-edge demo", "stratum-edge bench", "--version"]) expect(r.stdout).toContain(cmd);
  }, T);

  test("--version prints 0.1.0", async () => {
    const r = await runBinary(["--version"], 10_000);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^stratum-edge 0\.1\.0\b/);
  }, T);

  test("a config file with a wrongly typed value exits 2 and names the key and the value", async () => {
    const file = join(dir, "bad-type.toml");
    writeFileSync(file, '[stratum]\nport = "abc"\n');
    const r = await runBinary(["--config", file], 10_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("stratum.port");
    expect(r.stderr).toContain('"abc"');
    expect(r.stdout).not.toContain("listening");
  }, T);

  test("an unknown key in a config file or in --set exits 2 and names it", async () => {
    const file = join(dir, "unknown-key.toml");
    writeFileSync(file, "[stratum]\nprot = 3333\n");
    const r = await runBinary(["--config", file], 10_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("stratum.prot");
    expect(r.stderr).toContain("unknown key");

    const s = await runBinary(["--set", "http.prot=1"], 10_000);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain("http.prot");
  }, T);

  test("an unknown command exits 2", async () => {
    const r = await runBinary(["bogus"], 10_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"bogus"');
  }, T);

  test("demo --seconds 8 exits 0 with accepted shares and at least one block found", async () => {
    const data = join(dir, "demo-data");
    const r = await runBinary(
      [
        "demo", "--seconds", "8",
        "--set", "stratum.port=0", "--set", "http.port=0",
        "--set", "stratum.host=127.0.0.1", "--set", "http.host=127.0.0.1",
        "--set", "upstream.devnet.bits=1f00ffff", "--set", `dataDir=${data}`,
      ],
      18_000,
    );
    const context = `exit ${JSON.stringify({ code: r.code, signal: r.signal, timedOut: r.timedOut })}\nstdout:\n${r.stdout.slice(-2000)}\nstderr:\n${r.stderr.slice(-2000)}`;
    expect(r.code, context).toBe(0);
    const final = r.stdout.split("\n").find((l) => l.startsWith("final: "));
    expect(final, context).toBeDefined();
    const blocks = /blocks found (\d+)/.exec(final!);
    const shares = /shares (\d+) accepted, (\d+) rejected/.exec(final!);
    const height = /height (\d+)/.exec(final!);
    expect(blocks, final).not.toBeNull();
    expect(shares, final).not.toBeNull();
    expect(Number(blocks![1])).toBeGreaterThanOrEqual(1);
    expect(Number(shares![1])).toBeGreaterThan(0);
    // Each accepted block moves the devnet tip (start height 1).
    expect(Number(height![1])).toBeGreaterThan(Number(blocks![1]));
  }, T);
});
