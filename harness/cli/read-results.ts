// Reads a results.json (or its run folder) and checks it against the results schema.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateResults } from '../report/validate-results.ts';
import type { RunResults } from '../results/types.ts';

export function readResults(p: string): RunResults {
  const file = existsSync(p) && statSync(p).isDirectory() ? join(p, 'results.json') : p;
  const v = validateResults(JSON.parse(readFileSync(file, 'utf8')));
  if (!v.ok) throw new Error(`${file} is not a results document:\n  ${v.errors.join('\n  ')}`);
  return v.results;
}
