// Tests the upstream TLS settings: SPKI extraction and pins against openssl's own values, pin syntax, PEM reading, and resolveUpstreamTls's options and start-up errors; no sockets.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { createHash, X509Certificate } from "node:crypto";
import { normalizePin, pemCertificates, pinOfCertificate, spkiOfCertificate } from "../../../src/upstream/tls_pin.ts";
import { resolveUpstreamTls, nodeTlsByOrigin, type UpstreamTlsConfig } from "../../../src/upstream/tls_config.ts";
import { makeCert } from "../../support/tls_certs.ts";
import { sha } from "../../e2e/helpers.ts";

const a = makeCert();
const b = makeCert("other.example", "DNS:other.example");
const derOf = (pem: string) => pemCertificates(pem)[0]!;

describe("SPKI pins", () => {
  test("the SubjectPublicKeyInfo we cut out of the DER is the one node:crypto exports", () => {
    const spki = spkiOfCertificate(derOf(a.cert))!;
    const want = new X509Certificate(a.cert).publicKey.export({ type: "spki", format: "der" });
    expect(Buffer.from(spki).equals(want)).toBe(true);
  });

  test("pinOfCertificate equals openssl's sha256/BASE64 of the public key, and differs between keys", () => {
    expect(pinOfCertificate(derOf(a.cert), sha)).toBe(a.pin);
    expect(pinOfCertificate(derOf(b.cert), sha)).toBe(b.pin);
    expect(a.pin).not.toBe(b.pin);
  });

  test("an RSA certificate (longer DER lengths, another key algorithm) gives openssl's pin too", () => {
    const rsa = makeCert("rsa.example", "DNS:rsa.example", "rsa");
    expect(pinOfCertificate(derOf(rsa.cert), sha)).toBe(rsa.pin);
    expect(createHash("sha256").update(new X509Certificate(rsa.cert).publicKey.export({ type: "spki", format: "der" })).digest("base64")).toBe(rsa.pin.slice(7));
  });

  test("not a certificate: truncated, trailing bytes, empty", () => {
    const der = derOf(a.cert);
    expect(spkiOfCertificate(der.subarray(0, der.length - 1))).toBeUndefined();
    expect(spkiOfCertificate(new Uint8Array([...der, 0]))).toBeUndefined();
    expect(spkiOfCertificate(new Uint8Array(0))).toBeUndefined();
    expect(spkiOfCertificate(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))).toBeUndefined();
  });

  test("pin syntax: sha256/ and curl's sha256// accepted, hex fingerprints and wrong lengths refused", () => {
    expect(normalizePin(a.pin)).toBe(a.pin);
    expect(normalizePin(a.pin.replace("sha256/", "sha256//"))).toBe(a.pin);
    expect(normalizePin("5A:CB:50:3A")).toBeUndefined();
    expect(normalizePin("sha256/" + "A".repeat(42) + "=")).toBeUndefined();
    expect(normalizePin("sha1/" + a.pin.slice(7))).toBeUndefined();
  });

  test("PEM blocks: every certificate in a bundle, a broken one flagged, a key file has none", () => {
    expect(pemCertificates(a.cert + b.cert).length).toBe(2);
    expect(pemCertificates(a.key)).toEqual([]);
    expect(pemCertificates("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")).toEqual([undefined]);
  });
});

describe("resolveUpstreamTls", () => {
  const none: UpstreamTlsConfig = { ca: "", pin: "", serverName: "", insecure: false };
  const warnings: string[] = [];
  const deps = { readText: (p: string) => (p === "/missing" ? undefined : require("node:fs").readFileSync(p, "utf8")), sha, warn: (m: string) => warnings.push(m) };
  const resolve = (t: Partial<UpstreamTlsConfig>, secure = true) => resolveUpstreamTls("upstream.pool.pools[2]", "stratum+ssl://h:1", secure, { ...none, ...t }, deps);

  test("plain URL with no settings: no TLS; with settings: an error naming the key", () => {
    expect(resolve({}, false)).toBeUndefined();
    expect(() => resolve({ pin: a.pin }, false)).toThrow("upstream.pool.pools[2].tls is set but stratum+ssl://h:1 is not a TLS URL");
  });

  test("defaults: verify with the system CAs, no extra CA, no pin", () => {
    expect(resolve({})).toEqual({ ca: [], rejectUnauthorized: true });
  });

  test("ca: the file's PEM is trusted and verification stays on", () => {
    const o = resolve({ ca: a.certFile })!;
    expect(o.rejectUnauthorized).toBe(true);
    expect(o.ca).toEqual([a.cert]);
  });

  test("pin alone turns chain checks off and checks the key; pin with ca keeps both", () => {
    const o = resolve({ pin: a.pin })!;
    expect(o.rejectUnauthorized).toBe(false);
    expect(o.checkPeer!(derOf(a.cert))).toBeUndefined();
    expect(o.checkPeer!(derOf(b.cert))).toBe(`TLS certificate refused: pin mismatch (the server's key is ${b.pin}, upstream.pool.pools[2].tls.pin is ${a.pin})`);
    expect(resolve({ pin: a.pin, ca: a.certFile })!.rejectUnauthorized).toBe(true);
  });

  test("insecure: no checks, one warning; with a pin or ca it is a contradiction", () => {
    warnings.length = 0;
    expect(resolve({ insecure: true })).toEqual({ ca: [], rejectUnauthorized: false });
    expect(warnings.length).toBe(1);
    expect(() => resolve({ insecure: true, pin: a.pin })).toThrow("upstream.pool.pools[2].tls.insecure = true disables the checks that upstream.pool.pools[2].tls.pin asks for");
  });

  test("bad CA files: missing, unreadable (a directory), no certificate, a broken certificate", () => {
    expect(() => resolve({ ca: "/missing" })).toThrow('upstream.pool.pools[2].tls.ca = "/missing": no such file');
    expect(() => resolve({ ca: "/tmp" })).toThrow('upstream.pool.pools[2].tls.ca = "/tmp": cannot read the file');
    expect(() => resolve({ ca: a.keyFile })).toThrow("no PEM certificate");
    const broken = `${a.certFile}.broken.pem`;
    writeFileSync(broken, a.cert + "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expect(() => resolve({ ca: broken })).toThrow("certificate #2 in the file is not a valid X.509 certificate");
  });

  test("serverName is passed on", () => {
    expect(resolve({ ca: a.certFile, serverName: "pool.example.com" })!.serverName).toBe("pool.example.com");
  });

  test("node URLs: https ones get settings by origin, http none, one origin twice refused", () => {
    const m = nodeTlsByOrigin("upstream.bitcoind.nodes", [{ url: "http://127.0.0.1:8332/", tls: none }, { url: "https://node.example:8443/", tls: { ...none, ca: a.certFile } }], deps);
    expect([...m.keys()]).toEqual(["https://node.example:8443"]);
    expect(() => nodeTlsByOrigin("upstream.bitcoind.nodes", [{ url: "https://n:1/", tls: none }, { url: "https://n:1/x", tls: none }], deps)).toThrow("upstream.bitcoind.nodes[1].url: another node entry already uses https://n:1");
    expect(() => nodeTlsByOrigin("upstream.bitcoind.nodes", [{ url: "http://n:1/", tls: { ...none, insecure: true } }], deps)).toThrow("upstream.bitcoind.nodes[0].tls is set");
  });
});
