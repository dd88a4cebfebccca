// Seeds: a run has one seed (printed and recorded); each check derives its own from it and its ID, so one check can
// be replayed alone with `--seed <run seed> --only <ID>` and get exactly the same inputs.

export function newRunSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

/** FNV-1a over the check ID, mixed with the run seed; a non-negative 31-bit integer (what fast-check takes). */
export function checkSeed(runSeed: number, checkId: string): number {
  let h = 0x811c9dc5 ^ runSeed;
  for (let i = 0; i < checkId.length; i++) {
    h ^= checkId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}
