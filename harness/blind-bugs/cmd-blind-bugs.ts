// `sdgrade blind-bugs <chapter>`: re-grade the chapter's blind bugs (fixtures/blind-bugs/<chapter>/) and compare with
// what bugs.yaml records (`--list`: only show what it records). Exit 1 when grading power regressed (a recorded catch
// is gone, or an "equivalent" bug is caught), 2 when a bug could not be graded.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chapterModule } from '../chapters/registry.ts';
import { variantManifestName } from '../chapters/variants.ts';
import { resolveBuiltChapter } from '../cli/doctor.ts';
import { resultsDir, rootDir } from '../core/paths.ts';
import { chapterGrader } from '../mutate/chapter-grader.ts';
import { ensureDir } from '../mutate/run-mutate.ts';
import { type BlindBug, type BugsFile, blindBugsDir, type Grading, loadBugsFile, powerFigures } from './bugs-file.ts';
import { makePatchedWorkspace } from './patched-workspace.ts';
import { runBlindBugs } from './run-blind-bugs.ts';
import { testFileGrader } from './test-file-grader.ts';

export interface BlindBugsCliOptions {
  only?: string[];
  /** Print the bugs and what bugs.yaml records for each, without grading. */
  list?: boolean;
  baseline: boolean;
  timeoutMs: number;
  runs: number;
  seed?: number;
}

const NEEDS: Record<Exclude<BlindBug['path'], 'embedded'>, string> = {
  postgres: 'SDGRADE_DATABASE_URL',
  redis: 'SDGRADE_REDIS_URL',
};

export async function cmdBlindBugs(chapter: string, o: BlindBugsCliOptions): Promise<number> {
  const slug = resolveBuiltChapter(chapter);
  const file = loadBugsFile(slug);
  if (!file) {
    console.error(
      `no blind bugs for ${slug} yet: ${join(blindBugsDir(slug), 'bugs.yaml')} (see fixtures/blind-bugs/README.md)`,
    );
    return 2;
  }
  if (o.list) return listBugs(slug, file, o.only);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const module = chapterModule(slug);
  const manifestName = (variant: string | undefined) => variantManifestName(module, variant);
  const embedded = chapterGrader(slug, { runs: o.runs, seed, realDeps: false, manifestName });
  const real = chapterGrader(slug, { runs: o.runs, seed, realDeps: true, manifestName });
  console.log(`blind bugs of ${slug}: ${recordedFigures(file)}; seed ${seed}`);
  const report = await runBlindBugs({
    file,
    ...(o.only ? { only: o.only } : {}),
    baseline: o.baseline,
    timeoutMs: o.timeoutMs,
    grader: (path, test) => {
      if (test) return testFileGrader(test);
      if (path === 'embedded') return embedded;
      const env = NEEDS[path];
      return process.env[env] ? real : { skip: `lives on the ${path} path: set ${env} to grade it` };
    },
    workspace: (patch) => makePatchedWorkspace(rootDir, slug, patch),
    patchPath: (bug) => join(file.dir, bug.patch),
    log: (l) => console.log(l),
  });
  const out = join(ensureDir(join(resultsDir, 'blind-bugs')), `${slug}.json`);
  writeFileSync(out, `${JSON.stringify({ ...report, seed }, null, 2)}\n`);
  const caught = report.bugs.filter((b) => b.status === 'caught').length;
  const graded = report.bugs.filter((b) => b.status === 'caught' || b.status === 'missed').length;
  console.log(`\ncaught now: ${caught} of ${graded} graded (${report.bugs.length - graded} skipped or not graded)`);
  for (const b of report.bugs.filter((x) => x.verdict !== 'as-recorded'))
    console.log(`  ${b.id}: ${b.verdict} (recorded ${b.expected}, now ${b.status}${b.reason ? `: ${b.reason}` : ''})`);
  console.log(`written: ${out}`);
  return report.regressions ? 1 : report.errors ? 2 : 0;
}

/** What bugs.yaml records, in figures (the header of a grading run and of --list). */
function recordedFigures(file: BugsFile): string {
  const f = powerFigures(file);
  const pending = f.pending ? `, ${f.pending} not graded yet` : '';
  return (
    `${f.written} written (${file.written}); recorded: caught ${f.caughtBefore}/${f.graded} before strengthening, ` +
    `${f.caughtAfter}/${f.graded} after, ${f.equivalent} equivalent${pending}`
  );
}

const graded = (g: Grading) => `${g.status}${g.by.length ? ` by ${g.by.join(',')}` : ''}`;

/** `--list`: each bug with where it is graded and what bugs.yaml records, without grading anything. */
function listBugs(slug: string, file: BugsFile, only: string[] | undefined): number {
  const unknown = (only ?? []).filter((id) => !file.bugs.some((b) => b.id === id));
  if (unknown.length) {
    console.error(`no blind bug named ${unknown.join(', ')} in ${join(file.dir, 'bugs.yaml')}`);
    return 2;
  }
  console.log(`blind bugs of ${slug}: ${recordedFigures(file)}`);
  for (const b of file.bugs.filter((x) => !only?.length || only.includes(x.id))) {
    const where = [b.path, ...(b.variant ? [`variant ${b.variant}`] : []), ...(b.test ? [`test ${b.test}`] : [])].join(
      ', ',
    );
    const after = b.after ? `, after: ${graded(b.after)}${b.after.mutant ? ` (mutant ${b.after.mutant})` : ''}` : '';
    console.log(`  ${b.id} [${where}] before: ${graded(b.before)}${after}`);
  }
  return 0;
}
