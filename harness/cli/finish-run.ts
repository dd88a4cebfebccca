// A run's ending, shared by the commands that grade (test, all, bench, grade-load): results and reports written,
// where they are printed, and the exit code the results deserve.
import { benchErrorPrefix } from '../core/bench-targets.ts';
import { countStatuses, loadErrorPrefix } from '../core/grade-chapter.ts';
import { writeReport } from '../report/write-report.ts';
import type { RunResults } from '../results/types.ts';

const log = (line: string) => console.log(line);

/** Writes a run's results and reports and prints where they are; returns the exit code the results deserve. */
export async function finishRun(
  run: Omit<RunResults, 'summary' | 'finishedAt'>,
  dir: string,
  opts: { strict?: boolean } = {},
): Promise<number> {
  const all = run.chapters.flatMap((c) => c.checks);
  const results: RunResults = { ...run, finishedAt: new Date().toISOString(), summary: countStatuses(all) };
  const paths = await writeReport(results, dir);
  const s = results.summary;
  const targets = run.chapters.flatMap((c) => c.targets);
  // Beyond this machine is not a failure of the implementation; --strict counts it as one.
  const beyond = targets.filter((t) => t.verdict === 'beyond-machine').length;
  const targetsFailed = targets.filter((t) => t.verdict === 'fail').length + (opts.strict ? beyond : 0);
  log(
    `\nchecks: ${s.pass} passed, ${s.fail} failed, ${s.skipped} skipped, ${s.error} errors; targets failed: ${targetsFailed}${
      beyond ? `; beyond this machine: ${beyond}${opts.strict ? ' (counted as failed: --strict)' : ''}` : ''
    }`,
  );
  log(`results: ${paths.json}\nreport:  ${paths.html}\nsummary: ${paths.markdown}\njunit:   ${paths.junit}`);
  const loadErrors = run.chapters
    .flatMap((c) => c.targets)
    .filter((t) => t.reason?.startsWith(loadErrorPrefix) || t.reason?.startsWith(benchErrorPrefix)).length;
  if (s.fail > 0 || targetsFailed > 0) return 1;
  return s.error > 0 || loadErrors > 0 ? 2 : 0;
}
