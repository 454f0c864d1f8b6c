// Ends the start-up JIT policy a compiled binary begins with (compile.sh --compile-jit-policy); a no-op where the runtime has none (Deno, Node, older Bun).
// Why: config parsing and module set-up run once; with JavaScriptCore's normal tier-up thresholds they
// get JIT-compiled anyway, which pages in the compilers and their output before the first miner
// (measured with compiled probes: a 150-key zod/mini schema 42.1 → 37.4 MB idle RSS at scale 16).
// Every thread calls this once it is ready, so the share path is compiled as usual under load.

export function normalJitPolicy(): void {
  const u = (globalThis as { Bun?: { unsafe?: { setJITPolicy?: (scale: number) => void } } }).Bun?.unsafe;
  if (typeof u?.setJITPolicy === "function") u.setJITPolicy(1);
}
