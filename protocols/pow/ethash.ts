// Ethash / etchash (ECIP-1099) light verification: epochs, seeds, sizes, cache build, hashimoto-light, quick check, eth targets; no DAG, no I/O, no caching policy.
// The public face of the three parts: ethash_epoch.ts, ethash_light.ts (the hot path), ethash_share.ts.

export * from "./ethash_epoch.ts";
export * from "./ethash_light.ts";
export * from "./ethash_share.ts";
