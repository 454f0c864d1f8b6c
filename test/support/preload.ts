// bun test preload (bunfig.toml [test]): a global teardown after the last test file; no test of its own.
import { afterAll } from "bun:test";
import { removeScratchDirs } from "./scratch_dir.ts";

// A preload's afterAll runs once, after every file (checked on Bun 1.4.5); process "exit" does not fire under bun test.
afterAll(removeScratchDirs);
