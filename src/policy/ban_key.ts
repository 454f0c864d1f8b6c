// The ban-table key of a source address (IPv4 as is, IPv6 by /64, IPv4-mapped as IPv4), interned; parsing is protocols/net/ip_address.ts.
import { formatIPv4Uint32 as formatIPv4, formatIPv6Groups as formatIPv6, parseAddress, parseCidr } from "../../protocols/net/ip_address.ts";

// v6 keys are interned: each check would otherwise re-parse the text (a few hundred ns); bounded
// like runtime/shared.ts normalizeAddress so a scan cannot grow it.
const v6KeyCache = new Map<string, string>();
const V6_KEY_CACHE_MAX = 65_536;

function computeKey(address: string): string {
  const slash = address.indexOf("/");
  if (slash >= 0) {
    // Already a key (or a CIDR given to the admin API): "/64" v6 and "/32" v4 name exactly one key.
    const c = parseCidr(address);
    if (!c.ok) return address;
    if (c.cidr.family === 6 && c.cidr.prefix === 64) return `${formatIPv6(c.cidr.groups)}/64`;
    if (c.cidr.family === 4 && c.cidr.prefix === 32) return formatIPv4(c.cidr.base);
    return address;
  }
  const a = parseAddress(address);
  if (a === undefined) return address;
  if (a.family === 4) return formatIPv4(a.v4);
  // One /64 is one subscriber (RFC 6177 / RIPE-690 assign at least a /64 per site): a host can rotate
  // its low 64 bits (privacy addresses, RFC 8981) at will, so banning one /128 would stop nothing.
  const g = a.groups;
  return `${formatIPv6([g[0]!, g[1]!, g[2]!, g[3]!, 0, 0, 0, 0])}/64`;
}

/**
 * The ban-table key of an address: IPv4 as is, IPv6 by /64 ("2001:db8:0:1::/64"), IPv4-mapped
 * IPv6 as its IPv4. Idempotent (a key maps to itself). Invalid text → the raw string; never throws.
 */
export function banKey(address: string): string {
  // Fast path: text without ':' or '/' is either a dotted quad (its own key) or invalid (raw string).
  if (address.indexOf(":") < 0 && address.indexOf("/") < 0) return address;
  let k = v6KeyCache.get(address);
  if (k === undefined) {
    k = computeKey(address);
    if (v6KeyCache.size >= V6_KEY_CACHE_MAX) v6KeyCache.clear();
    v6KeyCache.set(address, k);
  }
  return k;
}
