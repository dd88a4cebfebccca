// The mutation score of a sample and its 95% confidence interval. Wilson's score interval, because the sample is
// small (tens of mutants) and the proportion is often near 1, where the normal approximation claims too much.

export interface Score {
  killed: number;
  /** Non-equivalent mutants graded (killed + survived). */
  graded: number;
  score: number | null;
  low: number | null;
  high: number | null;
}

export function wilson(killed: number, n: number, z = 1.959964): Score {
  if (n === 0) return { killed, graded: 0, score: null, low: null, high: null };
  const p = killed / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { killed, graded: n, score: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

export function formatScore(s: Score): string {
  if (s.score === null) return 'no graded mutants';
  const pct = (x: number | null) => `${((x ?? 0) * 100).toFixed(1)}%`;
  return `${pct(s.score)} (${s.killed}/${s.graded}; 95% CI ${pct(s.low)}-${pct(s.high)})`;
}
