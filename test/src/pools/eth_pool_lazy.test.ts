// The ethash light cache is built when the first Ethereum-style miner asks for work (or at start with prebuild); sessions see work only once it is ready, then all at once.
import { expect, test } from "bun:test";
import { createEthPool } from "../../../src/pools/eth_pool.ts";
import { createLogger } from "../../../src/observe/log.ts";
import { createManualClock } from "../../../src/runtime/manual_clock.ts";
import type { EthashVerifier } from "../../../src/verify/ethash_verifier.ts";
import type { EthWorkSource } from "../../../src/upstream/eth_types.ts";
import type { EthWork } from "../../../protocols/eth/work.ts";
import type { Runtime } from "../../../src/runtime/types.ts";
import type { BlockJournal } from "../../../src/store/block_journal.ts";
import { TEST_ETH_POLICY } from "../../support/eth_stub.ts";

function setup(prebuild: boolean) {
  const clock = createManualClock(1000);
  const prepares: string[] = [];
  let finish: () => void = () => {};
  const verifier: EthashVerifier = {
    verify: async () => ({ ok: false, error: "not used" }),
    prepare(_seed, _size, label) {
      prepares.push(label);
      return new Promise<void>((r) => (finish = r));
    },
    cached: () => [],
    stats: () => ({ threads: 0, queued: 0, verified: 0, cacheBuilds: 0, cacheBuildMs: [] }),
    stop() {},
  };
  let onWork: (w: EthWork, nb: boolean) => void = () => {};
  let current: EthWork | undefined;
  const source: EthWorkSource = {
    kind: "test",
    start: async () => {},
    stop: async () => {},
    onWork: (cb) => (onWork = cb),
    current: () => current,
    submitWork: async () => ({ accepted: true }),
  };
  const work = (n: number): EthWork => ({ headerHash: "0x" + n.toString(16).padStart(64, "0"), seedHash: "0x" + "00".repeat(32), target: 1n << 240n, blockNumber: n });
  const journal = { record() {}, recordResult() {}, list: () => [], unsubmitted: () => [], path: "" } as BlockJournal;
  const pool = createEthPool({
    name: "eth",
    algo: "ethash",
    activationBlock: 0,
    runtime: { clock } as unknown as Runtime,
    source,
    verifier,
    journal,
    policy: TEST_ETH_POLICY,
    keepHeights: 4,
    prebuild,
    extranonceBytes: 2,
    log: createLogger({ format: "json", level: "error", write: () => {} }),
    hooks: { share() {}, block() {}, jobBroadcast() {} },
  });
  const broadcasts: { blockNumber: number; clean: boolean }[] = [];
  pool.setBroadcast((ev) => broadcasts.push({ blockNumber: ev.job.blockNumber, clean: ev.clean }));
  return {
    pool,
    prepares,
    broadcasts,
    finish: async () => {
      finish();
      await Promise.resolve();
      await Promise.resolve();
    },
    newWork(n: number) {
      current = work(n);
      onWork(current, true);
    },
  };
}

test("no cache and no work for sessions before a miner asks; the first ask builds it, then everyone gets the job", async () => {
  const t = setup(false);
  await t.pool.start();
  t.newWork(5);
  t.newWork(6);
  // Work is booked (stats see it) but nothing is built or broadcast while no Ethereum-style miner exists.
  expect(t.prepares).toEqual([]);
  expect(t.broadcasts).toEqual([]);
  expect(t.pool.summary().height).toBe(6);
  // A session asking for work: none yet, and the build starts (once, however many ask).
  expect(t.pool.env.jobs.current()).toBeUndefined();
  expect(t.pool.env.jobs.current()).toBeUndefined();
  expect(t.prepares).toEqual(["ethash epoch 0"]);
  t.newWork(7); // still building: not broadcast
  expect(t.broadcasts).toEqual([]);
  await t.finish();
  expect(t.broadcasts).toEqual([{ blockNumber: 7, clean: true }]);
  expect(t.pool.env.jobs.current()?.blockNumber).toBe(7);
  t.newWork(8);
  expect(t.broadcasts.at(-1)).toEqual({ blockNumber: 8, clean: true });
  await t.pool.stop();
});

test("a miner asking before the first work: the build starts with that work", async () => {
  const t = setup(false);
  await t.pool.start();
  expect(t.pool.env.jobs.current()).toBeUndefined();
  expect(t.prepares).toEqual([]);
  t.newWork(3);
  expect(t.prepares).toEqual(["ethash epoch 0"]);
  await t.finish();
  expect(t.broadcasts).toEqual([{ blockNumber: 3, clean: true }]);
  await t.pool.stop();
});

test("prebuild = true builds at start, before any miner", async () => {
  const t = setup(true);
  await t.pool.start();
  t.newWork(2);
  expect(t.prepares).toEqual(["ethash epoch 0"]);
  await t.finish();
  expect(t.pool.env.jobs.current()?.blockNumber).toBe(2);
  await t.pool.stop();
});
