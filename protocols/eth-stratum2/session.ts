// EIP-1571 (EthereumStratum/2.0.0) session reducer: hello/subscribe/authorize, mining.set + mining.notify, submit/hashrate/noop/bye; hashimoto runs off-loop via "verify" actions.
import type { JsonRpcId, RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import type { Reason } from "../errors/reasons.ts";
import type { Action, VerifyResult } from "../core/actions.ts";
import type { Dialect, JobEvent, OpenInfo } from "../core/dialect.ts";
import type { EthJob } from "../eth/work.ts";
import type { EthEnv } from "../eth/env.ts";
import { passwordDifficulty } from "../core/difficulty.ts";
import { closeSession, effectiveEthDifficulty, ethTick } from "../eth/session_common.ts";
import { type NotifyWire, type NotifySessionState, checkNotifyShare, findSent, notifyForwarded, notifyJob, notifyVerified, sendNotifyWork, shareRejected } from "../eth/notify_session.ts";
import { difficultyToTarget } from "../pow/target.ts";
import { fullNonce, minerNonceDigits } from "../eth-stratum/nonce.ts";
import { ETH_STRATUM2_PROTOCOL, isEip1571Id, parseEthStratum2Message, type EthStratum2Message } from "./client_to_server.ts";
import { BYE_LINE, encodeHelloResult, encodeNotify2, encodeOk, encodeResult2, encodeSet, type SetParams } from "./server_to_client.ts";
import { encodeEthStratum2Reason } from "./errors.ts";

/** The `node` member of the hello result (EIP-1571: the software behind the pool). */
export const NODE_NAME = "stratum-edge";

/** Difficulty, timeouts, vardiff window and sent jobs are NotifySessionState's. */
export interface EthStratum2State extends NotifySessionState {
  /** At most 3 bytes (hex), sent in mining.set; the miner submits the other 8 − len nonce bytes. */
  extranonce: string;
  helloDone: boolean;
  subscribed: boolean;
  /** Worker token (what mining.authorize answered) → worker name. */
  workers: Map<string, string>;
  /** Epoch and algo the last mining.set carried (-1 / "" = none yet); `announced` is the difficulty of its target. */
  setEpoch: number;
  setAlgo: string;
  hashrate: bigint | undefined;
}

function reject(s: EthStratum2State, id: JsonRpcId, reason: Reason, env: EthEnv, out: Action[], detail?: string): void {
  // Requests get an answer; a notification (no id) does not (EIP-1571 "Notifications").
  if (id !== null) out.push({ kind: "write", data: encodeEthStratum2Reason(id, reason, detail) });
  if (reason === "malformed") out.push({ kind: "abuse", what: "malformed" });
  if (reason === "malformed" && ++s.malformed >= env.policy.maxMalformed) closeSession(s, "malformed", out);
}

/** mining.set before a job: all four members the first time, afterwards only what changed (EIP-1571 "Prepare for mining"). */
function setFor(s: EthStratum2State, job: EthJob, d: number, out: Action[]): void {
  const first = Number.isNaN(s.announced);
  const p: SetParams = {};
  if (first || job.epoch !== s.setEpoch) p.epoch = job.epoch;
  if (first || d !== s.announced) p.target = difficultyToTarget(d);
  if (first || job.algo !== s.setAlgo) p.algo = job.algo;
  if (first) p.extranonce = s.extranonce;
  if (p.epoch === undefined && p.target === undefined && p.algo === undefined && p.extranonce === undefined) return;
  s.announced = d;
  s.setEpoch = job.epoch;
  s.setAlgo = job.algo;
  out.push({ kind: "write", data: encodeSet(p) });
}

const wire: NotifyWire<EthStratum2State> = {
  memoKey: "eth-stratum2",
  notify: (job, clean) => encodeNotify2(job.id, job.blockNumber, job.headerHash, clean),
  announce: setFor,
  ok: encodeOk,
  error: encodeEthStratum2Reason,
  reject: (s, id, reason, env, out) => reject(s, id, reason, env, out),
  loggedIn: (s) => s.workers.size > 0,
};

/** As in EthereumStratum/1.0.0: a re-sent job is judged at the lower of its old and new difficulty (see sendNotifyWork). */
function sendWork(s: EthStratum2State, env: EthEnv, out: Action[]): void {
  sendNotifyWork(s, env, out, wire);
}

function onSubmit(s: EthStratum2State, m: Extract<EthStratum2Message, { type: "submit" }>, env: EthEnv, out: Action[]): void {
  if (!s.subscribed) return reject(s, m.id, "not_subscribed", env, out);
  const worker = s.workers.get(m.token);
  // EIP-1571: a submit whose token the session never issued MUST be rejected.
  if (worker === undefined) return reject(s, m.id, "unauthorized", env, out);
  const sent = findSent(s, m.jobId);
  const job = sent === undefined ? undefined : env.jobs.byId(m.jobId);
  if (sent === undefined || job === undefined) return shareRejected(s, m.id, worker, "stale", undefined, 0, env, out, wire);
  const nonce = fullNonce(s.extranonce, m.minerNonce);
  if (nonce === undefined) return reject(s, m.id, "malformed", env, out, `nonce must be ${minerNonceDigits(s.extranonce)} hex digits after extranonce "${s.extranonce}"`);
  checkNotifyShare(s, m.id, worker, sent, job, nonce, env, out, wire);
}

function onAuthorize(s: EthStratum2State, m: Extract<EthStratum2Message, { type: "authorize" }>, env: EthEnv, out: Action[]): void {
  if (!s.subscribed) return reject(s, m.id, "not_subscribed", env, out);
  const user = m.user.trim();
  if (user.length === 0 || user.length > 256) {
    out.push({ kind: "abuse", what: "login_failed" });
    return reject(s, m.id, "unauthorized", env, out);
  }
  // The same credentials again get the token issued before (EIP-1571 "Workers Authorization").
  let token: string | undefined;
  for (const [t, w] of s.workers) if (w === m.user) token = t;
  if (token === undefined) {
    if (s.workers.size >= MAX_WORKERS) return reject(s, m.id, "unauthorized", env, out, `at most ${MAX_WORKERS} workers per connection`);
    token = "w" + s.workers.size.toString(16);
    s.workers.set(token, m.user);
  }
  const d = passwordDifficulty(m.password);
  if (d !== undefined) {
    s.fixed = d;
    if (s.workSent && effectiveEthDifficulty(s, env) !== s.announced) s.needsWork = true;
  }
  out.push({ kind: "write", data: encodeResult2(m.id, token) });
  if (!s.workSent) s.needsWork = true;
}

/** Workers (tokens) one connection may authorize: bounds the token map. */
const MAX_WORKERS = 256;

function onMessage(s: EthStratum2State, m: EthStratum2Message, env: EthEnv, out: Action[]): void {
  switch (m.type) {
    case "submit":
      return onSubmit(s, m, env, out);
    case "hello":
      if (s.helloDone) return reject(s, m.id, "malformed", env, out, "mining.hello already done");
      if (m.proto !== ETH_STRATUM2_PROTOCOL) {
        // EIP-1571: an error with useful information, then the server closes.
        reject(s, m.id, "unsupported_method", env, out, `proto ${m.proto.slice(0, 40)}; this server speaks ${ETH_STRATUM2_PROTOCOL}`);
        return closeSession(s, "unsupported_dialect", out);
      }
      s.helloDone = true;
      out.push({ kind: "write", data: encodeHelloResult(m.id, { timeoutSeconds: env.policy.idleTimeoutMs / 1000, maxErrors: env.policy.maxMalformed, node: NODE_NAME }) });
      return;
    case "subscribe":
      if (!s.helloDone) return reject(s, m.id, "not_subscribed", env, out, "mining.hello first");
      s.subscribed = true;
      out.push({ kind: "write", data: encodeResult2(m.id, "s" + (s.extranonce || "0")) });
      return;
    case "authorize":
      return onAuthorize(s, m, env, out);
    case "hashrate":
      if (!s.workers.has(m.token)) return reject(s, m.id, "unauthorized", env, out);
      s.hashrate = m.hashrate;
      out.push({ kind: "write", data: encodeOk(m.id) });
      return;
    case "noop":
      out.push({ kind: "write", data: encodeOk(m.id) });
      return;
    case "bye":
      // EIP-1571 "Bye": the receiver closes; nothing is answered.
      return closeSession(s, "bye", out);
    case "response":
      return;
    case "unknown":
      return reject(s, m.id, "unsupported_method", env, out, m.method.slice(0, 64));
    case "invalid":
      return reject(s, isEip1571Id(m.id) ? m.id : null, "malformed", env, out, m.detail);
  }
}

export const ethStratum2: Dialect<EthStratum2State, EthEnv, EthJob> = {
  name: "eth-stratum2",

  detect(first) {
    // mining.hello opens only EIP-1571 sessions (Stratum v1, EthereumStratum/1.0.0 and eth-proxy never send it).
    return first.kind === "request" && first.method === "mining.hello";
  },

  open(info: OpenInfo, env) {
    const diffPolicy = info.difficulty ?? env.policy;
    return {
      extranonce: info.extranonce1,
      helloDone: false,
      subscribed: false,
      workers: new Map(),
      diffPolicy,
      difficulty: diffPolicy.initialDifficulty,
      fixed: undefined,
      announced: Number.NaN,
      setEpoch: -1,
      setAlgo: "",
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
    if (msg.kind === "invalid") return reject(s, isEip1571Id(msg.id) ? msg.id : null, "malformed", env, out, msg.detail);
    onMessage(s, parseEthStratum2Message(msg), env, out);
  },

  flush(s, env, out) {
    if (s.needsWork && !s.closing && s.workers.size > 0) sendWork(s, env, out);
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
    ethTick(s, s.workers.size > 0, s.workSent, env, out, () => sendWork(s, env, out));
  },

  shutdown(s, _env, out) {
    // EIP-1571 "Bye" works both ways: the miner learns the close is deliberate and reconnects or fails over.
    if (!s.closing) out.push({ kind: "write", data: BYE_LINE });
    closeSession(s, "shutdown", out);
  },

  closed(s, env) {
    env.extranonce.release(s.extranonce);
  },
};
