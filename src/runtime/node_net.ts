// node:net / node:tls adapter for the Runtime seam, used on Deno and Node (Deno.serve for HTTP on Deno, node:http elsewhere); no protocol logic.
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect as netConnect, createServer, isIP, type AddressInfo, type Socket } from "node:net";
import { connect as tlsConnect, createServer as createTlsServer, rootCertificates, Server as TlsServer } from "node:tls";
import process from "node:process";
import { sha256 as nobleSha256 } from "@noble/hashes/sha2.js";
import type { Sha256Into } from "../../protocols/pow/types.ts";
import { nodeFiles, normalizeAddress, realClock, tlsErrorText } from "./shared.ts";
import { DEFAULT_TLS_HANDSHAKE_MS, type HttpServer, type Runtime, type SocketHandle, type SocketHandlers, type SqliteDb, type TcpListener, type TlsConnectOptions, type TlsPem } from "./types.ts";

/** A TLS client that has not finished its handshake by then is dropped (it holds a socket the core does not see yet). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface NodeNetDeps {
  /** Override the hash (e.g. node:crypto on Node). Default: @noble, measured 3x faster than Deno's node:crypto. */
  sha256?: Sha256Into;
}

/** Deno's global, reached only through globalThis so this file typechecks under tsc with Bun types. */
// deno-lint-ignore no-explicit-any
const deno = (): any => (globalThis as any).Deno;

/** @noble sha256 digesting straight into `o` (a subarray is fine: noble writes through a DataView at its offset). */
export const nobleSha256Into: Sha256Into = (i, o) => {
  nobleSha256.create().update(i).digestInto(o);
};

let nextSocketId = 1;

/**
 * Node's Writable already queues what the kernel did not take, in order, so we do not keep a
 * second queue: `buffered` is socket.writableLength (bytes not yet handed to the kernel).
 * Like the Bun adapter, node keeps a reference to the written buffer until it is sent:
 * callers must not mutate a buffer after writing it.
 */
function wrap(sock: Socket, h: SocketHandlers): SocketHandle {
  sock.setNoDelay(true);
  let closed = false;
  const s: SocketHandle = {
    id: nextSocketId++,
    remoteAddress: normalizeAddress(sock.remoteAddress),
    remotePort: sock.remotePort ?? 0,
    ctx: undefined,
    get buffered() {
      return closed ? 0 : sock.writableLength;
    },
    write(data) {
      if (closed || sock.writableEnded || sock.destroyed) return 0;
      if (data.length > 0) sock.write(data);
      return sock.writableLength;
    },
    end() {
      if (!closed) sock.end();
    },
    destroy() {
      if (!closed) sock.destroy();
    },
  };
  sock.on("data", (chunk: Uint8Array) => h.data(s, chunk));
  // Without an error listener node throws; 'close' always follows an error, so we only close there.
  sock.on("error", () => {});
  sock.once("close", () => {
    if (closed) return;
    closed = true;
    h.close(s);
  });
  return s;
}

/** node:tls client: the handle exists (and `h.open` runs) only after secureConnect and `checkPeer`; node checks chain and name when `verify`. */
function connectNodeTls(host: string, port: number, h: SocketHandlers, t: TlsConnectOptions): Promise<SocketHandle> {
  return new Promise((resolve, reject) => {
    const servername = t.serverName ?? (isIP(host) === 0 ? host : undefined);
    const verify = t.rejectUnauthorized ?? true;
    const sock = tlsConnect({
      host,
      port,
      rejectUnauthorized: verify,
      ...(t.ca !== undefined && t.ca.length > 0 ? { ca: [...rootCertificates, ...t.ca] } : {}),
      ...(servername !== undefined ? { servername } : {}),
    });
    const ms = t.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_MS;
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${ms} ms`)), ms);
    const fail = (e: unknown) => {
      clearTimeout(timer);
      sock.off("error", fail);
      sock.on("error", () => {});
      sock.destroy();
      reject(new Error(tlsErrorText(e)));
    };
    sock.once("error", fail);
    sock.once("secureConnect", () => {
      clearTimeout(timer);
      sock.off("error", fail);
      if (t.checkPeer) {
        const der = sock.getPeerCertificate()?.raw;
        const why = der === undefined ? "the server sent no certificate" : t.checkPeer(new Uint8Array(der));
        if (why !== undefined) {
          sock.on("error", () => {});
          sock.destroy();
          return reject(new Error(why));
        }
      }
      const s = wrap(sock as unknown as Socket, h);
      h.open(s);
      resolve(s);
    });
  });
}

/** Bridges node:http to a fetch handler (used on Node, and under Bun in tests); buffers bodies, no streaming. */
function serveNodeHttp(host: string, port: number, fetch: (req: Request) => Response | Promise<Response>): Promise<HttpServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const chunks: Uint8Array[] = [];
      for await (const c of req) chunks.push(c as Uint8Array);
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === "string") headers.set(k, v);
        else if (Array.isArray(v)) for (const x of v) headers.append(k, x);
      }
      const method = req.method ?? "GET";
      const hasBody = method !== "GET" && method !== "HEAD" && chunks.length > 0;
      const request = new Request(`http://${req.headers.host ?? `${host}:${port}`}${req.url ?? "/"}`, {
        method,
        headers,
        body: hasBody ? new Blob(chunks as BlobPart[]) : undefined,
      });
      const response = await fetch(request);
      const body = new Uint8Array(await response.arrayBuffer());
      const out: Record<string, string> = {};
      response.headers.forEach((v, k) => (out[k] = v));
      res.writeHead(response.status, out);
      res.end(body);
    } catch {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error");
    }
  };
  return new Promise((resolve, reject) => {
    const srv = createHttpServer((req, res) => void handle(req, res));
    srv.once("error", reject);
    srv.listen(port, host, () => {
      srv.off("error", reject);
      resolve({
        port: (srv.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            srv.close(() => r());
            srv.closeAllConnections?.();
          }),
      });
    });
  });
}

async function serveDenoHttp(host: string, port: number, fetch: (req: Request) => Response | Promise<Response>): Promise<HttpServer> {
  // Deno.serve binds synchronously (throws on EADDRINUSE) and exposes the bound port on .addr; onListen silences its banner.
  const server: { addr: { port: number }; shutdown(): Promise<void> } = deno().serve({ hostname: host, port, onListen: () => {} }, fetch);
  return { port: server.addr.port, close: () => server.shutdown() };
}

export function createNodeNetRuntime(name: "deno" | "node", deps: NodeNetDeps = {}): Runtime {
  const D = name === "deno" ? deno() : undefined;
  return {
    name,
    // Node's net has no worker-thread port sharing we could rely on across Node and Deno versions.
    canShareListeners: false,
    listen(host, port, h, opts): Promise<TcpListener> {
      return new Promise((resolve, reject) => {
        const accept = (sock: Socket) => {
          const s = wrap(sock, h);
          h.open(s);
        };
        const pem = opts?.tls;
        // TLS: the core sees a connection once its handshake is done; setSecureContext swaps the
        // certificate for new handshakes only, open connections keep theirs.
        const server = pem === undefined ? createServer({ noDelay: true }, accept) : createTlsServer({ ...pem, noDelay: true, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, accept);
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          server.on("error", () => {}); // accept errors (EMFILE...) must not crash the process
          resolve({
            host,
            port: (server.address() as AddressInfo).port,
            close: () => void server.close(),
            ...(server instanceof TlsServer ? { setTls: (next: TlsPem) => server.setSecureContext(next) } : {}),
          });
        });
      });
    },
    connect(host, port, h, opts): Promise<SocketHandle> {
      if (opts?.tls) return connectNodeTls(host, port, h, opts.tls);
      return new Promise((resolve, reject) => {
        const t = opts?.tls;
        // SNI carries names only: node:tls throws on an IP address as servername.
        const servername = t?.serverName ?? (isIP(host) === 0 ? host : undefined);
        const sock = t === undefined ? netConnect({ host, port }) : tlsConnect({ host, port, rejectUnauthorized: t.rejectUnauthorized ?? true, ...(servername !== undefined ? { servername } : {}) });
        const fail = (e: Error) => reject(e);
        sock.once("error", fail);
        sock.once(t === undefined ? "connect" : "secureConnect", () => {
          sock.off("error", fail);
          const s = wrap(sock, h);
          h.open(s);
          resolve(s);
        });
      });
    },
    serveHttp(host, port, fetch) {
      return D ? serveDenoHttp(host, port, fetch) : serveNodeHttp(host, port, fetch);
    },
    sha256: deps.sha256 ?? nobleSha256Into,
    clock: realClock,
    files: nodeFiles,
    async openSqlite(path) {
      // node:sqlite (Deno 2.2+, Node 22.5+): imported on first use so a runtime without it still runs a relay with no share log.
      const { DatabaseSync } = await import("node:sqlite");
      return new DatabaseSync(path) as unknown as SqliteDb;
    },
    rss: () => (D ? D.memoryUsage().rss : process.memoryUsage().rss),
    onSignal(signal, fn) {
      if (D) D.addSignalListener(signal, fn);
      else process.on(signal, fn);
    },
    exit(code): never {
      if (D) D.exit(code);
      process.exit(code);
    },
    args: () => (D ? [...D.args] : process.argv.slice(2)),
    env(key) {
      if (!D) return process.env[key];
      try {
        return D.env.get(key);
      } catch {
        return undefined; // no --allow-env: behave as unset
      }
    },
  };
}
