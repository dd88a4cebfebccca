// The main k6 run of a chapter's load test, however it is made: one local k6 process, several (--segments N, one
// execution segment each, samples merged), or none (grade-load: the samples of N runners made elsewhere). Records
// k6's own CPU use next to it, and a description of the run that grade-load reads back.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { LoadRunContext, Profile } from '../core/load-run.ts';
import { rootDir } from '../core/paths.ts';
import type { LoadGeneratorUse } from '../results/types.ts';
import { sampleK6Cpu } from './k6-cpu.ts';
import { type RunK6Options, type RunK6Result, runK6 } from './k6-runner.ts';
import { mergeRunnerSamples, runK6Segments } from './k6-segments.ts';
import type { K6Summary } from './k6-summary.ts';

/** What `load` leaves beside its samples and `--emit-k6-operator` beside its manifests, for grade-load. */
export const LOAD_MANIFEST = 'sdgrade-load.json';

export interface LoadManifest {
  chapter: string;
  profile: Profile;
  /** k6 processes (runners) the load is split over. */
  segments: number;
  /** The k6 script, relative to the repository root. */
  script: string;
  /** Its -e values. */
  env: Record<string, string>;
  k6Version: string;
  /** Where each runner's samples go: DIR/runner-<i>/samples.csv.gz, or one CSV per runner in DIR. */
  samples: string;
  createdAt: string;
}

export interface ChapterK6Run extends RunK6Result {
  segments: number;
  loadGenerator?: LoadGeneratorUse;
  /** True when the samples came from runners elsewhere (grade-load). */
  replayed: boolean;
}

function droppedOf(summary: K6Summary): number {
  const m = summary.metrics.dropped_iterations;
  return m?.type === 'counter' ? m.count : 0;
}

export function readLoadManifest(dir: string): LoadManifest {
  const path = join(dir, LOAD_MANIFEST);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as LoadManifest;
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message} (written by \`load --segments\` and \`--emit-k6-operator\`)`);
  }
}

export async function writeLoadManifest(dir: string, m: LoadManifest): Promise<void> {
  await writeFile(join(dir, LOAD_MANIFEST), `${JSON.stringify(m, null, 2)}\n`);
}

export function loadManifestFor(
  ctx: Pick<LoadRunContext, 'catalog' | 'profile' | 'k6Version'>,
  o: Pick<RunK6Options, 'script' | 'env'>,
  segments: number,
): LoadManifest {
  return {
    chapter: ctx.catalog.chapter,
    profile: ctx.profile,
    segments,
    script: relative(rootDir, o.script),
    env: o.env,
    k6Version: ctx.k6Version,
    samples: 'runner-<i>/samples.csv.gz',
    createdAt: new Date().toISOString(),
  };
}

/** Runs (or, for grade-load, reads) a chapter's main k6 load. */
export async function loadK6(
  ctx: LoadRunContext,
  o: Omit<RunK6Options, 'k6' | 'outDir'> & { outDir?: string },
): Promise<ChapterK6Run> {
  const outDir = o.outDir ?? ctx.outDir;
  if (ctx.replayDir) {
    const merged = await mergeRunnerSamples(ctx.replayDir, o.script);
    await mkdir(outDir, { recursive: true });
    const summaryPath = join(outDir, 'k6-merged-summary.json');
    await writeFile(summaryPath, `${JSON.stringify(merged.summary, null, 2)}\n`);
    ctx.onProgress(`graded from ${merged.files.length} runner output(s) in ${ctx.replayDir}`);
    return {
      exitCode: 0,
      exitMeaning: 'ok',
      thresholdsPassed: true,
      summary: merged.summary,
      summaryPath,
      dashboardPath: null,
      stdoutPath: merged.files[0]!,
      segments: merged.files.length,
      replayed: true,
    };
  }
  const segments = ctx.segments ?? 1;
  const cpu = sampleK6Cpu();
  let run: RunK6Result;
  try {
    run =
      segments > 1
        ? await runK6Segments({ ...o, outDir, k6: ctx.k6, segments })
        : await runK6({ ...o, outDir, k6: ctx.k6 });
  } catch (e) {
    cpu.stop(0);
    throw e;
  }
  const loadGenerator = cpu.stop(droppedOf(run.summary));
  if (segments > 1) await writeLoadManifest(outDir, loadManifestFor(ctx, o, segments));
  return { ...run, segments, loadGenerator, replayed: false };
}
