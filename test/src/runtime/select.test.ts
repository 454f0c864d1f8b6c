// Runtime selection: under bun test, detection says bun and loadRuntime returns the Bun adapter.
import { expect, test } from "bun:test";
import { detectRuntime, loadRuntime } from "../../../src/runtime/select.ts";

test("detects Bun and loads the Bun adapter", async () => {
  expect(detectRuntime()).toBe("bun");
  const rt = await loadRuntime();
  expect(rt.name).toBe("bun");
  expect(typeof rt.listen).toBe("function");
});
