// Difficulty helpers shared by every dialect: the d=NUMBER password convention; pure arithmetic only.

/** Difficulty from a password like "x,d=0.5" or "d=1024" (many pools' convention); undefined when absent or unusable. */
export function passwordDifficulty(password: string): number | undefined {
  const m = /(?:^|[,;\s])d=([0-9]*\.?[0-9]+(?:e[-+]?\d+)?)/i.exec(password);
  if (!m || m[1] === undefined) return undefined;
  const d = Number(m[1]);
  return Number.isFinite(d) && d > 0 ? d : undefined;
}
