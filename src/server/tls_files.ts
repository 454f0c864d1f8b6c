// Reads a listener's TLS certificate and key files and checks them (PEM, parseable, key matches cert) with errors naming the config path; it opens no socket.
import type { X509Certificate } from "node:crypto";
import type { Files, TlsPem } from "../runtime/types.ts";
import { nodeBuiltin } from "../runtime/node_builtin.ts";

/** A checked pair, plus what an operator wants to see in the log after a (re)load. */
export interface LoadedTls extends TlsPem {
  /** SHA-256 fingerprint of the leaf certificate, colon-separated hex (as openssl x509 -fingerprint -sha256 prints it). */
  fingerprint: string;
  /** The leaf's notAfter, as node:crypto renders it. */
  validTo: string;
  /** Whether notAfter is already past (served anyway: refusing to start would not help the miners). */
  expired: boolean;
}

function readPem(files: Files, path: string, where: string): string {
  let text: string | undefined;
  try {
    text = files.readText(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new Error(`${where}: cannot read ${path}${code ? ` (${code})` : ""}`);
  }
  if (text === undefined) throw new Error(`${where}: ${path}: no such file`);
  return text;
}

/**
 * `where` is the config path of the `tls` table (e.g. `listeners[1].tls`); every message starts with
 * `where.cert` or `where.key` so the operator knows which line of the config to fix.
 */
export function loadTlsFiles(files: Files, paths: { cert: string; key: string }, where: string, now: number): LoadedTls {
  const cert = readPem(files, paths.cert, `${where}.cert`);
  const key = readPem(files, paths.key, `${where}.key`);
  // Checked before parsing: node:crypto also takes DER, and its messages for non-PEM text are cryptic.
  if (!cert.includes("-----BEGIN CERTIFICATE-----")) throw new Error(`${where}.cert: ${paths.cert} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
  if (!/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(key)) throw new Error(`${where}.key: ${paths.key} is not a PEM private key (no "-----BEGIN … PRIVATE KEY-----" line)`);
  // Loaded here, not at import: see node_builtin.ts.
  const { X509Certificate, createPrivateKey } = nodeBuiltin<typeof import("node:crypto")>("node:crypto");
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (e) {
    throw new Error(`${where}.cert: ${paths.cert} is not a valid PEM certificate (${e instanceof Error ? e.message : String(e)})`);
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (e) {
    throw new Error(`${where}.key: ${paths.key} is not a valid private key (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!matches) throw new Error(`${where}.key: ${paths.key} does not match the certificate in ${paths.cert}`);
  const validTo = x509.validTo;
  return { cert, key, fingerprint: x509.fingerprint256, validTo, expired: Date.parse(validTo) < now };
}
