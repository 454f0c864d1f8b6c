// Share batches packed into columns for the share log worker come back field for field (optional fields absent stay absent).
import { describe, expect, test } from "bun:test";
import { packShares, unpackShares } from "../../../src/store/share_columns.ts";
import type { ShareRecord } from "../../../protocols/core/actions.ts";

describe("share columns", () => {
  test("pack → structuredClone with transfer → unpack is the identity", () => {
    const shares: ShareRecord[] = [
      { worker: "a", accepted: true, difficulty: 1e-12, shareDifficulty: 3.5, jobId: "j1", height: 10, at: 1_700_000_000_123 },
      { worker: "b.rig", accepted: false, reason: "duplicate", difficulty: 8, shareDifficulty: 0, jobId: "j2", height: 11, at: 1_700_000_000_124 },
      { worker: "c", accepted: true, difficulty: 2, shareDifficulty: 1e20, jobId: "j3", height: 12, at: 1_700_000_000_125, upstream: "accepted", block: true },
      { worker: "d", accepted: false, reason: "upstream_unavailable", difficulty: 2, shareDifficulty: 5, jobId: "j4", height: 12, at: 1_700_000_000_126, upstream: "unconfirmed" },
      { worker: "e", accepted: false, reason: "low_difficulty", difficulty: 2, shareDifficulty: 1, jobId: "j5", height: 12, at: 1_700_000_000_127, upstream: "rejected" },
    ];
    const rows = { shares, pools: ["btc", "btc", "btc", "eth", "eth"], addresses: ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4", "5.5.5.5"] };
    const { cols, transfer } = packShares(rows);
    const sent = structuredClone(cols, { transfer });
    expect(cols.at.byteLength).toBe(0); // transferred, not copied
    expect(unpackShares(sent)).toEqual(rows);
  });
});
