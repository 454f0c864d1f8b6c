// End-to-end helper for HTTP over a raw TCP socket (keep-alive, pipelining, malformed requests): writes bytes as given and splits what comes back into HTTP/1.1 responses; no assertions.
import { createConnection, type Socket } from "node:net";
import { HOST, waitUntil } from "./helpers.ts";

export interface RawHttpResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  body: string;
  /** body parsed as JSON, or undefined. */
  json: unknown;
}

export interface RawHttp {
  write(text: string): void;
  /** The next complete response not yet taken (already received or future); rejects on timeout or close without one. */
  next(timeoutMs?: number, what?: string): Promise<RawHttpResponse>;
  /** Bytes received that do not (yet) form a response, e.g. a JSON-RPC line from a line dialect. */
  rest(): string;
  isClosed(): boolean;
  waitClosed(timeoutMs?: number): Promise<void>;
  close(): void;
}

/** A POST of one JSON-RPC body with Content-Length (extra header lines end in \r\n). */
export function httpPost(path: string, body: unknown, extra = ""): string {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nHost: pool\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}\r\n${text}`;
}

export function rawHttp(port: number): Promise<RawHttp> {
  return new Promise((resolve, reject) => {
    const sock: Socket = createConnection({ host: HOST, port });
    let buf = "";
    let closed = false;
    const responses: RawHttpResponse[] = [];
    const listeners = new Set<() => void>();
    const notify = () => {
      for (const l of [...listeners]) l();
    };
    const parse = () => {
      for (;;) {
        const end = buf.indexOf("\r\n\r\n");
        if (!buf.startsWith("HTTP/") || end < 0) return;
        const lines = buf.slice(0, end).split("\r\n");
        const headers: Record<string, string> = {};
        for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(":")).trim().toLowerCase()] = l.slice(l.indexOf(":") + 1).trim();
        const status = Number(lines[0]!.split(" ")[1]);
        const len = Number(headers["content-length"] ?? "0");
        if (buf.length < end + 4 + len) return;
        const body = buf.slice(end + 4, end + 4 + len);
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        responses.push({ status, headers, body, json });
        buf = buf.slice(end + 4 + len);
      }
    };
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => {
      buf += d;
      parse();
      notify();
    });
    sock.on("close", () => {
      closed = true;
      notify();
    });
    sock.on("error", () => {});
    const client: RawHttp = {
      write: (text) => void sock.write(Buffer.from(text, "latin1")),
      next(timeoutMs = 5000, what = "an HTTP response") {
        return new Promise((res, rej) => {
          const check = () => {
            const r = responses.shift();
            if (r !== undefined) {
              done();
              return res(r);
            }
            if (closed) {
              done();
              rej(new Error(`connection closed while waiting for ${what}; unparsed: ${JSON.stringify(buf.slice(0, 300))}`));
            }
          };
          const timer = setTimeout(() => {
            done();
            rej(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; unparsed: ${JSON.stringify(buf.slice(0, 300))}`));
          }, timeoutMs);
          const done = () => {
            listeners.delete(check);
            clearTimeout(timer);
          };
          listeners.add(check);
          check();
        });
      },
      rest: () => buf,
      isClosed: () => closed,
      waitClosed(timeoutMs = 5000) {
        return waitUntil(listeners, () => closed, timeoutMs, () => `timed out after ${timeoutMs} ms waiting for the server to close`);
      },
      close: () => void sock.destroy(),
    };
    sock.once("connect", () => resolve(client));
    sock.once("error", (e) => reject(new Error(`connect ${HOST}:${port}: ${e.message}`)));
  });
}
