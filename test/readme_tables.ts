// Generates README's config-reference and error-code tables from the zod schema and the typed error tables; prints markdown.
import * as z from "zod/mini";
import { ConfigSchema, DEFAULT_CONFIG, EthPoolUpstreamSchema, ListenerSchema, PoolUpstreamSchema } from "../src/config/schema.ts";
import { STRATUM_V1_ERRORS } from "../protocols/stratum-v1/errors.ts";
import { ETH_PROXY_ERRORS } from "../protocols/eth-proxy/errors.ts";
import { ETH_STRATUM_ERRORS } from "../protocols/eth-stratum/errors.ts";
import { ETH_STRATUM2_ERRORS } from "../protocols/eth-stratum2/errors.ts";
import { REASONS } from "../protocols/errors/reasons.ts";

type JsonSchema = { type?: string; description?: string; items?: JsonSchema; properties?: Record<string, JsonSchema>; anyOf?: JsonSchema[]; oneOf?: JsonSchema[]; enum?: unknown[]; minimum?: number; maximum?: number };

function at(obj: unknown, path: string[]): unknown {
  let cur = obj;
  // "list[]" reads the first element: the defaults of an array's entries.
  for (const p of path) cur = p.endsWith("[]") ? ((cur as Record<string, unknown[]> | undefined)?.[p.slice(0, -2)])?.[0] : (cur as Record<string, unknown> | undefined)?.[p];
  return cur;
}

function rows(schema: JsonSchema, path: string[], out: string[][], defaults: unknown = DEFAULT_CONFIG, skip = 0): void {
  const props = schema.properties ?? (schema.anyOf ?? schema.oneOf)?.[0]?.properties;
  if (props === undefined) return;
  for (const [key, sub] of Object.entries(props)) {
    const p = [...path, key];
    const inner = sub.properties ?? (sub.anyOf ?? sub.oneOf)?.[0]?.properties;
    if (inner !== undefined) {
      rows(sub, p, out, defaults, skip);
      continue;
    }
    const def = at(defaults, p.slice(skip));
    const entries = skip > 0 ? "pool" : key === "listeners" ? "port" : undefined;
    if (sub.type === "array" && sub.items?.properties !== undefined && entries !== undefined) {
      // Relay table, and [[listeners]] in the main one: each entry's keys get their own rows.
      out.push([`\`${p.join(".")}\``, "array", `(one entry per ${entries})`, (sub.description ?? "").replace(/\|/g, "\\|")]);
      rows(sub.items, [...path, key + "[]"], out, defaults, skip);
      continue;
    }
    const inEntry = path.some((k) => k.endsWith("[]"));
    const required = (skip > 0 || inEntry) && ((schema as { required?: string[] }).required ?? []).includes(key) && !["type"].includes(key);
    if (def === undefined && inEntry && !required) {
      // An optional key with no default of its own (a port's difficulty): its meaning names what it falls back to.
      out.push([`\`${p.join(".")}\``, sub.type ?? "", "(inherited)", (sub.description ?? "").replace(/\|/g, "\\|")]);
      continue;
    }
    const type = sub.enum ? sub.enum.map((e) => `\`${e}\``).join(" \\| ") : sub.type ?? "";
    out.push([`\`${p.join(".")}\``, type, required ? `required, e.g. \`${JSON.stringify(def)}\`` : `\`${JSON.stringify(def)}\``, (sub.description ?? "").replace(/\|/g, "\\|")]);
  }
}

export function configTable(): string {
  const schema = z.toJSONSchema(ConfigSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const out: string[][] = [];
  // The defaults one [[listeners]] entry gets (port is required: shown as an example).
  rows(schema, [], out, { ...DEFAULT_CONFIG, listeners: [ListenerSchema.parse({ port: 4444 })] });
  return ["| key | type | default | meaning |", "|---|---|---|---|", ...out.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

/** Relay mode's keys (upstream.type = "pool", or ethash.upstream.type = "pool"), with the defaults a minimal pool list gets. */
export function relayTable(eth = false): string {
  const s = eth ? EthPoolUpstreamSchema : PoolUpstreamSchema;
  const schema = z.toJSONSchema(s, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const user = eth ? "0x" + "ab".repeat(20) : "account.farm";
  const defaults = s.parse({ type: "pool", pool: { pools: [{ url: "stratum+tcp://pool.example:3333", user }] } });
  const out: string[][] = [];
  rows(schema, eth ? ["ethash", "upstream"] : ["upstream"], out, defaults, eth ? 2 : 1);
  return ["| key | type | default | meaning |", "|---|---|---|---|", ...out.map((r) => `| ${r.join(" | ")} |`)].join("\n");
}

export function stratumErrorTable(): string {
  const lines = [
    "| reason | Stratum v1 `error` | eth-proxy | EthereumStratum/1.0.0 `error` | EIP-1571 `error` |",
    "|---|---|---|---|---|",
  ];
  for (const r of REASONS) {
    const v1 = STRATUM_V1_ERRORS[r];
    const ep = ETH_PROXY_ERRORS[r];
    const es = ETH_STRATUM_ERRORS[r];
    const e2 = ETH_STRATUM2_ERRORS[r];
    const proxy = "result" in ep ? "`result: false`" : `\`{"code": ${ep.code}, "message": "${ep.message}"}\``;
    lines.push(`| \`${r}\` | \`[${v1.code}, "${v1.message}", null]\` | ${proxy} | \`[${es.code}, "${es.message}", null]\` | \`{"code": ${e2.code}, "message": "${e2.message}"}\` |`);
  }
  return lines.join("\n");
}

/** `bun test/readme_tables.ts --write` rewrites the marked tables in README.md in place. */
if (import.meta.main) {
  const { readFileSync, writeFileSync } = await import("node:fs");
  const tables: Record<string, string> = { "config-table": configTable(), "relay-table": relayTable(), "eth-relay-table": relayTable(true), "error-table": stratumErrorTable() };
  if (process.argv.includes("--write")) {
    const path = new URL("../README.md", import.meta.url);
    let text = readFileSync(path, "utf8");
    for (const [tag, table] of Object.entries(tables)) {
      const re = new RegExp(`<!-- ${tag}:begin -->[\\s\\S]*?<!-- ${tag}:end -->`);
      text = text.replace(re, () => `<!-- ${tag}:begin -->\n${table}\n<!-- ${tag}:end -->`);
    }
    writeFileSync(path, text);
  } else for (const [tag, table] of Object.entries(tables)) console.log(`<!-- ${tag}:begin -->\n${table}\n<!-- ${tag}:end -->\n`);
}
