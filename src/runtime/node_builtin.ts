// Loads a Node built-in module on first use (process.getBuiltinModule: Bun, Deno 2, Node 22.3+) instead of at import; nothing else.
// Why: evaluating node:net / node:tls / node:crypto at start-up costs idle RSS (compiled Bun probes:
// +4.8 MB for any one of them over a bare listener, ~+4.5 MB for all three over node:fs alone) that a
// relay without TLS never needs.

export function nodeBuiltin<T>(id: string): T {
  return (globalThis as unknown as { process: { getBuiltinModule(id: string): T } }).process.getBuiltinModule(id);
}
