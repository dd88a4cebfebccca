// Small numeric helpers the load and benchmark code of every chapter shares.

export function median(xs: readonly number[]): number {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Three decimals: enough for ratios and rates in reports, and stable in JSON. */
export function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
