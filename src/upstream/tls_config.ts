// Turns one upstream's `tls` config (ca file, pin, serverName, insecure) into the runtime's TLS connect options, with start-up errors that name the config key; no sockets.
import type { Sha256Into } from "../../protocols/pow/types.ts";
import type { Runtime, TlsConnectOptions } from "../runtime/types.ts";
import { normalizePin, pemCertificates, pinOfCertificate } from "./tls_pin.ts";

/** The schema's UpstreamTlsSchema output. */
export interface UpstreamTlsConfig {
  ca: string;
  pin: string;
  serverName: string;
  insecure: boolean;
}

export interface TlsConfigDeps {
  readText(path: string): string | undefined;
  sha: Sha256Into;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

const isDefault = (t: UpstreamTlsConfig) => t.ca === "" && t.pin === "" && t.serverName === "" && !t.insecure;

/**
 * `key` is the config path of the upstream entry (e.g. `upstream.pool.pools[1]`), used in every error.
 * Returns undefined for a plain (non-TLS) URL; throws when the settings cannot be honoured, so a
 * mistake stops start-up instead of silently weakening the check.
 */
export function resolveUpstreamTls(key: string, url: string, secure: boolean, t: UpstreamTlsConfig, deps: TlsConfigDeps): TlsConnectOptions | undefined {
  if (!secure) {
    if (!isDefault(t)) throw new Error(`${key}.tls is set but ${url} is not a TLS URL (use stratum+ssl:// or https://)`);
    return undefined;
  }
  if (t.insecure) {
    if (t.ca !== "" || t.pin !== "") throw new Error(`${key}.tls.insecure = true disables the checks that ${key}.tls.${t.pin !== "" ? "pin" : "ca"} asks for: keep one`);
    deps.warn("upstream TLS certificate NOT verified (tls.insecure = true): anyone on the path can read and rewrite this connection", { upstream: url, key: `${key}.tls.insecure` });
    return { ca: [], rejectUnauthorized: false, ...(t.serverName !== "" ? { serverName: t.serverName } : {}) };
  }
  const ca: string[] = [];
  if (t.ca !== "") {
    let text: string | undefined;
    try {
      text = deps.readText(t.ca);
    } catch (e) {
      throw new Error(`${key}.tls.ca = "${t.ca}": cannot read the file (${e instanceof Error ? e.message : String(e)})`);
    }
    if (text === undefined) throw new Error(`${key}.tls.ca = "${t.ca}": no such file`);
    const certs = pemCertificates(text);
    if (certs.length === 0) throw new Error(`${key}.tls.ca = "${t.ca}": no PEM certificate (-----BEGIN CERTIFICATE-----) in the file`);
    const bad = certs.findIndex((c) => c === undefined);
    if (bad >= 0) throw new Error(`${key}.tls.ca = "${t.ca}": certificate #${bad + 1} in the file is not a valid X.509 certificate`);
    ca.push(text);
  }
  let checkPeer: TlsConnectOptions["checkPeer"];
  if (t.pin !== "") {
    const want = normalizePin(t.pin);
    if (want === undefined) throw new Error(`${key}.tls.pin = "${t.pin}": expected sha256/BASE64 of 32 bytes`);
    checkPeer = (der) => {
      const got = pinOfCertificate(der, deps.sha);
      if (got === want) return undefined;
      return `TLS certificate refused: pin mismatch (the server's key is ${got ?? "unreadable"}, ${key}.tls.pin is ${want})`;
    };
  }
  return {
    ca,
    // A pin alone is the whole check (a self-signed pool certificate is then fine); with a CA file the chain and name are checked too.
    rejectUnauthorized: t.pin === "" || t.ca !== "",
    ...(t.serverName !== "" ? { serverName: t.serverName } : {}),
    ...(checkPeer !== undefined ? { checkPeer } : {}),
  };
}

/** A pool list entry as configured → its endpoint fields (host, port, TLS), errors naming `key`. */
export function poolEndpointOf(key: string, p: { url: string; tls: UpstreamTlsConfig }, parse: (url: string) => { host: string; port: number; tls: boolean } | undefined, deps: TlsConfigDeps): { host: string; port: number; tls?: TlsConnectOptions } {
  const at = parse(p.url);
  if (at === undefined) throw new Error(`${key}.url = "${p.url}": expected stratum+tcp://host:port or stratum+ssl://host:port`);
  const tls = resolveUpstreamTls(key, p.url, at.tls, p.tls, deps);
  return { host: at.host, port: at.port, ...(tls !== undefined ? { tls } : {}) };
}

/** What resolving an upstream's `tls` settings needs from the runtime: the CA file, a hash for pins, the insecure warning. */
export function tlsDeps(runtime: Runtime, log: { warn(msg: string, fields?: Record<string, unknown>): void }): TlsConfigDeps {
  return { readText: (path) => runtime.files.readText(path), sha: runtime.sha256, warn: (msg, fields) => log.warn(msg, fields) };
}

/** Node RPC URLs (`key` = e.g. `upstream.bitcoind.nodes`) → TLS settings by origin for every https:// one; plain http:// gets none. */
export function nodeTlsByOrigin(key: string, nodes: readonly { url: string; tls: UpstreamTlsConfig }[], deps: TlsConfigDeps): Map<string, TlsConnectOptions> {
  const out = new Map<string, TlsConnectOptions>();
  nodes.forEach((n, i) => {
    const u = new URL(n.url);
    const tls = resolveUpstreamTls(`${key}[${i}]`, n.url, u.protocol === "https:", n.tls, deps);
    if (tls === undefined) return;
    // Two entries on one origin would share a connection setting; refusing beats guessing which one wins.
    if (out.has(u.origin)) throw new Error(`${key}[${i}].url: another node entry already uses ${u.origin}; give each https origin one entry`);
    out.set(u.origin, tls);
  });
  return out;
}
