// Decides from a connection's first bytes whether it opens an HTTP/1.x request or a line-based JSON-RPC dialect; it parses nothing further.

/** "http": the bytes start a request line; "line": they cannot; "undecided": too few bytes to tell yet. */
export type FirstBytesVerdict = "http" | "line" | "undecided";

/** Request-line prefixes taken for HTTP (method and its space); every other opening is a line dialect (JSON starts with "{"). */
export const HTTP_METHOD_PREFIXES: readonly string[] = ["GET ", "POST ", "HEAD ", "OPTIONS ", "PUT ", "DELETE ", "PATCH "];

/** Longest prefix above: no more bytes than this are ever needed to decide. */
export const MAX_SNIFF_BYTES = Math.max(...HTTP_METHOD_PREFIXES.map((p) => p.length));

/**
 * Compares the bytes seen so far with each method prefix. A prefix that matches all of them while
 * shorter than the prefix keeps the verdict open; a full match is HTTP. The verdict depends only on
 * the bytes, never on how they were split into pushes.
 */
export function detectHttpRequest(first: Uint8Array): FirstBytesVerdict {
  if (first.length === 0) return "undecided";
  let open = false;
  for (const p of HTTP_METHOD_PREFIXES) {
    const n = Math.min(p.length, first.length);
    let same = true;
    for (let i = 0; i < n; i++) {
      if (first[i] !== p.charCodeAt(i)) {
        same = false;
        break;
      }
    }
    if (!same) continue;
    if (first.length >= p.length) return "http";
    open = true;
  }
  return open ? "undecided" : "line";
}
