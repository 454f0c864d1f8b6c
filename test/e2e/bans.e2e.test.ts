// Temporary bans and limits end-to-end against the compiled binary: each ban rule, metrics, refusal at accept, one log line per ban, expiry and escalation, allowlist, persistence across a restart, the admin API and PROXY protocol v1/v2 (IPv6 /64 grouping). No unit logic.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import {
  admin,
  authorizedConn,
  honestMiner,
  httpGet,
  keptDataDir,
  line,
  lowDifficultySubmits,
  metric,
  proxyV1,
  proxyV2,
  rawConnect,
  refusedAtAccept,
  sleep,
  startAbuseRelay,
  type AbuseRelay,
  type HonestMiner,
  type RawConn,
} from "./abuse_helpers.ts";
import { until, type LogLine } from "./helpers.ts";

const TOKEN = "s3cret-admin-token";
const EASY = { "difficulty.suggestFloor": "1e-12", "upstream.devnet.blockIntervalSeconds": "3600" };
// Thresholds lowered so each rule trips in a handful of messages; banMs 2 s so expiry is observable.
const RULES = {
  ...EASY,
  "bans.banMs": "2000",
  "bans.maxMalformed": "3",
  "bans.maxFloods": "1",
  "bans.maxFailedLogins": "2",
  "bans.minShares": "5",
};
const TOML_A = `
[http]
adminToken = "${TOKEN}"

[bans]
allowlist = ["127.20.0.0/16"]

[[listeners]]
host = "127.0.0.1"
port = 0
proxyProtocol = true
`;

let A: AbuseRelay; // rules, allowlist, admin API, a PROXY listener (extraPorts[0])
let B: AbuseRelay | undefined; // no admin token; kept dataDir for the restart test
let honest: HonestMiner;
const dataDirB = keptDataDir();

beforeAll(async () => {
  A = await startAbuseRelay({ toml: TOML_A, sets: RULES });
  honest = await honestMiner(A.mainPort);
}, 30_000);

afterAll(async () => {
  honest?.close();
  await Promise.all([A, B].filter((r): r is AbuseRelay => r !== undefined).map((r) => r.stop()));
  rmSync(dataDirB, { recursive: true, force: true });
});

const bannedLines = (r: AbuseRelay, address: string): LogLine[] => r.logs().filter((l) => l.msg === "banned" && l.address === address);
const waitBan = (r: AbuseRelay, address: string, reason: string) =>
  r.waitForLog((l) => l.msg === "banned" && l.address === address && l.reason === reason, 5000, `a ${reason} ban of ${address}`);
const issued = (r: AbuseRelay, reason: string) => metric(r.httpPort, "stratum_edge_bans_issued_total", `reason="${reason}"`);
const OVERSIZE = "x".repeat(20_000); // default stratum.maxLineBytes 16384, no newline

/** A subscribe is answered: the address is admitted. */
async function admitted(port: number, o: { localAddress?: string; first?: Uint8Array } = {}): Promise<boolean> {
  let c: RawConn;
  try {
    c = await rawConnect(port, o);
  } catch {
    return false; // reset at accept before the client saw "connect"
  }
  c.write(line({ id: 1, method: "mining.subscribe", params: [] }));
  try {
    await c.next((m) => m.id === 1, 2000);
    return true;
  } catch {
    return false;
  } finally {
    c.close();
  }
}

async function oversizeFrom(port: number, o: { localAddress?: string; first?: Uint8Array }): Promise<void> {
  const c = await rawConnect(port, o);
  c.write(OVERSIZE);
  await c.waitClosed(3000);
  c.close();
}

describe("ban rules (compiled binary)", () => {
  test("oversize: one over-long line → ban, metric, refused at accept; the honest miner is untouched", async () => {
    const a = "127.0.2.1";
    const before = await issued(A, "oversize");
    await oversizeFrom(A.mainPort, { localAddress: a });
    const l = await waitBan(A, a, "oversize");
    expect(l).toMatchObject({ level: "warn", key: a, seconds: 2, offence: 1 });
    expect(await issued(A, "oversize")).toBe(before + 1);
    expect(await refusedAtAccept(A.mainPort, { localAddress: a })).toEqual({ refused: true, bytes: 0, closed: true });
    expect(await honest.submitValid()).toBe(true);
  });

  test("malformed: bans.maxMalformed=3 malformed first lines (three connections) → malformed ban", async () => {
    const a = "127.0.2.2";
    const before = await issued(A, "malformed");
    for (let i = 0; i < 3; i++) {
      const c = await rawConnect(A.mainPort, { localAddress: a });
      c.write("this is not json\n");
      await c.waitClosed(3000);
      c.close();
    }
    await waitBan(A, a, "malformed");
    expect(await issued(A, "malformed")).toBe(before + 1);
    expect(await refusedAtAccept(A.mainPort, { localAddress: a })).toMatchObject({ refused: true });
  });

  test("malformed: each malformed request counts once (2 bad lines in a session stay under maxMalformed=3)", async () => {
    const a = "127.0.2.3";
    const c = await rawConnect(A.mainPort, { localAddress: a });
    c.write(line({ id: 1, method: "mining.subscribe", params: [] }));
    await c.next((m) => m.id === 1 && m.result !== undefined && m.result !== null, 3000, "subscribe result");
    c.write("{bad json 1\n");
    await c.next((m) => m.id === null, 3000, "error for bad line 1");
    c.write("{bad json 2\n");
    await sleep(300);
    c.close();
    expect(bannedLines(A, a).map((l) => l.reason)).toEqual([]);
    expect(await admitted(A.mainPort, { localAddress: a })).toBe(true);
  });

  test("flood: over the message rate with bans.maxFloods=1 → Rate limited, close, flood ban", async () => {
    const a = "127.0.2.4";
    const before = await issued(A, "flood");
    const c = await rawConnect(A.mainPort, { localAddress: a });
    c.write(line({ id: 1, method: "mining.subscribe", params: [] }).repeat(1000));
    await c.waitClosed(3000);
    c.close();
    await waitBan(A, a, "flood");
    expect(await issued(A, "flood")).toBe(before + 1);
    expect(await refusedAtAccept(A.mainPort, { localAddress: a })).toMatchObject({ refused: true });
  });

  test("failed logins: 2 refused authorizations → failed_logins ban (its own 60 s length); 20 refused reconnects log ONE line", async () => {
    const a = "127.0.2.5";
    const before = await issued(A, "failed_logins");
    const refusedBefore = await metric(A.httpPort, "stratum_edge_connections_refused_total", 'reason="banned"');
    const c = await rawConnect(A.mainPort, { localAddress: a });
    c.write(line({ id: 1, method: "mining.subscribe", params: [] }) + line({ id: 2, method: "mining.authorize", params: ["", "x"] }));
    expect(await c.next((m) => m.id === 2, 3000)).toMatchObject({ error: [24, expect.any(String), null] });
    // The second failure earns the ban, which kicks this very connection.
    c.write(line({ id: 3, method: "mining.authorize", params: [" ", "x"] }));
    await c.waitClosed(3000);
    c.close();
    const l = await waitBan(A, a, "failed_logins");
    expect(l.seconds).toBe(60);
    expect(await issued(A, "failed_logins")).toBe(before + 1);
    for (let i = 0; i < 20; i++) expect(await refusedAtAccept(A.mainPort, { localAddress: a })).toEqual({ refused: true, bytes: 0, closed: true });
    expect(await metric(A.httpPort, "stratum_edge_connections_refused_total", 'reason="banned"')).toBeGreaterThanOrEqual(refusedBefore + 20);
    await sleep(200);
    expect(bannedLines(A, a)).toHaveLength(1);
    expect(await honest.submitValid()).toBe(true);
  });

  test("invalid shares: bans.minShares=5 low-difficulty shares → invalid_shares ban, the connection is kicked", async () => {
    const a = "127.0.2.6";
    const before = await issued(A, "invalid_shares");
    const s = await authorizedConn(A.mainPort, { localAddress: a });
    s.conn.write(lowDifficultySubmits(s, 5));
    await s.conn.waitClosed(3000);
    s.conn.close();
    await waitBan(A, a, "invalid_shares");
    expect(await issued(A, "invalid_shares")).toBe(before + 1);
    expect(await refusedAtAccept(A.mainPort, { localAddress: a })).toMatchObject({ refused: true });
    expect(await honest.submitValid()).toBe(true);
  });

  test("expiry and escalation: a 2 s ban ends and the address connects again; a repeat offence bans for 4 s", async () => {
    const a = "127.0.2.7";
    await oversizeFrom(A.mainPort, { localAddress: a });
    const first = await waitBan(A, a, "oversize");
    expect(first).toMatchObject({ seconds: 2, offence: 1 });
    const t0 = Date.now();
    expect(await refusedAtAccept(A.mainPort, { localAddress: a })).toMatchObject({ refused: true });
    await until(async () => ((await admitted(A.mainPort, { localAddress: a })) ? true : undefined), 5000, "the first ban to expire");
    const firstLen = Date.now() - t0;
    expect(firstLen).toBeGreaterThanOrEqual(1500);
    expect(firstLen).toBeLessThan(3500);

    await oversizeFrom(A.mainPort, { localAddress: a });
    await until(() => (bannedLines(A, a).length === 2 ? true : undefined), 5000, "the second ban");
    expect(bannedLines(A, a)[1]).toMatchObject({ reason: "oversize", seconds: 4, offence: 2 });
    const t1 = Date.now();
    await sleep(2500);
    expect(await refusedAtAccept(A.mainPort, { localAddress: a })).toMatchObject({ refused: true });
    await until(async () => ((await admitted(A.mainPort, { localAddress: a })) ? true : undefined), 5000, "the second ban to expire");
    const secondLen = Date.now() - t1;
    expect(secondLen).toBeGreaterThanOrEqual(3500);
    expect(secondLen).toBeLessThan(6000);
  }, 20_000);

  test("allowlisted CIDR (127.20.0.0/16) is never banned: over-long lines close the connection, nothing more", async () => {
    const a = "127.20.0.9";
    const before = await issued(A, "oversize");
    for (let i = 0; i < 3; i++) await oversizeFrom(A.mainPort, { localAddress: a });
    await sleep(200);
    expect(bannedLines(A, a)).toEqual([]);
    expect(await issued(A, "oversize")).toBe(before);
    expect(await admitted(A.mainPort, { localAddress: a })).toBe(true);
  });
});

describe("admin API (compiled binary)", () => {
  test("401 without or with a wrong token, on every route", async () => {
    for (const tok of [undefined, "wrong", TOKEN + "x", ""]) {
      expect((await admin(A.httpPort, "GET", "/api/bans", tok)).status).toBe(401);
      expect((await admin(A.httpPort, "POST", "/api/bans", tok, { address: "127.0.6.9", seconds: 60 })).status).toBe(401);
      expect((await admin(A.httpPort, "DELETE", "/api/bans/127.0.2.1", tok)).status).toBe(401);
    }
    expect(await admitted(A.mainPort, { localAddress: "127.0.6.9" })).toBe(true);
  });

  test("POST bans (then refused at accept), GET lists it, DELETE lifts it (then it connects); bad bodies are 400", async () => {
    const a = "127.0.6.1";
    const before = await issued(A, "manual");
    const post = await admin(A.httpPort, "POST", "/api/bans", TOKEN, { address: a, seconds: 60 });
    expect(post.status).toBe(201);
    expect(post.json).toMatchObject({ key: a });
    expect(await issued(A, "manual")).toBe(before + 1);
    expect(await refusedAtAccept(A.mainPort, { localAddress: a })).toEqual({ refused: true, bytes: 0, closed: true });
    const list = await admin(A.httpPort, "GET", "/api/bans", TOKEN);
    expect(list.status).toBe(200);
    const bans = (list.json as { bans: { key: string; reason: string; secondsLeft: number }[] }).bans;
    expect(bans.find((b) => b.key === a)).toMatchObject({ reason: "manual" });
    expect(bans.find((b) => b.key === a)!.secondsLeft).toBeGreaterThan(50);
    expect(await metric(A.httpPort, "stratum_edge_bans_active")).toBeGreaterThanOrEqual(1);

    const del = await admin(A.httpPort, "DELETE", `/api/bans/${a}`, TOKEN);
    expect(del.status).toBe(200);
    expect(await admitted(A.mainPort, { localAddress: a })).toBe(true);
    expect((await admin(A.httpPort, "DELETE", `/api/bans/${a}`, TOKEN)).status).toBe(404);
    const after = (await admin(A.httpPort, "GET", "/api/bans", TOKEN)).json as { bans: { key: string }[] };
    expect(after.bans.some((b) => b.key === a)).toBe(false);

    for (const body of [{ address: a }, { address: "", seconds: 5 }, { address: a, seconds: -1 }, { seconds: 5 }]) {
      expect((await admin(A.httpPort, "POST", "/api/bans", TOKEN, body)).status).toBe(400);
    }
    expect(await admitted(A.mainPort, { localAddress: a })).toBe(true);
  });

  test("POST of an allowlisted address is refused (409) and the address keeps working", async () => {
    const r = await admin(A.httpPort, "POST", "/api/bans", TOKEN, { address: "127.20.1.1", seconds: 60 });
    expect(r.status).toBe(409);
    expect(await admitted(A.mainPort, { localAddress: "127.20.1.1" })).toBe(true);
  });
});

describe("PROXY protocol (compiled binary)", () => {
  const lastShareAddress = async (worker: string): Promise<string | undefined> => {
    const s = (await httpGet(A.httpPort, "/api/stats")).json() as { lastShares: { worker: string; address: string }[] };
    return s.lastShares.filter((x) => x.worker === worker).at(-1)?.address;
  };

  test("v1 and v2 headers set the address the relay records for the miner's shares", async () => {
    const p = A.extraPorts[0]!;
    const m1 = await honestMiner(p, { first: proxyV1("198.51.100.1"), worker: "proxied.v1" });
    expect(await m1.submitValid()).toBe(true);
    expect(await until(() => lastShareAddress("proxied.v1"), 3000, "share of proxied.v1")).toBe("198.51.100.1");
    const m2 = await honestMiner(p, { first: proxyV2("198.51.100.2"), worker: "proxied.v2" });
    expect(await m2.submitValid()).toBe(true);
    expect(await until(() => lastShareAddress("proxied.v2"), 3000, "share of proxied.v2")).toBe("198.51.100.2");
    m1.close();
    m2.close();
  });

  test("bans apply to the PROXY source: 203.0.113.7 is banned and refused, 198.51.100.1 and the balancer's own address still work", async () => {
    const p = A.extraPorts[0]!;
    const good = await honestMiner(p, { first: proxyV2("198.51.100.1", 40001), worker: "proxied.good" });
    await oversizeFrom(p, { first: proxyV1("203.0.113.7") });
    await waitBan(A, "203.0.113.7", "oversize");
    for (const hdr of [proxyV1("203.0.113.7", 41000), proxyV2("203.0.113.7", 41001)]) {
      expect(await refusedAtAccept(p, { first: hdr })).toEqual({ refused: true, bytes: 0, closed: true });
    }
    expect(await good.submitValid()).toBe(true);
    expect(await admitted(p, { first: proxyV1("198.51.100.1", 40002) })).toBe(true);
    // Every proxied connection comes from 127.0.0.1; that address is not what was banned.
    expect(await honest.submitValid()).toBe(true);
    good.close();
  });

  test("a missing or garbled PROXY header closes the connection without an answer", async () => {
    const p = A.extraPorts[0]!;
    // From their own source addresses: a bad header counts as malformed against the sender (the balancer).
    expect(await refusedAtAccept(p, { localAddress: "127.0.3.1", data: line({ id: 1, method: "mining.subscribe", params: [] }) })).toEqual({ refused: true, bytes: 0, closed: true });
    expect(await refusedAtAccept(p, { localAddress: "127.0.3.2", data: "PROXY TCP4 nonsense here\r\n" + line({ id: 1, method: "mining.subscribe", params: [] }) })).toEqual({ refused: true, bytes: 0, closed: true });
    const v2 = proxyV2("198.51.100.3");
    v2[12] = 0x31; // version 3
    expect(await refusedAtAccept(p, { localAddress: "127.0.3.3", first: v2, data: line({ id: 1, method: "mining.subscribe", params: [] }) })).toEqual({ refused: true, bytes: 0, closed: true });
  });

  test("on a listener without proxyProtocol a PROXY line is malformed input: [20, Malformed request] and close", async () => {
    for (const hdr of [proxyV1("203.0.113.9")]) {
      const c = await rawConnect(A.mainPort, { localAddress: "127.0.3.9", first: hdr });
      c.write(line({ id: 1, method: "mining.subscribe", params: [] }));
      await c.waitClosed(3000);
      expect(c.received).toEqual([{ id: null, result: null, error: [20, "Malformed request", null] }]);
      c.close();
    }
  });

  test("IPv6 by /64: banning 2001:db8:0:1::5 also refuses 2001:db8:0:1::6, not 2001:db8:0:2::6", async () => {
    const p = A.extraPorts[0]!;
    await oversizeFrom(p, { first: proxyV2("2001:db8:0:1::5") });
    const l = await waitBan(A, "2001:db8:0:1::5", "oversize");
    expect(String(l.key)).toContain("/64");
    expect(await refusedAtAccept(p, { first: proxyV2("2001:db8:0:1::6") })).toEqual({ refused: true, bytes: 0, closed: true });
    expect(await refusedAtAccept(p, { first: proxyV1("2001:db8:0:1:ffff::1") })).toEqual({ refused: true, bytes: 0, closed: true });
    expect(await admitted(p, { first: proxyV2("2001:db8:0:2::6") })).toBe(true);
    // Lifting by any address of the /64 lifts the prefix.
    expect((await admin(A.httpPort, "DELETE", `/api/bans/${encodeURIComponent("2001:db8:0:1::77")}`, TOKEN)).status).toBe(200);
    expect(await admitted(p, { first: proxyV2("2001:db8:0:1::6") })).toBe(true);
  });
});

describe("without an admin token, and across a restart (compiled binary)", () => {
  test("the admin API is absent (404) when http.adminToken is empty", async () => {
    B = await startAbuseRelay({ dataDir: dataDirB, sets: EASY });
    for (const tok of [undefined, TOKEN]) {
      expect((await admin(B.httpPort, "GET", "/api/bans", tok)).status).toBe(404);
      expect((await admin(B.httpPort, "DELETE", "/api/bans/127.0.8.1", tok)).status).toBe(404);
      // POST /api/bans falls through to HTTP getwork's POST /:login/:worker (login "api", worker
      // "bans") when the admin API is absent: whatever it answers, it must not ban anything.
      const post = await admin(B.httpPort, "POST", "/api/bans", tok, { address: "127.0.8.1", seconds: 60 });
      expect(post.status).not.toBe(201);
      expect(JSON.stringify(post.json)).not.toContain("until");
    }
    expect(await admitted(B.mainPort, { localAddress: "127.0.8.1" })).toBe(true);
    expect(B.logs().filter((l) => l.msg === "banned")).toEqual([]);
  }, 20_000);

  test("bans survive a restart on the same dataDir", async () => {
    const a = "127.0.7.1";
    await oversizeFrom(B!.mainPort, { localAddress: a });
    await waitBan(B!, a, "oversize");
    expect(await refusedAtAccept(B!.mainPort, { localAddress: a })).toMatchObject({ refused: true });
    await B!.stop();
    B = await startAbuseRelay({ dataDir: dataDirB, sets: EASY });
    await B.waitForLog((l) => l.msg === "restored bans", 3000, "restored bans");
    expect(B.logs().find((l) => l.msg === "restored bans")).toMatchObject({ restored: 1 });
    expect(await refusedAtAccept(B.mainPort, { localAddress: a })).toEqual({ refused: true, bytes: 0, closed: true });
    expect(await admitted(B.mainPort, { localAddress: "127.0.7.2" })).toBe(true);
  }, 30_000);

  test("stratum_edge_bans_active counts the restored ban right after the restart", async () => {
    // Runs on the restarted relay of the test above (its one restored ban is still active: banMs 10 min).
    expect(B!.logs().find((l) => l.msg === "restored bans")).toMatchObject({ restored: 1 });
    expect(await metric(B!.httpPort, "stratum_edge_bans_active")).toBe(1);
  });
});
