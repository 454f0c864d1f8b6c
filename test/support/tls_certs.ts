// Throwaway self-signed certificates for TLS tests, made with the openssl CLI, and their SPKI pins as openssl computes them; no assertions.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "./scratch_dir.ts";

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
  const dir = scratchDir("stratum-edge-tls-");
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  execFileSync("openssl", ["req", "-x509", ...(key === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["-newkey", "rsa:2048"]), "-nodes", "-days", "1", "-subj", `/CN=${cn}`, "-addext", `subjectAltName=${san}`, "-keyout", keyFile, "-out", certFile], { stdio: "pipe" });
  const pub = execFileSync("openssl", ["x509", "-in", certFile, "-pubkey", "-noout"]);
  const der = execFileSync("openssl", ["pkey", "-pubin", "-outform", "der"], { input: pub });
  const digest = execFileSync("openssl", ["dgst", "-sha256", "-binary"], { input: der });
  return { certFile, keyFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8"), pin: `sha256/${digest.toString("base64")}` };
}

export interface TlsForwarder {
  readonly port: number;
  /** TLS connections whose handshake completed on our side. */
  readonly handshakes: number;
  close(): void;
}

/** A TLS terminator on 127.0.0.1 in front of a plain TCP port (what an operator puts before a node or pool: stunnel, nginx, haproxy). */
export async function startTlsForwarder(cert: TestCert, targetPort: () => number): Promise<TlsForwarder> {
  const { createServer } = await import("node:tls");
  const { connect } = await import("node:net");
  let handshakes = 0;
  const server = createServer({ cert: cert.cert, key: cert.key }, (s) => {
    handshakes++;
    const up = connect(targetPort(), "127.0.0.1");
    s.pipe(up);
    up.pipe(s);
    s.on("error", () => up.destroy());
    up.on("error", () => s.destroy());
    s.on("close", () => up.destroy());
    up.on("close", () => s.destroy());
  });
  server.on("tlsClientError", () => {});
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    get handshakes() {
      return handshakes;
    },
    close: () => server.close(),
  };
}
