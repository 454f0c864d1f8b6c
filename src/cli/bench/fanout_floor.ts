// `bench --mode fanout-floor` (internal, spawned by --mode fanout): a bare listener doing only fan-out's I/O (answer the handshake, write one notify to every socket each interval); no relay logic, no checks.
import type { Runtime, SocketHandle } from "../../runtime/types.ts";
import type { Ctx } from "./common.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Env of the floor process: the broadcast interval (ms) and whether it shares its port with sibling floors (SO_REUSEPORT). */
export function floorSettings(env: (k: string) => string | undefined): { intervalMs: number; reusePort: boolean } {
  const ms = Number(env("BENCH_FLOOR_INTERVAL_MS"));
  return { intervalMs: Number.isFinite(ms) && ms >= 100 ? Math.floor(ms) : 2000, reusePort: env("BENCH_FLOOR_REUSE_PORT") === "1" };
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
  const { intervalMs, reusePort } = floorSettings((k) => rt.env(k));
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
  const listener = await rt.listen(ctx.target!.host, ctx.target!.port, {
    open(s) {
      s.ctx = { pending: "", live: false } satisfies FloorConn;
    },
    data(s, chunk) {
      const c = s.ctx as FloorConn;
      if (c.live) return;
      c.pending += dec.decode(chunk);
      let nl: number;
      while (!c.live && (nl = c.pending.indexOf("\n")) >= 0) {
        const line = c.pending.slice(0, nl);
        c.pending = c.pending.slice(nl + 1);
        answer(s, c, line);
      }
      if (c.live || c.pending.length > 16_384) c.pending = "";
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
  console.log(`FLOOR listening ${listener.host}:${listener.port} interval ${intervalMs} ms${reusePort ? " (shared port)" : ""}`);
  await new Promise<never>(() => {});
  return 0;
}
