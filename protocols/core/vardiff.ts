// Variable difficulty: pure arithmetic on share counts and injected time; decides a new difficulty, sends nothing.

/**
 * The difficulty part of a session policy: starting difficulty, the floor of suggestions, vardiff.
 * A listening port may have its own (OpenInfo.difficulty); a session keeps the one it opened with.
 */
export interface DifficultyPolicy {
  initialDifficulty: number;
  /** Lowest difficulty a suggestion (mining.suggest_difficulty, d=NUMBER) may set. */
  suggestFloor: number;
  vardiff: VardiffPolicy;
}

/** What every dialect's session policy has: difficulty (the pool-wide one), timeouts, malformed-request allowance. */
export interface SessionPolicy extends DifficultyPolicy {
  loginTimeoutMs: number;
  idleTimeoutMs: number;
  /** Close after this many malformed requests on one connection. */
  maxMalformed: number;
}

export interface VardiffPolicy {
  /** Desired seconds between accepted shares per connection. */
  targetShareSeconds: number;
  /** Retarget at most this often when shares are scarce (seconds). */
  retargetSeconds: number;
  /** Changes smaller than this percentage are ignored (avoids flapping). */
  variancePercent: number;
  min: number;
  max: number;
}

export interface VardiffState {
  windowStartMs: number;
  shares: number;
}

export function vardiffStart(nowMs: number): VardiffState {
  return { windowStartMs: nowMs, shares: 0 };
}

/** Clamp a difficulty into [lo, hi]; NaN or non-positive falls back to lo. */
export function clampDifficulty(d: number, lo: number, hi: number): number {
  if (!Number.isFinite(d) || d <= 0) return lo;
  return d < lo ? lo : d > hi ? hi : d;
}

/** Round to 6 significant digits so set_difficulty prints short and two sessions at the same rate share values. */
export function roundDifficulty(d: number): number {
  return Number(d.toPrecision(6));
}

/**
 * Count one accepted share and return a new difficulty, or undefined to keep the current one.
 * Retargets when the window is old enough (retargetSeconds) or already holds 2× the shares a full
 * window should (fast ramp-up: an ASIC starting at a CPU difficulty floods thousands of shares a second).
 */
export function vardiffOnShare(
  s: VardiffState,
  current: number,
  nowMs: number,
  p: VardiffPolicy,
  floor: number,
): number | undefined {
  s.shares++;
  return vardiffOnTick(s, current, nowMs, p, floor);
}

/** Called on timer ticks (no share counted): lowers the difficulty of a connection that has gone quiet. */
export function vardiffOnTick(
  s: VardiffState,
  current: number,
  nowMs: number,
  p: VardiffPolicy,
  floor: number,
): number | undefined {
  const elapsed = (nowMs - s.windowStartMs) / 1000;
  const expectedPerWindow = p.retargetSeconds / p.targetShareSeconds;
  const early = s.shares >= 2 * expectedPerWindow && s.shares >= 4;
  if (elapsed < p.retargetSeconds && !early) return undefined;
  if (elapsed <= 0) return undefined;
  let next: number;
  if (s.shares === 0) {
    // No share for a whole window: the true rate is below 1/window; halve per quiet window.
    next = current / 2;
  } else {
    const interval = elapsed / s.shares;
    next = current * (p.targetShareSeconds / interval);
  }
  const lo = Math.max(p.min, floor);
  next = roundDifficulty(clampDifficulty(next, lo, p.max));
  s.windowStartMs = nowMs;
  s.shares = 0;
  const change = Math.abs(next / current - 1) * 100;
  if (change < p.variancePercent) return undefined;
  return next;
}
