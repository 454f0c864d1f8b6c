// Temporary directories for tests, removed after the whole run by test/support/preload.ts (bun test fires no process exit event); nothing else.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A fresh directory under the system temp dir; it and its contents go when the test run ends. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every directory scratchDir made (called once, after the last test file). */
export function removeScratchDirs(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
}
