// PROXY protocol v1/v2 (HAProxy proxy-protocol.txt) header parser and encoders, push-based and never throwing; it does not own sockets or decide whether a listener trusts PROXY headers.
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../net/ip_address.ts";

export type ProxyFamily = "ipv4" | "ipv6";

export interface ProxyAddress {
  address: string;
  port: number;
  family: ProxyFamily;
}

export type ProxyParse =
  /** Every byte so far is a valid prefix of a header; feed more (the caller accumulates). */
  | { kind: "need_more" }
  | {
      kind: "ok";
      /** Header length in bytes; everything from buf[consumed] on is the client's own data. */
      consumed: number;
      version: 1 | 2;
      /** v2 LOCAL, v1 UNKNOWN, v2 UNSPEC/UDP/UNIX families: no usable address, use the socket's. */
      local: boolean;
      source?: ProxyAddress;
      destination?: ProxyAddress;
    }
  | { kind: "error"; detail: string };

export type ProxyEncode = { kind: "ok"; bytes: Uint8Array } | { kind: "error"; detail: string };

/** What to encode. Shaped so a parse result can be passed back in (round trips). */
export interface ProxyEndpoints {
  local?: boolean;
  source?: ProxyAddress;
  destination?: ProxyAddress;
}

export interface ProxyTlv {
  type: number;
  value: Uint8Array;
}

/** Spec §2.1: "a receiver ... the line ... 107 characters" (incl. CRLF); §2.2: 16-byte fixed part + 16-bit length. */
export const proxyHeaderMaxBytes = { v1: 107, v2: 16 + 0xffff } as const;

/** Spec §2.2: "\x0D\x0A\x0D\x0A\x00\x0D\x0A\x51\x55\x49\x54\x0A". */
export const PROXY_V2_SIGNATURE: Uint8Array = Uint8Array.of(0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a);

const V1_PREFIX = "PROXY ";
const V1_PROTOCOLS = ["TCP4", "TCP6", "UNKNOWN"] as const;
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const NEED_MORE: ProxyParse = { kind: "need_more" };
const PP2_TYPE_CRC32C = 0x03;

/** Spec §2.2 address block sizes per family/transport byte; any byte not listed is rejected. */
const V2_ADDRESS_BYTES: ReadonlyMap<number, number> = new Map([
  [0x00, 0], // UNSPEC
  [0x11, 12], // TCP over IPv4
  [0x12, 12], // UDP over IPv4
  [0x21, 36], // TCP over IPv6
  [0x22, 36], // UDP over IPv6
  [0x31, 216], // UNIX stream
  [0x32, 216], // UNIX datagram
]);

function err(detail: string): ProxyParse {
  return { kind: "error", detail };
}

/**
 * Parses the PROXY header at the start of `buf`. Decides as early as the bytes allow: a first byte
 * that starts neither signature is an error at once, so a listener can reject spoofing quickly.
 * need_more is never returned once buf holds proxyHeaderMaxBytes.v2 bytes.
 */
export function parseProxyHeader(buf: Uint8Array): ProxyParse {
  if (buf.length === 0) return NEED_MORE;
  if (buf[0] === 0x50 /* P */) {
    const n = Math.min(buf.length, V1_PREFIX.length);
    for (let i = 0; i < n; i++) if (buf[i] !== V1_PREFIX.charCodeAt(i)) return err("not a PROXY header (bad v1 signature)");
    return buf.length < V1_PREFIX.length ? NEED_MORE : parseV1(buf);
  }
  if (buf[0] === CR) {
    const n = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
    for (let i = 0; i < n; i++) if (buf[i] !== PROXY_V2_SIGNATURE[i]) return err("not a PROXY header (bad v2 signature)");
    return buf.length < PROXY_V2_SIGNATURE.length ? NEED_MORE : parseV2(buf);
  }
  return err("not a PROXY header (no v1 or v2 signature)");
}

// ---------------------------------------------------------------- v1 (text)

function latin1(buf: Uint8Array, from: number, to: number): string {
  let s = "";
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** Bytes that may follow "PROXY TCPx " before the CRLF: hex digits, ".", ":", and single spaces. */
function isAddressLineByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x3a) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66) || c === 0x2e || c === SP;
}

/** Rejects an incomplete line as soon as it can no longer become valid (instead of waiting for 107 bytes). */
function earlyV1Check(buf: Uint8Array): ProxyParse | null {
  const start = V1_PREFIX.length;
  let end = start;
  while (end < buf.length && buf[end] !== SP && buf[end] !== CR && end - start < 8) end++;
  const tok = latin1(buf, start, end);
  const terminated = end < buf.length && (buf[end] === SP || buf[end] === CR);
  if (terminated) {
    if (!(V1_PROTOCOLS as readonly string[]).includes(tok)) return err(`v1: unknown protocol "${tok}"`);
  } else if (!V1_PROTOCOLS.some((p) => p.startsWith(tok))) {
    return err(`v1: unknown protocol "${tok}"`);
  }
  if (!terminated || tok === "UNKNOWN") return null; // UNKNOWN: the rest of the line is ignored (§2.1)
  for (let i = end; i < buf.length; i++) {
    const c = buf[i]!;
    if (c === CR) return i + 1 < buf.length && buf[i + 1] !== LF ? err("v1: CR not followed by LF") : null;
    if (!isAddressLineByte(c)) return err(`v1: unexpected byte 0x${c.toString(16)} in address line`);
  }
  return null;
}

const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

function parsePort(s: string): number | null {
  if (!PORT.test(s)) return null;
  const v = Number(s);
  return v <= 0xffff ? v : null;
}

function parseV1(buf: Uint8Array): ProxyParse {
  // §2.1: "The receiver must wait for the CRLF sequence before starting to decode the addresses ...
  // If the CRLF sequence is not found in the first 107 characters, the receiver should declare the line invalid."
  const limit = Math.min(buf.length, proxyHeaderMaxBytes.v1);
  let lf = -1;
  for (let i = V1_PREFIX.length; i < limit; i++) {
    if (buf[i] === LF) {
      lf = i;
      break;
    }
  }
  if (lf < 0) {
    if (buf.length >= proxyHeaderMaxBytes.v1) return err("v1: no CRLF within the first 107 bytes");
    return earlyV1Check(buf) ?? NEED_MORE;
  }
  if (buf[lf - 1] !== CR) return err("v1: line ends in LF without CR");
  const consumed = lf + 1;
  const line = latin1(buf, V1_PREFIX.length, lf - 1);
  const sp = line.indexOf(" ");
  const proto = sp < 0 ? line : line.slice(0, sp);
  if (proto === "UNKNOWN") return { kind: "ok", consumed, version: 1, local: true };
  if (proto !== "TCP4" && proto !== "TCP6") return err(`v1: unknown protocol "${proto}"`);
  // Exactly one space between fields (§2.1), so split(" ") yields no empty fields on a valid line.
  const f = line.split(" ");
  if (f.length !== 5) return err(`v1: expected 4 fields after ${proto}, got ${f.length - 1}`);
  const family: ProxyFamily = proto === "TCP4" ? "ipv4" : "ipv6";
  const src = textAddress(f[1]!, family);
  const dst = textAddress(f[2]!, family);
  if (src === null) return err(`v1: bad ${family} source address "${f[1]}"`);
  if (dst === null) return err(`v1: bad ${family} destination address "${f[2]}"`);
  const sport = parsePort(f[3]!);
  const dport = parsePort(f[4]!);
  if (sport === null) return err(`v1: bad source port "${f[3]}"`);
  if (dport === null) return err(`v1: bad destination port "${f[4]}"`);
  return {
    kind: "ok",
    consumed,
    version: 1,
    local: false,
    source: { address: src, port: sport, family },
    destination: { address: dst, port: dport, family },
  };
}

/** Validates and canonicalises an address text for its family; null when invalid. */
function textAddress(text: string, family: ProxyFamily): string | null {
  if (family === "ipv4") {
    const b = parseIPv4(text);
    return b === null ? null : formatIPv4(b);
  }
  const b = parseIPv6(text);
  return b === null ? null : formatIPv6(b);
}

// ---------------------------------------------------------------- v2 (binary)

function parseV2(buf: Uint8Array): ProxyParse {
  if (buf.length < 13) return NEED_MORE;
  const verCmd = buf[12]!;
  // §2.2: "Receivers must drop connections presenting unexpected values here."
  if (verCmd >> 4 !== 2) return err(`v2: unsupported version ${verCmd >> 4}`);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return err(`v2: unknown command ${cmd}`);
  if (buf.length < 14) return NEED_MORE;
  const fam = buf[13]!;
  const addrBytes = V2_ADDRESS_BYTES.get(fam);
  // LOCAL: "the receiver must ... discard the protocol block including the family (which is ignored)".
  if (cmd === 1 && addrBytes === undefined) return err(`v2: unknown family/protocol 0x${fam.toString(16)}`);
  if (buf.length < 16) return NEED_MORE;
  const len = (buf[14]! << 8) | buf[15]!;
  const total = 16 + len;
  if (cmd === 1 && len < addrBytes!) return err(`v2: length ${len} is smaller than the ${addrBytes}-byte address block`);
  if (buf.length < total) return NEED_MORE;
  if (cmd === 0) return { kind: "ok", consumed: total, version: 2, local: true };

  const tlvErr = checkTlvs(buf, 16 + addrBytes!, total);
  if (tlvErr !== null) return err(tlvErr);
  if (fam === 0x11 || fam === 0x21) {
    const family: ProxyFamily = fam === 0x11 ? "ipv4" : "ipv6";
    const a = family === "ipv4" ? 4 : 16;
    const fmt = family === "ipv4" ? formatIPv4 : formatIPv6;
    const p = 16 + 2 * a;
    return {
      kind: "ok",
      consumed: total,
      version: 2,
      local: false,
      source: { address: fmt(buf, 16), port: (buf[p]! << 8) | buf[p + 1]!, family },
      destination: { address: fmt(buf, 16 + a), port: (buf[p + 2]! << 8) | buf[p + 3]!, family },
    };
  }
  // UNSPEC, UDP and UNIX: this relay only carries TCP miners, so no address is taken from them.
  return { kind: "ok", consumed: total, version: 2, local: true };
}

/** TLVs must tile [from, to) exactly; a CRC32C TLV (§2.2.5) is verified when present. */
function checkTlvs(buf: Uint8Array, from: number, to: number): string | null {
  let p = from;
  while (p < to) {
    if (p + 3 > to) return `v2: truncated TLV header at offset ${p}`;
    const type = buf[p]!;
    const tlen = (buf[p + 1]! << 8) | buf[p + 2]!;
    if (p + 3 + tlen > to) return `v2: TLV 0x${type.toString(16)} length ${tlen} overruns the header`;
    if (type === PP2_TYPE_CRC32C) {
      if (tlen !== 4) return `v2: CRC32C TLV must be 4 bytes, got ${tlen}`;
      const v = p + 3;
      const want = ((buf[v]! << 24) | (buf[v + 1]! << 16) | (buf[v + 2]! << 8) | buf[v + 3]!) >>> 0;
      const copy = buf.slice(0, to);
      copy.fill(0, v, v + 4); // "with the checksum field itself set to 0"
      if (crc32c(copy) !== want) return "v2: CRC32C mismatch";
    }
    p += 3 + tlen;
  }
  return null;
}

const CRC32C_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1; // Castagnoli, reflected
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli, RFC 3720 B.4); crc32c("123456789") = 0xe3069283. */
export function crc32c(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC32C_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------- encoders

type Resolved = { local: true } | { local: false; family: ProxyFamily; src: Uint8Array; dst: Uint8Array; sport: number; dport: number };

function resolve(h: ProxyEndpoints): Resolved | string {
  if (h.local === true) return { local: true };
  const { source: s, destination: d } = h;
  if (s === undefined || d === undefined) return "source and destination are required unless local";
  if (s.family !== d.family) return "source and destination families differ";
  const parse = s.family === "ipv4" ? parseIPv4 : s.family === "ipv6" ? parseIPv6 : null;
  if (parse === null) return `unknown family ${String(s.family)}`;
  const src = parse(s.address);
  const dst = parse(d.address);
  if (src === null) return `bad ${s.family} source address "${s.address}"`;
  if (dst === null) return `bad ${d.family} destination address "${d.address}"`;
  for (const port of [s.port, d.port]) {
    if (!Number.isInteger(port) || port < 0 || port > 0xffff) return `bad port ${port}`;
  }
  return { local: false, family: s.family, src, dst, sport: s.port, dport: d.port };
}

/** v1 line with canonical address text; local → "PROXY UNKNOWN\r\n". */
export function encodeProxyV1(h: ProxyEndpoints): ProxyEncode {
  const r = resolve(h);
  if (typeof r === "string") return { kind: "error", detail: r };
  let line: string;
  if (r.local) line = "PROXY UNKNOWN\r\n";
  else {
    const fmt = r.family === "ipv4" ? formatIPv4 : formatIPv6;
    line = `PROXY ${r.family === "ipv4" ? "TCP4" : "TCP6"} ${fmt(r.src)} ${fmt(r.dst)} ${r.sport} ${r.dport}\r\n`;
  }
  // Mixed-notation IPv6 (::ffff:a.b.c.d at full width) can exceed the spec's line limit.
  if (line.length > proxyHeaderMaxBytes.v1) return { kind: "error", detail: `v1 line is ${line.length} bytes, over 107` };
  const bytes = new Uint8Array(line.length);
  for (let i = 0; i < line.length; i++) bytes[i] = line.charCodeAt(i);
  return { kind: "ok", bytes };
}

/** v2 header: PROXY over TCP4/TCP6, or LOCAL/UNSPEC when local; optional TLVs and a trailing CRC32C TLV. */
export function encodeProxyV2(h: ProxyEndpoints, opts: { tlvs?: readonly ProxyTlv[]; crc32c?: boolean } = {}): ProxyEncode {
  const r = resolve(h);
  if (typeof r === "string") return { kind: "error", detail: r };
  const tlvs = [...(opts.tlvs ?? [])];
  for (const t of tlvs) {
    if (!Number.isInteger(t.type) || t.type < 0 || t.type > 0xff) return { kind: "error", detail: `bad TLV type ${t.type}` };
    if (t.value.length > 0xffff) return { kind: "error", detail: "TLV value over 65535 bytes" };
  }
  if (opts.crc32c === true) tlvs.push({ type: PP2_TYPE_CRC32C, value: new Uint8Array(4) });
  const addrLen = r.local ? 0 : r.family === "ipv4" ? 12 : 36;
  const len = addrLen + tlvs.reduce((n, t) => n + 3 + t.value.length, 0);
  if (len > 0xffff) return { kind: "error", detail: `v2 payload is ${len} bytes, over 65535` };
  const out = new Uint8Array(16 + len);
  out.set(PROXY_V2_SIGNATURE, 0);
  out[12] = r.local ? 0x20 : 0x21;
  out[13] = r.local ? 0x00 : r.family === "ipv4" ? 0x11 : 0x21;
  out[14] = len >> 8;
  out[15] = len & 0xff;
  let p = 16;
  if (!r.local) {
    out.set(r.src, p);
    out.set(r.dst, p + r.src.length);
    p += 2 * r.src.length;
    out[p++] = r.sport >> 8;
    out[p++] = r.sport & 0xff;
    out[p++] = r.dport >> 8;
    out[p++] = r.dport & 0xff;
  }
  for (const t of tlvs) {
    out[p++] = t.type;
    out[p++] = t.value.length >> 8;
    out[p++] = t.value.length & 0xff;
    out.set(t.value, p);
    p += t.value.length;
  }
  if (opts.crc32c === true) {
    const c = crc32c(out); // computed with the (last) CRC value still zero, as §2.2.5 requires
    out[p - 4] = c >>> 24;
    out[p - 3] = (c >>> 16) & 0xff;
    out[p - 2] = (c >>> 8) & 0xff;
    out[p - 1] = c & 0xff;
  }
  return { kind: "ok", bytes: out };
}
