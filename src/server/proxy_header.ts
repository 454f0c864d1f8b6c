// PROXY protocol v1/v2 at the start of a connection: accumulate, parse, adopt the real source address with its per-address limit and ban check; the parser itself is protocols/proxy.
import type { Clock } from "../runtime/types.ts";
import type { CloseReason } from "../../protocols/core/actions.ts";
import { parseProxyHeader } from "../../protocols/proxy/proxy_protocol.ts";
import type { Logger } from "../observe/log.ts";
import type { ConnGuard } from "./guard.ts";
import type { Conn, ServerHooks, ServerLimits } from "./types.ts";

/** What the check needs of its connection core; built once per server (no per-connection closures). */
export interface ProxyDeps {
  guard: ConnGuard | undefined;
  clock: Clock;
  log: Logger;
  perAddress: Map<string, number>;
  limits: ServerLimits;
  hooks: ServerHooks;
  closeConn(c: Conn, reason: CloseReason, flush: boolean): void;
}

/**
 * PROXY protocol: accumulate until the header parses, then adopt its source address (bans and
 * per-address limits apply to the miner, not the load balancer). Returns the bytes after the
 * header, or undefined while incomplete or when the connection was refused.
 */
export function takeProxyHeader(d: ProxyDeps, c: Conn, chunk: Uint8Array): Uint8Array | undefined {
  const { guard, clock, log, perAddress, limits, hooks } = d;
  const prev = c.proxyBuf!;
  const buf = new Uint8Array(prev.length + chunk.length);
  buf.set(prev);
  buf.set(chunk, prev.length);
  const r = parseProxyHeader(buf);
  if (r.kind === "need_more") {
    c.proxyBuf = buf;
    return undefined;
  }
  c.proxyBuf = undefined;
  if (r.kind === "error") {
    guard?.malformed(c.addr, clock.now());
    log.debug("bad PROXY header", { remote: c.addr, detail: r.detail });
    d.closeConn(c, "malformed", false);
    return undefined;
  }
  const real = r.source?.address;
  if (real !== undefined && real !== c.addr) {
    const old = (perAddress.get(c.addr) ?? 1) - 1;
    if (old <= 0) perAddress.delete(c.addr);
    else perAddress.set(c.addr, old);
    c.addr = real;
    const n = perAddress.get(real) ?? 0;
    perAddress.set(real, n + 1);
    if (limits.maxConnectionsPerAddress > 0 && n >= limits.maxConnectionsPerAddress) {
      hooks.refused("max_per_address");
      d.closeConn(c, "banned", false);
      return undefined;
    }
  }
  if (guard !== undefined && !guard.admit(c.addr, clock.now())) {
    hooks.refused("banned");
    d.closeConn(c, "banned", false);
    return undefined;
  }
  return buf.subarray(r.consumed);
}
