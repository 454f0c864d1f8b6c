// The one IP/CIDR module: text forms in, numbers out, RFC 4291 / 5952 rules, CIDR errors; used by PROXY headers and the ban policy alike.
import { describe, expect, test } from "bun:test";
import {
  formatIPv4,
  formatIPv4Uint32,
  formatIPv6,
  formatIPv6Groups,
  parseAddress,
  parseCidr,
  parseIPv4,
  parseIPv4Uint32,
  parseIPv6,
  parseIPv6Groups,
  v4Mask,
  v6GroupMask,
} from "../../../protocols/net/ip_address.ts";

describe("IPv4", () => {
  test("dotted quads, no leading zeros, no out-of-range parts", () => {
    expect(parseIPv4Uint32("1.2.3.4")).toBe(0x01020304);
    expect(parseIPv4Uint32("255.255.255.255")).toBe(0xffffffff);
    expect(parseIPv4Uint32("0.0.0.0")).toBe(0);
    for (const bad of ["01.2.3.4", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.", "a.b.c.d", " 1.2.3.4", ""]) expect(parseIPv4Uint32(bad)).toBeUndefined();
    expect(formatIPv4Uint32(0xc0000221)).toBe("192.0.2.33");
    expect(parseIPv4("10.0.0.1")).toEqual(new Uint8Array([10, 0, 0, 1]));
    expect(parseIPv4("10.0.0.256")).toBeNull();
    expect(formatIPv4(new Uint8Array([9, 8, 7, 6]))).toBe("9.8.7.6");
  });
});

describe("IPv6", () => {
  test("RFC 4291 §2.2 forms", () => {
    expect(parseIPv6Groups("::")).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(parseIPv6Groups("2001:db8::1")).toEqual([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]);
    expect(parseIPv6Groups("64:ff9b::192.0.2.33")).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221]);
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8::", "12345::", "g::1", ":", "[::1]", "fe80::1%eth0"]) expect(parseIPv6Groups(bad)).toBeUndefined();
    expect(parseIPv6("::1")).toEqual(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]));
  });

  test("RFC 5952 text: longest zero run (first on a tie), no single-group compression, mapped v4 dotted", () => {
    expect(formatIPv6Groups([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1])).toBe("2001:db8::1:0:0:1");
    expect(formatIPv6Groups([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1])).toBe("2001:db8:0:1:1:1:1:1");
    expect(formatIPv6Groups([1, 0, 0, 2, 0, 0, 0, 3])).toBe("1:0:0:2::3");
    expect(formatIPv6Groups([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304])).toBe("::ffff:1.2.3.4");
    expect(formatIPv6(parseIPv6("2001:DB8:0:0:0:0:0:1")!)).toBe("2001:db8::1");
  });
});

describe("parseAddress", () => {
  test("brackets and zones accepted, IPv4-mapped folded to v4", () => {
    expect(parseAddress("[2001:db8::1]")).toEqual({ family: 6, groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1] });
    expect(parseAddress("fe80::1%eth0")).toEqual({ family: 6, groups: [0xfe80, 0, 0, 0, 0, 0, 0, 1] });
    expect(parseAddress("fe80::1%")).toBeUndefined();
    expect(parseAddress("::ffff:10.1.2.3")).toEqual({ family: 4, v4: 0x0a010203 });
    expect(parseAddress("10.1.2.3")).toEqual({ family: 4, v4: 0x0a010203 });
    expect(parseAddress("nope")).toBeUndefined();
  });
});

describe("parseCidr", () => {
  test("ranges, single addresses, and the three errors", () => {
    expect(parseCidr("10.0.0.0/8")).toEqual({ ok: true, cidr: { family: 4, base: 0x0a000000, prefix: 8 } });
    expect(parseCidr("192.0.2.7")).toEqual({ ok: true, cidr: { family: 4, base: 0xc0000207, prefix: 32 } });
    expect(parseCidr("2001:db8::/32")).toEqual({ ok: true, cidr: { family: 6, groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], prefix: 32 } });
    expect(parseCidr("::ffff:10.0.0.0/104")).toEqual({ ok: true, cidr: { family: 4, base: 0x0a000000, prefix: 8 } });
    const e = (t: string) => {
      const r = parseCidr(t);
      return r.ok ? undefined : r.error.problem;
    };
    expect(e("10.0.0.1/8")).toBe("host_bits_set");
    expect(e("2001:db8::1/32")).toBe("host_bits_set");
    expect(e("10.0.0.0/33")).toBe("bad_prefix");
    expect(e("10.0.0.0/08")).toBe("bad_prefix");
    expect(e("::ffff:10.0.0.0/64")).toBe("bad_prefix");
    expect(e("x/1")).toBe("bad_address");
    const r = parseCidr("10.0.0.1/8");
    expect(r.ok ? "" : r.error.message).toContain("did you mean 10.0.0.0/8?");
  });

  test("masks", () => {
    expect(v4Mask(0)).toBe(0);
    expect(v4Mask(8)).toBe(0xff000000);
    expect(v4Mask(32)).toBe(0xffffffff);
    expect([0, 1, 2, 3].map((i) => v6GroupMask(40, i))).toEqual([0xffff, 0xffff, 0xff00, 0]);
  });
});
