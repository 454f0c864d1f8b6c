// Test support: a real redis-server (Debian package) as a child process on a free loopback port, with SIGKILL and restart on the same data dir, and a plain ioredis client; no assertions.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { freePort } from "./litecoind.ts";

export const MISSING_REDIS = "redis-server not found on PATH: install Debian's redis-server package (test/run.sh and .ci/run install it)";

export function findRedisServer(): string | null {
  return Bun.which("redis-server");
}

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** A fresh client (the caller disconnects it). */
  client(): Redis;
  /** SIGKILL: no shutdown save; what survives is what the append-only file already had (fsync always). */
  kill(): Promise<void>;
  /** Start again on the same port and data dir. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function waitPing(port: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const c = new Redis({ port, host: "127.0.0.1", lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on("error", () => {});
    try {
      await c.connect();
      if ((await c.ping()) === "PONG") {
        c.disconnect();
        return;
      }
    } catch {
      // not up yet
    }
    c.disconnect();
    if (Date.now() > end) throw new Error(`redis-server on ${port} did not answer within ${ms} ms`);
    await Bun.sleep(50);
  }
}

/**
 * Append-only file with fsync on every write: an entry Redis acknowledged survives a SIGKILL, which
 * is what the relay's "nothing acknowledged is lost" relies on (README says to run Redis so).
 */
export async function startRedis(fixedPort?: number): Promise<RedisServer> {
  const bin = findRedisServer();
  if (bin === null) throw new Error(MISSING_REDIS);
  const port = fixedPort ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), "stratum-edge-redis-"));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const launch = async () => {
    child = spawn(bin, ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"], { stdio: ["ignore", "ignore", "pipe"] });
    const c = child;
    exited = new Promise((r) => c.once("exit", () => r()));
    await waitPing(port, 10_000);
  };
  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    client: () => {
      const c = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: 1 });
      c.on("error", () => {});
      return c;
    },
    async kill() {
      child?.kill("SIGKILL");
      await exited;
    },
    restart: launch,
    async stop() {
      child?.kill("SIGKILL");
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
