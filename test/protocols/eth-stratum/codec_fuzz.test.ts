// Property/fuzz test: hostile EthereumStratum/1.0.0 lines through parseLine → parseEthStratumMessage (and the eth-proxy parser) never throw, always typed.
import { describe, expect, test } from "bun:test";
import { prng } from "../../support/prng.ts";
import { parseEthStratumMessage } from "../../../protocols/eth-stratum/client_to_server.ts";
import { fullNonce } from "../../../protocols/eth-stratum/nonce.ts";
import { checkLine, counters, fuzzCorpus, METHODS, randomValue, WEIRD } from "../eth-proxy/fuzz_support.ts";

/** The miner→pool lines of the NiceHash spec's scenario, plus eth_submitHashrate as ethminer sends it there. */
const CORPUS: Record<string, unknown>[] = [
  { id: 1, method: "mining.subscribe", params: ["ethminer/0.19.0", "EthereumStratum/1.0.0"] },
  { id: 2, method: "mining.authorize", params: ["username", "password"] },
  { id: 3, method: "mining.extranonce.subscribe", params: [] },
  { id: 4, method: "mining.submit", params: ["username", "bf0488aa", "cfae7df760"] },
  { id: 9, method: "eth_submitHashrate", params: ["0x26f5e48", "0x59daa26581d0acd1fce254fb7e85952f4c09d0915afd33d3886cd914bc7d283c"] },
];

describe("fuzz: parseLine → parseEthStratumMessage", () => {
  test("truncations, byte flips and wrong types of every scenario line", () => {
    const before = counters.typed;
    fuzzCorpus(CORPUS, 21);
    expect(counters.typed - before).toBeGreaterThan(1000);
  });

  test("random submits: every accepted miner nonce forms a full nonce with an extranonce of the matching length", () => {
    const rnd = prng(22);
    let accepted = 0;
    for (let n = 0; n < 5000; n++) {
      const len = Math.floor(rnd() * 20);
      let nonce = "";
      for (let i = 0; i < len; i++) nonce += "0123456789abcdefABCDEFxg-"[Math.floor(rnd() * 25)];
      const m = checkLine(JSON.stringify({ id: n, method: "mining.submit", params: ["w", "j", rnd() < 0.1 ? "0x" + nonce : nonce] }));
      if (m.kind !== "request") continue;
      const s = parseEthStratumMessage(m);
      if (s.type !== "submit") continue;
      accepted++;
      const enLen = 16 - s.minerNonce.length;
      if (enLen <= 6) expect(fullNonce("ab".repeat(enLen / 2), s.minerNonce)).toMatch(/^0x[0-9a-f]{16}$/);
      else expect(fullNonce("ab".repeat(enLen / 2), s.minerNonce)).toBeUndefined();
    }
    expect(accepted).toBeGreaterThan(100);
  });

  test("random whole messages (5000)", () => {
    const rnd = prng(23);
    for (let n = 0; n < 5000; n++) {
      const msg: Record<string, unknown> = { id: rnd() < 0.8 ? n : randomValue(rnd, 3) };
      msg.method = METHODS[Math.floor(rnd() * METHODS.length)];
      if (rnd() < 0.9) msg.params = randomValue(rnd);
      checkLine(JSON.stringify(msg));
    }
  });

  test("fullNonce never throws on arbitrary strings", () => {
    const rnd = prng(24);
    const strs = WEIRD.filter((w): w is string => typeof w === "string");
    for (let n = 0; n < 2000; n++) {
      const a = strs[Math.floor(rnd() * strs.length)]!;
      const b = strs[Math.floor(rnd() * strs.length)]!;
      const r = fullNonce(a, b);
      if (r !== undefined) expect(r).toMatch(/^0x[0-9a-f]{16}$/);
    }
  });
});
