// `bench --tls`: a throw-away self-signed certificate (openssl) and the config that gives the relay child a TLS [[listeners]] port; it measures nothing itself.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, type RelayCommand } from "../../loadgen/relay_child.ts";

/** What the load generator passes to runtime.connect: the certificate is ours and self-signed. */
export const BENCH_TLS = { rejectUnauthorized: false } as const;

export interface TlsRelaySetup {
  /** The relay command with `--config` naming a file whose [[listeners]] port serves TLS. */
  cmd: RelayCommand;
  port: number;
  cleanup(): void;
}

/** openssl (not node:crypto, which cannot issue a certificate) makes a P-256 pair valid for one day. */
export async function tlsRelaySetup(cmd: RelayCommand): Promise<TlsRelaySetup> {
  const dir = mkdtempSync(join(tmpdir(), "stratum-edge-bench-tls-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout", key, "-out", cert], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`--tls needs openssl to make a test certificate: ${r.error?.message ?? r.stderr.trim()}`);
  }
  const port = await freePort();
  const config = join(dir, "bench-tls.toml");
  // Same dialects as the main port; only the transport differs, so plain and TLS runs compare.
  writeFileSync(config, `[[listeners]]\nhost = "127.0.0.1"\nport = ${port}\ntls = { cert = ${JSON.stringify(cert)}, key = ${JSON.stringify(key)} }\n`);
  return {
    cmd: { cmd: cmd.cmd, args: [...cmd.args, "--config", config], label: `${cmd.label} (TLS listener)` },
    port,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
