// Property/fuzz test: hostile eth-proxy lines through parseLine → parseEthProxyMessage (and the eth-stratum parser) never throw, always typed.
import { describe, expect, test } from "bun:test";
import { prng } from "../../support/prng.ts";
import { parseEthProxyMessage } from "../../../protocols/eth-proxy/client_to_server.ts";
import { MINER_LINES } from "./wire.ts";
import { checkLine, counters, fuzzCorpus, METHODS, randomValue, WEIRD } from "./fuzz_support.ts";

describe("fuzz: parseLine → parseEthProxyMessage", () => {
  test("truncations, byte flips and wrong types of every eth-proxy wire line", () => {
    const before = counters.typed;
    fuzzCorpus(Object.values(MINER_LINES), 11);
    expect(counters.typed - before).toBeGreaterThan(3000);
  });

  test("random whole messages (5000)", () => {
    const rnd = prng(12);
    let typed = 0;
    for (let n = 0; n < 5000; n++) {
      const msg: Record<string, unknown> = { id: rnd() < 0.8 ? n : randomValue(rnd, 3) };
      if (rnd() < 0.8) {
        msg.method = METHODS[Math.floor(rnd() * METHODS.length)];
        if (rnd() < 0.9) msg.params = randomValue(rnd);
        if (rnd() < 0.3) msg.worker = randomValue(rnd, 3);
      } else {
        msg.result = randomValue(rnd);
        msg.error = randomValue(rnd);
      }
      if (checkLine(JSON.stringify(msg)).kind !== "invalid") typed++;
    }
    expect(typed).toBeGreaterThan(3000);
  });

  test("huge numbers and 1 MiB strings", () => {
    for (const t of ["1e400", "-1e400", "123456789012345678901234567890", "-0", "5e-324"]) {
      for (const method of METHODS) checkLine(`{"id":${t},"method":"${method}","params":[${t},${t},${t}]}`);
    }
    const mib = "a".repeat(1 << 20);
    for (const method of METHODS.slice(0, 4)) {
      checkLine(JSON.stringify({ id: 1, method, params: [mib, mib, mib], worker: mib }));
      checkLine(JSON.stringify({ id: 1, method, params: ["0x" + mib, "0x" + mib, "0x" + mib] }));
    }
  });

  test("direct calls with params the envelope never produces still return typed values", () => {
    for (const w of WEIRD) {
      for (const method of METHODS) {
        const params = (Array.isArray(w) ? w : [w, w, w]) as unknown[];
        const m = parseEthProxyMessage({ kind: "request", id: 3, method, params });
        expect(m.id).toBe(3);
      }
    }
  });
});
