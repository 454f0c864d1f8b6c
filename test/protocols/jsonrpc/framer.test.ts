// Tests for the line framer: chunking independence (every split point), UTF-8 and CRLF splits, the byte cap.
import { describe, expect, test } from "bun:test";
import { prng } from "../../support/prng.ts";
import { createLineFramer, type LineFramer } from "../../../protocols/jsonrpc/framer.ts";

const enc = new TextEncoder();

function feed(f: LineFramer, chunks: Uint8Array[]): { lines: string[]; overflow: boolean } {
  const lines: string[] = [];
  let overflow = false;
  for (const c of chunks) {
    const out = f.push(c);
    lines.push(...out.lines);
    if (out.overflow) overflow = true;
  }
  return { lines, overflow };
}

function bytewise(b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < b.length; i++) out.push(b.subarray(i, i + 1));
  return out;
}

// Multi-byte characters of 2, 3 and 4 bytes, CRLF and LF endings, blank and whitespace-only lines.
const INPUT =
  '{"id":1,"method":"mining.subscribe","params":["café/1.0"]}\r\n' +
  "\n" +
  '{"id":2,"method":"mining.authorize","params":["€uro.w1","x"]}\n' +
  "   \t \r\n" +
  "\r\n" +
  '{"id":3,"result":"😀 pong","error":null}\r\n' +
  "partial without newline";
const EXPECTED = [
  '{"id":1,"method":"mining.subscribe","params":["café/1.0"]}',
  '{"id":2,"method":"mining.authorize","params":["€uro.w1","x"]}',
  '{"id":3,"result":"😀 pong","error":null}',
];
const BYTES = enc.encode(INPUT);

describe("line framer", () => {
  test("whole input in one push", () => {
    const f = createLineFramer();
    const out = f.push(BYTES);
    expect(out.lines).toEqual(EXPECTED);
    expect(out.overflow).toBe(false);
    expect(f.buffered).toBe(enc.encode("partial without newline").length);
  });

  test("byte by byte", () => {
    const f = createLineFramer();
    expect(feed(f, bytewise(BYTES))).toEqual({ lines: EXPECTED, overflow: false });
    expect(f.buffered).toBe(enc.encode("partial without newline").length);
  });

  test("every single split point", () => {
    for (let i = 0; i <= BYTES.length; i++) {
      const f = createLineFramer();
      const r = feed(f, [BYTES.subarray(0, i), BYTES.subarray(i)]);
      expect(r.lines).toEqual(EXPECTED);
      expect(r.overflow).toBe(false);
    }
  });

  test("every pair of split points (three chunks)", () => {
    let cases = 0;
    for (let i = 0; i <= BYTES.length; i++) {
      for (let j = i; j <= BYTES.length; j++) {
        const f = createLineFramer();
        const r = feed(f, [BYTES.subarray(0, i), BYTES.subarray(i, j), BYTES.subarray(j)]);
        if (r.lines.length !== 3 || r.lines[0] !== EXPECTED[0] || r.lines[1] !== EXPECTED[1] || r.lines[2] !== EXPECTED[2]) {
          throw new Error(`split ${i},${j}: ${JSON.stringify(r.lines)}`);
        }
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(10000);
  });

  test("multi-byte UTF-8 split inside the character", () => {
    const line = enc.encode("a😀b€c\n"); // 😀 = f0 9f 98 80, € = e2 82 ac
    for (let i = 1; i < line.length; i++) {
      const f = createLineFramer();
      expect(feed(f, [line.subarray(0, i), line.subarray(i)]).lines).toEqual(["a😀b€c"]);
    }
  });

  test("CRLF split between \\r and \\n", () => {
    const f = createLineFramer();
    expect(f.push(enc.encode('{"a":1}\r')).lines).toEqual([]);
    expect(f.buffered).toBe(8);
    expect(f.push(enc.encode("\n")).lines).toEqual(['{"a":1}']);
    expect(f.buffered).toBe(0);
  });

  test("only one trailing \\r is stripped; inner \\r stays", () => {
    const f = createLineFramer();
    expect(f.push(enc.encode("a\rb\r\r\n")).lines).toEqual(["a\rb\r"]);
  });

  test("invalid UTF-8 decodes to U+FFFD instead of throwing", () => {
    const f = createLineFramer();
    expect(f.push(new Uint8Array([0x41, 0xff, 0xc3, 0x0a])).lines).toEqual(["A\uFFFD\uFFFD"]);
  });

  test("empty chunk is harmless", () => {
    const f = createLineFramer();
    expect(f.push(new Uint8Array(0))).toEqual({ lines: [], overflow: false });
  });

  test("rejects a bad cap option", () => {
    expect(() => createLineFramer({ maxLineBytes: 0 })).toThrow(RangeError);
  });
});

describe("line framer cap", () => {
  const CAP = 64;
  const exact = "x".repeat(CAP);
  const over = "x".repeat(CAP + 1);

  test("a line of exactly the cap passes, in one push and byte by byte", () => {
    expect(createLineFramer({ maxLineBytes: CAP }).push(enc.encode(exact + "\n"))).toEqual({ lines: [exact], overflow: false });
    expect(feed(createLineFramer({ maxLineBytes: CAP }), bytewise(enc.encode(exact + "\n")))).toEqual({ lines: [exact], overflow: false });
    // partial line of exactly the cap is held, not refused
    const f = createLineFramer({ maxLineBytes: CAP });
    expect(f.push(enc.encode(exact)).overflow).toBe(false);
    expect(f.buffered).toBe(CAP);
    expect(f.push(enc.encode("\n")).lines).toEqual([exact]);
  });

  test("cap+1 overflows, in one push, byte by byte and as an unterminated partial", () => {
    expect(createLineFramer({ maxLineBytes: CAP }).push(enc.encode(over + "\n")).overflow).toBe(true);
    const f = createLineFramer({ maxLineBytes: CAP });
    const chunks = bytewise(enc.encode(over));
    for (let i = 0; i < CAP; i++) expect(f.push(chunks[i]!).overflow).toBe(false);
    expect(f.push(chunks[CAP]!).overflow).toBe(true);
    expect(f.buffered).toBe(0);
    expect(createLineFramer({ maxLineBytes: CAP }).push(enc.encode(over)).overflow).toBe(true);
  });

  test("the \\r of CRLF counts toward the cap, the \\n does not", () => {
    expect(createLineFramer({ maxLineBytes: CAP }).push(enc.encode("x".repeat(CAP - 1) + "\r\n")).lines).toEqual([
      "x".repeat(CAP - 1),
    ]);
    expect(createLineFramer({ maxLineBytes: CAP }).push(enc.encode(exact + "\r\n")).overflow).toBe(true);
  });

  test("overflow after good lines returns the good lines, then stays overflowed", () => {
    const f = createLineFramer({ maxLineBytes: CAP });
    const out = f.push(enc.encode("a\nb\n" + over + "\nc\n"));
    expect(out).toEqual({ lines: ["a", "b"], overflow: true });
    expect(f.push(enc.encode("d\n"))).toEqual({ lines: [], overflow: true });
    expect(f.buffered).toBe(0);
  });

  test("overflow on the carried line after a good line in the same chunk", () => {
    const f = createLineFramer({ maxLineBytes: CAP });
    expect(f.push(enc.encode("a\n" + "y".repeat(CAP - 1)))).toEqual({ lines: ["a"], overflow: false });
    expect(f.push(enc.encode("yy"))).toEqual({ lines: [], overflow: true });
  });

  test("carry completed by a chunk whose first line makes it too long", () => {
    const f = createLineFramer({ maxLineBytes: CAP });
    f.push(enc.encode("z".repeat(CAP - 2)));
    expect(f.push(enc.encode("zz\nok\n"))).toEqual({ lines: ["z".repeat(CAP), "ok"], overflow: false });
    const g = createLineFramer({ maxLineBytes: CAP });
    g.push(enc.encode("z".repeat(CAP - 2)));
    expect(g.push(enc.encode("zzz\nok\n"))).toEqual({ lines: [], overflow: true });
  });

  test("default cap is 16384", () => {
    expect(createLineFramer().push(enc.encode("q".repeat(16384) + "\n")).overflow).toBe(false);
    expect(createLineFramer().push(enc.encode("q".repeat(16385) + "\n")).overflow).toBe(true);
  });
});

describe("line framer against a reference model under random chunking", () => {
  function reference(bytes: Uint8Array, cap: number): { lines: string[]; overflow: boolean } {
    const lines: string[] = [];
    let start = 0;
    const dec = new TextDecoder();
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] === 10) {
        if (i - start > cap) return { lines, overflow: true };
        let s = dec.decode(bytes.subarray(start, i));
        if (s.endsWith("\r")) s = s.slice(0, -1);
        if (s.trim() !== "") lines.push(s);
        start = i + 1;
      }
    }
    return { lines, overflow: bytes.length - start > cap };
  }

  test("500 random streams", () => {
    const rnd = prng(12345);
    const alphabet = ["a", "{", "}", '"', "\n", "\r", " ", "é", "€", "😀", "\n", "\r\n"];
    for (let n = 0; n < 500; n++) {
      const cap = 1 + Math.floor(rnd() * 40);
      let s = "";
      const len = Math.floor(rnd() * 300);
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const bytes = enc.encode(s);
      const chunks: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; ) {
        const k = 1 + Math.floor(rnd() * 20);
        chunks.push(bytes.subarray(i, i + k));
        i += k;
      }
      const got = feed(createLineFramer({ maxLineBytes: cap }), chunks);
      expect(got).toEqual(reference(bytes, cap));
    }
  });
});
