// One slot of relay mode: the miners sharing one upstream connection, with their own job book, extranonce prefixes and session policy; it does not choose pools or open connections.
import type { ForwardRequest, ForwardResult, ShareRecord, VerifyRequest, VerifyResult } from "../../protocols/core/actions.ts";
import type { StratumV1Env, StratumV1Policy } from "../../protocols/stratum-v1/session.ts";
import type { StratumJob } from "../../protocols/stratum-v1/job_types.ts";
import type { Carve } from "../../protocols/stratum-v1/relay_job.ts";
import { buildRelayJob } from "../../protocols/stratum-v1/relay_job.ts";
import type { UpstreamNotify, UpstreamVerdict } from "../../protocols/stratum-v1/upstream_session.ts";
import type { Sha256Into } from "../../protocols/pow/types.ts";
import type { PoolPort } from "../server/server.ts";
import type { StratumLink } from "../upstream/pool/stratum_link.ts";
import { createExtranonceAllocator, type ExtranonceAllocator } from "./extranonce.ts";
import { createJobBook, type JobBook } from "./job_book.ts";

export interface Slot extends PoolPort<StratumV1Env> {
  readonly index: number;
  readonly book: JobBook;
  readonly prefixes: ExtranonceAllocator;
  /** The session policy of this slot's miners (extranonce2 size and version mask follow the upstream). */
  readonly policy: StratumV1Policy;
  /** The connection this slot's jobs come from, and the endpoint it is to; undefined between connections. */
  link: StratumLink | undefined;
  endpoint: number;
  carve: Carve | undefined;
  /** The newest notify of `link`, kept so a re-carve or switch can rebuild the current job at once. */
  last: { notify: UpstreamNotify; difficulty: number } | undefined;
  /** A connection to a preferred pool being tried while this slot works on a backup. */
  probe: { link: StratumLink; endpoint: number } | undefined;
  /** Set once the slot told its miners that no upstream has work (cleared when work returns). */
  toldNoWork: boolean;
  /** Subscription id each pool gave this slot last, sent back on reconnect so the pool may keep our extranonce1. */
  resume: Map<number, string>;
  /** Set when `link` changed: its first job is clean whatever the pool says. */
  freshLink: boolean;
  nextFailbackAt: number;
  /** Turn an upstream job into ours and keep it; undefined when the pool sent something unusable. */
  adoptJob(notify: UpstreamNotify, difficulty: number, clean: boolean): { job: StratumJob } | { why: string };
}

export interface SlotOptions {
  index: number;
  sha: Sha256Into;
  /** Copied: each slot's miners get the extranonce2 size and mask its upstream allows. */
  policy: StratumV1Policy;
  prefixBytes: number;
  keepJobs: number;
  now: number;
  onShare(share: ShareRecord, remote: string): void;
  /** Submits a share upstream on the link that issued its job. */
  submit(slot: Slot, req: ForwardRequest): Promise<{ verdict: UpstreamVerdict; latencyMs: number } | undefined>;
  /** Scrypt chains: the pool's off-loop share hasher. */
  verify?(req: VerifyRequest): Promise<VerifyResult>;
}

/** Our vocabulary for an upstream verdict; the pool's own text stays in the message the miner sees. */
export function forwardResultOf(v: UpstreamVerdict | undefined): ForwardResult {
  if (v === undefined) return { verdict: "unconfirmed", reason: "upstream_unavailable", message: "no upstream connection for this job" };
  switch (v.kind) {
    case "accepted":
      return { verdict: "accepted" };
    case "rejected":
      return { verdict: "rejected", reason: v.reason, message: `upstream: ${v.code !== undefined ? v.code + " " : ""}${v.message}`.trim() };
    case "timeout":
      return { verdict: "unconfirmed", reason: "upstream_timeout", message: "" };
    case "lost":
      return { verdict: "unconfirmed", reason: "upstream_unavailable", message: "upstream connection lost before its verdict" };
  }
}

export function createSlot(o: SlotOptions): Slot {
  const policy: StratumV1Policy = { ...o.policy, vardiff: { ...o.policy.vardiff } };
  const prefixes = createExtranonceAllocator(o.prefixBytes);
  // Placeholder coinbase options: a relay book never builds from templates, only adopts built jobs.
  const book = createJobBook({
    keep: o.keepJobs,
    sha: o.sha,
    coinbase: { payoutScript: new Uint8Array(0), poolTag: "", extranonce1Size: o.prefixBytes, extranonce2Size: policy.extranonce2Size },
  });
  const env: StratumV1Env = { now: o.now, sha: o.sha, jobs: book, extranonce: prefixes, policy };
  const slot: Slot = {
    name: `relay-slot-${o.index}`,
    index: o.index,
    env,
    book,
    prefixes,
    policy,
    link: undefined,
    endpoint: -1,
    carve: undefined,
    last: undefined,
    probe: undefined,
    toldNoWork: false,
    freshLink: false,
    resume: new Map(),
    nextFailbackAt: 0,
    allocateExtranonce1: () => prefixes.allocate(),
    onShare: (share, remote) => o.onShare(share, remote),
    onBlock() {
      // Relay mode: the upstream pool submits blocks; the forwarded share carries the block flag.
    },
    ...(o.verify !== undefined ? { verify: o.verify } : {}),
    async forward(req) {
      return forwardResultOf((await o.submit(slot, req))?.verdict);
    },
    adoptJob(notify, difficulty, clean) {
      const link = slot.link;
      if (link === undefined || slot.carve === undefined) return { why: "no upstream connection" };
      const r = buildRelayJob({ id: book.mintId(), notify, carve: slot.carve, upstreamDifficulty: difficulty, diff1: policy.diff1, link: link.id });
      if (!r.ok) return { why: r.why };
      book.adopt(r.job, clean || notify.clean);
      return { job: r.job };
    },
  };
  return slot;
}
