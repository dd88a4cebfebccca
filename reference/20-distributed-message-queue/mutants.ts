// Deliberately broken variants of the reference, one check each (IDs from specs/20-distributed-message-queue/catalog.yaml).
// MUTANT=<name> selects one; the broken code sits where the broken thing lives, marked `MUTANT <name>`.
export const MUTANTS = [
  { name: 'health-plain-text', breaks: 'MQ-C1', description: 'readiness answers text/plain "ok", not the Health body' },
  // TODO: name an operation with a body or parameters in main.ts's `unvalidated` for this mutant.
  { name: 'unvalidated-input', breaks: 'MQ-I1', description: 'one operation reaches its handler without the spec\'s validation' },
] as const satisfies readonly { name: string; breaks: string; description: string }[];

export type MutantName = (typeof MUTANTS)[number]['name'];
export const MUTANT_NAMES: readonly MutantName[] = MUTANTS.map((m) => m.name);
