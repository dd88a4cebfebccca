// The order a chapter's checks run in: the catalog's, or a permutation of it drawn from a seed (`--shuffle`), so a
// check that only passes after another one (or fails after one) shows up, and the same seed replays the same order.
import fc from 'fast-check';

/** The IDs in catalog order, or shuffled from the seed (the same seed and IDs always give the same order). */
export function checkRunOrder(ids: readonly string[], shuffleSeed?: number | null): string[] {
  if (shuffleSeed === undefined || shuffleSeed === null || ids.length < 2) return [...ids];
  const [order] = fc.sample(fc.shuffledSubarray([...ids], { minLength: ids.length, maxLength: ids.length }), {
    seed: shuffleSeed,
    numRuns: 1,
  });
  return order!;
}

/** A seed that changes once a day (UTC): CI runs one shuffled pass per chapter without losing replayability. */
export function dailyShuffleSeed(now: Date = new Date()): number {
  const day = now.toISOString().slice(0, 10);
  return Number(day.replaceAll('-', '')) % 0x7fffffff;
}
