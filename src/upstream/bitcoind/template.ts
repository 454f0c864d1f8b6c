// getblocktemplate on one node and the pure decision of what a fetched template means (first, new tip, refresh, unchanged, older news); no state changes.
import type { BlockTemplate } from "../../../protocols/bitcoin/template.ts";
import { parseTemplate, sameWork, type RpcError } from "../bitcoind_rpc.ts";
import type { NodeState } from "./node_state.ts";

/** BIP22/23 client capabilities; Core ignores what it does not implement (it still sends coinbasevalue). */
const CAPABILITIES = ["coinbasetxn", "workid", "coinbase/append", "longpoll"];

export interface FetchedTemplate {
  template: BlockTemplate;
  longpollid?: string;
}

export type Fetched = ({ ok: true } & FetchedTemplate) | { ok: false; error: RpcError | string };

export async function fetchTemplate(
  n: NodeState,
  rules: string[],
  o?: { longpollid?: string; timeoutMs?: number; signal?: AbortSignal },
): Promise<Fetched> {
  const req: Record<string, unknown> = { rules, capabilities: CAPABILITIES };
  if (o?.longpollid !== undefined) req.longpollid = o.longpollid;
  const r = await n.rpc.call("getblocktemplate", [req], { timeoutMs: o?.timeoutMs, signal: o?.signal });
  if (!r.ok) return { ok: false, error: r.error };
  const p = parseTemplate(r.value, rules);
  return p.ok ? p : { ok: false, error: p.message };
}

/**
 * What a template fetched while `fetchedEpoch` was the tip epoch means next to the current one:
 * "initial" (none yet), "new_block" (another prevhash), "older" (another prevhash, but a newer tip was
 * applied since it was fetched: drop it), "refresh" (same tip, other work, or `mustEmit`), "unchanged".
 */
export type TemplateChange = "initial" | "new_block" | "older" | "refresh" | "unchanged";

export function classifyTemplate(
  prev: BlockTemplate | undefined,
  next: BlockTemplate,
  fetchedEpoch: number,
  tipEpoch: number,
  mustEmit: boolean,
): TemplateChange {
  if (!prev) return "initial";
  if (next.previousBlockHash !== prev.previousBlockHash) return fetchedEpoch === tipEpoch ? "new_block" : "older";
  return mustEmit || !sameWork(prev, next) ? "refresh" : "unchanged";
}
