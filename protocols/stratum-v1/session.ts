// Stratum v1 session reducer: subscribe/authorize/configure messages and the Dialect the connection core drives; shares are in session_share.ts, state and shared helpers in session_state.ts; performs no I/O.
import type { RpcMessage, RpcParseError } from "../jsonrpc/envelope.ts";
import type { Action } from "../core/actions.ts";
import type { Dialect, JobEvent, OpenInfo } from "../core/dialect.ts";
import { clampDifficulty, vardiffOnTick } from "../core/vardiff.ts";
import type { StratumJob } from "./job_types.ts";
import { parseClientMessage, parseConfigure, type ClientMessage } from "./client_to_server.ts";
import {
  encodeConfigureResult,
  encodeNotifyBytes,
  encodePong,
  encodeReconnect,
  encodeResult,
  encodeShowMessage,
  encodeSubscribeResult,
  encodeTrue,
} from "./server_to_client.ts";
import { passwordDifficulty } from "../core/difficulty.ts";
import {
  announceDifficulty,
  close,
  effectiveDifficulty,
  malformed,
  ownJob,
  pruneSentJobs,
  recordSent,
  reject,
  sendWork,
  setDifficulty,
  type StratumV1Env,
  type StratumV1State,
} from "./session_state.ts";
import { onForwarded, onSubmit, onVerified } from "./session_share.ts";

export { passwordDifficulty };
export { shareTargetLE } from "./session_state.ts";
export type { ExtranonceClaim, JobLookup, PayoutRef, StratumV1Env, StratumV1Policy, StratumV1State } from "./session_state.ts";

function onMessage(s: StratumV1State, m: ClientMessage, env: StratumV1Env, out: Action[]): void {
  switch (m.type) {
    case "submit":
      return onSubmit(s, m, env, out);
    case "subscribe": {
      if (m.resume !== undefined && m.resume !== s.extranonce1 && /^[0-9a-f]+$/i.test(m.resume) &&
        m.resume.length === s.extranonce1.length && env.extranonce.claim(m.resume.toLowerCase())) {
        env.extranonce.release(s.extranonce1);
        s.extranonce1 = m.resume.toLowerCase();
        s.extranonce1Bytes = undefined;
      }
      s.subscribed = true;
      out.push({ kind: "write", data: encodeSubscribeResult(m.id, s.extranonce1, s.extranonce1, env.policy.extranonce2Size) });
      if (s.worker !== undefined && !s.workSent) s.needsWork = true;
      return;
    }
    case "authorize": {
      const user = m.user.trim();
      if (user.length === 0 || user.length > 256) {
        out.push({ kind: "abuse", what: "login_failed" });
        return reject(s, m.id, "unauthorized", out);
      }
      if (s.worker === undefined) {
        s.worker = m.user;
        s.payout = env.payoutFor?.(user);
      } else if (m.user !== s.worker) (s.moreWorkers ??= new Set()).add(m.user);
      const d = passwordDifficulty(m.password);
      if (d !== undefined) {
        s.fixed = d;
        if (s.workSent && effectiveDifficulty(s, env) !== s.announced) s.needsWork = true;
      }
      out.push({ kind: "write", data: encodeTrue(m.id) });
      if (s.subscribed && !s.workSent) s.needsWork = true;
      return;
    }
    case "configure": {
      const c = parseConfigure(m);
      const result: Record<string, unknown> = {};
      if (c.versionRolling !== undefined) {
        s.versionMask = (c.versionRolling.mask & env.policy.versionMask) >>> 0;
        result["version-rolling"] = s.versionMask !== 0;
        result["version-rolling.mask"] = s.versionMask.toString(16).padStart(8, "0");
      }
      if (c.minimumDifficulty !== undefined) {
        const d = c.minimumDifficulty;
        const ok = Number.isFinite(d) && d > 0;
        if (ok) {
          s.floor = clampDifficulty(d, s.diffPolicy.suggestFloor, s.diffPolicy.vardiff.max);
          if (s.difficulty < s.floor) setDifficulty(s, s.floor, env);
        }
        result["minimum-difficulty"] = ok;
      }
      if (c.subscribeExtranonce) {
        s.subscribeExtranonce = true;
        result["subscribe-extranonce"] = true;
      }
      out.push({ kind: "write", data: encodeConfigureResult(m.id, result) });
      return;
    }
    case "suggest_difficulty": {
      const d = clampDifficulty(m.difficulty, s.diffPolicy.suggestFloor, s.diffPolicy.vardiff.max);
      s.floor = d;
      setDifficulty(s, d, env);
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    }
    case "suggest_target":
      // Honoured like suggest_difficulty would be, but the conversion needs a target parse; answer plainly.
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    case "extranonce_subscribe":
      s.subscribeExtranonce = true;
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    case "ping":
      out.push({ kind: "write", data: encodePong(m.id) });
      return;
    case "pong":
    case "response":
      // Replies to our mining.ping / client.get_version (ESP-Miner sends pong request-shaped): no answer.
      return;
    case "multi_version":
      out.push({ kind: "write", data: encodeTrue(m.id) });
      return;
    case "get_transactions":
      out.push({ kind: "write", data: encodeResult(m.id, []) });
      return;
    case "unknown":
      return reject(s, m.id, "unsupported_method", out, m.method.slice(0, 64));
    case "invalid":
      return malformed(s, m.id, env, out, m.detail);
  }
}

export const stratumV1: Dialect<StratumV1State, StratumV1Env, StratumJob> = {
  name: "stratum-v1",

  detect(first) {
    if (first.kind !== "request") return false;
    const m = first.method;
    if (m === "mining.subscribe") {
      const p = first.params;
      // EthereumStratum/1.0.0 subscribes name their protocol in params[1]; those belong to another dialect.
      return !(Array.isArray(p) && typeof p[1] === "string" && p[1].startsWith("EthereumStratum"));
    }
    // Any other mining.* opening is ours too (a submit first gets a proper 25 "Not subscribed"),
    // except EIP-1571's mining.hello (EthereumStratum/2.0.0), which must fail fast so the miner
    // falls back to a protocol we speak.
    return m.startsWith("mining.") && m !== "mining.hello" && m !== "mining.noop";
  },

  open(info: OpenInfo, env) {
    const now = env.now;
    const diffPolicy = info.difficulty ?? env.policy;
    return {
      extranonce1: info.extranonce1,
      extranonce1Bytes: undefined,
      subscribed: false,
      subscribeExtranonce: false,
      worker: undefined,
      moreWorkers: undefined,
      payout: undefined,
      versionMask: 0,
      diffPolicy,
      difficulty: diffPolicy.initialDifficulty,
      announced: Number.NaN,
      fixed: undefined,
      floor: 0,
      sentJobs: [],
      needsWork: false,
      workSent: false,
      windowStartMs: now,
      shares: 0,
      openedAt: now,
      lastMessageAt: now,
      malformed: 0,
      closing: false,
    };
  },

  receive(s, msg: RpcMessage | RpcParseError, env, out) {
    if (s.closing) return;
    s.lastMessageAt = env.now;
    if (msg.kind === "invalid") return malformed(s, msg.id, env, out, msg.detail);
    onMessage(s, parseClientMessage(msg), env, out);
  },

  flush(s, env, out) {
    if (s.needsWork && !s.closing && s.subscribed && s.worker !== undefined) sendWork(s, env, out);
  },

  job(s, ev: JobEvent<StratumJob>, env, out) {
    if (s.closing) return;
    if (!s.workSent) {
      // Authorized before the pool had any job (relay just started, or an upstream outage): this
      // broadcast is its first work.
      if (s.subscribed && s.worker !== undefined) sendWork(s, env, out);
      return;
    }
    // Emptied in place: one array per miner per block is garbage the fan-out loop would pay for.
    if (ev.clean) s.sentJobs.length = 0;
    else pruneSentJobs(s, env);
    const d = effectiveDifficulty(s, env);
    announceDifficulty(s, d, out);
    const job = ownJob(s, ev.job, env);
    recordSent(s, job, d, env);
    s.needsWork = false;
    // Encoded once per broadcast for every session mining the same variant (solo miners: one per payout).
    const key = s.payout === undefined ? "stratum-v1" : "stratum-v1:" + s.payout.key;
    let bytes = ev.memo.get(key);
    if (bytes === undefined) {
      bytes = encodeNotifyBytes(job, ev.clean, job.id);
      ev.memo.set(key, bytes);
    }
    out.push({ kind: "write", data: bytes });
  },

  verified(s, req, res, env, out) {
    if (s.closing || req.algo !== "scrypt") return;
    onVerified(s, req, res, env, out);
    // A difficulty change from vardiff goes out with the next read's flush; send it now instead.
    if (s.needsWork && s.subscribed && s.worker !== undefined) sendWork(s, env, out);
  },

  forwarded(s, req, res, env, out) {
    if (s.closing) return;
    onForwarded(s, req, res, env, out);
  },

  notice(s, text, _env, out) {
    if (s.closing || !s.subscribed) return;
    out.push({ kind: "write", data: encodeShowMessage(text) });
  },

  tick(s, env, out) {
    if (s.closing) return;
    const now = env.now;
    const p = env.policy;
    if (s.worker === undefined && now - s.openedAt >= p.loginTimeoutMs) return close(s, "login_timeout", out);
    if (now - s.lastMessageAt >= p.idleTimeoutMs) return close(s, "idle_timeout", out);
    if (s.workSent && s.fixed === undefined) {
      const d = s.diffPolicy;
      const next = vardiffOnTick(s, effectiveDifficulty(s, env), now, d.vardiff, Math.max(s.floor, d.suggestFloor));
      if (next !== undefined) {
        setDifficulty(s, next, env);
        if (s.needsWork) sendWork(s, env, out);
      }
    }
  },

  shutdown(s, env, out) {
    if (s.closing) return;
    const p = env.policy;
    out.push({
      kind: "write",
      data: p.reconnectHost ? encodeReconnect(p.reconnectHost, p.reconnectPort || undefined, 0) : encodeReconnect(),
    });
    close(s, "shutdown", out);
  },

  closed(s, env) {
    env.extranonce.release(s.extranonce1);
  },
};
