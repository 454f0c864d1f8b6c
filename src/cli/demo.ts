// `stratum-edge demo`: runs the relay plus built-in CPU miners against it and prints a live status line; no protocol logic.
import type { Config } from "../config/schema.ts";
import type { Runtime } from "../runtime/types.ts";
import { createRelayWith } from "../relay/relay.ts";
import { createLogger } from "../observe/log.ts";
import { createStratumMiner, type StratumMiner } from "../client/stratum_miner.ts";

function formatRate(h: number): string {
  const units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s"];
  let i = 0;
  while (h >= 1000 && i < units.length - 1) {
    h /= 1000;
    i++;
  }
  return `${h.toFixed(h < 10 ? 2 : 1)} ${units[i]}`;
}

export async function runDemo(runtime: Runtime, config: Config, flags: Record<string, string | boolean>): Promise<number> {
  const miners = Number(flags.miners ?? 2);
  const seconds = flags.seconds !== undefined ? Number(flags.seconds) : Infinity;
  if (!Number.isInteger(miners) || miners < 1 || miners > 64) {
    console.error("stratum-edge demo: --miners must be an integer 1..64");
    return 2;
  }
  if (!(seconds > 0)) {
    console.error("stratum-edge demo: --seconds must be a positive number");
    return 2;
  }
  const tty = (globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process?.stdout?.isTTY === true;
  // Relay logs go above the status line; on a terminal keep them to warnings so the line stays readable.
  const log = createLogger({ format: config.log.format, level: tty && config.log.level === "info" ? "warn" : config.log.level });
  const relay = createRelayWith(config, runtime, log);
  let ports: { stratumPort: number; httpPort: number | undefined };
  try {
    ports = await relay.start();
  } catch (e) {
    console.error(`stratum-edge demo: could not start the relay: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const host = config.stratum.host === "0.0.0.0" || config.stratum.host === "::" ? "127.0.0.1" : config.stratum.host;
  console.log(
    `stratum-edge demo: relay on stratum+tcp://${host}:${ports.stratumPort}` +
      (ports.httpPort !== undefined ? `, dashboard on http://${host}:${ports.httpPort}/ (JSON at /api/stats)` : "") +
      `; ${miners} built-in CPU miner(s) mining the devnet. Ctrl-C stops.`,
  );
  const blocksSeen = new Set<string>();
  const list: StratumMiner[] = [];
  for (let i = 0; i < miners; i++) {
    const m = createStratumMiner({
      runtime,
      host,
      port: ports.stratumPort,
      user: `demo.cpu${i + 1}`,
      password: "x",
      agent: "stratum-edge-demo/1",
      sha: runtime.sha256,
      configure: { versionRolling: true },
      // A CPU does ~1 MH/s per core here: difficulty 0.0002 (~860k hashes) gives a share every second or so.
      suggestDifficulty: 0.0002,
      onEvent: (e) => {
        if (e.type === "share" && e.block && e.accepted) blocksSeen.add(`${e.jobId}:${e.nonce}`);
      },
    });
    list.push(m);
  }
  try {
    await Promise.all(list.map((m) => m.start()));
  } catch (e) {
    console.error(`stratum-edge demo: miner could not connect: ${e instanceof Error ? e.message : String(e)}`);
    await relay.stop();
    return 1;
  }
  const started = runtime.clock.now();
  const status = () => {
    const s = relay.stats();
    let accepted = 0;
    let rejected = 0;
    let hashes = 0;
    for (const m of list) {
      const x = m.stats();
      accepted += x.accepted;
      rejected += x.rejected;
      hashes += x.hashes;
    }
    const elapsed = Math.max(1, runtime.clock.now() - started) / 1000;
    const accepted_blocks = s.pool.blocks.filter((b) => b.result?.accepted).length;
    const up = Math.round((runtime.clock.now() - started) / 1000);
    return `height ${s.pool.height} | blocks found ${accepted_blocks} | shares ${accepted} accepted, ${rejected} rejected | ` +
      `miners ${formatRate(hashes / elapsed)}, relay estimate ${formatRate(s.pool.hashrate)} | ${s.connections} connection(s) | ${up}s`;
  };
  let timer: unknown;
  const done = new Promise<void>((resolve) => {
    let last = 0;
    timer = runtime.clock.setInterval(() => {
      const now = runtime.clock.now();
      if (tty) {
        (globalThis as { process: { stdout: { write(s: string): void } } }).process.stdout.write(`\r\x1b[2K${status()}`);
      } else if (now - last >= 5000) {
        last = now;
        console.log(status());
      }
      if (now - started >= seconds * 1000) resolve();
    }, 250);
    runtime.onSignal("SIGINT", () => resolve());
    runtime.onSignal("SIGTERM", () => resolve());
  });
  await done;
  runtime.clock.clearInterval(timer);
  if (tty) console.log("");
  console.log(`final: ${status()}`);
  const rej = relay.stats().pool.rejectedByReason;
  if (Object.keys(rej).length > 0) console.log(`rejected by reason: ${JSON.stringify(rej)}`);
  for (const m of list) m.stop();
  await relay.stop();
  return 0;
}
