// parseCli: commands, option forms and the errors a mistyped command line gets.
import { describe, expect, test } from "bun:test";
import { parseCli } from "../../../src/cli/args.ts";

describe("parseCli", () => {
  test("no arguments: run with defaults", () => {
    expect(parseCli([])).toEqual({ command: "run", sets: {}, json: false, flags: {} });
  });

  test("commands by position, help and version by flag", () => {
    expect(parseCli(["run"]).command).toBe("run");
    expect(parseCli(["demo"]).command).toBe("demo");
    expect(parseCli(["bench"]).command).toBe("bench");
    expect(parseCli(["--help"]).command).toBe("help");
    expect(parseCli(["-h"]).command).toBe("help");
    expect(parseCli(["-v"]).command).toBe("version");
    expect(parseCli(["bench", "--version"]).command).toBe("version");
  });

  test("string options: separate and inline values, short -c", () => {
    expect(parseCli(["--config", "a.toml"]).configFile).toBe("a.toml");
    expect(parseCli(["--config=b.toml"]).configFile).toBe("b.toml");
    expect(parseCli(["-c", "c.toml", "run"])).toEqual({ command: "run", configFile: "c.toml", sets: {}, json: false, flags: {} });
    // The last of a repeated single-valued option wins, as with node:util parseArgs.
    expect(parseCli(["--config", "a", "--config", "b"]).configFile).toBe("b");
  });

  test("--set repeats, splits at the first '=', keeps '=' and '-' in the value", () => {
    const o = parseCli(["--set", "stratum.port=4444", "--set=coinbase.tag=a=b", "--set", "difficulty.min=1e-12"]);
    expect(o.sets).toEqual({ "stratum.port": "4444", "coinbase.tag": "a=b", "difficulty.min": "1e-12" });
  });

  test("bench flags: strings as given, --tls boolean, --log-json", () => {
    const o = parseCli(["bench", "--mode", "shares", "--connections=1000", "--share-log", "both", "--tls", "--log-json"]);
    expect(o.command).toBe("bench");
    expect(o.flags).toEqual({ mode: "shares", connections: "1000", "share-log": "both", tls: true });
    expect(o.json).toBe(true);
  });

  test("'--' ends options: what follows is positional", () => {
    expect(() => parseCli(["--", "--set"])).toThrow('unknown command "--set"');
    expect(parseCli(["--", "run"]).command).toBe("run");
  });

  test("errors name the argument", () => {
    expect(() => parseCli(["--nope"])).toThrow('unknown option "--nope" (try --help)');
    expect(() => parseCli(["--nope=1"])).toThrow('unknown option "--nope"');
    expect(() => parseCli(["-x"])).toThrow('unknown option "-x"');
    expect(() => parseCli(["--config"])).toThrow('option "--config" needs a value');
    expect(() => parseCli(["--config", "--set", "a=b"])).toThrow('option "--config" needs a value');
    expect(() => parseCli(["--tls=yes"])).toThrow('option "--tls" takes no value');
    expect(() => parseCli(["--set", "nokey"])).toThrow('--set expects KEY=VALUE, got "nokey"');
    expect(() => parseCli(["--set", "=v"])).toThrow("--set expects KEY=VALUE");
    expect(() => parseCli(["mine"])).toThrow('unknown command "mine" (try --help)');
    expect(() => parseCli(["run", "extra"])).toThrow('unexpected argument "extra" (try --help)');
    // Not an option name reachable through the prototype.
    expect(() => parseCli(["--toString"])).toThrow('unknown option "--toString"');
  });

  test("a lone '-' is a positional (not an option)", () => {
    expect(() => parseCli(["-"])).toThrow('unknown command "-"');
  });
});
