// The ban allowlist: CIDR entries (validated all at once) matched against addresses and banned prefixes; parsing is protocols/net/ip_address.ts.
import { parseAddress, parseCidr, v4Mask, v6GroupMask, type Cidr, type CidrError } from "../../protocols/net/ip_address.ts";

export interface Allowlist {
  allows(address: string): boolean;
  /** Whether some allowed address lies inside `cidr` (e.g. a banned /64). */
  overlaps(cidr: Cidr): boolean;
  readonly size: number;
}

export type AllowlistResult = { ok: true; allowlist: Allowlist } | { ok: false; errors: CidrError[] };

/** Every bad entry is reported at once (config validation shows them all), not one per restart. */
export function createAllowlist(cidrs: readonly string[]): AllowlistResult {
  const v4: { base: number; mask: number }[] = [];
  const v6: { groups: number[]; prefix: number }[] = [];
  const errors: CidrError[] = [];
  for (const text of cidrs) {
    const r = parseCidr(text);
    if (!r.ok) errors.push(r.error);
    else if (r.cidr.family === 4) v4.push({ base: r.cidr.base, mask: v4Mask(r.cidr.prefix) });
    else v6.push({ groups: r.cidr.groups, prefix: r.cidr.prefix });
  }
  if (errors.length > 0) return { ok: false, errors };
  const size = v4.length + v6.length;
  const allows = (address: string): boolean => {
    if (size === 0) return false;
    const a = parseAddress(address);
    if (a === undefined) return false;
    if (a.family === 4) {
      for (const c of v4) if (((a.v4 & c.mask) >>> 0) === c.base) return true;
      return false;
    }
    outer: for (const c of v6) {
      for (let i = 0; i < 8; i++) {
        const m = v6GroupMask(c.prefix, i);
        if (m === 0) break;
        if ((a.groups[i]! & m) !== c.groups[i]) continue outer;
      }
      return true;
    }
    return false;
  };
  const overlaps = (c: Cidr): boolean => {
    // Two prefixes share an address iff they agree on the shorter prefix's bits.
    if (c.family === 4) return v4.some((e) => ((c.base ^ e.base) & e.mask & v4Mask(c.prefix)) >>> 0 === 0);
    return v6.some((e) => {
      const p = Math.min(e.prefix, c.prefix);
      for (let i = 0; i < 8; i++) if (((c.groups[i]! ^ e.groups[i]!) & v6GroupMask(p, i)) !== 0) return false;
      return true;
    });
  };
  return { ok: true, allowlist: { allows, overlaps, size } };
}
