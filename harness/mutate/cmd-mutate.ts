// `sdgrade mutate <chapter>`: the chapter's sampled automated-mutant score (see run-mutate.ts), printed with every
// survivor's diff and written to results/mutate/<chapter>-seed<S>.json.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Variant } from '../chapters/chapter-module.ts';
import { chapterModule } from '../chapters/registry.ts';
import { findVariant, variantManifestName, variantsOf, variantUnavailable } from '../chapters/variants.ts';
import { resolveBuiltChapter } from '../cli/doctor.ts';
import { resultsDir, rootDir } from '../core/paths.ts';
import { timeLimit } from '../core/time-scale.ts';
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
  /** Deployment variants to grade each mutant under (default: every variant of the chapter that can run here). */
  variants?: string[];
}

/**
 * The variants a run grades under: the named ones, or every declared one that can run here; a variant that needs a
 * real service this run does not have is left out, saying why (its code's mutants then count as no coverage).
 */
export function pickVariants(slug: string, o: { variants?: string[]; realDeps?: boolean }, log: (l: string) => void) {
  const module = chapterModule(slug);
  const wanted = o.variants?.length ? o.variants.map((n) => findVariant(module, n)) : variantsOf(module);
  const out: string[] = [];
  const hasDefault = wanted.some((v) => v.name === 'default');
  for (const v of wanted) {
    const why = v.needs?.length && !o.realDeps ? `needs --real-deps (${v.needs.join(', ')})` : variantUnavailable(v);
    if (!why && hasDefault && !o.realDeps && onlyEmbedded(v)) {
      // the grader empties DATABASE_URL and REDIS_URL itself without --real-deps: the same code, fewer checks
      log(
        `variant ${v.name} left out: without --real-deps the default already runs embedded (it would grade the same code again)`,
      );
      continue;
    }
    if (why) log(`variant ${v.name} left out: ${why}`);
    else out.push(v.name);
  }
  if (!out.length) throw new Error(`none of the variants ${wanted.map((v) => v.name).join(', ')} can run here`);
  return out;
}

/**
 * The time limit per mutant: --timeout-ms times SDGRADE_TIME_SCALE, like every other hang bound. A mutant that
 * outlives it counts as detected (Stryker's "timeout"), so an unscaled limit on a loaded machine turns survivors into
 * kills: on 2026-12-04, at a load average of 60, chapter 27's full grading of a survivor took over 600 s.
 */
export function mutantTimeLimit(timeoutMs: number, env: NodeJS.ProcessEnv = process.env): number {
  return timeLimit(timeoutMs, env);
}

/** A variant whose only change is to empty the real services' URLs: what every variant is without --real-deps. */
function onlyEmbedded(v: Variant): boolean {
  const keys = Object.keys(v.env);
  return (
    v.name !== 'default' &&
    keys.length > 0 &&
    !v.settings &&
    keys.every((k) => (k === 'DATABASE_URL' || k === 'REDIS_URL') && v.env[k] === '')
  );
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
  const variants = pickVariants(slug, o, (l) => console.log(l));
  const timeoutMs = mutantTimeLimit(o.timeoutMs);
  if (timeoutMs !== o.timeoutMs) console.log(`time limit per mutant: ${timeoutMs} ms (SDGRADE_TIME_SCALE)`);
  // A chapter with no declared variants grades as before: one baseline, the reference as deployed.
  if (variants.length > 1 || (variants[0] && variants[0] !== 'default'))
    console.log(`grading each mutant under the variants whose run reaches its code: ${variants.join(', ')}`);
  const report = await runMutate({
    root: rootDir,
    files,
    sample: o.sample,
    seed,
    timeoutMs,
    equivalents,
    grade: chapterGrader(slug, {
      runs: o.runs,
      seed,
      realDeps: Boolean(o.realDeps),
      manifestName: (variant) => variantManifestName(chapterModule(slug), variant),
    }),
    log: (l) => console.log(l),
    ...(variants.length > 1 || (variants[0] && variants[0] !== 'default') ? { variants } : {}),
  });
  console.log(`\n${renderMutateReport(report)}`);
  const out = join(ensureDir(join(resultsDir, 'mutate')), `${slug}-seed${seed}.json`);
  writeFileSync(out, `${JSON.stringify({ chapter: slug, ...report }, null, 2)}\n`);
  console.log(`\nwritten: ${out}`);
  if (o.record) {
    console.log(`recorded: ${recordScore(slug, report)} (check it in; the README and chapter table read it)`);
  }
  return report.counts.error ? 2 : 0;
}
