// Test support: the eth session policy the unit tests share and a stub EthPool over a one-job book (no verifier: verify() fails); no assertions.
import { createEthJobBook } from "../../src/pools/eth_job_book.ts";
import type { EthPool } from "../../src/pools/eth_pool.ts";
import type { EthEnv } from "../../protocols/eth-proxy/session.ts";

export const TEST_ETH_POLICY: EthEnv["policy"] = {
  initialDifficulty: 1e-6,
  suggestFloor: 1e-9,
  vardiff: { targetShareSeconds: 10, retargetSeconds: 60, variancePercent: 30, min: 1e-9, max: 1e6 },
  loginTimeoutMs: 30_000,
  idleTimeoutMs: 600_000,
  maxMalformed: 10,
  disconnectOnError: false,
};

/** A pool whose book holds one job (header `headerHash`, block 5, epoch 0); each share handed to onShare is kept as `keep(share, remote)`. */
export function stubEthPool<T>(headerHash: string, keep: (share: { reason?: unknown }, remote: string) => T): { pool: EthPool; shares: T[] } {
  const book = createEthJobBook({ algo: "ethash", keepHeights: 4, epochInfo: () => ({ epoch: 0, cacheSize: 16776896, fullSize: 1073739904 }) });
  book.add({ headerHash, seedHash: "0x" + "00".repeat(32), target: 1n << 250n, blockNumber: 5 }, true);
  const env: EthEnv = { now: 0, jobs: book, policy: TEST_ETH_POLICY, extranonce: { release() {} } };
  const shares: T[] = [];
  const pool = {
    env,
    onShare: (share: { reason?: unknown }, remote: string) => shares.push(keep(share, remote)),
    onBlock() {},
    verify: async () => ({ ok: false, error: "stub" }),
  } as unknown as EthPool;
  return { pool, shares };
}
