// Grades one chapter against one target: start it (manifest) or attach to it (URL), run the checks, then the load
// test if asked, and stop it. The reference implementations go through exactly this path, like anyone else's.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChapterModule } from '../chapters/chapter-module.ts';
import type { ChapterResult, Counts, TargetResult } from '../results/types.ts';
import { benchErrorPrefix, joinBenchTargets, skippedTarget } from './bench-targets.ts';
import { ExchangeValidator } from './exchange-validator.ts';
import type { Profile } from './load-run.ts';
import { loadManifest } from './manifest.ts';
import type { NetworkFaults } from './network-faults.ts';
import { loadOpenApi } from './openapi-document.ts';
import { ProcessTarget } from './process-target.ts';
import { runChecks } from './run-checks.ts';
import type { Settings } from './settings.ts';
import type { Target } from './target.ts';
import { startThirdParties } from './third-parties.ts';
import { UrlTarget } from './url-target.ts';
import { waitReady } from './wait-ready.ts';

export type TargetSpec = { url: string; implementation?: string } | { manifest: string };

export interface GradeOptions {
  module: ChapterModule;
  target: TargetSpec;
  runDir: string;
  runSeed: number;
  numRuns: number;
  only?: string[];
  /** Stop at the first failed check (sdgrade mutate: a mutant is killed by one). */
  failFast?: boolean;
  /** false: failed properties are not shrunk (self-tests that need only caught or not). */
  shrink?: boolean;
  /** Run the checks in an order shuffled from this seed (catalog order when absent). */
  shuffle?: number;
  /**
   * Settings of the target: a URL target's (`--setting`), or overrides of a manifest's `settings` (when `--env`
   * changes what the manifest declares, e.g. FAIL_MODE=closed).
   */
  settings?: Settings;
  /** Run the k6 load test with this profile; null for none. */
  load: Profile | null;
  /** Also run the chapter's in-process micro-benchmark (with the load profile, or smoke). */
  bench?: boolean;
  k6?: { path: string; version: string } | null;
  /** k6 processes for the main load (execution segments); default 1. */
  segments?: number;
  envOverrides?: Record<string, string>;
  /** Start manifest nodes on their embedded defaults, ignoring configured dependencies. */
  embedded?: boolean;
  variant?: string;
  network: NetworkFaults | null;
  onProgress: (line: string) => void;
}

/** Starts the reason of every target of a chapter whose load test could not run (the CLI exits 2 on it). */
export const loadErrorPrefix = 'the load test could not run:';

export function countStatuses(items: { status: string }[]): Counts {
  const c: Counts = { pass: 0, fail: 0, skipped: 0, error: 0 };
  for (const i of items) if (i.status in c) c[i.status as keyof Counts]++;
  return c;
}

async function openTarget(o: GradeOptions, dir: string): Promise<{ target: Target; settings: Settings }> {
  if ('url' in o.target) {
    const t = new UrlTarget(o.target.url.replace(/\/$/, ''), o.target.implementation ?? o.target.url);
    await waitReady(`${t.baseUrl}/health/ready`, { timeoutMs: 10_000 });
    return { target: t, settings: o.settings ?? {} };
  }
  const manifest = loadManifest(o.target.manifest);
  const settings = { ...(manifest.settings ?? {}), ...(o.settings ?? {}) };
  if (manifest.chapter !== o.module.slug)
    throw new Error(`${manifest.file} is for chapter ${manifest.chapter}, not ${o.module.slug}`);
  const target = await ProcessTarget.start({
    manifest,
    runDir: dir,
    network: o.network,
    onProgress: o.onProgress,
    ...(o.embedded ? { embedded: true } : {}),
    ...(o.envOverrides ? { envOverrides: o.envOverrides } : {}),
    ...(o.variant ? { variant: o.variant } : {}),
  });
  return { target, settings };
}

export async function gradeChapter(o: GradeOptions): Promise<ChapterResult> {
  const dir = join(o.runDir, o.module.slug + (o.variant ? `--${o.variant}` : ''));
  mkdirSync(dir, { recursive: true });
  const validator = new ExchangeValidator(await loadOpenApi(o.module.specFile));
  const fakes = await startThirdParties(o.module, o.runSeed);
  let target: Target;
  let settings: Settings;
  try {
    ({ target, settings } = await openTarget(o, dir));
  } catch (e) {
    await fakes.close();
    throw e;
  }
  try {
    o.onProgress(`grading ${o.module.slug} at ${target.baseUrl} (${target.mode}${o.variant ? `, ${o.variant}` : ''})`);
    if (Object.keys(settings).length) o.onProgress(`settings: ${JSON.stringify(settings)}`);
    const { checks, order } = await runChecks({
      module: o.module,
      target,
      validator,
      network: o.network,
      runSeed: o.runSeed,
      numRuns: o.numRuns,
      ...(o.only ? { only: o.only } : {}),
      ...(o.failFast ? { failFast: true } : {}),
      ...(o.shrink === false ? { shrink: false } : {}),
      ...(o.shuffle !== undefined ? { shuffleSeed: o.shuffle } : {}),
      settings,
      onProgress: o.onProgress,
    });
    const result: ChapterResult = {
      chapter: o.module.slug,
      title: o.module.catalog.title,
      target: {
        mode: target.mode,
        baseUrl: target.baseUrl,
        implementation: target.implementation,
        ...(target.manifestFile ? { manifest: target.manifestFile } : {}),
        ...(o.variant ? { variant: o.variant } : {}),
      },
      checks,
      order,
      ...(Object.keys(settings).length ? { settings: { ...settings } } : {}),
      targets: [],
      logs: target.logs(),
      counts: countStatuses(checks),
    };
    if (o.load && o.module.load) {
      const unmeasured = (reason: string): TargetResult[] =>
        o.module.catalog.targets.map((t) => skippedTarget(t, reason));
      if (!o.k6) {
        result.targets = unmeasured('k6 was not found (run `npx tsx scripts/get-tools.ts`, or install k6)');
      } else {
        let measured: Awaited<ReturnType<NonNullable<ChapterModule['load']>>>;
        try {
          measured = await o.module.load({
            target,
            catalog: o.module.catalog,
            profile: o.load,
            outDir: join(dir, 'load'),
            k6: o.k6.path,
            k6Version: o.k6.version,
            onProgress: o.onProgress,
            settings,
            ...(o.segments && o.segments > 1 ? { segments: o.segments } : {}),
          });
        } catch (e) {
          // The checks' results are kept; the targets say the load test broke, and the run's exit code says error.
          const why = `${loadErrorPrefix} ${(e as Error).message.split('\n')[0]}`;
          o.onProgress(`ERROR   ${why}`);
          measured = { load: { profile: o.load, tool: `k6 ${o.k6.version}`, scenarios: [] }, targets: unmeasured(why) };
        }
        const { load, targets } = measured;
        result.load = load;
        result.targets = targets;
        for (const t of targets) {
          o.onProgress(
            `${t.verdict.toUpperCase().padEnd(7)} ${t.id} ${t.title}: ${t.value ?? '-'} ${t.unit}${t.reason ? ` (${t.reason})` : ''}`,
          );
        }
      }
    }
    if (o.bench && o.module.bench) {
      let bench: TargetResult[] | { error: Error };
      try {
        bench = await o.module.bench({ profile: o.load ?? 'smoke', onProgress: o.onProgress });
        for (const t of bench)
          o.onProgress(`${t.verdict.toUpperCase().padEnd(7)} ${t.id} ${t.title}: ${t.value} ${t.unit}`);
      } catch (e) {
        bench = { error: e as Error };
        o.onProgress(`ERROR   ${benchErrorPrefix} ${(e as Error).message.split('\n')[0]}`);
      }
      result.targets = joinBenchTargets(result.targets, bench, o.module.catalog.targets);
    }
    return result;
  } finally {
    await target.close();
    await fakes.close();
  }
}
