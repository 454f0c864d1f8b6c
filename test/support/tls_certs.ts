// Throwaway self-signed certificates for TLS tests, made with the openssl CLI, and their SPKI pins as openssl computes them; no assertions.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** `sha256/BASE64` of the certificate's SubjectPublicKeyInfo, computed by openssl (not by our code). */
  pin: string;
}

/** An EC P-256 (or RSA 2048) certificate for CN=`cn` (localhost and 127.0.0.1 in its names unless `san` says otherwise), valid one day. */
export function makeCert(cn = "localhost", san = "DNS:localhost,IP:127.0.0.1", key: "ec" | "rsa" = "ec"): TestCert {
  const dir = mkdtempSync(join(tmpdir(), "stratum-edge-tls-"));
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", ...(key === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["-newkey", "rsa:2048"]), "-nodes", "-days", "1", "-subj", `/CN=${cn}`, "-addext", `subjectAltName=${san}`, "-keyout", keyFile, "-out", certFile], { stdio: "pipe" });
  const pub = execFileSync("openssl", ["x509", "-in", certFile, "-pubkey", "-noout"]);
  const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: pub });
  const digest = execFileSync("openssl", ["dgst", "-sha256", "-binary"], { input: der });
  return { certFile, keyFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), pin: `sha256/${digest.toString("base64")}` };
}
