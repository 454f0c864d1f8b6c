// Picks the Runtime adapter for the host (Bun, Deno or Node) and loads only that one via dynamic import; no other logic.
import type { Runtime } from "./types.ts";

export function detectRuntime(): "bun" | "deno" | "node" {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return "bun";
  if (g.Deno !== undefined) return "deno";
  return "node";
}

/** Dynamic imports so the Bun binary never evaluates the node:net path and Deno never touches Bun globals. */
export async function loadRuntime(): Promise<Runtime> {
  const kind = detectRuntime();
  if (kind === "bun") {
    const { createBunRuntime } = await import("./bun.ts");
    return createBunRuntime();
  }
  const { createNodeNetRuntime } = await import("./node_net.ts");
  return createNodeNetRuntime(kind);
}
