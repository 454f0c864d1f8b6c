// The runtime seams (sockets, HTTP, clock, files, hashing) that the rest of src/ uses; adapters implement them, only main.ts picks one.
import type { Sha256Into } from "../../protocols/pow/types.ts";

/** One accepted or dialled TCP connection. Writes never block: the adapter queues what the kernel did not take. */
export interface SocketHandle {
  /** Unique per process, stable for the socket's life. */
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /**
   * Queue bytes (or text, sent as UTF-8) for sending; returns bytes now buffered in user space (0 = all
   * handed to the kernel). Text lets an adapter hand a reply to the kernel without a Uint8Array per write.
   */
  write(data: Uint8Array | string): number;
  /** Flush what is queued, then close. */
  end(): void;
  /** Close now, dropping anything queued. */
  destroy(): void;
  /** Bytes queued in user space, not yet taken by the kernel. */
  readonly buffered: number;
  /** Free slot for the core's per-connection state (avoids a Map lookup per read). */
  ctx: unknown;
}

export interface SocketHandlers {
  open(s: SocketHandle): void;
  data(s: SocketHandle, chunk: Uint8Array): void;
  /** Called once, whoever closed it. */
  close(s: SocketHandle): void;
}

/** A certificate chain and its private key, PEM text (already read and checked, see src/server/tls_files.ts). */
export interface TlsPem {
  cert: string;
  key: string;
}

/**
 * Client-side TLS for connect(): upstream pools and nodes (src/upstream/tls_config.ts builds it from
 * their `tls` settings) and the bench's load generator dialling TLS listeners. connect() resolves
 * only once the handshake and every check passed.
 */
export interface TlsConnectOptions {
  /** false = accept any certificate (self-signed test ports, `tls.insecure`); default true: chain and name checked. */
  rejectUnauthorized?: boolean;
  /** SNI and the name checked against the certificate; default the host dialled (no SNI for an IP literal). */
  serverName?: string;
  /** PEM certificates trusted in addition to the runtime's own root store. */
  ca?: string[];
  /** Called with the server's certificate (DER) after the handshake; a string refuses the connection with that reason. */
  checkPeer?: (certDer: Uint8Array) => string | undefined;
  /** TCP connect + handshake must finish within this (default 10 s): a server that accepts and stays silent must not hold a socket forever. */
  handshakeTimeoutMs?: number;
}

export const DEFAULT_TLS_HANDSHAKE_MS = 10_000;

export interface TcpListener {
  readonly host: string;
  readonly port: number;
  /** Stop accepting; open sockets stay up. */
  close(): void;
  /**
   * Present on TLS listeners: new connections get this certificate/key, open ones keep theirs.
   * Throws if the runtime refuses the pair (the listener then still serves the old one).
   */
  setTls?(tls: TlsPem): void;
}

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export type TimerId = unknown;

/** Injected time: production uses the real one, tests a manual clock. Milliseconds. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
  setInterval(fn: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
}

export interface Files {
  mkdirp(path: string): void;
  /** Append and fsync before returning: used for found blocks, which must never be lost. */
  appendDurable(path: string, text: string): void;
  readText(path: string): string | undefined;
  writeText(path: string, text: string): void;
  readBytes(path: string): Uint8Array | undefined;
  /** Whole-file write that never leaves a partial file under `path` (write to a temp name, then rename). */
  writeBytesAtomic(path: string, data: Uint8Array): void;
  /** The first `bytes` bytes (fewer when the file is shorter); undefined when there is no such file. */
  readHead(path: string, bytes: number): Uint8Array | undefined;
  /** Whether this process may write `path` (a file, or a directory to create files in). */
  writable(path: string): boolean;
}

/** A prepared SQLite statement; positional `?` parameters. */
export interface SqliteStatement {
  run(...params: SqliteValue[]): { changes: number | bigint };
  all(...params: SqliteValue[]): Record<string, SqliteValue>[];
}

export type SqliteValue = string | number | bigint | null | Uint8Array;

/** The slice of the runtime's SQLite (`bun:sqlite` Database, `node:sqlite` DatabaseSync) the store uses; both have it as is. */
export interface SqliteDb {
  exec(sql: string): void;
  prepare(sql: string): SqliteStatement;
  close(): void;
}

export interface Runtime {
  readonly name: "bun" | "deno" | "node";
  /**
   * `reusePort` (SO_REUSEPORT, Linux): several threads listen on one port and the kernel spreads
   * connections over them. Only adapters that can share a port across threads honour it (Bun).
   */
  /** `tls`: terminate TLS on this port (the handlers see plaintext); the listener then has setTls(). */
  listen(host: string, port: number, h: SocketHandlers, opts?: { reusePort?: boolean; tls?: TlsPem }): Promise<TcpListener>;
  /** Whether listen() honours reusePort, i.e. whether session threads can share the Stratum ports. */
  readonly canShareListeners: boolean;
  /** `tls`: the handle is returned (and `h.open` called) only after the TLS handshake and its checks (a failed check rejects); the handlers see plaintext. */
  connect(host: string, port: number, h: SocketHandlers, opts?: { tls?: TlsConnectOptions }): Promise<SocketHandle>;
  serveHttp(host: string, port: number, fetch: (req: Request) => Response | Promise<Response>): Promise<HttpServer>;
  readonly sha256: Sha256Into;
  readonly clock: Clock;
  readonly files: Files;
  /** Open (creating) a SQLite database file with the runtime's own SQLite: bun:sqlite on Bun, node:sqlite on Deno/Node. */
  openSqlite(path: string): Promise<SqliteDb>;
  /** Resident set size in bytes. */
  rss(): number;
  onSignal(signal: "SIGINT" | "SIGTERM" | "SIGHUP", fn: () => void): void;
  exit(code: number): never;
  /** Command-line arguments after the program (and script) name. */
  args(): string[];
  env(name: string): string | undefined;
}
