// Certificate pins for upstream TLS: the SubjectPublicKeyInfo of an X.509 certificate (a small DER walk), `sha256/BASE64` pins and PEM certificate blocks; pure, no sockets or files.
import type { Sha256Into } from "../../protocols/pow/types.ts";

/** One DER TLV at `at`: where its content starts and where the whole element ends; undefined if it overruns `end`. */
function tlv(d: Uint8Array, at: number, end: number): { tag: number; body: number; next: number } | undefined {
  if (at + 2 > end) return undefined;
  const tag = d[at]!;
  let len = d[at + 1]!;
  let body = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    // Definite lengths only (DER), at most 4 length bytes: a certificate is far below 4 GiB.
    if (n === 0 || n > 4 || body + n > end) return undefined;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + d[body + i]!;
    body += n;
  }
  const next = body + len;
  return next > end ? undefined : { tag, body, next };
}

/**
 * The DER bytes of the certificate's subjectPublicKeyInfo, or undefined when `der` is not an X.509
 * certificate. Certificate = SEQ { tbsCertificate = SEQ { [0] version?, serial, signature, issuer,
 * validity, subject, subjectPublicKeyInfo, … }, … } (RFC 5280 §4.1).
 */
export function spkiOfCertificate(der: Uint8Array): Uint8Array | undefined {
  const cert = tlv(der, 0, der.length);
  if (cert === undefined || cert.tag !== 0x30 || cert.next !== der.length) return undefined;
  const tbs = tlv(der, cert.body, cert.next);
  if (tbs === undefined || tbs.tag !== 0x30) return undefined;
  let at = tbs.body;
  let f = tlv(der, at, tbs.next);
  if (f !== undefined && f.tag === 0xa0) {
    at = f.next; // explicit [0] version
    f = tlv(der, at, tbs.next);
  }
  // serial (INTEGER), signature, issuer, validity, subject (SEQUENCEs), then the key.
  const want = [0x02, 0x30, 0x30, 0x30, 0x30];
  for (const tag of want) {
    if (f === undefined || f.tag !== tag) return undefined;
    at = f.next;
    f = tlv(der, at, tbs.next);
  }
  if (f === undefined || f.tag !== 0x30) return undefined;
  return der.subarray(at, f.next);
}

function toBase64(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s);
}

function fromBase64(s: string): Uint8Array | undefined {
  try {
    const bin = atob(s);
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The pin of a certificate: `sha256/` + base64 of SHA-256 over its subjectPublicKeyInfo (as HPKP and curl's --pinnedpubkey). */
export function pinOfCertificate(der: Uint8Array, sha: Sha256Into): string | undefined {
  const spki = spkiOfCertificate(der);
  if (spki === undefined) return undefined;
  const out = new Uint8Array(32);
  sha(spki, out);
  return `sha256/${toBase64(out)}`;
}

/** Accepts `sha256/BASE64` (and curl's `sha256//BASE64`) of 32 bytes; returns the canonical `sha256/BASE64` or undefined. */
export function normalizePin(pin: string): string | undefined {
  const m = /^sha256\/\/?([A-Za-z0-9+/]{43}=)$/.exec(pin.trim());
  if (m === null) return undefined;
  const raw = fromBase64(m[1]!);
  return raw !== undefined && raw.length === 32 ? `sha256/${m[1]}` : undefined;
}

/** The DER certificates of every `-----BEGIN CERTIFICATE-----` block in a PEM text; a block that is not a certificate gives undefined. */
export function pemCertificates(pem: string): (Uint8Array | undefined)[] {
  const out: (Uint8Array | undefined)[] = [];
  const re = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;
  for (let m = re.exec(pem); m !== null; m = re.exec(pem)) {
    const der = fromBase64(m[1]!.replace(/\s+/g, ""));
    out.push(der !== undefined && spkiOfCertificate(der) !== undefined ? der : undefined);
  }
  return out;
}
