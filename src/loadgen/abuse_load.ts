// Abusive-source load for `bench --mode abuse`: paced TCP connects from one loopback source address (node:net localAddress), a ban trigger, and /metrics reading; no Stratum session, no relay logic.
import { connect, type Socket } from "node:net";

/**
 * Connects the pacer should have started by `elapsedMs` at `ratePerSecond`, minus those already started.
 * Cumulative, so a late timer tick catches up instead of losing the rate; never negative.
 */
export function dueConnections(elapsedMs: number, ratePerSecond: number, started: number): number {
  if (!(elapsedMs > 0) || !(ratePerSecond > 0)) return 0;
  return Math.max(0, Math.floor((elapsedMs * ratePerSecond) / 1000) - started);
}

/**
 * The value of one Prometheus text-format sample: `name` with exactly these labels (any order),
 * or without labels when `labels` is empty. undefined when absent or not a number.
 */
export function promSample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    let labelText = "";
    let valueText: string;
    if (rest.startsWith("{")) {
      const close = rest.indexOf("}");
      if (close < 0) continue;
      labelText = rest.slice(1, close);
      valueText = rest.slice(close + 1);
    } else if (rest.startsWith(" ")) valueText = rest;
    else continue; // a longer metric name sharing the prefix
    const got: [string, string][] = [];
    for (const m of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) got.push([m[1]!, m[2]!]);
    got.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (got.length !== want.length || got.some(([k, v], i) => k !== want[i]![0] || v !== want[i]![1])) continue;
    const v = Number(valueText.trim().split(/\s+/)[0]);
    return Number.isNaN(v) ? undefined : v;
  }
  return undefined;
}

/** Sends one malformed line from `from` (what earns a ban with bans.maxMalformed=1); resolves with what came back before the close. */
export function sendMalformed(host: string, port: number, from: string, timeoutMs = 3000): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    let reply = "";
    const s = connect({ host, port, localAddress: from });
    const t = setTimeout(() => {
      s.destroy();
      resolve({ reply, closed: false });
    }, timeoutMs);
    s.on("connect", () => s.write("this is not json\n"));
    s.on("data", (d) => (reply += String(d)));
    s.on("error", () => {});
    s.on("close", () => {
      clearTimeout(t);
      resolve({ reply, closed: true });
    });
  });
}

export interface AbuseCounters {
  /** connect() calls made. */
  attempted: number;
  /** TCP handshakes completed (the kernel accepts before the relay sees the socket). */
  connected: number;
  /** Closed by the relay without sending a byte: refused at accept. */
  refusedSilently: number;
  /** Connections on which the relay answered something: it read our line, so it did not refuse at accept. */
  answered: number;
  /**
   * Errors before our side saw the handshake complete, by code. ECONNRESET here is still a refusal:
   * the relay's reset arrived before this process ran its connect callback.
   */
  connectErrors: number;
  errorCodes: Record<string, number>;
  /** Still open when the run ended (destroyed by us). */
  leftOpen: number;
  /** Ticks at which the in-flight cap stopped the pacer from starting every due connection. */
  cappedTicks: number;
}

export interface AbuseResult {
  from: string;
  ratePerSecond: number;
  /** How long the pacer ran, ms (excludes the drain of in-flight connections). */
  pacedMs: number;
  achievedPerSecond: number;
  counters: AbuseCounters;
  /** Client-side connect → close, ms, for silently refused connections (sorted copy in the caller). */
  refuseMs: number[];
}

/**
 * Opens `ratePerSecond` connections per second from `from` for `seconds`, each writing one junk line
 * (a refused-at-accept socket never answers it), and counts how each ended. At most `maxInFlight`
 * are open at once so a stalled relay cannot make us hold thousands of sockets.
 */
export function runAbuse(opts: {
  host: string;
  port: number;
  from: string;
  ratePerSecond: number;
  seconds: number;
  maxInFlight?: number;
  tickMs?: number;
  /** Called when pacing starts and when it stops (before the drain): lets a parent bracket its measurement. */
  onPhase?: (phase: "started" | "paced") => void;
}): Promise<AbuseResult> {
  const maxInFlight = opts.maxInFlight ?? 500;
  const tickMs = opts.tickMs ?? 2;
  const c: AbuseCounters = { attempted: 0, connected: 0, refusedSilently: 0, answered: 0, connectErrors: 0, errorCodes: {}, leftOpen: 0, cappedTicks: 0 };
  const refuseMs: number[] = [];
  const open = new Set<Socket>();
  const junk = '{"id":1,"method":"mining.subscribe","params":["abuser"]}\n';

  function one(): void {
    c.attempted++;
    const t0 = performance.now();
    let connectedAt = 0;
    let got = false;
    const s = connect({ host: opts.host, port: opts.port, localAddress: opts.from });
    open.add(s);
    s.on("connect", () => {
      c.connected++;
      connectedAt = performance.now();
      s.write(junk);
    });
    s.on("data", () => {
      if (!got) c.answered++;
      got = true;
      s.destroy();
    });
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (connectedAt !== 0) return;
      const code = e.code ?? "other";
      c.errorCodes[code] = (c.errorCodes[code] ?? 0) + 1;
    });
    s.on("close", () => {
      if (!open.delete(s)) return;
      if (connectedAt === 0) c.connectErrors++;
      else if (!got) {
        c.refusedSilently++;
        refuseMs.push(performance.now() - t0);
      }
    });
  }

  return new Promise((resolve) => {
    const t0 = performance.now();
    opts.onPhase?.("started");
    const timer = setInterval(() => {
      const elapsed = performance.now() - t0;
      const end = elapsed >= opts.seconds * 1000;
      let due = dueConnections(Math.min(elapsed, opts.seconds * 1000), opts.ratePerSecond, c.attempted);
      if (open.size + due > maxInFlight) {
        c.cappedTicks++;
        due = Math.max(0, maxInFlight - open.size);
      }
      for (let i = 0; i < due; i++) one();
      if (!end) return;
      clearInterval(timer);
      const pacedMs = performance.now() - t0;
      opts.onPhase?.("paced");
      // Drain: give in-flight connections up to 2 s to be refused, then count the rest as left open.
      const drainStart = performance.now();
      const drain = setInterval(() => {
        if (open.size > 0 && performance.now() - drainStart < 2000) return;
        clearInterval(drain);
        c.leftOpen = open.size;
        for (const s of open) s.destroy();
        open.clear();
        resolve({ from: opts.from, ratePerSecond: opts.ratePerSecond, pacedMs, achievedPerSecond: c.attempted / (pacedMs / 1000), counters: c, refuseMs });
      }, 20);
    }, tickMs);
  });
}
