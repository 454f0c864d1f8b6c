// End-to-end, the compiled binary with the default ethash.prebuild = false: no light cache while only Bitcoin-family miners come; the first Ethereum-style miners wait logged in, then all get work and real verdicts; no unit logic.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { byId, byMethod, connectStratum, handshake, httpGet, startRelay, until, type RelayProcess, type StratumClient } from "./helpers.ts";
import { ADDRESS, epoch0Cache, ethBlockTarget, ethSubmit, findEthShare, isWorkPush } from "./eth_helpers.ts";

let R: RelayProcess;
const clients: StratumClient[] = [];

interface VerifierStats {
  cacheBuilds: number;
  caches: string[];
  lightCache: string;
}
const verifierOf = async (): Promise<VerifierStats> => {
  const eth = ((await httpGet(R.httpPort, "/api/stats")).json() as { eth: { lightCache: string; verifier: VerifierStats } }).eth;
  return { ...eth.verifier, lightCache: eth.lightCache };
};

beforeAll(async () => {
  R = await startRelay({ sets: { "ethash.prebuild": "false", "upstream.devnet.blockIntervalSeconds": "3600", "ethash.upstream.devnet.blockIntervalSeconds": "3600" } });
  epoch0Cache(); // the test's own, for finding shares
}, 30_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await R?.stop();
});

test("Bitcoin-family miners alone never cause a cache build; the first eth miners wait logged in, then get work pushed and real verdicts", async () => {
  const btc = await connectStratum(R.stratumPort, R);
  clients.push(btc);
  const h = await handshake(btc, { user: "bc1qtest.rig0" });
  expect(h.job).toBeDefined();
  await new Promise((r) => setTimeout(r, 1500));
  expect(await verifierOf()).toEqual(expect.objectContaining({ cacheBuilds: 0, caches: [], lightCache: "idle" }));

  // eth-proxy: login accepted at once; getWork says the work is not ready (one clear error, no disconnect).
  const proxy = await connectStratum(R.stratumPort, R);
  clients.push(proxy);
  proxy.send({ id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ADDRESS, "d=1e-9"], worker: "rig1" });
  expect(await proxy.next(byId(1), 5000, "login reply")).toEqual({ id: 1, jsonrpc: "2.0", result: true });
  proxy.send({ id: 2, jsonrpc: "2.0", method: "eth_getWork", params: [] });
  const early = await proxy.next(byId(2), 5000, "early getWork reply");
  expect(early.result).toBeNull();
  expect(early.error).toEqual({ code: 0, message: "Work not ready" });

  // EthereumStratum, connecting while the cache builds: subscribed and authorized, no job yet.
  const es = await connectStratum(R.stratumPort, R);
  clients.push(es);
  es.sendRaw(
    JSON.stringify({ id: 1, method: "mining.subscribe", params: ["ethminer-0.19.0", "EthereumStratum/1.0.0"] }) + "\n" +
      JSON.stringify({ id: 2, method: "mining.authorize", params: [ADDRESS + ".rig2", "x"] }) + "\n",
  );
  await es.next(byId(1), 5000, "EthereumStratum subscribe");
  expect((await es.next(byId(2), 5000, "EthereumStratum authorize")).result).toBe(true);

  // Once built, both get work without asking again (a push with id 0 and a mining.notify).
  const push = await proxy.next(isWorkPush(), 60_000, "work pushed once the cache is ready");
  const notify = await es.next(byMethod("mining.notify"), 10_000, "mining.notify once the cache is ready");
  expect((notify.params as unknown[]).length).toBe(4);
  const v = await verifierOf();
  expect(v.cacheBuilds).toBe(1);
  expect(v.caches).toEqual(["ethash epoch 0"]);
  expect(v.lightCache).toBe("ready");
  expect(proxy.isClosed()).toBe(false);
  // The only error either miner saw is that one early getWork answer.
  expect(proxy.received.filter((m) => m.error !== undefined && m.error !== null).length).toBe(1);
  expect(es.received.filter((m) => m.error !== undefined && m.error !== null).length).toBe(0);

  const [header, , target] = push.result as string[];
  const s = findEthShare(header!, { atMost: BigInt(target!), above: ethBlockTarget(100_000n) });
  expect(await ethSubmit(proxy, 10, [s.nonce, header, s.mix])).toEqual({ id: 10, jsonrpc: "2.0", result: true });
  // A later miner gets work at once now.
  const late = await connectStratum(R.stratumPort, R);
  clients.push(late);
  late.send({ id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ADDRESS, "d=1e-9"], worker: "rig3" });
  await late.next(byId(1), 5000, "late login");
  late.send({ id: 2, jsonrpc: "2.0", method: "eth_getWork", params: [] });
  expect(((await late.next(byId(2), 5000, "late getWork")).result as string[])[0]).toBe(header);
  await until(async () => ((await verifierOf()).cacheBuilds === 1 ? true : undefined), 1000, "still one build");
}, 90_000);
