// README's config and error tables must equal what the schema and the typed error tables generate (npx bun test/readme_tables.ts).
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { configTable, relayTable, stratumErrorTable } from "./readme_tables.ts";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

function between(tag: string): string {
  const a = readme.indexOf(`<!-- ${tag}:begin -->`);
  const b = readme.indexOf(`<!-- ${tag}:end -->`);
  expect(a).toBeGreaterThanOrEqual(0);
  expect(b).toBeGreaterThan(a);
  return readme.slice(a + `<!-- ${tag}:begin -->`.length, b).trim();
}

test("README config reference is generated from the zod schema", () => {
  expect(between("config-table")).toBe(configTable());
});

test("README relay-mode tables are generated from PoolUpstreamSchema and EthPoolUpstreamSchema", () => {
  expect(between("relay-table")).toBe(relayTable());
  expect(between("eth-relay-table")).toBe(relayTable(true));
});

test("README stratum v1 error table is generated from STRATUM_V1_ERRORS", () => {
  expect(between("error-table")).toBe(stratumErrorTable());
});

test("README quick start comes first and names the two commands", () => {
  const quick = readme.indexOf("## Quick start");
  expect(quick).toBeGreaterThan(0);
  expect(quick).toBeLessThan(readme.indexOf("## "+"Configuration"));
  expect(readme).toContain("npm ci && npm start");
  expect(readme).toContain("npm ci && npm test");
});
