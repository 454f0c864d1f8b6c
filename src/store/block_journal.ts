// Found-block journal: fsynced JSON lines in <dataDir>/blocks.jsonl written BEFORE submitblock, read back for retries; no submitting here.
import type { Files } from "../runtime/types.ts";

export interface BlockCandidate {
  height: number;
  /** Block hash, display order. */
  hash: string;
  /** The full block as it is (or will be) submitted. */
  blockHex: string;
  worker: string;
  /** Unix milliseconds. */
  foundAt: number;
}

export interface BlockResult {
  accepted: boolean;
  reason?: string;
  /** Unix milliseconds. */
  at: number;
}

export type JournalEntry = BlockCandidate & { result?: BlockResult };

export interface BlockJournal {
  /** Durably appends the candidate (returns after fsync); call before submitting so a crash cannot lose a block. */
  record(c: BlockCandidate): void;
  /** Durably appends the upstream's final answer. Do not record transport failures: the block stays unsubmitted and is retried. */
  recordResult(hash: string, result: BlockResult): void;
  /** Every candidate in file order (one per hash), with its latest result. */
  list(): JournalEntry[];
  /** Candidates with no result line yet. */
  unsubmitted(): JournalEntry[];
  readonly path: string;
}

type Line = ({ type: "candidate" } & BlockCandidate) | ({ type: "result"; hash: string } & BlockResult);

function isObj(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** A line from disk, checked field by field; anything else (torn write, hand edit) is skipped, never thrown. */
function parseJournalLine(text: string): Line | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(v) || typeof v.hash !== "string") return undefined;
  if (v.type === "candidate") {
    if (typeof v.height !== "number" || typeof v.blockHex !== "string" || typeof v.worker !== "string" || typeof v.foundAt !== "number")
      return undefined;
    return { type: "candidate", height: v.height, hash: v.hash, blockHex: v.blockHex, worker: v.worker, foundAt: v.foundAt };
  }
  if (v.type === "result") {
    if (typeof v.accepted !== "boolean" || typeof v.at !== "number") return undefined;
    const r: Line = { type: "result", hash: v.hash, accepted: v.accepted, at: v.at };
    if (typeof v.reason === "string") r.reason = v.reason;
    return r;
  }
  return undefined;
}

export function createBlockJournal(files: Files, dataDir: string): BlockJournal {
  const path = `${dataDir.replace(/\/+$/, "") || "."}/blocks.jsonl`;
  files.mkdirp(dataDir);
  // A crash mid-append leaves a line without its newline; seal it now so the next record starts on a fresh
  // line instead of being glued onto (and lost with) the torn fragment.
  const existing = files.readText(path);
  if (existing !== undefined && existing.length > 0 && !existing.endsWith("\n")) files.appendDurable(path, "\n");

  function list(): JournalEntry[] {
    const text = files.readText(path) ?? "";
    const byHash = new Map<string, JournalEntry>();
    for (const raw of text.split("\n")) {
      if (raw.trim() === "") continue;
      const line = parseJournalLine(raw);
      if (!line) continue;
      if (line.type === "candidate") {
        if (!byHash.has(line.hash)) {
          const { type: _t, ...c } = line;
          byHash.set(line.hash, c);
        }
      } else {
        const entry = byHash.get(line.hash);
        if (entry) {
          const { type: _t, hash: _h, ...r } = line;
          entry.result = r;
        }
      }
    }
    return [...byHash.values()];
  }

  return {
    path,
    record(c) {
      const line = { type: "candidate", height: c.height, hash: c.hash, blockHex: c.blockHex, worker: c.worker, foundAt: c.foundAt };
      files.appendDurable(path, `${JSON.stringify(line)}\n`);
    },
    recordResult(hash, result) {
      const line: Record<string, unknown> = { type: "result", hash, accepted: result.accepted, at: result.at };
      if (result.reason !== undefined) line.reason = result.reason;
      files.appendDurable(path, `${JSON.stringify(line)}\n`);
    },
    list,
    unsubmitted: () => list().filter((e) => e.result === undefined),
  };
}
