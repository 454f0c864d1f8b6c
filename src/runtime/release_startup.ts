// Returns start-up's garbage and one-time code to the system once a relay thread is listening; a no-op where the runtime has no such calls (Deno, Node).
// Why: config parsing, schema construction and module set-up leave a heap that an idle relay may not
// collect for a long time (nothing allocates), and their bytecode stays linked. Bun.gc(true) collects
// it now; Bun.shrink (JavaScriptCore's shrinkFootprintWhenIdle: drop unused code, full collection,
// release free malloc pages) also frees the code, which is regenerated from the embedded bytecode if
// ever called again. Measured on the compiled binary, Bitcoin-only, before the first miner
// (`bench --mode baseline`, medians of 5 starts): anonymous memory 7.4 → 6.3 MB, about half of it the
// collection and half shrink. The collection holds the thread 6–8 ms right after it starts listening.

export function releaseStartupMemory(): void {
  const bun = (globalThis as { Bun?: { gc?: (force: boolean) => void; shrink?: () => void } }).Bun;
  if (bun === undefined) return;
  bun.gc?.(true);
  // Deprecated in bun-types (kept in Bun 1.4); feature-tested so a Bun without it only skips this step.
  if (typeof bun.shrink === "function") bun.shrink();
}
