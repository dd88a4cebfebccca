// A seeded sample of mutants: the same seed and the same source give the same sample on every machine.
import { seededRandom, shuffled } from '../fakes/prng.ts';

export function sampleMutants<T>(items: readonly T[], n: number, seed: number): T[] {
  if (n >= items.length) return [...items];
  return shuffled(items, seededRandom(seed)).slice(0, n);
}
