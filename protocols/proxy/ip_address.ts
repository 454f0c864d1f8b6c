// Strict IPv4/IPv6 text ⇄ bytes for the PROXY protocol (no leading zeros, no zone ids, RFC 5952 output); no hostnames, no sockets.

const DEC_OCTET = /^(?:0|[1-9][0-9]{0,2})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Dotted quad → 4 bytes, or null. HAProxy's proxy-protocol.txt §2.1: "exactly 4 integers in the
 * range [0..255] ... Heading zeroes are not permitted in front of numbers in order to avoid any
 * possible confusion with octal numbers."
 */
export function parseIPv4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!DEC_OCTET.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out[i] = v;
  }
  return out;
}

/** Pushes 16-bit groups of one side of "::"; the dotted-quad tail is allowed only when `last`. */
function pushGroups(side: string, last: boolean, words: number[]): boolean {
  if (side === "") return true;
  const parts = side.split(":");
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (last && i === parts.length - 1 && p.includes(".")) {
      const v4 = parseIPv4(p);
      if (v4 === null) return false;
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!HEX_GROUP.test(p)) return false;
      words.push(parseInt(p, 16));
    }
  }
  return true;
}

/**
 * IPv6 text (RFC 4291 §2.2: 1-4 hex digits per group, at most one "::", optional dotted-quad
 * tail) → 16 bytes, or null. Zone ids ("%eth0") are rejected: they mean nothing off the host.
 */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > 45) return null;
  const dc = text.indexOf("::");
  const head: number[] = [];
  const tail: number[] = [];
  if (dc < 0) {
    if (!pushGroups(text, true, head) || head.length !== 8) return null;
  } else {
    if (text.indexOf("::", dc + 1) >= 0) return null;
    if (!pushGroups(text.slice(0, dc), false, head)) return null;
    if (!pushGroups(text.slice(dc + 2), true, tail)) return null;
    // "::" stands for at least one zero group (RFC 4291 §2.2 item 2).
    if (head.length + tail.length > 7) return null;
  }
  const words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * RFC 5952 canonical text: lowercase, no leading zeros, the longest run (first on a tie) of two
 * or more zero groups becomes "::". IPv4-mapped addresses (::ffff:0:0/96) keep the dotted tail
 * (RFC 5952 §5), which is also how Bun/Node report dual-stack peers, so ban keys match.
 */
export function formatIPv6(b: Uint8Array, off = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatIPv4(b, off + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(":");
  if (bestLen < 2) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}
