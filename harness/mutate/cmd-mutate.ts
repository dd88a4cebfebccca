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
import {
  checkpointFile,
  type RunIdentity,
  readCheckpoint,
  removeCheckpoint,
  uncommittedGradingChanges,
  whyNotResumable,
  writeCheckpoint,
} from './checkpoint.ts';
import { equivalentsFile, loadEquivalents } from './equivalents.ts';
import { headCommit, recordScore, sourceAt } from './recorded-score.ts';
import { readRunResults, regradedReport, rescore, sameMutantToday, sourceReader } from './rescore.ts';
import { ensureDir, type MutantRecord, renderMutateReport, runMutate } from './run-mutate.ts';

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
  /** Re-read the saved run of --seed and apply the equivalents judged since, without grading again (rescore.ts). */
  rescore?: boolean;
  /** With the saved run of --seed: grade its survivors again with today's checks (after --rescore's judgments). */
  regradeSurvivors?: boolean;
  /** Finish the run of --seed that was cut short, reusing the verdicts it saved (checkpoint.ts). */
  resume?: boolean;
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
    const sql = (v.needs ?? []).filter((k) => k !== 'etcd');
    const why = sql.length && !o.realDeps ? `needs --real-deps (${sql.join(', ')})` : variantUnavailable(v);
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

function runFile(slug: string, seed: number): string {
  return join(ensureDir(join(resultsDir, 'mutate')), `${slug}-seed${seed}.json`);
}

/** What grading a mutant needs, the same for a sampled run and for re-grading a saved run's survivors. */
function gradingSetup(slug: string, o: MutateCliOptions, seed: number) {
  const variants = pickVariants(slug, o, (l) => console.log(l));
  const timeoutMs = mutantTimeLimit(o.timeoutMs);
  if (timeoutMs !== o.timeoutMs) console.log(`time limit per mutant: ${timeoutMs} ms (SDGRADE_TIME_SCALE)`);
  // A chapter with no declared variants grades as before: one baseline, the reference as deployed.
  const graded = variants.length > 1 || (variants[0] && variants[0] !== 'default');
  if (graded) console.log(`grading each mutant under the variants whose run reaches its code: ${variants.join(', ')}`);
  return {
    timeoutMs,
    grade: chapterGrader(slug, {
      runs: o.runs,
      seed,
      realDeps: Boolean(o.realDeps),
      manifestName: (variant) => variantManifestName(chapterModule(slug), variant),
    }),
    log: (l: string) => console.log(l),
    ...(graded ? { variants } : {}),
    ...(chapterModule(slug).sharedFixtures ? { sharedFixtures: chapterModule(slug).sharedFixtures } : {}),
  };
}

async function cmdRescore(slug: string, o: MutateCliOptions): Promise<number> {
  if (o.seed === undefined) throw new Error('--rescore needs --seed: the seed of the saved run to rescore');
  const file = runFile(slug, o.seed);
  const run = readRunResults(file);
  const equivalents = loadEquivalents(slug);
  const r = rescore(run, equivalents, sourceReader(rootDir));
  console.log(`rescore ${file} with ${equivalentsFile(slug)} (${equivalents.size} entries)`);
  for (const k of r.applied) console.log(`  now equivalent: ${k}`);
  for (const s of r.stale) console.log(`  left as it was: ${s.key} (${s.why}; run again to judge it)`);
  let report = r.report;
  // a regrade done by an earlier call stays part of the run's record
  let regraded: { at: string; commit: string | null; mutants: number; killed: number } | undefined = run.regraded;
  if (o.regradeSurvivors) {
    const open = report.mutants.filter((m) => m.status === 'survived' || m.status === 'no-coverage');
    console.log(`re-grading the run's ${open.length} open mutants with today's checks and reference`);
    const today = new Map<string, string>(); // today's mutant id -> the run's key
    const graded = await runMutate({
      root: rootDir,
      files: run.files,
      sample: open.length,
      seed: o.seed,
      equivalents: new Map(),
      ...gradingSetup(slug, o, o.seed),
      pick: (population) =>
        open.flatMap((m) => {
          const t = sameMutantToday(m, population, {
            run: run.commit ? sourceAt(run.commit, m.file) : null,
            today: sourceReader(rootDir)(m.file),
          });
          if (!t) console.log(`  not in today's code (left as the run found it): ${m.key}`);
          else today.set(t.id, m.key);
          return t ? [t] : [];
        }),
    });
    const byRunKey = new Map(graded.mutants.map((g) => [today.get(g.id), g]));
    const commit = headCommit();
    report = regradedReport(report, byRunKey, commit);
    regraded = {
      at: new Date().toISOString().slice(0, 10),
      commit,
      mutants: byRunKey.size,
      killed: [...byRunKey.values()].filter((g) => g.status === 'killed' || g.status === 'timeout').length,
    };
  }
  const rescoredAt = new Date().toISOString();
  const commit = run.commit ?? undefined;
  writeFileSync(
    file,
    `${JSON.stringify({ ...run, ...report, chapter: slug, ...(commit ? { commit } : {}), rescoredAt, ...(regraded ? { regraded } : {}) }, null, 2)}\n`,
  );
  console.log(`\n${renderMutateReport(report)}\n\nwritten: ${file}`);
  if (o.record) {
    const f = recordScore(slug, report, new Date(), {
      ...(run.measuredAt ? { measuredAt: run.measuredAt } : {}),
      ...(commit ? { commit } : {}),
      rescoredAt: rescoredAt.slice(0, 10),
      ...(regraded ? { regraded } : {}),
    });
    console.log(`recorded: ${f} (check it in; the README and chapter table read it)`);
  }
  return r.stale.length ? 2 : 0;
}

export async function cmdMutate(chapter: string, o: MutateCliOptions): Promise<number> {
  const slug = resolveBuiltChapter(chapter);
  if (o.rescore || o.regradeSurvivors) return cmdRescore(slug, o);
  if (o.resume && o.seed === undefined) throw new Error('--resume needs --seed: the seed of the run to finish');
  let commit = headCommit();
  let measuredAt = new Date().toISOString().slice(0, 10);
  const seed = o.seed ?? Math.floor(Math.random() * 2 ** 31);
  const files = chapterFiles(rootDir, slug, { ...(o.files ? { glob: o.files } : {}), realDeps: Boolean(o.realDeps) });
  if (!files.length) throw new Error(`no files of reference/${slug} match ${o.files ?? 'the default core set'}`);
  const equivalents = loadEquivalents(slug);
  console.log(`mutate ${slug}: seed ${seed} (replay with --seed ${seed}), ${files.length} files:`);
  for (const f of files) console.log(`  ${f}`);
  console.log(`equivalent survivors read from ${equivalentsFile(slug)} (${equivalents.size})`);
  const setup = gradingSetup(slug, o, seed);
  const out = runFile(slug, seed);
  const saved = checkpointFile(out);
  const identity: RunIdentity = {
    chapter: slug,
    seed,
    sample: o.sample,
    files,
    variants: setup.variants ?? ['default'],
    runs: o.runs,
    realDeps: Boolean(o.realDeps),
  };
  let resumed: Map<string, MutantRecord> | undefined;
  if (o.resume) {
    const cp = readCheckpoint(saved);
    if (!cp) throw new Error(`--resume: no saved progress at ${saved} (a run saves it there after each mutant)`);
    const why = whyNotResumable(cp, identity);
    if (why) throw new Error(`--resume: the progress saved at ${saved} cannot be reused: ${why}; run without --resume`);
    resumed = new Map(cp.mutants.map((m) => [m.key, m]));
    commit = cp.commit;
    measuredAt = cp.measuredAt;
    console.log(`resuming: ${resumed.size} of ${o.sample} mutants graded at ${cp.commit} (${cp.measuredAt}) reused`);
  }
  // Saved verdicts must be reproducible from a commit: with uncommitted changes on the grading paths, none is saved.
  const dirty = uncommittedGradingChanges(slug);
  if (dirty) console.log(`progress is not saved for --resume (${dirty})`);
  else
    console.log(`progress saved after each mutant to ${saved} (finish a cut-short run with --resume --seed ${seed})`);
  const report = await runMutate({
    root: rootDir,
    files,
    sample: o.sample,
    seed,
    equivalents,
    ...setup,
    ...(resumed ? { resumed } : {}),
    onRecord: (records) => {
      if (!dirty && commit) writeCheckpoint(saved, { ...identity, commit, measuredAt, mutants: [...records] });
    },
  });
  console.log(`\n${renderMutateReport(report)}`);
  // the commit and day graded, so a later --rescore records them rather than its own
  writeFileSync(
    out,
    `${JSON.stringify({ chapter: slug, ...(commit ? { commit } : {}), measuredAt, ...report }, null, 2)}\n`,
  );
  removeCheckpoint(saved);
  console.log(`\nwritten: ${out}`);
  if (o.record) {
    console.log(
      `recorded: ${recordScore(slug, report, new Date(), { measuredAt, ...(commit ? { commit } : {}) })} (check it in; the README and chapter table read it)`,
    );
  }
  return report.counts.error ? 2 : 0;
}
