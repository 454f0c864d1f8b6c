// Starts the relay under test as a child process (node:child_process, works in Bun and Deno), times its start, reads its RSS, stops it; no load generation.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer, connect as netConnect } from "node:net";
import { fileURLToPath } from "node:url";

export interface RelayCommand {
  cmd: string;
  args: string[];
  /** How the relay is run, for the report ("dist/stratum-edge", "bun src/main.ts", ...). */
  label: string;
}

export interface RelayChild {
  pid: number;
  stratumPort: number;
  httpPort: number;
  /** Milliseconds from spawn() to the first accepted TCP connect on the Stratum port (polled every ~1 ms). */
  startMs: number;
  /** Last lines the child wrote (warnings, errors), for the report. */
  output(): string;
  exited(): boolean;
  /** SIGTERM, then SIGKILL after 3 s; resolves when the process is gone. */
  stop(): Promise<void>;
}

/** A port the kernel just handed out on 127.0.0.1 (closed again: a small race we accept for a bench). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export function tryConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * Which relay to run: --binary PATH; else our own executable when this is the compiled binary
 * (execPath is then stratum-edge itself); else dist/stratum-edge when built; else this runtime
 * with src/main.ts (bun src/main.ts, or deno run -A src/main.ts).
 */
export function resolveRelayCommand(binary: string | undefined): RelayCommand {
  if (binary !== undefined && binary !== "" && binary !== "self") return { cmd: binary, args: [], label: binary };
  const here = import.meta.url;
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  // In a `bun build --compile --format=cjs` binary import.meta.url is the build-time source path, so
  // also look at argv[1], which is /$bunfs/... inside a compiled Bun executable.
  const argv1 = process.argv[1] ?? "";
  const compiled = here.includes("$bunfs") || here.includes("~BUN") || argv1.startsWith("/$bunfs/") ||
    (g.Deno !== undefined && here.includes("deno-compile"));
  if (compiled) return { cmd: process.execPath, args: [], label: process.execPath };
  const mainPath = fileURLToPath(new URL("../main.ts", here));
  const dist = fileURLToPath(new URL("../../dist/stratum-edge", here));
  if (binary !== "self" && existsSync(dist)) return { cmd: dist, args: [], label: "dist/stratum-edge" };
  if (g.Deno !== undefined) {
    return { cmd: process.execPath, args: ["run", "-A", mainPath], label: "deno run -A src/main.ts" };
  }
  const rt = g.Bun !== undefined ? "bun" : "node";
  return { cmd: process.execPath, args: [mainPath], label: `${rt} src/main.ts` };
}

/** Spawns the relay with `--set` overrides plus fresh Stratum and HTTP ports, and waits until Stratum accepts. */
export async function startRelay(cmd: RelayCommand, sets: Record<string, string>, timeoutMs = 15000): Promise<RelayChild> {
  const stratumPort = await freePort();
  const httpPort = await freePort();
  const all: Record<string, string> = { ...sets, "stratum.port": String(stratumPort), "http.port": String(httpPort) };
  const args = [...cmd.args];
  for (const [k, v] of Object.entries(all)) args.push("--set", `${k}=${v}`);
  let out = "";
  let exitCode: number | null | undefined;
  const t0 = performance.now();
  const child: ChildProcess = spawn(cmd.cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  const keep = (d: Buffer | string) => {
    out = (out + String(d)).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const gone = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitCode = code ?? (signal ? -1 : 0);
      resolve();
    });
    child.once("error", (e) => {
      keep(`spawn error: ${e.message}\n`);
      exitCode = -1;
      resolve();
    });
  });
  let startMs = Number.NaN;
  while (performance.now() - t0 < timeoutMs) {
    if (exitCode !== undefined) break;
    if (await tryConnect("127.0.0.1", stratumPort)) {
      startMs = performance.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const stop = async () => {
    if (exitCode !== undefined) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await gone;
    clearTimeout(killer);
  };
  if (Number.isNaN(startMs)) {
    await stop();
    throw new Error(`relay did not listen on ${stratumPort} within ${timeoutMs} ms (exit ${exitCode}): ${out.trim().slice(-1500)}`);
  }
  return {
    pid: child.pid ?? -1,
    stratumPort,
    httpPort,
    startMs,
    output: () => out,
    exited: () => exitCode !== undefined,
    stop,
  };
}

/**
 * Resident memory of a process in bytes from one read of /proc/PID/status (Linux), undefined elsewhere:
 * VmRSS, and RssAnon, its own memory without the pages of the executable and libraries it maps
 * (the same figures as smaps_rollup's Rss and Anonymous).
 */
export function readMemory(pid: number): { rss: number; anon: number } | undefined {
  try {
    const t = readFileSync(`/proc/${pid}/status`, "utf8");
    const rss = /VmRSS:\s+(\d+)\s+kB/.exec(t);
    const anon = /RssAnon:\s+(\d+)\s+kB/.exec(t);
    return rss && anon ? { rss: Number(rss[1]) * 1024, anon: Number(anon[1]) * 1024 } : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS of a process in bytes (see readMemory), undefined elsewhere. */
export function readRss(pid: number): number | undefined {
  return readMemory(pid)?.rss;
}

/** CPU seconds (user+system) a process has used, from /proc/<pid>/stat; undefined off Linux. */
export function readCpuSeconds(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 (1-based).
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(rest[11]) + Number(rest[12]);
    // USER_HZ is 100 on every Linux build we target (sysconf(_SC_CLK_TCK)).
    return Number.isFinite(ticks) ? ticks / 100 : undefined;
  } catch {
    return undefined;
  }
}

export async function fetchText(url: string, timeoutMs = 5000): Promise<string | undefined> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return r.ok ? await r.text() : undefined;
  } catch {
    return undefined;
  }
}
