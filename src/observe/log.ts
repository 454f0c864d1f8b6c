// Leveled logger writing human or JSON lines through an injected writer (default console.log); no files, no buffering, no rotation.
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (e.g. {conn: 42, addr: "1.2.3.4"}). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  format: "human" | "json";
  level: LogLevel;
  /** Receives one line without a trailing newline. Default: console.log (stdout on Bun, Deno and Node). */
  write?: (line: string) => void;
  /** Milliseconds since the epoch; injectable for tests. Default Date.now. */
  now?: () => number;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const LABEL: Record<LogLevel, string> = { debug: "DEBUG", info: "INFO ", warn: "WARN ", error: "ERROR" };
const RESERVED = new Set(["ts", "level", "msg"]);

/** JSON.stringify that survives bigint, Error and cycles (a log call must never throw). */
function toJson(v: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return JSON.stringify(v, (_k, x: unknown) => {
      if (typeof x === "bigint") return x.toString();
      if (x instanceof Error) return { name: x.name, message: x.message };
      if (x instanceof Uint8Array) return Array.from(x, (b) => b.toString(16).padStart(2, "0")).join("");
      if (typeof x === "object" && x !== null) {
        if (seen.has(x)) return "[circular]";
        seen.add(x);
      }
      return x;
    }) ?? "undefined";
  } catch {
    return '"[unserializable]"';
  }
}

/** key=value for the human format: bare when safe, JSON-quoted when it has spaces, quotes, '=' or is empty. */
function humanValue(v: unknown): string {
  if (typeof v === "string") return v === "" || /[\s"=\\]/.test(v) ? JSON.stringify(v) : v;
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" || v === null || v === undefined) return String(v);
  if (v instanceof Error) return JSON.stringify(v.message);
  return toJson(v);
}

export function createLogger(opts: LoggerOptions, bound: LogFields = {}): Logger {
  const write = opts.write ?? ((line: string) => console.log(line));
  const now = opts.now ?? Date.now;
  const min = RANK[opts.level];

  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    const all = fields ? { ...bound, ...fields } : bound;
    const ts = new Date(now()).toISOString();
    if (opts.format === "json") {
      const obj: LogFields = { ts, level, msg };
      for (const [k, v] of Object.entries(all)) obj[RESERVED.has(k) ? `field_${k}` : k] = v;
      write(toJson(obj));
      return;
    }
    let line = `${ts} ${LABEL[level]} ${msg}`;
    for (const [k, v] of Object.entries(all)) line += ` ${k}=${humanValue(v)}`;
    write(line);
  };
  // Disabled levels are no-op functions: a debug call on the hot path costs one call, no formatting.
  const at = (level: LogLevel) => (RANK[level] >= min ? (msg: string, fields?: LogFields) => emit(level, msg, fields) : () => {});

  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}
