// Tests relay mode's upstream pool choice: URL parsing, priority order, backoff-aware choice and fail-back, and the backoff sequence; pure functions, no sockets.
import { describe, expect, test } from "bun:test";
import {
  betterEndpoint,
  chooseEndpoint,
  freshHealth,
  nextRetryAt,
  parsePoolUrl,
  preferenceOrder,
  recordFailure,
  recordSuccess,
  type EndpointHealth,
  type PoolEndpoint,
} from "../../../../src/upstream/pool/pool_list.ts";

const ep = (host: string, priority: number): PoolEndpoint => ({ url: `stratum+tcp://${host}:3333`, host, port: 3333, user: "u", password: "x", priority });

/** Priorities 1, 0, 1, 0: best first is b (1), d (3), then a (0), c (2). */
const endpoints = [ep("a", 1), ep("b", 0), ep("c", 1), ep("d", 0)];
const NOW = 1_000_000;

const healthy = (): EndpointHealth[] => endpoints.map(() => freshHealth());
const backingOff = (h: EndpointHealth, until: number) => Object.assign(h, { failures: 1, retryAt: until });

describe("parsePoolUrl", () => {
  const good: [string, string, number][] = [
    ["stratum+tcp://pool.example.com:3333", "pool.example.com", 3333],
    ["stratum1+tcp://pool.example.com:3334", "pool.example.com", 3334],
    ["tcp://10.0.0.7:4444", "10.0.0.7", 4444],
    ["h:1", "h", 1],
    ["[::1]:3333", "::1", 3333],
    ["stratum+tcp://[2001:db8::7]:65535", "2001:db8::7", 65535],
    ["stratum+tcp://pool.example.com:3333/", "pool.example.com", 3333],
    ["  stratum+tcp://pool.example.com:3333  ", "pool.example.com", 3333],
  ];
  for (const [url, host, port] of good) test(`${JSON.stringify(url)} → ${host}:${port}`, () => expect(parsePoolUrl(url)).toEqual({ host, port, tls: false }));

  const secure: [string, string, number][] = [
    ["stratum+ssl://pool.example.com:443", "pool.example.com", 443],
    ["stratum+tls://pool.example.com:3443", "pool.example.com", 3443],
    ["stratum1+ssl://eth.example.com:5555", "eth.example.com", 5555],
    ["ssl://10.0.0.7:4444", "10.0.0.7", 4444],
    ["tls://[::1]:3334", "::1", 3334],
  ];
  for (const [url, host, port] of secure) test(`${JSON.stringify(url)} → TLS to ${host}:${port}`, () => expect(parsePoolUrl(url)).toEqual({ host, port, tls: true }));

  const bad = [
    "stratum+tcp://pool.example.com", // no port
    "pool.example.com",
    "stratum+tcp://pool.example.com:0",
    "stratum+tcp://pool.example.com:70000",
    "h:123456",
    "http://pool.example.com:80",
    "stratum+ssl://pool.example.com", // no port
    "stratum2+ssl://pool.example.com:443", // EthereumStratum is chosen with `protocol`, not the scheme
    "https://pool.example.com:443",
    "stratum+tcp://pool.example.com:3333/path",
    "::1:3333", // an IPv6 literal needs brackets
    "stratum+tcp://:3333",
    "",
  ];
  for (const url of bad) test(`${JSON.stringify(url)} is refused`, () => expect(parsePoolUrl(url)).toBeUndefined());
});

describe("preferenceOrder", () => {
  test("priority first, then the configured order", () => {
    expect(preferenceOrder(endpoints)).toEqual([1, 3, 0, 2]);
  });

  test("equal priorities keep the list order; an empty list is empty", () => {
    expect(preferenceOrder([ep("x", 5), ep("y", 5), ep("z", 5)])).toEqual([0, 1, 2]);
    expect(preferenceOrder([])).toEqual([]);
  });
});

describe("chooseEndpoint", () => {
  test("all healthy: the best one", () => {
    expect(chooseEndpoint(endpoints, healthy(), NOW)).toBe(1);
  });

  test("skips endpoints still backing off; one whose retryAt is now is eligible", () => {
    const h = healthy();
    backingOff(h[1]!, NOW + 1);
    expect(chooseEndpoint(endpoints, h, NOW)).toBe(3);
    backingOff(h[3]!, NOW);
    expect(chooseEndpoint(endpoints, h, NOW)).toBe(3);
    expect(chooseEndpoint(endpoints, h, NOW + 1)).toBe(1);
  });

  test("exclude skips one index (the endpoint that just failed)", () => {
    expect(chooseEndpoint(endpoints, healthy(), NOW, 1)).toBe(3);
    const h = healthy();
    backingOff(h[1]!, NOW + 5);
    expect(chooseEndpoint(endpoints, h, NOW, 3)).toBe(0);
  });

  test("all backing off (or excluded): undefined", () => {
    const h = healthy().map((x) => backingOff(x, NOW + 10));
    expect(chooseEndpoint(endpoints, h, NOW)).toBeUndefined();
    const one = [ep("only", 0)];
    expect(chooseEndpoint(one, [freshHealth()], NOW, 0)).toBeUndefined();
  });
});

describe("betterEndpoint", () => {
  test("on the best endpoint there is nothing better", () => {
    expect(betterEndpoint(endpoints, healthy(), 1, NOW)).toBeUndefined();
  });

  test("on a worse endpoint, the best one that may be tried now", () => {
    expect(betterEndpoint(endpoints, healthy(), 0, NOW)).toBe(1);
    const h = healthy();
    backingOff(h[1]!, NOW + 1);
    expect(betterEndpoint(endpoints, h, 0, NOW)).toBe(3);
    expect(betterEndpoint(endpoints, h, 2, NOW)).toBe(3);
  });

  test("better ones all backing off: undefined (never a worse one)", () => {
    const h = healthy();
    backingOff(h[1]!, NOW + 1);
    backingOff(h[3]!, NOW + 1);
    expect(betterEndpoint(endpoints, h, 0, NOW)).toBeUndefined();
    // From c (index 2), a (index 0) ranks before it at the same priority and is healthy.
    expect(betterEndpoint(endpoints, h, 2, NOW)).toBe(0);
    // Once the primaries' backoff is over, fail-back goes to the first of them.
    expect(betterEndpoint(endpoints, h, 0, NOW + 1)).toBe(1);
  });
});

describe("recordFailure / recordSuccess / nextRetryAt", () => {
  test("backoff: min, 2·min, 4·min, … capped at max", () => {
    const b = { minMs: 1_000, maxMs: 10_000 };
    const h = freshHealth();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      recordFailure(h, NOW, `refused ${i}`, b);
      delays.push(h.retryAt - NOW);
    }
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    expect(h.failures).toBe(7);
    expect(h.lastError).toBe("refused 6");
  });

  test("the cap holds for huge failure counts (no overflow to Infinity/NaN)", () => {
    const h: EndpointHealth = { failures: 5_000, retryAt: 0, lastError: undefined };
    recordFailure(h, NOW, "x", { minMs: 500, maxMs: 60_000 });
    expect(h.retryAt).toBe(NOW + 60_000);
  });

  test("recordSuccess resets the health", () => {
    const h = freshHealth();
    recordFailure(h, NOW, "timeout", { minMs: 1_000, maxMs: 10_000 });
    recordFailure(h, NOW, "timeout", { minMs: 1_000, maxMs: 10_000 });
    recordSuccess(h);
    expect(h).toEqual({ failures: 0, retryAt: 0, lastError: undefined });
    expect(h).toEqual(freshHealth());
    // and the backoff starts over from min
    recordFailure(h, NOW, "again", { minMs: 1_000, maxMs: 10_000 });
    expect(h.retryAt).toBe(NOW + 1_000);
  });

  test("nextRetryAt: the earliest retry among failing endpoints", () => {
    const h = healthy();
    expect(nextRetryAt(h)).toBeUndefined();
    backingOff(h[2]!, NOW + 900);
    backingOff(h[0]!, NOW + 300);
    expect(nextRetryAt(h)).toBe(NOW + 300);
    recordSuccess(h[0]!);
    expect(nextRetryAt(h)).toBe(NOW + 900);
  });
});
