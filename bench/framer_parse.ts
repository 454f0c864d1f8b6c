// Benchmark: lines/s through framer + parseLine + parseClientMessage on realistic mining.submit traffic (and the zod reference path).
import { createLineFramer } from "../protocols/jsonrpc/framer.ts";
import { parseLine, type RpcMessage, type RpcParseError } from "../protocols/jsonrpc/envelope.ts";
import { parseLineWithZod } from "../protocols/jsonrpc/envelope_schema.ts";
import { parseClientMessage } from "../protocols/stratum-v1/client_to_server.ts";

const LINES = 200_000;
const CHUNK = 4096; // a typical socket read

function hex(n: number, width: number): string {
  return (n >>> 0).toString(16).padStart(width, "0").slice(-width);
}

// Shapes of the fixtures: 6-param ESP-Miner submits and 5-param cgminer submits, CRLF and LF.
let text = "";
for (let i = 0; i < LINES; i++) {
  const nonce = hex(Math.imul(i, 2654435761), 8);
  const line =
    i % 2 === 0
      ? `{"id":${i},"method":"mining.submit","params":["bc1qexample.worker${i % 50}","${hex(i >> 4, 4)}","${hex(i, 16)}","647025b5","${nonce}","1fffe000"]}\n`
      : `{"params":["slush.miner1","bf","${hex(i, 8)}","504e86ed","${nonce}"],"id":${i},"method":"mining.submit"}\r\n`;
  text += line;
}
const bytes = new TextEncoder().encode(text);
const chunks: Uint8Array[] = [];
for (let i = 0; i < bytes.length; i += CHUNK) chunks.push(bytes.subarray(i, i + CHUNK));

function run(parse: (l: string) => RpcMessage | RpcParseError): { ms: number; submits: number } {
  const f = createLineFramer();
  let submits = 0;
  const t0 = performance.now();
  for (const c of chunks) {
    const out = f.push(c);
    for (const l of out.lines) {
      const m = parse(l);
      if (m.kind !== "invalid" && parseClientMessage(m).type === "submit") submits++;
    }
  }
  return { ms: performance.now() - t0, submits };
}

function framerOnly(): number {
  const f = createLineFramer();
  let n = 0;
  const t0 = performance.now();
  for (const c of chunks) n += f.push(c).lines.length;
  if (n !== LINES) throw new Error(`framer lost lines: ${n}`);
  return performance.now() - t0;
}

const rate = (ms: number) => Math.round((LINES / ms) * 1000).toLocaleString("en-US");
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const times = { framer: [] as number[], fast: [] as number[], zod: [] as number[] };
for (let round = 0; round < 7; round++) {
  const fast = run(parseLine);
  const zod = run(parseLineWithZod);
  const fr = framerOnly();
  times.framer.push(fr);
  times.fast.push(fast.ms);
  times.zod.push(zod.ms);
  if (fast.submits !== LINES || zod.submits !== LINES) throw new Error(`lost submits: ${fast.submits} / ${zod.submits}`);
  console.log(
    `round ${round + 1}: framer ${rate(fr)} lines/s | framer+parseLine+parseClientMessage ${rate(fast.ms)} lines/s | same with zod envelope ${rate(zod.ms)} lines/s`,
  );
}
console.log(
  `median of 7 (${LINES} submits, ${CHUNK}-byte chunks): framer ${rate(median(times.framer))} lines/s; ` +
    `framer+parseLine+parseClientMessage ${rate(median(times.fast))} lines/s; with zod envelope ${rate(median(times.zod))} lines/s`,
);
