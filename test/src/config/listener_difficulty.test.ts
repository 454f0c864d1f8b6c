// Per-port difficulty config: [listeners.difficulty] / [listeners.ethash] parsed, merged over the global sections, checked with path-naming errors, and carried by each listener's routes.
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../../src/config/load.ts";
import { listenerRoutes, ethPolicy, stratumPolicy } from "../../../src/pools/policies.ts";
import type { Route } from "../../../src/server/types.ts";

function problemsOf(toml: string): string[] {
  try {
    loadConfig(toml, "c.toml");
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const TOML = `
[difficulty]
initial = 0.01
targetShareSeconds = 10

[ethash]
initialDifficulty = 7e-7

[[listeners]]
port = 4001
[listeners.difficulty]
initial = 65536
min = 1024
targetShareSeconds = 5

[[listeners]]
port = 4002
dialects = ["eth-stratum", "eth-proxy"]
[listeners.ethash]
initialDifficulty = 4e-6
maxDifficulty = 1e-5

[[listeners]]
port = 4003
`;

// Stand-ins for the dialects and pools: listenerRoutes only reads `name` and copies the rest.
const pool = { name: "p" } as unknown as Route["pool"];
const ALL = ["stratum-v1", "eth-stratum", "eth-stratum2", "eth-proxy"].map((name) => ({ name, dialect: { name } as unknown as Route["dialect"], pool }));

describe("[[listeners]] difficulty", () => {
  test("sections parse; absent keys stay absent (they come from the global sections)", () => {
    const c = loadConfig(TOML, "c.toml");
    expect(c.listeners[0]!.difficulty).toEqual({ initial: 65536, min: 1024, targetShareSeconds: 5 });
    expect(c.listeners[0]!.ethash).toBeUndefined();
    expect(c.listeners[1]!.ethash).toEqual({ initialDifficulty: 4e-6, maxDifficulty: 1e-5 });
    expect(c.listeners[2]!.difficulty).toBeUndefined();
  });

  test("routes carry the merged difficulty per family; a listener that sets none leaves its routes as they were", () => {
    const c = loadConfig(TOML, "c.toml");
    const global = stratumPolicy(c);
    const a = listenerRoutes(c, c.listeners[0]!, ALL);
    expect(a.map((r) => r.name)).toEqual(["stratum-v1", "eth-stratum", "eth-stratum2", "eth-proxy"]);
    expect(a[0]!.difficulty).toEqual({
      initialDifficulty: 65536,
      // Not set on the port: the global floor (0.0001) raised to the port's min.
      suggestFloor: 1024,
      vardiff: { ...global.vardiff, targetShareSeconds: 5, min: 1024 },
    });
    // The Ethereum-style dialects on that port keep [ethash]'s values but take the port's vardiff timing.
    const eth = ethPolicy(c);
    expect(a[1]!.difficulty).toEqual({ initialDifficulty: eth.initialDifficulty, suggestFloor: eth.suggestFloor, vardiff: { ...eth.vardiff, targetShareSeconds: 5 } });

    const b = listenerRoutes(c, c.listeners[1]!, ALL);
    expect(b.map((r) => r.name)).toEqual(["eth-stratum", "eth-proxy"]);
    for (const r of b) expect(r.difficulty).toEqual({ initialDifficulty: 4e-6, suggestFloor: eth.suggestFloor, vardiff: { ...eth.vardiff, max: 1e-5 } });

    const plain = listenerRoutes(c, c.listeners[2]!, ALL);
    expect(plain).toEqual(ALL);
    for (const r of plain) expect("difficulty" in r).toBe(false);
  });

  test("an own suggestFloor wins over the port's min", () => {
    const c = loadConfig(`[[listeners]]\nport = 1\n[listeners.difficulty]\ninitial = 8\nmin = 4\nsuggestFloor = 1\n`, "c.toml");
    expect(listenerRoutes(c, c.listeners[0]!, ALL)[0]!.difficulty?.suggestFloor).toBe(1);
  });

  test("min <= initial <= max is checked after merging, the error naming the key the entry wrote", () => {
    expect(problemsOf(`[[listeners]]\nport = 1\n[listeners.difficulty]\ninitial = 0.5\nmin = 1\n`)).toEqual([
      "c.toml: listeners.0.difficulty.initial = 0.5: expected min (1) <= initial (0.5) <= max (1000000000000000); max from [difficulty]",
    ]);
    // Only min written: the inherited initial (0.01) is below it.
    expect(problemsOf(`[[listeners]]\nport = 1\n[[listeners]]\nport = 2\n[listeners.difficulty]\nmin = 5\n`)).toEqual([
      "c.toml: listeners.1.difficulty.min = 5: expected min (5) <= initial (0.01) <= max (1000000000000000); initial, max from [difficulty]",
    ]);
    expect(problemsOf(`[[listeners]]\nport = 1\n[listeners.ethash]\nmaxDifficulty = 1e-10\n`)).toEqual([
      "c.toml: listeners.0.ethash.maxDifficulty = 1e-10: expected minDifficulty (1e-9) <= initialDifficulty (7e-7) <= maxDifficulty (1e-10); initialDifficulty, minDifficulty from [ethash]",
    ]);
  });

  test("wrong values and unknown keys name their path", () => {
    expect(problemsOf(`[[listeners]]\nport = 1\n[listeners.difficulty]\ninitial = -1\nbogus = 2\n`)).toEqual([
      "c.toml: listeners.0.difficulty.initial = -1: expected > 0",
      "c.toml: listeners.0.difficulty.bogus = 2: unknown key",
    ]);
    expect(problemsOf(`[[listeners]]\nport = 1\n[listeners.ethash]\nalgo = "etchash"\n`)).toEqual([
      `c.toml: listeners.0.ethash.algo = "etchash": unknown key`,
    ]);
  });
});
