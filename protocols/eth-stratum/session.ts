// EthereumStratum/1.0.0 (NiceHash) session reducer: subscribe/authorize/notify/submit; hashimoto runs off-loop via "verify" actions.
import type { JsonRpcId, RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import type { Reason } from "../errors/reasons.ts";
import type { Action, VerifyResult } from "../core/actions.ts";
import type { Dialect, JobEvent, OpenInfo } from "../core/dialect.ts";
import type { EthJob } from "../eth/work.ts";
import type { EthEnv } from "../eth/env.ts";
import { passwordDifficulty } from "../core/difficulty.ts";
import { closeSession, effectiveEthDifficulty, ethTick } from "../eth/session_common.ts";
import { type NotifySessionState, type NotifyWire, checkNotifyShare, findSent, notifyForwarded, notifyJob, notifyVerified, sendNotifyWork, shareRejected } from "../eth/notify_session.ts";
import { parseEthStratumMessage, type EthStratumMessage } from "./client_to_server.ts";
import { encodeEthStratumNotify, encodeEthStratumSubscribeResult, encodeSetDifficulty, encodeTrue, ETH_STRATUM_PROTOCOL } from "./server_to_client.ts";
import { encodeEthStratumReason } from "./errors.ts";
import { fullNonce, minerNonceDigits } from "./nonce.ts";
import { encodeResult } from "../jsonrpc/envelope.ts";

/** Difficulty, timeouts, vardiff window and sent jobs are NotifySessionState's. */
export interface EthStratumState extends NotifySessionState {
  /** At most 3 bytes (hex); the miner owns the other 8 − len nonce bytes. */
  extranonce: string;
  subscribed: boolean;
  worker: string | undefined;
  moreWorkers: Set<string> | undefined;
  hashrate: bigint | undefined;
}

const close = closeSession;

function reject(s: EthStratumState, id: JsonRpcId, reason: Reason, env: EthEnv, out: Action[], detail?: string): void {
  out.push({ kind: "write", data: encodeEthStratumReason(id, reason, detail) });
  if (reason === "malformed") out.push({ kind: "abuse", what: "malformed" });
  if (reason === "malformed" && ++s.malformed >= env.policy.maxMalformed) close(s, "malformed", out);
}

const effectiveDifficulty = effectiveEthDifficulty;

/** The job carries no target: mining.set_difficulty goes before it whenever the difficulty changed. */
function announce(s: EthStratumState, d: number, out: Action[]): void {
  if (d !== s.announced) {
    s.announced = d;
    out.push({ kind: "write", data: encodeSetDifficulty(d) });
  }
}

const wire: NotifyWire<EthStratumState> = {
  memoKey: "eth-stratum",
  notify: (job, clean) => encodeEthStratumNotify(job.id, job.seedHash, job.headerHash, clean),
  announce: (s, _job, d, out) => announce(s, d, out),
  ok: encodeTrue,
  error: encodeEthStratumReason,
  reject: (s, id, reason, env, out) => reject(s, id, reason, env, out),
  loggedIn: (s) => s.subscribed && s.worker !== undefined,
};

function sendWork(s: EthStratumState, env: EthEnv, out: Action[]): void {
  sendNotifyWork(s, env, out, wire);
}

function authorized(s: EthStratumState, worker: string): boolean {
  return worker === s.worker || s.moreWorkers?.has(worker) === true;
}

function onSubmit(s: EthStratumState, m: Extract<EthStratumMessage, { type: "submit" }>, env: EthEnv, out: Action[]): void {
  if (!s.subscribed) return reject(s, m.id, "not_subscribed", env, out);
  if (!authorized(s, m.worker)) return reject(s, m.id, "unauthorized", env, out);
  const sent = findSent(s, m.jobId);
  const job = sent === undefined ? undefined : env.jobs.byId(m.jobId);
  if (sent === undefined || job === undefined) return shareRejected(s, m.id, m.worker, "stale", undefined, 0, env, out, wire);
  const nonce = fullNonce(s.extranonce, m.minerNonce);
  if (nonce === undefined) {
    return reject(s, m.id, "malformed", env, out, `miner nonce must be ${minerNonceDigits(s.extranonce)} hex digits`);
  }
  checkNotifyShare(s, m.id, m.worker, sent, job, nonce, env, out, wire);
}

function onMessage(s: EthStratumState, m: EthStratumMessage, env: EthEnv, out: Action[]): void {
  switch (m.type) {
    case "submit":
      return onSubmit(s, m, env, out);
    case "subscribe":
      if (m.protocol !== ETH_STRATUM_PROTOCOL) return reject(s, m.id, "unsupported_method", env, out, `protocol ${m.protocol.slice(0, 40)}`);
      s.subscribed = true;
      out.push({ kind: "write", data: encodeEthStratumSubscribeResult(m.id, s.extranonce, s.extranonce) });
      if (s.worker !== undefined && !s.workSent) s.needsWork = true;
      return;
    case "authorize": {
      const user = m.user.trim();
      if (user.length === 0 || user.length > 256) {
        out.push({ kind: "abuse", what: "login_failed" });
        return reject(s, m.id, "unauthorized", env, out);
      }
      if (s.worker === undefined) s.worker = m.user;
      else if (m.user !== s.worker) (s.moreWorkers ??= new Set()).add(m.user);
      const d = passwordDifficulty(m.password);
      if (d !== undefined) {
        s.fixed = d;
        if (s.workSent && effectiveDifficulty(s, env) !== s.announced) s.needsWork = true;
      }
      out.push({ kind: "write", data: encodeTrue(m.id) });
      if (s.subscribed && !s.workSent) s.needsWork = true;
      return;
    }
    case "extranonce_subscribe":
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    case "submit_hashrate":
      s.hashrate = m.hashrate;
      out.push({ kind: "write", data: encodeResult(m.id, true) });
      return;
    case "response":
      return;
    case "unknown":
      return reject(s, m.id, "unsupported_method", env, out, m.method.slice(0, 64));
    case "invalid":
      return reject(s, m.id, "malformed", env, out, m.detail);
  }
}

export const ethStratum: Dialect<EthStratumState, EthEnv, EthJob> = {
  name: "eth-stratum",

  detect(first) {
    if (first.kind !== "request" || first.method !== "mining.subscribe") return false;
    const p = first.params;
    return Array.isArray(p) && p[1] === ETH_STRATUM_PROTOCOL;
  },

  open(info: OpenInfo, env) {
    const diffPolicy = info.difficulty ?? env.policy;
    return {
      extranonce: info.extranonce1,
      subscribed: false,
      worker: undefined,
      moreWorkers: undefined,
      diffPolicy,
      difficulty: diffPolicy.initialDifficulty,
      fixed: undefined,
      announced: Number.NaN,
      sentJobs: [],
      needsWork: false,
      workSent: false,
      hashrate: undefined,
      windowStartMs: env.now,
      shares: 0,
      openedAt: env.now,
      lastMessageAt: env.now,
      malformed: 0,
      closing: false,
    };
  },

  receive(s, msg: RpcMessage | RpcParseError, env, out) {
    if (s.closing) return;
    s.lastMessageAt = env.now;
    if (msg.kind === "invalid") return reject(s, msg.id, "malformed", env, out, msg.detail);
    onMessage(s, parseEthStratumMessage(msg), env, out);
  },

  flush(s, env, out) {
    if (s.needsWork && !s.closing && s.subscribed && s.worker !== undefined) sendWork(s, env, out);
  },

  job(s, ev: JobEvent<EthJob>, env, out) {
    notifyJob(s, ev, env, out, wire);
  },

  verified(s, req, res: VerifyResult, env, out) {
    notifyVerified(s, req, res, env, out, wire);
  },

  forwarded(s, req, res, env, out) {
    notifyForwarded(s, req, res, env, out, wire);
  },

  tick(s, env, out) {
    ethTick(s, s.worker !== undefined, s.workSent, env, out, () => sendWork(s, env, out));
  },


  shutdown(s, _env, out) {
    close(s, "shutdown", out);
  },

  closed(s, env) {
    env.extranonce.release(s.extranonce);
  },
};
