// Turns TOML text and --set overrides into a validated Config, with one "source: path = value: problem" line per error; no file or env access.
import { parse as parseToml, TomlError } from "smol-toml";
import type { core } from "zod/mini";
import { ConfigSchema, DEFAULT_CONFIG, type Config } from "./schema.ts";

/** Every problem found, one per line in `message` and in `problems`. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** snake_case / kebab-case → camelCase, so `max_line_bytes` (TOML habit) and `maxLineBytes` (the schema) both work. */
const camel = (k: string) => k.replace(/[_-]([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

function normalizeKeys(v: unknown, path: string, problems: string[], source: string): unknown {
  if (Array.isArray(v)) return v.map((x, i) => normalizeKeys(x, `${path}[${i}]`, problems, source));
  if (!isObj(v)) return v;
  const out: Obj = {};
  const spelled = new Map<string, string>();
  for (const [k, x] of Object.entries(v)) {
    const c = camel(k);
    const p = path ? `${path}.${c}` : c;
    const before = spelled.get(c);
    if (before !== undefined) problems.push(`${source}: ${p}: written twice (as "${before}" and "${k}")`);
    spelled.set(c, k);
    out[c] = normalizeKeys(x, p, problems, source);
  }
  return out;
}

const show = (v: unknown): string => (v === undefined ? "(missing)" : JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));

const at = (root: unknown, path: readonly PropertyKey[]): unknown => {
  let v = root;
  for (const k of path) v = isObj(v) ? v[String(k)] : Array.isArray(v) ? v[Number(k)] : undefined;
  return v;
};

const fmtPath = (path: readonly PropertyKey[]) => path.map(String).join(".");

function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0]!;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j]!;
      d[j] = Math.min(d[j]! + 1, d[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length]!;
}

/** What the issue expected, in words: "expected number", "expected >= 1", "expected one of ...". */
function problem(issue: core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${issue.expected === "int" ? "integer" : issue.expected}`;
    case "too_small":
      if (issue.origin === "string") return Number(issue.minimum) === 1 ? "expected a non-empty string" : `expected at least ${issue.minimum} characters`;
      return `expected ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      if (issue.origin === "string") return `expected at most ${issue.maximum} characters`;
      return `expected ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    case "invalid_value":
      return issue.values.length === 1 ? `expected ${show(issue.values[0])}` : `expected one of ${issue.values.map(show).join(", ")}`;
    case "invalid_union": {
      const options = ((issue as { options?: unknown[] }).options ?? []).filter((o) => typeof o === "string");
      return options.length > 0 ? `expected one of ${options.map(show).join(", ")}` : issue.message;
    }
    default:
      return issue.message;
  }
}

/** Validate a plain object against ConfigSchema; throws ConfigError naming each bad path and value. */
export function validateConfig(input: unknown, source: string): Config {
  const r = ConfigSchema.safeParse(input, { reportInput: true });
  if (r.success) return r.data;
  const lines: string[] = [];
  for (const issue of r.error.issues) {
    if (issue.code === "unrecognized_keys") {
      const known = Object.keys(at(DEFAULT_CONFIG, issue.path) as Obj ?? {});
      for (const key of issue.keys) {
        const near = known.map((k) => [k, distance(key, k)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = near && near[1] <= 2 ? ` (did you mean "${near[0]}"?)` : "";
        lines.push(`${source}: ${fmtPath([...issue.path, key])} = ${show(at(input, [...issue.path, key]))}: unknown key${hint}`);
      }
      continue;
    }
    // The value as written; a refine on a section reports its own input (the field may be a default).
    const written = at(input, issue.path);
    const value = written !== undefined ? written : issue.input;
    lines.push(`${source}: ${fmtPath(issue.path)} = ${show(value)}: ${problem(issue)}`);
  }
  throw new ConfigError(lines);
}

/** Parse TOML config text (undefined = no file: all defaults). `source` names the file in messages. */
export function loadConfig(text: string | undefined, source: string): Config {
  if (text === undefined) return validateConfig({}, source);
  let raw: unknown;
  try {
    raw = parseToml(text);
  } catch (e) {
    if (e instanceof TomlError) {
      const first = e.message.split("\n")[0] ?? e.message;
      throw new ConfigError([`${source}: invalid TOML at line ${e.line}, column ${e.column}: ${first}`]);
    }
    throw e;
  }
  const problems: string[] = [];
  const normalized = normalizeKeys(raw, "", problems, source);
  if (problems.length > 0) throw new ConfigError(problems);
  return validateConfig(normalized, source);
}

/** Read an override string as the type of the value it replaces (so "00000000" stays a string where the field is a string). */
function coerce(text: string, current: unknown): unknown {
  const t = text.trim();
  if (typeof current === "number" || (current === undefined && /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i.test(t))) {
    const n = Number(t);
    return t !== "" && Number.isFinite(n) ? n : text; // not a number: leave it, validation names the path
  }
  if (typeof current === "boolean" || current === undefined) {
    if (t === "true") return true;
    if (t === "false") return false;
  }
  return text;
}

/**
 * Apply `--set path=value` overrides (e.g. {"stratum.port": "4444"}) on top of a Config and
 * re-validate; keys may be camelCase or snake_case. Throws ConfigError with source "--set".
 */
export function applyOverrides(config: Config, overrides: Record<string, string>): Config {
  const next = structuredClone(config) as unknown as Obj;
  const problems: string[] = [];
  for (const [rawPath, text] of Object.entries(overrides)) {
    const path = rawPath.split(".").map((k) => camel(k.trim()));
    if (path.some((k) => k === "")) {
      problems.push(`--set: ${rawPath} = ${show(text)}: expected a dotted key like stratum.port`);
      continue;
    }
    let obj: Obj = next;
    let ok = true;
    for (const k of path.slice(0, -1)) {
      const child = obj[k];
      if (child === undefined) obj[k] = {};
      else if (!isObj(child)) {
        problems.push(`--set: ${path.join(".")} = ${show(text)}: ${k} is not a section`);
        ok = false;
        break;
      }
      obj = obj[k] as Obj;
    }
    if (!ok) continue;
    const last = path[path.length - 1]!;
    if (isObj(obj[last])) {
      problems.push(`--set: ${path.join(".")} = ${show(text)}: is a section, set one of its keys`);
      continue;
    }
    obj[last] = coerce(text, obj[last]);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return validateConfig(next, "--set");
}
