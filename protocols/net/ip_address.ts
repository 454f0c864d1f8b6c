// IPv4/IPv6 text ⇄ numbers/bytes and CIDR parsing, hand-written single-pass scanners (no regex, no split); no hostnames, no sockets, no policy.

// Two strictness levels share one scanner: the strict forms (parseIPv4Uint32, parseIPv6Groups and
// their byte wrappers) take exactly the RFC text, as the PROXY protocol requires; parseAddress also
// takes what sockets and operators write around it ("[...]", "%zone") and folds IPv4-mapped IPv6.

/**
 * Dotted quad → uint32, or undefined. Leading zeros are refused: HAProxy's proxy-protocol.txt §2.1
 * forbids them "to avoid any possible confusion with octal numbers", and so do ban keys ("010" is 8
 * to some parsers, 10 to others).
 */
export function parseIPv4Uint32(text: string): number | undefined {
  return scanIPv4(text, 0, text.length);
}

/** Scans text[from, to) as a dotted quad; the IPv6 scanner reuses it for an embedded IPv4 tail. */
function scanIPv4(text: string, from: number, to: number): number | undefined {
  const len = to - from;
  if (len < 7 || len > 15) return undefined; // "0.0.0.0" .. "255.255.255.255"
  let n = 0;
  let v = 0;
  let digits = 0;
  let parts = 0;
  for (let i = from; i <= to; i++) {
    const c = i < to ? text.charCodeAt(i) : 46; // a virtual "." closes the last part
    if (c === 46) {
      if (digits === 0 || v > 255 || ++parts > 4) return undefined;
      n = n * 256 + v;
      v = 0;
      digits = 0;
      continue;
    }
    const d = c - 48;
    if (d < 0 || d > 9 || ++digits > 3 || (digits === 2 && v === 0)) return undefined;
    v = v * 10 + d;
  }
  return parts === 4 ? n : undefined;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * IPv6 text (RFC 4291 §2.2: 1-4 hex digits per group, at most one "::" standing for at least one
 * zero group, optional dotted-quad tail closing the address) → 8 groups, or undefined. Zone ids and
 * brackets are refused here (parseAddress strips them): they are not part of the address.
 */
export function parseIPv6Groups(text: string): number[] | undefined {
  const len = text.length;
  if (len < 2 || len > 45) return undefined;
  const g = [0, 0, 0, 0, 0, 0, 0, 0];
  let n = 0; // groups written
  let gap = -1; // where "::" stands, as a group index
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return undefined;
    gap = 0;
    i = 2;
  }
  while (i < len) {
    let j = i;
    let v = 0;
    for (let d: number; j < len && (d = hexDigit(text.charCodeAt(j))) >= 0; j++) v = v * 16 + d;
    if (j < len && text.charCodeAt(j) === 46) {
      // An embedded IPv4 closes the address: it runs from the start of this part to the end.
      const v4 = n > 6 ? undefined : scanIPv4(text, i, len);
      if (v4 === undefined) return undefined;
      g[n++] = Math.floor(v4 / 65536);
      g[n++] = v4 % 65536;
      break;
    }
    if (j === i || j - i > 4 || n === 8) return undefined;
    g[n++] = v;
    if (j === len) break;
    if (text.charCodeAt(j) !== 58) return undefined;
    if (j + 1 < len && text.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return undefined;
      gap = n;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === len) return undefined; // a trailing single ":"
    }
  }
  if (gap < 0) return n === 8 ? g : undefined;
  if (n > 7) return undefined;
  // Move the groups after "::" to the end and zero the gap (right to left: ranges may overlap).
  const tail = n - gap;
  for (let k = tail - 1; k >= 0; k--) g[8 - tail + k] = g[gap + k]!;
  for (let k = gap; k < 8 - tail; k++) g[k] = 0;
  return g;
}

export function formatIPv4Uint32(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * 8 groups → RFC 5952 text: lowercase, no leading zeros, the longest run (first on a tie) of two or
 * more zero groups becomes "::". IPv4-mapped addresses (::ffff:0:0/96) keep the dotted tail
 * (RFC 5952 §5), which is also how Bun/Node report dual-stack peers.
 */
export function formatIPv6Groups(g: readonly number[]): string {
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIPv4Uint32(g[6]! * 65536 + g[7]!)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return hexGroups(g, 0, 8);
  return `${hexGroups(g, 0, bestStart)}::${hexGroups(g, bestStart + bestLen, 8)}`;
}

function hexGroups(g: readonly number[], from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += i === from ? g[i]!.toString(16) : `:${g[i]!.toString(16)}`;
  return s;
}

// ------------------------------------------------------------ bytes (PROXY protocol v2 wire form)

/** Strict dotted quad → 4 network-order bytes, or null. */
export function parseIPv4(text: string): Uint8Array | null {
  const n = parseIPv4Uint32(text);
  if (n === undefined) return null;
  const out = new Uint8Array(4);
  out[0] = n >>> 24;
  out[1] = (n >>> 16) & 255;
  out[2] = (n >>> 8) & 255;
  out[3] = n & 255;
  return out;
}

/** Strict IPv6 text → 16 network-order bytes, or null. */
export function parseIPv6(text: string): Uint8Array | null {
  const g = parseIPv6Groups(text);
  if (g === undefined) return null;
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = g[i]! >> 8;
    out[2 * i + 1] = g[i]! & 0xff;
  }
  return out;
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function formatIPv6(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  return formatIPv6Groups(g);
}

// ------------------------------------------------------------ peer addresses and CIDRs

export type ParsedAddress = { family: 4; v4: number } | { family: 6; groups: number[] };

/**
 * Peer or operator address text → v4 or v6. Also takes "[v6]" and "v6%zone" (the zone means nothing
 * off the host, so fe80::1%eth0 is fe80::1), and folds IPv4-mapped IPv6 (::ffff:a.b.c.d, RFC 4291
 * §2.5.5.2) to v4 so a dual-stack peer is the same address as its IPv4 self.
 */
export function parseAddress(text: string): ParsedAddress | undefined {
  if (text.indexOf(":") < 0) {
    const v4 = parseIPv4Uint32(text);
    return v4 === undefined ? undefined : { family: 4, v4 };
  }
  let t = text;
  if (t.length > 2 && t.charCodeAt(0) === 91 && t.charCodeAt(t.length - 1) === 93) t = t.slice(1, -1);
  const pct = t.indexOf("%");
  if (pct >= 0) {
    if (pct === t.length - 1) return undefined;
    t = t.slice(0, pct);
  }
  const g = parseIPv6Groups(t);
  if (g === undefined) return undefined;
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return { family: 4, v4: g[6]! * 65536 + g[7]! };
  }
  return { family: 6, groups: g };
}

export type Cidr = { family: 4; base: number; prefix: number } | { family: 6; groups: number[]; prefix: number };

export interface CidrError {
  input: string;
  problem: "bad_address" | "bad_prefix" | "host_bits_set";
  message: string;
}

export type CidrResult = { ok: true; cidr: Cidr } | { ok: false; error: CidrError };

/** The uint32 netmask of an IPv4 prefix length (0..32). */
export function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** The 16-bit mask of group `i` (0..7) under an IPv6 prefix length (0..128). */
export function v6GroupMask(prefix: number, i: number): number {
  const bits = Math.max(0, Math.min(16, prefix - i * 16));
  return bits === 0 ? 0 : (0xffff << (16 - bits)) & 0xffff;
}

/**
 * "10.0.0.0/8", "2001:db8::/32", or a single address (= /32 or /128). Host bits set below the
 * prefix ("10.0.0.1/8") are refused: such an entry is almost always a typo and silently masking it
 * would trust a different range than the operator wrote.
 */
export function parseCidr(text: string): CidrResult {
  const fail = (problem: CidrError["problem"], message: string): CidrResult => ({ ok: false, error: { input: text, problem, message } });
  const t = text.trim();
  const slash = t.indexOf("/");
  const addrText = slash >= 0 ? t.slice(0, slash) : t;
  const a = parseAddress(addrText);
  if (a === undefined) return fail("bad_address", `"${text}": not an IPv4 or IPv6 address`);
  const max = addrText.indexOf(":") >= 0 ? 128 : 32;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > max) return fail("bad_prefix", `"${text}": prefix must be 0..${max}`);
    prefix = Number(p);
  }
  if (a.family === 4) {
    // An IPv4-mapped CIDR ("::ffff:10.0.0.0/104") keeps meaning the same v4 range.
    if (addrText.indexOf(":") >= 0 && slash >= 0) {
      if (prefix < 96) return fail("bad_prefix", `"${text}": IPv4-mapped prefix must be 96..128`);
      prefix -= 96;
    }
    if ((a.v4 & ~v4Mask(prefix)) >>> 0 !== 0) return fail("host_bits_set", `"${text}": bits set below /${prefix}; did you mean ${formatIPv4Uint32((a.v4 & v4Mask(prefix)) >>> 0)}/${prefix}?`);
    return { ok: true, cidr: { family: 4, base: a.v4, prefix } };
  }
  for (let i = 0; i < 8; i++) {
    if ((a.groups[i]! & ~v6GroupMask(prefix, i) & 0xffff) !== 0) {
      const masked = a.groups.map((g, j) => g & v6GroupMask(prefix, j));
      return fail("host_bits_set", `"${text}": bits set below /${prefix}; did you mean ${formatIPv6Groups(masked)}/${prefix}?`);
    }
  }
  return { ok: true, cidr: { family: 6, groups: a.groups, prefix } };
}
