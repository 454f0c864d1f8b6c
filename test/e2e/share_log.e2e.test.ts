// Share log with the compiled binary: SIGKILL during a share flood loses no share a miner saw accepted; worker history (/api/workers) survives the restart.
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { createConnection, type Socket } from "node:net";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOST, byId, byMethod, connectStratum, httpGet, runBinary, startRelay, tempDir, until, type RelayProcess } from "./helpers.ts";

const dataDir = tempDir("stratum-edge-sharelog-");
const relays: RelayProcess[] = [];
afterAll(async () => {
  for (const r of relays) await r.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const SETS = {
  dataDir,
  "difficulty.min": "1e-12",
  "difficulty.suggestFloor": "1e-12",
  "stratum.maxMessagesPerSecond": "1000000",
  "stratum.messageBurst": "1000000",
  // No new block (and so no stale share) during the run.
  "upstream.devnet.blockIntervalSeconds": "3600",
  // A long batch: a relay that acknowledged before committing would lose up to 50 ms of acknowledged shares to the kill.
  "store.commitIntervalMs": "50",
};

interface Flood {
  readonly name: string;
  /** Job id of every share the relay answered `true`, in answer order. */
  readonly accepted: string[];
  rejected: number;
  readonly closed: Promise<void>;
  stop(): void;
}

/**
 * A miner that keeps `window` valid submits in flight (fixed difficulty 1e-12 via the password, so
 * every well-formed share with a fresh extranonce2 is accepted) and records what the relay answered.
 */
function flood(port: number, name: string, window: number): Promise<Flood> {
  return new Promise((resolve, reject) => {
    const sock: Socket = createConnection({ host: HOST, port });
    sock.setNoDelay(true);
    let partial = "";
    let en2Size = 0;
    let job: { id: string; ntime: string } | undefined;
    let counter = 0;
    let nextId = 100;
    let running = true;
    const inFlight = new Map<number, string>();
    let closedResolve!: () => void;
    const f: Flood = { name, accepted: [], rejected: 0, closed: new Promise((r) => (closedResolve = r)), stop: () => void (running = false) };
    const submit = () => {
      if (!running || job === undefined) return;
      const id = nextId++;
      inFlight.set(id, job.id);
      const en2 = (counter++).toString(16).padStart(en2Size * 2, "0");
      sock.write(JSON.stringify({ id, method: "mining.submit", params: [name, job.id, en2, job.ntime, "00000000"] }) + "\n");
    };
    sock.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        if (line === "") continue;
        const m = JSON.parse(line) as { id?: number; method?: string; params?: unknown[]; result?: unknown };
        if (m.id === 1) en2Size = (m.result as unknown[])[2] as number;
        else if (m.method === "mining.notify") {
          const first = job === undefined;
          job = { id: m.params![0] as string, ntime: m.params![7] as string };
          if (first) {
            resolve(f);
            for (let i = 0; i < window; i++) submit();
          }
        } else if (typeof m.id === "number" && inFlight.has(m.id)) {
          const jobId = inFlight.get(m.id)!;
          inFlight.delete(m.id);
          if (m.result === true) f.accepted.push(jobId);
          else f.rejected++;
          submit();
        }
      }
    });
    sock.on("error", () => {});
    sock.on("close", () => {
      closedResolve();
      if (job === undefined) reject(new Error(`${name}: closed before the first job`));
    });
    sock.write('{"id":1,"method":"mining.subscribe","params":[]}\n' + JSON.stringify({ id: 2, method: "mining.authorize", params: [name, "d=1e-12"] }) + "\n");
  });
}

/** Accepted rows per job for a worker, read straight from the SQLite file. */
function loggedByJob(worker: string, dir = dataDir): Map<string, number> {
  const db = new Database(join(dir, "shares.sqlite"));
  try {
    const rows = db.prepare("SELECT job, count(*) AS n FROM shares WHERE worker = ? AND accepted = 1 GROUP BY job").all(worker) as { job: string; n: number }[];
    return new Map(rows.map((r) => [r.job, r.n]));
  } finally {
    db.close();
  }
}

/** Runs `fn` with a fresh temp directory, removed afterwards whatever happens. */
async function inTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = tempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const countBy = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
const WINDOW = 4;
const MINERS = 6;

describe("share log (compiled binary)", () => {
  let floods: Flood[] = [];

  /** Floods the relay from MINERS miners, SIGKILLs it, restarts it on the same directory, and checks every acknowledged share is logged. */
  async function killDuringFlood(sets: Record<string, string>, dir: string): Promise<Flood[]> {
    const relay = await startRelay({ sets });
    relays.push(relay);
    const floods = await Promise.all(Array.from({ length: MINERS }, (_, i) => flood(relay.stratumPort, `flood.m${i}`, WINDOW)));
    // Let the flood run, then kill the relay without any chance to flush.
    await until(() => (floods.every((f) => f.accepted.length >= 300) ? true : undefined), 20_000, "300 accepted shares per miner", () => relay.tail());
    relay.child.kill("SIGKILL");
    const exit = await relay.exited;
    expect(exit.signal).toBe("SIGKILL");
    await Promise.all(floods.map((f) => f.closed));

    // Restart on the same data directory (SQLite replays its WAL on open).
    const again = await startRelay({ sets });
    relays.push(again);
    let seenTotal = 0;
    let loggedTotal = 0;
    for (const f of floods) {
      expect(f.rejected).toBe(0);
      const seen = countBy(f.accepted);
      const logged = loggedByJob(f.name, dir);
      for (const [jobId, n] of seen) {
        // Every acknowledged share is there (the log may hold a few more: stored, but killed before the reply went out).
        expect({ worker: f.name, job: jobId, logged: logged.get(jobId) ?? 0 }).toEqual({ worker: f.name, job: jobId, logged: Math.max(n, logged.get(jobId) ?? 0) });
      }
      const l = [...logged.values()].reduce((a, b) => a + b, 0);
      // At most the submits in flight at the kill were stored without an answer (plus the batch being committed).
      expect(l - f.accepted.length).toBeGreaterThanOrEqual(0);
      expect(l - f.accepted.length).toBeLessThanOrEqual(WINDOW);
      seenTotal += f.accepted.length;
      loggedTotal += l;
    }
    expect(seenTotal).toBeGreaterThanOrEqual(MINERS * 300);
    expect(loggedTotal).toBeGreaterThanOrEqual(seenTotal);
    return floods;
  }

  test("SIGKILL during a share flood: after restart every share the miners saw accepted is in the log", async () => {
    floods = await killDuringFlood(SETS, dataDir);
  }, 60_000);


  test("worker history survives the restart: /api/stats says workerHistory, /api/workers lists them, /api/workers/:name has buckets, best difficulty and rejects by reason", async () => {
    const relay = relays[relays.length - 1]!;
    expect(floods.length).toBe(MINERS);
    const stats = (await httpGet(relay.httpPort, "/api/stats")).json() as { workerHistory: boolean };
    expect(stats.workerHistory).toBe(true);
    // After the restart, one share sent twice: accepted, then a duplicate; both are in the history.
    const c = await connectStratum(relay.stratumPort, relay);
    c.send({ id: 1, method: "mining.subscribe", params: [] });
    c.send({ id: 2, method: "mining.authorize", params: ["late.rig", "d=1e-12"] });
    const sub = await c.next(byId(1));
    const notify = await c.next(byMethod("mining.notify"));
    const en2 = "00".repeat((sub.result as unknown[])[2] as number);
    const params = ["late.rig", notify.params![0], en2, notify.params![7], "00000000"];
    c.send({ id: 3, method: "mining.submit", params });
    expect((await c.next(byId(3))).result).toBe(true);
    c.send({ id: 4, method: "mining.submit", params });
    expect((await c.next(byId(4))).error).toBeTruthy();
    c.close();
    // The history trails the log by up to a second (one rollup step).
    const late = await until(async () => {
      const r = await httpGet(relay.httpPort, "/api/workers/late.rig");
      const w = r.status === 200 ? (r.json() as { accepted24h: number; rejected24h: number; rejectsByReason: Record<string, number> }) : undefined;
      return w !== undefined && w.rejected24h > 0 ? w : undefined;
    }, 5000, "late.rig in /api/workers");
    expect(late).toMatchObject({ accepted24h: 1, rejected24h: 1, rejectsByReason: { duplicate: 1 } });

    const list = (await httpGet(relay.httpPort, "/api/workers")).json() as { workers: { name: string; accepted1h: number; bestDifficulty: number; buckets: { at: string; hashrate: number; shares: number }[] }[] };
    for (const f of floods) {
      const w = list.workers.find((x) => x.name === f.name);
      expect(w).toBeDefined();
      const logged = [...loggedByJob(f.name).values()].reduce((a, b) => a + b, 0);
      expect(w!.accepted1h).toBe(logged);
      expect(w!.bestDifficulty).toBeGreaterThan(0);
      expect(w!.buckets).toHaveLength(60);
      expect(w!.buckets.reduce((n, b) => n + b.shares, 0)).toBe(logged);
      expect(w!.buckets.some((b) => b.hashrate > 0)).toBe(true);
    }
    const one = await httpGet(relay.httpPort, `/api/workers/${encodeURIComponent(floods[0]!.name)}`);
    expect(one.status).toBe(200);
    const d = one.json() as { name: string; pools: string[]; lastShareAt: string; hashrate1h: number; hashrate24h: number; buckets1h: unknown[]; buckets24h: unknown[]; rejectsByReason: Record<string, number> };
    expect(d.name).toBe(floods[0]!.name);
    expect(d.pools).toEqual(["btc"]);
    expect(Date.now() - Date.parse(d.lastShareAt)).toBeLessThan(120_000);
    expect(d.hashrate1h).toBeGreaterThan(0);
    expect(d.hashrate24h).toBeGreaterThan(0);
    expect(d.buckets1h).toHaveLength(60);
    expect(d.buckets24h).toHaveLength(96);
    expect(d.rejectsByReason).toEqual({});
    expect((await httpGet(relay.httpPort, "/api/workers/nobody.here")).status).toBe(404);
  }, 30_000);

  test("session threads (stratum.threads = 2) write the same log: every share acknowledged on either thread is in it", async () => {
    const dir = tempDir("stratum-edge-sharelog-threads-");
    const relay = await startRelay({ sets: { ...SETS, dataDir: dir, "stratum.threads": "2" } });
    relays.push(relay);
    try {
      const miners = await Promise.all(Array.from({ length: 16 }, (_, i) => flood(relay.stratumPort, `thr.m${i}`, 2)));
      const byThread = await until(async () => {
        const st = (await httpGet(relay.httpPort, "/api/stats")).json() as { connectionsByThread?: number[] };
        return st.connectionsByThread !== undefined && st.connectionsByThread.reduce((a, b) => a + b, 0) === 16 ? st.connectionsByThread : undefined;
      }, 5000, "16 connections over the threads");
      // The kernel spread them (all 16 on one thread: odds 2^-15): both threads have miners.
      expect(byThread.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      await until(() => (miners.every((m) => m.accepted.length >= 100) ? true : undefined), 20_000, "100 accepted shares per miner");
      relay.child.kill("SIGKILL");
      await relay.exited;
      await Promise.all(miners.map((m) => m.closed));
      const db = new Database(join(dir, "shares.sqlite"));
      try {
        for (const m of miners) {
          const n = (db.prepare("SELECT count(*) AS n FROM shares WHERE worker = ? AND accepted = 1").get(m.name) as { n: number }).n;
          expect(n).toBeGreaterThanOrEqual(m.accepted.length);
          expect(n - m.accepted.length).toBeLessThanOrEqual(2);
        }
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("an idle relay has not started the writer (no file yet); the first share starts it and is acknowledged once stored; a history read alone starts it too", async () => {
    await inTempDir("stratum-edge-sharelog-lazy-", async (dir) => {
      const relay = await startRelay({ sets: { ...SETS, dataDir: dir } });
      relays.push(relay);
      const file = join(dir, "shares.sqlite");
      await new Promise((r) => setTimeout(r, 300));
      expect(existsSync(file)).toBe(false);
      expect(((await httpGet(relay.httpPort, "/api/stats")).json() as { workerHistory: boolean }).workerHistory).toBe(true);
      const c = await connectStratum(relay.stratumPort, relay);
      c.send({ id: 1, method: "mining.subscribe", params: [] });
      c.send({ id: 2, method: "mining.authorize", params: ["lazy.rig", "d=1e-12"] });
      const sub = await c.next(byId(1));
      const notify = await c.next(byMethod("mining.notify"));
      expect(existsSync(file)).toBe(false); // a connected miner is not a share yet
      c.send({ id: 3, method: "mining.submit", params: ["lazy.rig", notify.params![0], "00".repeat((sub.result as unknown[])[2] as number), notify.params![7], "00000000"] });
      expect((await c.next(byId(3))).result).toBe(true);
      c.close();
      expect(loggedByJob("lazy.rig", dir).get(notify.params![0] as string)).toBe(1);

      // Killed before its once-a-second rollup, restarted on the same file: /api/workers starts the
      // writer, which sums what the last run left un-summed before the read answers.
      relay.child.kill("SIGKILL");
      await relay.exited;
      const again = await startRelay({ sets: { ...SETS, dataDir: dir } });
      relays.push(again);
      const r = await httpGet(again.httpPort, "/api/workers");
      expect(r.status).toBe(200);
      expect((r.json() as { workers: { name: string; accepted1h: number }[] }).workers.map((w) => [w.name, w.accepted1h])).toEqual([["lazy.rig", 1]]);
    });
  }, 30_000);

  test("a shares.sqlite that is not an SQLite database stops start-up: exit 1, the path named, nothing listening", async () => {
    await inTempDir("stratum-edge-sharelog-bad-", async (dir) => {
      writeFileSync(join(dir, "shares.sqlite"), "not a database\n".repeat(10));
      const args = ["--log-json", "--set", `dataDir=${dir}`, "--set", `stratum.host=${HOST}`, "--set", "stratum.port=0", "--set", `http.host=${HOST}`, "--set", "http.port=0"];
      const r = await runBinary(args, 15_000);
      expect(r.timedOut).toBe(false);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain("could not start");
      expect(r.stdout).toContain("shares.sqlite is not an SQLite database");
      expect(r.stdout).not.toContain("stratum listening");
    });
  }, 30_000);

  test("the same with the default adaptive group commit (store.commitIntervalMs = 0: a batch goes as soon as the writer is free)", async () => {
    await inTempDir("stratum-edge-sharelog-adaptive-", async (dir) => {
      const { "store.commitIntervalMs": _, ...rest } = SETS;
      await killDuringFlood({ ...rest, dataDir: dir }, dir);
    });
  }, 60_000);
});
