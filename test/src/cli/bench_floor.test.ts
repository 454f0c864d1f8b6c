// The bench floor's settings and fixed share replies (the bare listener `bench --mode shares` compares the relay's RSS with); no listener started here.
import { describe, expect, test } from "bun:test";
import { floorSettings, floorShareReply } from "../../../src/cli/bench/fanout_floor.ts";

describe("floorSettings", () => {
  test("defaults: 2 s interval, own port, no share answers", () => {
    expect(floorSettings(() => undefined)).toEqual({ intervalMs: 2000, reusePort: false, shares: "off" });
  });
  test("env: interval, shared port, accept / reject; anything else is off", () => {
    const env: Record<string, string> = { BENCH_FLOOR_INTERVAL_MS: "3600000", BENCH_FLOOR_REUSE_PORT: "1", BENCH_FLOOR_SHARES: "reject" };
    expect(floorSettings((k) => env[k])).toEqual({ intervalMs: 3600000, reusePort: true, shares: "reject" });
    env.BENCH_FLOOR_SHARES = "accept";
    expect(floorSettings((k) => env[k]).shares).toBe("accept");
    env.BENCH_FLOOR_SHARES = "yes";
    env.BENCH_FLOOR_INTERVAL_MS = "5";
    expect(floorSettings((k) => env[k])).toEqual({ intervalMs: 2000, reusePort: true, shares: "off" });
  });
});

describe("floorShareReply", () => {
  const submit = (id: string) => `{"id":${id},"method":"mining.submit","params":["w.1","1","00000001","5f5e1000","00000000"]}`;
  test("copies the id byte for byte into a true or a code-23 reply", () => {
    expect(floorShareReply(submit("17"), "accept")).toBe('{"id":17,"result":true,"error":null}\n');
    expect(floorShareReply(submit('"a-9"'), "reject")).toBe('{"id":"a-9","result":null,"error":[23,"Low difficulty share",null]}\n');
    expect(floorShareReply(`{"method":"mining.submit","id": 42}`, "accept")).toBe('{"id":42,"result":true,"error":null}\n');
    expect(JSON.parse(floorShareReply(submit("123456"), "reject")!)).toEqual({ id: 123456, result: null, error: [23, "Low difficulty share", null] });
  });
  test("no reply to notifications and lines without an id", () => {
    expect(floorShareReply(`{"id":null,"method":"mining.extranonce.subscribe","params":[]}`, "accept")).toBeUndefined();
    expect(floorShareReply(`{"method":"mining.submit","params":[]}`, "accept")).toBeUndefined();
    expect(floorShareReply(`garbage`, "reject")).toBeUndefined();
  });
});
