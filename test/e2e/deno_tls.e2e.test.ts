// Upstream TLS under Deno (deno run src/main.ts, node:tls path of the runtime): the relay reaches a stratum+ssl:// scripted pool trusted by tls.ca and forwards a share; a wrong pin is refused with its reason in /api/stats; no Bun binary involved.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, byId, connectStratum, findShare, handshake, httpGet, shareTarget, startRelay, submitParams, tempDir, until, zeroExtranonce2, type RelayProcess, type StratumClient } from "./helpers.ts";
import { startScriptedPool, type ScriptedPool } from "./scripted_pool.ts";
import { makeCert } from "../support/tls_certs.ts";

const T = 60_000;
const DENO = join(ROOT, "node_modules/.bin/deno");
const hasDeno = existsSync(DENO);
const cert = makeCert();
const other = makeCert("other.example", "DNS:other.example");
const procs: RelayProcess[] = [];
const pools: ScriptedPool[] = [];
const clients: StratumClient[] = [];

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all(procs.map((p) => p.stop()));
  await Promise.all(pools.map((p) => p.kill().catch(() => {})));
});

function configFile(entries: { url: string; priority: number; tls?: Record<string, string> }[]): string {
  const file = join(tempDir("stratum-edge-deno-tls-"), "relay.toml");
  writeFileSync(file, `[upstream]\ntype = "pool"\n` + entries.map((e) => `[[upstream.pool.pools]]\nurl = "${e.url}"\nuser = "farm.deno"\npriority = ${e.priority}\n` + (e.tls ? `[upstream.pool.pools.tls]\n${Object.entries(e.tls).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join("\n")}\n` : "")).join(""));
  return file;
}

describe.skipIf(!hasDeno)("relay under Deno → stratum+ssl:// upstream", () => {
  test("wrong pin refused (reason in /api/stats), the pool trusted by tls.ca used, and a share forwarded over TLS is accepted", async () => {
    const pinned = await startScriptedPool({ tag: "p", tls: { cert: cert.cert, key: cert.key } });
    const trusted = await startScriptedPool({ tag: "t", tls: { cert: cert.cert, key: cert.key } });
    pools.push(pinned, trusted);
    const file = configFile([
      { url: `stratum+ssl://127.0.0.1:${pinned.port}`, priority: 0, tls: { pin: other.pin } },
      { url: `stratum+ssl://127.0.0.1:${trusted.port}`, priority: 1, tls: { ca: cert.certFile } },
    ]);
    const relay = await startRelay({
      command: [DENO, "run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", "--allow-sys", "src/main.ts", "--config", file],
      sets: { "ethash.enabled": "false", "difficulty.initial": "1e-9", "difficulty.min": "1e-12", "difficulty.suggestFloor": "1e-12", "upstream.pool.retryMinMs": "200", "upstream.pool.retryMaxMs": "1000" },
      startTimeoutMs: 40_000,
    });
    procs.push(relay);
    const s = (await httpGet(relay.httpPort, "/api/stats")).json() as { runtime: string };
    expect(s.runtime).toBe("deno");
    const c = await connectStratum(relay.stratumPort, relay);
    clients.push(c);
    const h = await handshake(c, { user: "rig1" });
    const share = findShare(h.job, h.extranonce1, zeroExtranonce2(h.extranonce2Size, 1), { target: shareTarget(trusted.difficulty), meets: true });
    c.send({ id: 7, method: "mining.submit", params: submitParams("rig1", h.job, share) });
    expect(await c.next(byId(7), 5000, "submit answer")).toMatchObject({ result: true, error: null });
    expect(trusted.submits.filter((x) => x.answered === "accepted").length).toBe(1);
    expect(pinned.subscribes.length).toBe(0);
    const up = await until(async () => {
      const u = ((await httpGet(relay.httpPort, "/api/stats")).json() as { upstreams: { lastError?: string }[] }).upstreams;
      return u[0]?.lastError !== undefined ? u : undefined;
    }, 5000, "the pinned pool's error");
    expect(up[0]!.lastError).toContain(`pin mismatch (the server's key is ${cert.pin}`);
  }, T);
});
