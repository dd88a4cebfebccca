// Load from several k6 processes, split the way k6 distributes a test (and the k6 Operator splits a TestRun over
// its runner pods): every process runs the same script with one --execution-segment of one
// --execution-segment-sequence, and writes its raw samples (--out csv=...). The merged summary is computed from all
// samples together (k6-samples.ts), so percentiles are never averaged across processes.
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { type RunK6Options, type RunK6Result, runK6 } from './k6-runner.ts';
import { metricTypesOf, SampleMerger } from './k6-samples.ts';
import type { K6Summary } from './k6-summary.ts';

/** Where runner i writes its samples: DIR/runner-<i>/samples.csv.gz (grade-load reads the same layout). */
export const runnerDir = (dir: string, i: number) => join(dir, `runner-${i}`);
export const SAMPLES_FILE = 'samples.csv.gz';

const frac = (i: number, n: number) => (i === 0 ? '0' : i === n ? '1' : `${i}/${n}`);

/** "0,1/3,2/3,1": n equal segments, as the k6 Operator assigns them for `parallelism: n`. */
export function segmentSequence(n: number): string {
  return Array.from({ length: n + 1 }, (_, i) => frac(i, n)).join(',');
}

/** Segment i of n, e.g. "1/3:2/3". */
export function segmentOf(i: number, n: number): string {
  return `${frac(i, n)}:${frac(i + 1, n)}`;
}

/** The k6 flags for runner i of n. */
export function segmentArgs(i: number, n: number, samplesPath: string): string[] {
  return [
    '--execution-segment',
    segmentOf(i, n),
    '--execution-segment-sequence',
    segmentSequence(n),
    '--out',
    `csv=${samplesPath}`,
  ];
}

/** The script and the lib files it may import, for the custom metric types declared in them. */
export function scriptSources(script: string): string[] {
  const lib = join(dirname(resolve(script)), 'lib');
  let libs: string[] = [];
  try {
    libs = readdirSync(lib)
      .filter((f) => f.endsWith('.js'))
      .map((f) => readFileSync(join(lib, f), 'utf8'));
  } catch {
    // No lib folder beside the script.
  }
  return [readFileSync(script, 'utf8'), ...libs];
}

/** Sample files of N runners in a folder: DIR/runner-<i>/samples.csv[.gz], or DIR/*.csv[.gz] (e.g. pod logs). */
export function findSampleFiles(dir: string): string[] {
  const isCsv = (f: string) => /\.csv(\.gz)?$/.test(f);
  const entries = readdirSync(dir, { withFileTypes: true });
  const nested = entries
    .filter((e) => e.isDirectory() && /^runner-\d+$/.test(e.name))
    .sort((a, b) => Number(a.name.slice(7)) - Number(b.name.slice(7)))
    .flatMap((e) =>
      readdirSync(join(dir, e.name))
        .filter(isCsv)
        .map((f) => join(dir, e.name, f)),
    );
  const flat = entries.filter((e) => e.isFile() && isCsv(e.name)).map((e) => join(dir, e.name));
  return [...nested, ...flat.sort()];
}

export interface MergedSamples {
  summary: K6Summary;
  merger: SampleMerger;
  files: string[];
}

/** Merges the samples of every runner in `dir` for `script`. */
export async function mergeRunnerSamples(dir: string, script: string): Promise<MergedSamples> {
  const files = findSampleFiles(dir);
  if (files.length === 0) {
    throw new Error(`no k6 samples in ${dir}: expected runner-<i>/${SAMPLES_FILE} or *.csv / *.csv.gz files`);
  }
  const merger = new SampleMerger(metricTypesOf(scriptSources(script)));
  for (const f of files) await merger.addFile(f);
  return { summary: merger.summary(), merger, files };
}

export interface SegmentedRun extends RunK6Result {
  segments: number;
  runners: RunK6Result[];
  merged: MergedSamples;
}

/** Runs `segments` k6 processes at once, one execution segment each, and merges their samples. */
export async function runK6Segments(o: RunK6Options & { segments: number }): Promise<SegmentedRun> {
  const n = o.segments;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`segments must be a whole number >= 1, got ${n}`);
  const outDir = resolve(o.outDir);
  await mkdir(outDir, { recursive: true });
  const settled = await Promise.allSettled(
    Array.from({ length: n }, (_, i) => {
      const dir = runnerDir(outDir, i);
      return runK6({
        ...o,
        outDir: dir,
        extraArgs: [...(o.extraArgs ?? []), ...segmentArgs(i, n, join(dir, SAMPLES_FILE))],
        ...(o.onProgress ? { onProgress: (l: string) => o.onProgress?.(`[runner ${i}] ${l}`) } : {}),
      });
    }),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const runners = settled.map((s) => (s as PromiseFulfilledResult<RunK6Result>).value);
  const merged = await mergeRunnerSamples(outDir, o.script);
  const summaryPath = join(outDir, 'k6-merged-summary.json');
  await writeFile(summaryPath, `${JSON.stringify(merged.summary, null, 2)}\n`);
  const first = runners[0]!;
  const bad = runners.find((r) => r.exitCode !== 0);
  return {
    exitCode: bad?.exitCode ?? 0,
    exitMeaning: bad?.exitMeaning ?? 'ok',
    // Each runner judged its thresholds on its own share; the harness grades the merged numbers itself.
    thresholdsPassed: runners.every((r) => r.thresholdsPassed),
    summary: merged.summary,
    summaryPath,
    dashboardPath: first.dashboardPath,
    stdoutPath: first.stdoutPath,
    segments: n,
    runners,
    merged,
  };
}
