// `sdgrade mutate <chapter>`: the chapter's sampled automated-mutant score (see run-mutate.ts), printed with every
// survivor's diff and written to results/mutate/<chapter>-seed<S>.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBuiltChapter } from '../cli/doctor.ts';
import { resultsDir, rootDir } from '../core/paths.ts';
import { chapterFiles } from './chapter-files.ts';
import { chapterGrader } from './chapter-grader.ts';
import { equivalentsFile, loadEquivalents } from './equivalents.ts';
import { recordScore } from './recorded-score.ts';
import { ensureDir, renderMutateReport, runMutate } from './run-mutate.ts';

export interface MutateCliOptions {
  sample: number;
  seed?: number;
  files?: string;
  timeoutMs: number;
  runs: number;
  realDeps?: boolean;
  /** Check the score in (specs/<chapter>/mutation-score.json) for the README and the chapter table. */
  record?: boolean;
}

export async function cmdMutate(chapter: string, o: MutateCliOptions): Promise<number> {
  const slug = resolveBuiltChapter(chapter);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const files = chapterFiles(rootDir, slug, { ...(o.files ? { glob: o.files } : {}), realDeps: Boolean(o.realDeps) });
  if (!files.length) throw new Error(`no files of reference/${slug} match ${o.files ?? 'the default core set'}`);
  const equivalents = loadEquivalents(slug);
  console.log(`mutate ${slug}: seed ${seed} (replay with --seed ${seed}), ${files.length} files:`);
  for (const f of files) console.log(`  ${f}`);
  console.log(`equivalent survivors read from ${equivalentsFile(slug)} (${equivalents.size})`);
  const report = await runMutate({
    root: rootDir,
    files,
    sample: o.sample,
    seed,
    timeoutMs: o.timeoutMs,
    equivalents,
    grade: chapterGrader(slug, { runs: o.runs, seed, realDeps: Boolean(o.realDeps) }),
    log: (l) => console.log(l),
  });
  console.log(`\n${renderMutateReport(report)}`);
  const out = join(ensureDir(join(resultsDir, 'mutate')), `${slug}-seed${seed}.json`);
  writeFileSync(out, `${JSON.stringify({ chapter: slug, ...report }, null, 2)}\n`);
  console.log(`\nwritten: ${out}`);
  if (o.record) {
    if (report.counts.error) console.log('not recorded: some mutants could not be graded (see above)');
    else console.log(`recorded: ${recordScore(slug, report)} (check it in; the README and chapter table read it)`);
  }
  return report.counts.error ? 2 : 0;
}
