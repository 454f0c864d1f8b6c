// A port's difficulty: a [[listeners]] entry's keys merged over [difficulty] / [ethash] per miner family, and the min <= initial <= max check; pure, no parsing.
import type { DifficultyPolicy } from "../../protocols/core/vardiff.ts";

/** `[difficulty]` as parsed (every key present). */
export interface DifficultySection {
  initial: number;
  min: number;
  max: number;
  suggestFloor: number;
  targetShareSeconds: number;
  retargetSeconds: number;
  variancePercent: number;
}

/** The difficulty keys of `[ethash]` as parsed. */
export interface EthDifficultySection {
  initialDifficulty: number;
  minDifficulty: number;
  maxDifficulty: number;
  suggestFloor: number;
}

/** `[listeners.difficulty]` / `[listeners.ethash]`: the same keys, each optional (absent = the global value). */
export type ListenerDifficultyKeys = Partial<DifficultySection>;
export type ListenerEthDifficultyKeys = Partial<EthDifficultySection>;

/**
 * The suggestion floor of a port: its own, else the global one — raised to the port's own minimum when
 * it sets one, so that a miner on a high-difficulty port cannot suggest itself below that port's floor.
 */
function floorOf(own: number | undefined, ownMin: number | undefined, global: number): number {
  if (own !== undefined) return own;
  return ownMin !== undefined ? Math.max(global, ownMin) : global;
}

/** Bitcoin-family (Stratum v1) difficulty of a port; `l` undefined = the global one. */
export function btcDifficulty(g: DifficultySection, l?: ListenerDifficultyKeys): DifficultyPolicy {
  const min = l?.min ?? g.min;
  return {
    initialDifficulty: l?.initial ?? g.initial,
    suggestFloor: floorOf(l?.suggestFloor, l?.min, g.suggestFloor),
    vardiff: vardiffOf(g, l, min, l?.max ?? g.max),
  };
}

/** Ethereum-style difficulty of a port: values from `[ethash]` (or the port's), vardiff timing from `[difficulty]` (or the port's). */
export function ethDifficulty(g: DifficultySection, ge: EthDifficultySection, l?: ListenerDifficultyKeys, le?: ListenerEthDifficultyKeys): DifficultyPolicy {
  return {
    initialDifficulty: le?.initialDifficulty ?? ge.initialDifficulty,
    suggestFloor: floorOf(le?.suggestFloor, le?.minDifficulty, ge.suggestFloor),
    vardiff: vardiffOf(g, l, le?.minDifficulty ?? ge.minDifficulty, le?.maxDifficulty ?? ge.maxDifficulty),
  };
}

function vardiffOf(g: DifficultySection, l: ListenerDifficultyKeys | undefined, min: number, max: number): DifficultyPolicy["vardiff"] {
  return {
    targetShareSeconds: l?.targetShareSeconds ?? g.targetShareSeconds,
    retargetSeconds: l?.retargetSeconds ?? g.retargetSeconds,
    variancePercent: l?.variancePercent ?? g.variancePercent,
    min,
    max,
  };
}

/** A broken min <= initial <= max of a port, named at the key the entry wrote (path below the entry). */
export interface ListenerDifficultyProblem {
  path: string[];
  input: unknown;
  message: string;
}

function order(section: string, names: [string, string, string], own: Record<string, number | undefined> | undefined, d: DifficultyPolicy, global: string): ListenerDifficultyProblem[] {
  if (own === undefined) return [];
  const [ini, lo, hi] = [d.initialDifficulty, d.vardiff.min, d.vardiff.max];
  // A value that is no positive number is reported by its own check (the schema runs this one anyway).
  if (![ini, lo, hi].every((x) => typeof x === "number" && x > 0)) return [];
  if (lo <= ini && ini <= hi) return [];
  // Report at the first key the entry set itself: that is the one to fix (the others may be inherited).
  const key = names.find((k) => own[k] !== undefined) ?? names[0];
  const from = names.filter((k) => own[k] === undefined);
  const inherited = from.length > 0 ? `; ${from.join(", ")} from [${global}]` : "";
  return [{
    path: [section, key],
    input: own[key],
    message: `expected ${names[1]} (${lo}) <= ${names[0]} (${ini}) <= ${names[2]} (${hi})${inherited}`,
  }];
}

/** Every min <= initial <= max violation of one [[listeners]] entry, after merging with the global sections. */
export function listenerDifficultyProblems(
  g: DifficultySection,
  ge: EthDifficultySection,
  l: { difficulty?: ListenerDifficultyKeys | undefined; ethash?: ListenerEthDifficultyKeys | undefined },
): ListenerDifficultyProblem[] {
  return [
    ...order("difficulty", ["initial", "min", "max"], l.difficulty, btcDifficulty(g, l.difficulty), "difficulty"),
    ...order("ethash", ["initialDifficulty", "minDifficulty", "maxDifficulty"], l.ethash, ethDifficulty(g, ge, l.difficulty, l.ethash), "ethash"),
  ];
}
