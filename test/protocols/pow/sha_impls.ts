// Test helper: the two Sha256Into implementations every PoW/share test runs against (Bun.SHA256 and pure @noble); no assertions here.
import type { Sha256Into } from "../../../protocols/pow/types.ts";
import { nobleSha256Into } from "../../../protocols/pow/sha256d.ts";

export const bunSha256Into: Sha256Into = (i, o) => {
  Bun.SHA256.hash(i, o);
};

export const SHA_IMPLS: ReadonlyArray<readonly [string, Sha256Into]> = [
  ["Bun.SHA256", bunSha256Into],
  ["@noble", nobleSha256Into],
];
