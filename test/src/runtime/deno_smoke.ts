// Deno smoke test of the node:net runtime (not a bun test): echo, 5 MB ordered transfer with end(), Deno.serve HTTP, @noble sha256, args; exits 1 on any failure.
// Run: npx deno run --allow-net --allow-env --allow-read --allow-write test/src/runtime/deno_smoke.ts a b
import { loadRuntime } from "../../../src/runtime/select.ts";
import type { SocketHandle } from "../../../src/runtime/types.ts";

function check(cond: boolean, what: string): void {
  if (!cond) {
    console.error(`FAIL: ${what}`);
    (globalThis as any).Deno?.exit(1);
    throw new Error(what);
  }
  console.log(`ok: ${what}`);
}

const rt = await loadRuntime();
check(rt.name === "deno", `runtime name is deno (got ${rt.name})`);
check(JSON.stringify(rt.args()) === JSON.stringify(["a", "b"]), `args() = ${JSON.stringify(rt.args())}`);

const N = 5 * 1024 * 1024;
const pattern = (start: number, len: number) => {
  const b = new Uint8Array(len);
  for (let k = 0; k < len; k++) b[k] = ((start + k) * 7 + ((start + k) >>> 10) * 13) & 0xff;
  return b;
};

let serverCloses = 0;
let maxBuffered = 0;
const l = await rt.listen("127.0.0.1", 0, {
  open(s: SocketHandle) {
    for (let off = 0; off < N; off += 65536) maxBuffered = Math.max(maxBuffered, s.write(pattern(off, Math.min(65536, N - off))));
    s.end();
  },
  data() {},
  close: () => serverCloses++,
});
check(l.port > 0, `listen port 0 -> ${l.port}`);
const got: Uint8Array[] = [];
let total = 0;
let clientCloses = 0;
await new Promise<void>((resolve, reject) => {
  rt.connect("127.0.0.1", l.port, {
    open() {},
    data(_s, c) {
      got.push(c.slice());
      total += c.byteLength;
    },
    close() {
      clientCloses++;
      resolve();
    },
  }).catch(reject);
});
await new Promise((r) => setTimeout(r, 50));
const all = new Uint8Array(total);
let o = 0;
for (const c of got) {
  all.set(c, o);
  o += c.byteLength;
}
const want = pattern(0, N);
check(total === N && all.every((b, i) => b === want[i]), `5 MB arrived complete and in order (${total} bytes, max buffered ${maxBuffered})`);
check(maxBuffered > 0, "writes were buffered while the kernel was full");
check(serverCloses === 1 && clientCloses === 1, `close fired once per side (${serverCloses}, ${clientCloses})`);
l.close();

const srv = await rt.serveHttp("127.0.0.1", 0, (req) => new Response(`hi ${new URL(req.url).pathname}`));
const r = await fetch(`http://127.0.0.1:${srv.port}/x`);
check(r.status === 200 && (await r.text()) === "hi /x", `Deno.serve on port ${srv.port}`);
await srv.close();

const out = new Uint8Array(64);
rt.sha256(new TextEncoder().encode("abc"), out.subarray(16, 48));
const hex = Array.from(out.subarray(16, 48), (b) => b.toString(16).padStart(2, "0")).join("");
check(hex === "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" && out[15] === 0 && out[48] === 0, "sha256 into a subarray");
check(rt.rss() > 1_000_000, `rss ${rt.rss()}`);
check(rt.env("PATH") !== undefined, "env PATH");
console.log("deno smoke: all ok");
