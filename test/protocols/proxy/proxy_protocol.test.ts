// Tests for the PROXY protocol v1/v2 parser and encoders: spec examples, round trips, every malformed form, byte-by-byte feeding, fuzz.
import { describe, expect, test } from "bun:test";
import { prng } from "../../support/prng.ts";
import {
  crc32c,
  encodeProxyV1,
  encodeProxyV2,
  parseProxyHeader,
  PROXY_V2_SIGNATURE,
  proxyHeaderMaxBytes,
  type ProxyAddress,
  type ProxyEndpoints,
  type ProxyParse,
  type ProxyTlv,
} from "../../../protocols/proxy/proxy_protocol.ts";
import { formatIPv6, parseIPv6 } from "../../../protocols/net/ip_address.ts";

const te = new TextEncoder();
const ascii = (s: string) => te.encode(s);
const cat = (...parts: (Uint8Array | number[])[]) => {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const v4 = (address: string, port: number): ProxyAddress => ({ address, port, family: "ipv4" });
const v6 = (address: string, port: number): ProxyAddress => ({ address, port, family: "ipv6" });

function bytesOf(r: ReturnType<typeof encodeProxyV1>): Uint8Array {
  if (r.kind !== "ok") throw new Error(`encode failed: ${r.detail}`);
  return r.bytes;
}
const v1 = (h: ProxyEndpoints) => bytesOf(encodeProxyV1(h));
const v2 = (h: ProxyEndpoints, o?: { tlvs?: ProxyTlv[]; crc32c?: boolean }) => bytesOf(encodeProxyV2(h, o));

function expectOk(r: ProxyParse): Extract<ProxyParse, { kind: "ok" }> {
  if (r.kind !== "ok") throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r;
}
function expectError(r: ProxyParse, re?: RegExp): void {
  expect(r.kind).toBe("error");
  if (re && r.kind === "error") expect(r.detail).toMatch(re);
}

/** Header built by hand per spec §2.2 (not with the encoder): sig, ver/cmd, fam, len, payload. */
function rawV2(verCmd: number, fam: number, len: number, payload: number[] | Uint8Array): Uint8Array {
  return cat(PROXY_V2_SIGNATURE, [verCmd, fam, len >> 8, len & 0xff], payload);
}

describe("v1 spec examples (proxy-protocol.txt §2.1)", () => {
  test("TCP4 192.168.0.1 → 192.168.0.11", () => {
    const r = expectOk(parseProxyHeader(ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n")));
    expect(r).toEqual({
      kind: "ok",
      consumed: 47,
      version: 1,
      local: false,
      source: v4("192.168.0.1", 56324),
      destination: v4("192.168.0.11", 443),
    });
  });
  test("worst-case TCP4 line is 56 bytes", () => {
    const line = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
    expect(line.length).toBe(56);
    const r = expectOk(parseProxyHeader(ascii(line)));
    expect(r.consumed).toBe(56);
    expect(r.source).toEqual(v4("255.255.255.255", 65535));
  });
  const F = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
  test("worst-case TCP6 line is 104 bytes", () => {
    const line = `PROXY TCP6 ${F} ${F} 65535 65535\r\n`;
    expect(line.length).toBe(104);
    const r = expectOk(parseProxyHeader(ascii(line)));
    expect(r.consumed).toBe(104);
    expect(r.source).toEqual(v6(F, 65535));
    expect(r.destination).toEqual(v6(F, 65535));
  });
  test("UNKNOWN alone (15 bytes) and the 107-byte worst case with ignored rest", () => {
    expect(parseProxyHeader(ascii("PROXY UNKNOWN\r\n"))).toEqual({ kind: "ok", consumed: 15, version: 1, local: true });
    const line = `PROXY UNKNOWN ${F} ${F} 65535 65535\r\n`;
    expect(line.length).toBe(107);
    expect(parseProxyHeader(ascii(line))).toEqual({ kind: "ok", consumed: 107, version: 1, local: true });
    // The rest of an UNKNOWN line is ignored, whatever it is.
    expect(expectOk(parseProxyHeader(ascii("PROXY UNKNOWN garbage !@# \x01\r\n"))).local).toBe(true);
  });
  test("ports 0 and addresses 0.0.0.0 are valid", () => {
    const r = expectOk(parseProxyHeader(ascii("PROXY TCP4 0.0.0.0 10.0.0.1 0 0\r\n")));
    expect(r.source).toEqual(v4("0.0.0.0", 0));
    expect(r.destination).toEqual(v4("10.0.0.1", 0));
  });
  test("IPv6 text is normalised to the RFC 5952 form", () => {
    const r = expectOk(parseProxyHeader(ascii("PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 ::FFFF:10.1.2.3 1 2\r\n")));
    expect(r.source).toEqual(v6("2001:db8::1", 1));
    expect(r.destination).toEqual(v6("::ffff:10.1.2.3", 2));
  });
});

describe("IPv6 canonical form (RFC 5952)", () => {
  const cases: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"], // first of two equal runs
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group is not compressed
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"], // the longest run wins
    ["fe80::0001:02", "fe80::1:2"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::1.2.3.4", "::102:304"], // IPv4-compatible (deprecated): hex, not dotted
    ["::ffff:0102:0304", "::ffff:1.2.3.4"], // IPv4-mapped keeps the dotted tail
    ["ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", "abcd:ef01:2345:6789:abcd:ef01:2345:6789"],
  ];
  for (const [inp, out] of cases) {
    test(`${inp} → ${out}`, () => {
      const b = parseIPv6(inp);
      expect(b).not.toBeNull();
      expect(formatIPv6(b!)).toBe(out);
    });
  }
  const bad = ["", ":", ":::", "1:::2", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::", "::1%eth0",
    ":1::", "1::2:", "1.2.3.4::", "::1.2.3", "::01.2.3.4", "1:2:3:4:5:6:7:8::", "1:2:3:4:5:6:7::1.2.3.4", " ::1"];
  for (const s of bad) {
    test(`rejects "${s}"`, () => {
      expect(parseIPv6(s)).toBeNull();
    });
  }
});

describe("v2 spec layout (§2.2)", () => {
  test("hand-built TCP over IPv4 header", () => {
    const hdr = rawV2(0x21, 0x11, 12, [192, 168, 0, 1, 192, 168, 0, 11, 0xdc, 0x04, 0x01, 0xbb]);
    expect(hdr.length).toBe(28);
    const r = expectOk(parseProxyHeader(cat(hdr, ascii("hello"))));
    expect(r).toEqual({
      kind: "ok",
      consumed: 28,
      version: 2,
      local: false,
      source: v4("192.168.0.1", 56324),
      destination: v4("192.168.0.11", 443),
    });
    expect(v2({ source: v4("192.168.0.1", 56324), destination: v4("192.168.0.11", 443) })).toEqual(hdr);
  });
  test("hand-built TCP over IPv6 header", () => {
    const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1];
    const dst = [...new Array(10).fill(0), 0xff, 0xff, 10, 0, 0, 1];
    const hdr = rawV2(0x21, 0x21, 36, [...src, ...dst, 0x0d, 0x3d, 0x0f, 0xa0]);
    const r = expectOk(parseProxyHeader(hdr));
    expect(r.consumed).toBe(52);
    expect(r.source).toEqual(v6("2001:db8::1", 3389));
    expect(r.destination).toEqual(v6("::ffff:10.0.0.1", 4000));
  });
  test("LOCAL: no address, use the socket's; the family and block are ignored", () => {
    expect(parseProxyHeader(rawV2(0x20, 0x00, 0, []))).toEqual({ kind: "ok", consumed: 16, version: 2, local: true });
    // LOCAL with an address block (health checks from some balancers) and even a junk family byte.
    expect(expectOk(parseProxyHeader(rawV2(0x20, 0x11, 12, new Array(12).fill(7)))).consumed).toBe(28);
    expect(expectOk(parseProxyHeader(rawV2(0x20, 0x99, 3, [1, 2, 3]))).local).toBe(true);
    expect(v2({ local: true })).toEqual(rawV2(0x20, 0x00, 0, []));
  });
  test("PROXY with UNSPEC, UDP and UNIX families: accepted, no source reported", () => {
    for (const [fam, size] of [[0x00, 0], [0x12, 12], [0x22, 36], [0x31, 216], [0x32, 216]] as const) {
      const r = expectOk(parseProxyHeader(rawV2(0x21, fam, size, new Array(size).fill(1))));
      expect(r).toEqual({ kind: "ok", consumed: 16 + size, version: 2, local: true });
    }
  });
  test("TLVs are skipped and counted in consumed", () => {
    const tlvs: ProxyTlv[] = [
      { type: 0x01, value: ascii("h2") }, // ALPN
      { type: 0x04, value: new Uint8Array(0) }, // NOOP
      { type: 0xee, value: new Uint8Array(300).fill(9) },
    ];
    const hdr = v2({ source: v4("1.2.3.4", 1), destination: v4("5.6.7.8", 2) }, { tlvs });
    expect(hdr.length).toBe(16 + 12 + 5 + 3 + 303);
    const r = expectOk(parseProxyHeader(cat(hdr, [0xaa])));
    expect(r.consumed).toBe(hdr.length);
    expect(r.source).toEqual(v4("1.2.3.4", 1));
  });
  test("CRC32C: the standard check value, then verified in headers", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
    const h: ProxyEndpoints = { source: v6("2001:db8::5", 40000), destination: v6("2001:db8::6", 3333) };
    const hdr = v2(h, { crc32c: true, tlvs: [{ type: 0x02, value: ascii("pool.example") }] });
    expect(expectOk(parseProxyHeader(hdr)).source).toEqual(h.source!);
    // A spoofed source byte is caught by the checksum ...
    const bad = hdr.slice();
    bad[31] = bad[31]! ^ 1;
    expectError(parseProxyHeader(bad), /CRC32C mismatch/);
    // ... and so is a corrupted checksum.
    const bad2 = hdr.slice();
    bad2[bad2.length - 1] = bad2[bad2.length - 1]! ^ 0x80;
    expectError(parseProxyHeader(bad2), /CRC32C mismatch/);
    // Without the TLV the same flip parses (proves the mismatch came from the CRC check).
    const plain = v2(h);
    plain[31] = plain[31]! ^ 1;
    expect(expectOk(parseProxyHeader(plain)).source!.address).toBe("2001:db8::4");
  });
});

describe("round trips through the encoders", () => {
  const pairs: ProxyEndpoints[] = [
    { source: v4("1.2.3.4", 1111), destination: v4("5.6.7.8", 2222) },
    { source: v4("255.255.255.255", 65535), destination: v4("0.0.0.0", 0) },
    { source: v6("2001:db8::1", 3333), destination: v6("fe80::1:2", 80) },
    { source: v6("::", 0), destination: v6("::ffff:192.0.2.1", 65535) },
    { source: v6("1:2:3:4:5:6:7:8", 9), destination: v6("::1", 10) },
  ];
  for (const h of pairs) {
    for (const [name, enc] of [["v1", v1], ["v2", v2]] as const) {
      test(`${name} ${h.source!.address} → ${h.destination!.address}`, () => {
        const bytes = enc(h);
        const r = expectOk(parseProxyHeader(bytes));
        expect(r.consumed).toBe(bytes.length);
        expect(r.local).toBe(false);
        expect(r.version).toBe(name === "v1" ? 1 : 2);
        expect(r.source).toEqual(h.source!);
        expect(r.destination).toEqual(h.destination!);
        // A parse result goes back into the encoder unchanged.
        expect(enc(r)).toEqual(bytes);
      });
    }
  }
  test("encoders normalise IPv6 text", () => {
    const bytes = v1({ source: v6("2001:DB8:0:0:0:0:0:1", 1), destination: v6("::0:1", 2) });
    expect(new TextDecoder().decode(bytes)).toBe("PROXY TCP6 2001:db8::1 ::1 1 2\r\n");
  });
  test("local encodes as UNKNOWN / LOCAL", () => {
    expect(new TextDecoder().decode(v1({ local: true }))).toBe("PROXY UNKNOWN\r\n");
    expect(expectOk(parseProxyHeader(v2({ local: true }))).local).toBe(true);
  });
  test("encoders return errors, not exceptions, for bad input", () => {
    const bad: ProxyEndpoints[] = [
      {},
      { source: v4("1.2.3.4", 1) },
      { source: v4("1.2.3.4", 1), destination: v6("::1", 1) },
      { source: v4("1.2.3.256", 1), destination: v4("1.2.3.4", 1) },
      { source: v4("1.2.3.4", 65536), destination: v4("1.2.3.4", 1) },
      { source: v4("1.2.3.4", -1), destination: v4("1.2.3.4", 1) },
      { source: v4("1.2.3.4", 1.5), destination: v4("1.2.3.4", 1) },
      { source: v6("::1%lo", 1), destination: v6("::1", 1) },
    ];
    for (const h of bad) {
      expect(encodeProxyV1(h).kind).toBe("error");
      expect(encodeProxyV2(h).kind).toBe("error");
    }
    // Canonical text is at most 39 characters, so the widest encoded v1 line is the spec's 104 bytes.
    const wide = v6("FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", 65535);
    expect(v1({ source: wide, destination: wide }).length).toBe(104);
    const ok = encodeProxyV2({ local: true }, { tlvs: [{ type: 1, value: new Uint8Array(65536) }] });
    expect(ok.kind).toBe("error");
    expect(encodeProxyV2({ local: true }, { tlvs: [{ type: 256, value: new Uint8Array(1) }] }).kind).toBe("error");
    expect(encodeProxyV2({ local: true }, { tlvs: [{ type: 1, value: new Uint8Array(65532) }] }).kind).toBe("ok");
    expect(encodeProxyV2({ local: true }, { tlvs: [{ type: 1, value: new Uint8Array(65533) }] }).kind).toBe("error");
  });
});

describe("malformed v1", () => {
  const bad: [string, RegExp][] = [
    ["GET / HTTP/1.1\r\n", /no v1 or v2 signature/],
    ['{"id":1,"method":"mining.subscribe"}\n', /no v1 or v2 signature/],
    ["PROXI TCP4 1.2.3.4 5.6.7.8 1 2\r\n", /bad v1 signature/],
    ["proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", /no v1 or v2 signature/],
    ["PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", /unknown protocol/],
    ["PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", /unknown protocol/],
    ["PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", /unknown protocol/],
    ["PROXY UNKNOWNX\r\n", /unknown protocol/],
    ["PROXY \r\n", /unknown protocol/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", /LF without CR/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n", /.+/],
    ["PROXY TCP4\r\n", /fields/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", /fields/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", /fields/],
    ["PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", /.+/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", /fields/],
    ["PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", /source address/],
    ["PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n", /source address/],
    ["PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", /source address/],
    ["PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", /source address/],
    ["PROXY TCP4 1.2.3.4 5.6.7. 1 2\r\n", /destination address/],
    ["PROXY TCP4 ::1 5.6.7.8 1 2\r\n", /source address/],
    ["PROXY TCP6 1.2.3.4 ::1 1 2\r\n", /source address/],
    ["PROXY TCP6 ::1 1::2::3 1 2\r\n", /destination address/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", /source port/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n", /destination port/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", /source port/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n", /.+/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n", /.+/],
    ["PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n", /destination port/],
  ];
  for (const [line, re] of bad) {
    test(JSON.stringify(line), () => expectError(parseProxyHeader(ascii(line)), re));
  }

  test("no CRLF within 107 bytes: need_more up to 106 bytes, error at 107", () => {
    const long = ascii("PROXY UNKNOWN " + "x".repeat(200));
    for (let n = 1; n < 107; n++) expect(parseProxyHeader(long.subarray(0, n)).kind).toBe("need_more");
    expectError(parseProxyHeader(long.subarray(0, 107)), /107/);
    expectError(parseProxyHeader(long), /107/);
    // 106 bytes then CRLF would be 108 bytes: too long even though a CRLF comes.
    const line108 = ascii("PROXY UNKNOWN " + "x".repeat(92) + "\r\n");
    expect(line108.length).toBe(108);
    expectError(parseProxyHeader(line108), /107/);
  });

  test("errors are reported early, before the CRLF, once the line cannot become valid", () => {
    expect(parseProxyHeader(ascii("P")).kind).toBe("need_more");
    expectError(parseProxyHeader(ascii("PX")), /bad v1 signature/);
    expectError(parseProxyHeader(ascii("G")), /no v1 or v2 signature/);
    expectError(parseProxyHeader(ascii("PROXY TCP7")), /unknown protocol/);
    expectError(parseProxyHeader(ascii("PROXY UNKNOWNN")), /unknown protocol/);
    expectError(parseProxyHeader(ascii("PROXY TCP4 1.2.3.4 hello")), /unexpected byte/);
    expectError(parseProxyHeader(ascii("PROXY TCP4 1.2.3.4\rx")), /CR not followed by LF/);
    expect(parseProxyHeader(ascii("PROXY TCP4 1.2.3.4 5.6")).kind).toBe("need_more");
    expect(parseProxyHeader(ascii("PROXY UNKNOWN anything at all")).kind).toBe("need_more");
  });
});

describe("malformed v2", () => {
  const ADDR4 = [1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 2];
  test("bad signature bytes", () => {
    for (let i = 1; i < 12; i++) {
      const h = rawV2(0x21, 0x11, 12, ADDR4);
      h[i] = h[i]! ^ 0x40;
      expectError(parseProxyHeader(h), /bad v2 signature/);
      expectError(parseProxyHeader(h.subarray(0, i + 1)), /bad v2 signature/); // decided at the bad byte
    }
  });
  test("versions other than 2 and commands other than LOCAL/PROXY", () => {
    for (const vc of [0x11, 0x31, 0x01, 0xf1, 0x10, 0x00]) expectError(parseProxyHeader(rawV2(vc, 0x11, 12, ADDR4)), /version/);
    for (const vc of [0x22, 0x2f]) expectError(parseProxyHeader(rawV2(vc, 0x11, 12, ADDR4)), /command/);
    // Decided from 13 bytes.
    expectError(parseProxyHeader(cat(PROXY_V2_SIGNATURE, [0x11])), /version/);
  });
  test("unknown family/protocol bytes with PROXY", () => {
    for (const fam of [0x01, 0x02, 0x10, 0x13, 0x20, 0x33, 0x41, 0xff]) {
      expectError(parseProxyHeader(rawV2(0x21, fam, 12, ADDR4)), /family/);
      expectError(parseProxyHeader(cat(PROXY_V2_SIGNATURE, [0x21, fam])), /family/);
    }
  });
  test("length smaller than the address block", () => {
    expectError(parseProxyHeader(rawV2(0x21, 0x11, 11, ADDR4.slice(0, 11))), /smaller than the 12-byte/);
    expectError(parseProxyHeader(rawV2(0x21, 0x21, 35, new Array(35).fill(0))), /smaller than the 36-byte/);
    expectError(parseProxyHeader(rawV2(0x21, 0x31, 100, new Array(100).fill(0))), /216/);
    // Decided from the 16 fixed bytes, without waiting for the payload.
    expectError(parseProxyHeader(rawV2(0x21, 0x21, 12, [])), /smaller/);
  });
  test("lying lengths: a length longer than what arrives stays need_more; TLVs that overrun are errors", () => {
    const h = rawV2(0x21, 0x11, 20, ADDR4); // claims 20, sends 12
    expect(parseProxyHeader(h).kind).toBe("need_more");
    // Whatever arrives next is taken as part of the header: 8 more bytes that are not a TLV → error.
    expectError(parseProxyHeader(cat(h, [0xee, 0x00, 0x09, 1, 2, 3, 4, 5])), /overruns/);
    expectError(parseProxyHeader(cat(rawV2(0x21, 0x11, 14, ADDR4), [0xee, 0x00])), /truncated TLV/);
    expectError(parseProxyHeader(rawV2(0x21, 0x11, 15, [...ADDR4, 0x03, 0x00, 0x00])), /CRC32C TLV must be 4/);
    // Max length: need_more until 16 + 65535 bytes.
    const big = rawV2(0x21, 0x11, 0xffff, ADDR4);
    expect(parseProxyHeader(big).kind).toBe("need_more");
    const full = cat(big, [0xee, 0xff, 0xf0], new Uint8Array(0xfff0));
    expect(full.length).toBe(proxyHeaderMaxBytes.v2);
    expect(expectOk(parseProxyHeader(full)).consumed).toBe(proxyHeaderMaxBytes.v2);
  });
});

/** Feeds `bytes` one byte at a time into a growing buffer, as a connection would. */
function feedBytewise(bytes: Uint8Array): { result: ProxyParse; at: number } {
  for (let n = 0; n <= bytes.length; n++) {
    const r = parseProxyHeader(bytes.subarray(0, n));
    if (r.kind !== "need_more") return { result: r, at: n };
  }
  return { result: { kind: "need_more" }, at: bytes.length };
}

describe("byte-by-byte feeding", () => {
  const payload = ascii('{"id":1,"method":"mining.subscribe","params":[]}\n');
  const headers: [string, Uint8Array][] = [
    ["v1 TCP4", v1({ source: v4("203.0.113.7", 50123), destination: v4("198.51.100.1", 3333) })],
    ["v1 TCP6", v1({ source: v6("2001:db8:85a3::8a2e:370:7334", 1), destination: v6("2001:db8::2", 3333) })],
    ["v1 UNKNOWN", v1({ local: true })],
    ["v2 IPv4", v2({ source: v4("203.0.113.7", 50123), destination: v4("198.51.100.1", 3333) })],
    ["v2 IPv6 + TLVs + CRC", v2({ source: v6("2001:db8::7", 1), destination: v6("2001:db8::2", 3333) }, { tlvs: [{ type: 0xe0, value: ascii("x") }], crc32c: true })],
    ["v2 LOCAL", v2({ local: true })],
  ];
  for (const [name, hdr] of headers) {
    test(name, () => {
      const stream = cat(hdr, payload);
      const { result, at } = feedBytewise(stream);
      const r = expectOk(result);
      expect(at).toBe(hdr.length); // need_more for every shorter prefix
      expect(r.consumed).toBe(hdr.length);
      expect(stream.subarray(r.consumed)).toEqual(payload); // the caller's bytes are untouched
      expect(parseProxyHeader(stream)).toEqual(r); // same answer all at once
    });
  }
  test("truncated headers stay need_more, then error once the bad byte arrives", () => {
    const good = ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n");
    const bad = ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n");
    const { result, at } = feedBytewise(bad);
    expectError(result, /destination port/);
    expect(at).toBe(bad.length); // only decidable at the CRLF
    expect(feedBytewise(good).at).toBe(good.length);
  });
});

describe("fuzz", () => {
  const rnd = prng(0x9e3779b9);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const seeds: Uint8Array[] = [
    v1({ source: v4("1.2.3.4", 1111), destination: v4("5.6.7.8", 2222) }),
    v1({ source: v6("2001:db8::1", 1), destination: v6("::ffff:1.2.3.4", 65535) }),
    v1({ local: true }),
    ascii("PROXY UNKNOWN ffff::1 ::2 1 2\r\n"),
    v2({ source: v4("1.2.3.4", 1111), destination: v4("5.6.7.8", 2222) }),
    v2({ source: v6("2001:db8::1", 1), destination: v6("fe80::2", 2) }, { tlvs: [{ type: 1, value: ascii("h2") }], crc32c: true }),
    v2({ local: true }),
    rawV2(0x21, 0x31, 216, new Array(216).fill(0x41)),
  ];
  const textAlphabet = ascii("0123456789abcdefABCDEFgxPROXYTCPUNKOW46:. \r\n\x00");

  function mutate(base: Uint8Array): Uint8Array {
    let b: Uint8Array = base.slice();
    const ops = 1 + int(4);
    for (let k = 0; k < ops; k++) {
      const op = int(6);
      if (op === 0 && b.length > 0) b[int(b.length)] = int(256);
      else if (op === 1 && b.length > 0) b[int(b.length)] = pick([...textAlphabet]);
      else if (op === 2) b = b.subarray(0, int(b.length + 1));
      else if (op === 3) { const at = int(b.length + 1); b = cat(b.subarray(0, at), [pick([...textAlphabet])], b.subarray(at)); }
      else if (op === 4 && b.length > 0) { const at = int(b.length); b = cat(b.subarray(0, at), b.subarray(at + 1)); }
      else if (op === 5 && b.length > 16) { b[12 + int(4)] = int(256); } // v2 version/family/length bytes
    }
    return cat(b, Array.from({ length: int(8) }, () => int(256)));
  }

  function randomInput(): Uint8Array {
    const r = rnd();
    if (r < 0.2) return Uint8Array.from({ length: int(140) }, () => int(256));
    if (r < 0.3) return cat(pick([ascii("PROXY "), PROXY_V2_SIGNATURE]), Array.from({ length: int(120) }, () => int(256)));
    return mutate(pick(seeds));
  }

  function check(buf: Uint8Array): ProxyParse {
    let r: ProxyParse;
    expect(() => (r = parseProxyHeader(buf))).not.toThrow();
    r = r!;
    expect(["need_more", "ok", "error"]).toContain(r.kind);
    if (r.kind === "ok") {
      expect(r.consumed).toBeGreaterThan(0);
      expect(r.consumed).toBeLessThanOrEqual(buf.length);
      expect(r.consumed).toBeLessThanOrEqual(proxyHeaderMaxBytes.v2);
      if (r.version === 1) expect(r.consumed).toBeLessThanOrEqual(proxyHeaderMaxBytes.v1);
      expect(r.local).toBe(r.source === undefined);
      if (r.source) {
        expect(r.source.port).toBeGreaterThanOrEqual(0);
        expect(r.source.port).toBeLessThanOrEqual(65535);
        expect(r.destination!.family).toBe(r.source.family);
      }
    }
    if (r.kind === "need_more") expect(buf.length).toBeLessThan(proxyHeaderMaxBytes.v2);
    if (r.kind === "error") expect(typeof r.detail).toBe("string");
    return r;
  }

  test("5000 random and mutated inputs: never throws, one of three kinds, push-consistent", () => {
    const counts = { need_more: 0, ok: 0, error: 0 };
    for (let i = 0; i < 5000; i++) {
      const buf = randomInput();
      const r = check(buf);
      counts[r.kind]++;
      // Push consistency: a prefix's decision never changes when more bytes arrive.
      const cut = int(buf.length + 1);
      const p = check(buf.subarray(0, cut));
      if (p.kind === "error") expect(r.kind).toBe("error");
      if (p.kind === "ok") expect(r).toEqual(p);
      if (r.kind === "ok" && cut < r.consumed) expect(p.kind).toBe("need_more");
      // An ok result re-encodes to a header that parses to the same addresses.
      if (r.kind === "ok" && !r.local) {
        const again = expectOk(parseProxyHeader(r.version === 1 ? v1(r) : v2(r)));
        expect(again.source).toEqual(r.source!);
        expect(again.destination).toEqual(r.destination!);
      }
    }
    // The corpus exercises every outcome, so the invariants above were really checked.
    expect(counts.ok).toBeGreaterThan(200);
    expect(counts.error).toBeGreaterThan(500);
    expect(counts.need_more).toBeGreaterThan(100);
  });

  test("random v1 address lines agree with a reference check", () => {
    const octet = () => pick([String(int(256)), String(int(300)), "0" + int(10), "", "1a"]);
    const port = () => pick([String(int(65536)), String(65536 + int(100000)), "0", "00", "-1"]);
    for (let i = 0; i < 2000; i++) {
      const a = [octet(), octet(), octet(), octet()];
      const sp = port();
      const line = `PROXY TCP4 ${a.join(".")} 10.0.0.1 ${sp} 3333\r\n`;
      const valid = a.every((o) => /^(0|[1-9]\d*)$/.test(o) && Number(o) <= 255) && /^(0|[1-9]\d*)$/.test(sp) && Number(sp) <= 65535;
      const r = check(ascii(line));
      expect(r.kind).toBe(valid ? "ok" : "error");
      if (r.kind === "ok") expect(r.source).toEqual(v4(a.join("."), Number(sp)));
    }
  });
});
