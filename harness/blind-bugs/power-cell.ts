// The "Grading power" cell of the chapter table: blind bugs caught before -> after strengthening, and the recorded
// Stryker sample score with its 95% interval. Only checked-in measurements are shown; a dash when there are none.

import { readRecordedScore } from '../mutate/recorded-score.ts';
import { formatScore } from '../mutate/score.ts';
import { loadBugsFile, powerFigures } from './bugs-file.ts';

export function gradingPowerCell(slug: string): string {
  const parts: string[] = [];
  const file = loadBugsFile(slug);
  if (file) {
    const f = powerFigures(file);
    const pending = f.pending ? `, ${f.pending} not graded yet` : '';
    parts.push(
      `blind bugs ${f.caughtBefore}/${f.graded} caught, ${f.caughtAfter}/${f.graded} after strengthening${pending}`,
    );
  }
  const s = readRecordedScore(slug);
  if (s)
    parts.push(
      `mutants (N=${s.sample}, seed ${s.seed}): ${formatScore(s.score)}${s.rescored ? `, ${s.rescored.judgedAfterRun} judged equivalent after the run` : ''}${s.regraded ? `, ${s.regraded.mutants} survivors graded again at ${s.regraded.commit ?? 'a later commit'} (${s.regraded.killed} killed)` : ''}`,
    );
  return parts.length ? parts.join('; ') : '–';
}
