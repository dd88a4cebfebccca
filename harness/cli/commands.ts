// The CLI's lighter commands that load chapters: bench, mutants, serve, compare and new-chapter (test, all and
// report have their own modules; list and estimate theirs, which load no chapter). Each returns the process exit
// code: 0 pass, 1 fail, 2 error.
import { chapterModule, chapters } from '../chapters/registry.ts';
import { environment } from '../core/environment.ts';
import { countStatuses } from '../core/grade-chapter.ts';
import type { Profile } from '../core/load-run.ts';
import { newRun } from '../core/run-dir.ts';
import { compareRuns } from '../report/compare.ts';
import type { ChapterResult } from '../results/types.ts';
import { finishRun } from './finish-run.ts';
import { runMutants } from './mutants.ts';
import { readResults } from './read-results.ts';
import { scaffoldChapter } from './scaffold.ts';
import { serveReferences } from './serve.ts';

const log = (line: string) => console.log(line);

export async function cmdBench(chapter: string, o: { profile: Profile; out?: string }): Promise<number> {
  const module = chapterModule(chapter);
  if (!module.bench) throw new Error(`${module.slug} has no micro-benchmark`);
  const { runId, dir } = newRun(o.out);
  const started = new Date().toISOString();
  const targets = await module.bench({ profile: o.profile, onProgress: log });
  for (const t of targets)
    log(`${t.verdict.toUpperCase().padEnd(7)} ${t.id} ${t.title}: ${t.value} ${t.unit} (${t.reason ?? ''})`);
  const result: ChapterResult = {
    chapter: module.slug,
    title: module.catalog.title,
    target: { mode: 'url', baseUrl: '(in process)', implementation: 'micro-benchmark of the reference core' },
    checks: [],
    targets,
    logs: [],
    counts: countStatuses([]),
  };
  return finishRun(
    {
      schemaVersion: 1,
      runId,
      startedAt: started,
      command: `sdgrade bench ${chapter}`,
      environment: environment(null),
      chapters: [result],
    },
    dir,
  );
}

export async function cmdMutants(chapter: string | undefined, o: { runs: number; only?: string[] }): Promise<number> {
  const mods = chapter ? [chapterModule(chapter)] : [...chapters];
  let missed = 0;
  for (const m of mods)
    missed += (await runMutants(m, { numRuns: o.runs, ...(o.only ? { only: o.only } : {}), log })).missed;
  return missed > 0 ? 1 : 0;
}

export async function cmdServe(chapter: string | undefined): Promise<number> {
  const mods = chapter ? [chapterModule(chapter)] : [...chapters];
  await serveReferences(mods, log);
  return 0;
}

export async function cmdCompare(a: string, b: string, threshold: number): Promise<number> {
  const c = compareRuns(readResults(a), readResults(b), { speedThreshold: threshold });
  for (const line of c.lines) log(line);
  return c.exitCode;
}

export async function cmdNewChapter(slug: string, o: { prefix?: string }): Promise<number> {
  for (const line of scaffoldChapter(slug, o.prefix)) log(line);
  return 0;
}
