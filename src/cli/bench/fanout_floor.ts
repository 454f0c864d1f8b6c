// `bench --mode fanout-floor` (internal, spawned by --mode fanout and --mode shares): a bare listener doing only the I/O (answer the handshake, write one notify to every socket each interval, answer each submit with a fixed reply); no relay logic, no checks.
import type { Runtime, SocketHandle } from "../../runtime/types.ts";
import type { Ctx } from "./common.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What the floor answers to lines after the handshake: nothing (fan-out), or a fixed true / code-23 reply per request id (shares). */
export type FloorShares = "off" | "accept" | "reject";

/** Env of the floor process: the broadcast interval (ms), whether it shares its port with sibling floors (SO_REUSEPORT), and its share answers. */
export function floorSettings(env: (k: string) => string | undefined): { intervalMs: number; reusePort: boolean; shares: FloorShares } {
  const ms = Number(env("BENCH_FLOOR_INTERVAL_MS"));
  const sh = env("BENCH_FLOOR_SHARES");
  return {
    intervalMs: Number.isFinite(ms) && ms >= 100 ? Math.floor(ms) : 2000,
    reusePort: env("BENCH_FLOOR_REUSE_PORT") === "1",
    shares: sh === "accept" || sh === "reject" ? sh : "off",
  };
}

/**
 * The floor's reply to one line after the handshake: the request's id copied byte for byte (found by
 * scanning, not JSON.parse: the floor does the I/O and nothing more), or undefined for a line without one.
 */
export function floorShareReply(line: string, shares: "accept" | "reject"): string | undefined {
  const k = line.indexOf('"id":');
  if (k < 0) return undefined;
  let a = k + 5;
  while (line.charCodeAt(a) === 32) a++;
  let b = a;
  while (b < line.length && line.charCodeAt(b) !== 44 && line.charCodeAt(b) !== 125) b++;
  const id = line.slice(a, b).trim();
  if (id === "" || id === "null") return undefined;
  return shares === "accept" ? '{"id":' + id + ',"result":true,"error":null}\n' : '{"id":' + id + ',"result":null,"error":[23,"Low difficulty share",null]}\n';
}

/**
 * One clean mining.notify of the devnet's size and shape (550 bytes: 3 transactions so 2 branches, as the
 * devnet's first template), its job id and prevhash taken from the tick so sibling floors send identical bytes.
 */
export function encodeFloorNotify(tick: number): Uint8Array {
  const id = tick.toString(16);
  const prev = (id.padStart(8, "0") + "c9fee5b6b4e2a66c7bbae332e0f53f79f5c8bb003f1ca1bdf563292b87f2c1").slice(0, 64);
  const ntime = (tick >>> 0).toString(16).padStart(8, "0");
  return enc.encode(
    '{"id":null,"method":"mining.notify","params":["' + id + '","' + prev + '",' +
      '"01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff195108",' +
      '"0e2f7374726174756d2d656467652fffffffff0200f2052a0100000001510000000000000000266a24aa21a9ed99b396987dc1ee0ec506e072ef0c2488a356dad156592fbd558a99a23ceeb85a00000000",' +
      '["aaf0f1f24e7e52cd7348dfa35826099a46a9ac982a1d59203d18ca7c4ac3ad7d","ba8d8ae1daf952947101770bfa0d43707d0a0efb7f82237b173bb61973a66126"],' +
      '"20000000","1e00ffff","' + ntime + '",true]}\n',
  );
}

interface FloorConn {
  pending: string;
  live: boolean;
}

/**
 * Listens on --target HOST:PORT until killed. The handshake answers are what a Stratum v1 miner needs to
 * take a job (subscribe, authorize, difficulty, the current notify); every line after it is ignored.
 * Broadcasts are aligned to wall-clock multiples of the interval, so two floor processes sharing a port
 * (the floor for stratum.threads = 2) write the same job at the same moment.
 */
export async function runFanoutFloor(ctx: Ctx): Promise<number> {
  const rt: Runtime = ctx.runtime;
  const { intervalMs, reusePort, shares } = floorSettings((k) => rt.env(k));
  const live = new Set<SocketHandle>();
  let tick = Math.floor(rt.clock.now() / intervalMs);
  let current = encodeFloorNotify(tick);
  const answer = (s: SocketHandle, c: FloorConn, line: string) => {
    let msg: { id?: unknown; method?: unknown };
    try {
      msg = JSON.parse(line) as { id?: unknown; method?: unknown };
    } catch {
      return;
    }
    const id = JSON.stringify(msg.id ?? null);
    if (msg.method === "mining.subscribe") {
      s.write(enc.encode('{"id":' + id + ',"result":[[["mining.notify","f100"]],"00000001",4],"error":null}\n'));
    } else if (msg.method === "mining.authorize") {
      s.write(enc.encode('{"id":' + id + ',"result":true,"error":null}\n{"id":null,"method":"mining.set_difficulty","params":[1e-12]}\n'));
      s.write(current);
      c.live = true;
      live.add(s);
    }
  };
  /** One write per chunk, as the relay batches the replies to one read. */
  const answerShares = (s: SocketHandle, c: FloorConn, text: string) => {
    c.pending += text;
    let out = "";
    let nl: number;
    while ((nl = c.pending.indexOf("\n")) >= 0) {
      const r = floorShareReply(c.pending.slice(0, nl), shares as "accept" | "reject");
      c.pending = c.pending.slice(nl + 1);
      if (r !== undefined) out += r;
    }
    if (c.pending.length > 16_384) c.pending = "";
    if (out !== "") s.write(enc.encode(out));
  };
  const listener = await rt.listen(ctx.target!.host, ctx.target!.port, {
    open(s) {
      s.ctx = { pending: "", live: false } satisfies FloorConn;
    },
    data(s, chunk) {
      const c = s.ctx as FloorConn;
      if (c.live) {
        if (shares !== "off") answerShares(s, c, dec.decode(chunk));
        return;
      }
      c.pending += dec.decode(chunk);
      let nl: number;
      while (!c.live && (nl = c.pending.indexOf("\n")) >= 0) {
        const line = c.pending.slice(0, nl);
        c.pending = c.pending.slice(nl + 1);
        answer(s, c, line);
      }
      // Submits pipelined right behind the authorize are still pending: answer them.
      if (c.live && shares !== "off" && c.pending !== "") answerShares(s, c, "");
      else if (c.live || c.pending.length > 16_384) c.pending = "";
    },
    close(s) {
      live.delete(s);
    },
  }, { reusePort });
  const schedule = () => {
    const next = (tick + 1) * intervalMs;
    rt.clock.setTimeout(() => {
      tick = Math.floor(rt.clock.now() / intervalMs);
      current = encodeFloorNotify(tick);
      const t0 = performance.now();
      for (const s of live) s.write(current);
      // The same figure as the relay's stratum_edge_notify_fanout_seconds: time to hand the job to every socket.
      console.log(`FLOOR wrote ${live.size} ${(performance.now() - t0).toFixed(3)} ms`);
      schedule();
    }, Math.max(0, next - rt.clock.now()));
  };
  schedule();
  console.log(`FLOOR listening ${listener.host}:${listener.port} interval ${intervalMs} ms${reusePort ? " (shared port)" : ""}${shares !== "off" ? ` answering shares (${shares})` : ""}`);
  await new Promise<never>(() => {});
  return 0;
}
