// Survivors a reviewer agreed are equivalent (no behaviour the spec constrains changes), one checked-in file per
// chapter: specs/<chapter>/mutate-equivalent.yaml. Each entry names the mutant by its key and gives the reason; an
// entry without a reason is refused, so no survivor is excluded silently.
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { specFile } from '../core/paths.ts';

export interface Equivalent {
  key: string;
  reason: string;
}

export function equivalentsFile(slug: string): string {
  return specFile(slug, 'mutate-equivalent.yaml');
}

export function parseEquivalents(text: string, source: string): Map<string, string> {
  const doc = (parse(text) ?? {}) as { equivalent?: Equivalent[] };
  const out = new Map<string, string>();
  for (const [i, e] of (doc.equivalent ?? []).entries()) {
    if (!e || typeof e.key !== 'string' || !e.key.trim())
      throw new Error(`${source}: entry ${i + 1} has no key (copy it from the survivor list)`);
    if (typeof e.reason !== 'string' || e.reason.trim().length < 10)
      throw new Error(`${source}: ${e.key} needs a reason a reviewer can check`);
    out.set(e.key, e.reason.trim());
  }
  return out;
}

export function loadEquivalents(slug: string): Map<string, string> {
  const f = equivalentsFile(slug);
  return existsSync(f) ? parseEquivalents(readFileSync(f, 'utf8'), f) : new Map();
}
