// Starts the longest test files first. Vitest orders files by its results cache (longest first), but a fresh clone
// (CI) has none and falls back to the largest files first, which started 07's 11-minute grade test 38th and left
// three workers idle at the end (simulated on CI's own durations: 1,571 s against 1,472 s longest-first). The
// durations come from a CI log (scripts/test-durations.json); files it does not know run first, as vitest's own.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const durations: Record<string, number> = JSON.parse(
  readFileSync(new URL('./test-durations.json', import.meta.url), 'utf8'),
).seconds;

export class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (f: TestSpecification) =>
      durations[relative(this.ctx.config.root, f.moduleId).split('\\').join('/')] ?? Number.POSITIVE_INFINITY;
    return [...files].sort((a, b) => seconds(b) - seconds(a));
  }
}
