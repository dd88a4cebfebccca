// The CLI's heavier commands (list and estimate have their own light modules, so they load no chapter). Each returns the process exit code: 0 pass, 1 fail, 2 error.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gradingPowerCell } from '../blind-bugs/power-cell.ts';
import { chapterModule, chapters } from '../chapters/registry.ts';
import {
  completedByVariant,
  findVariant,
  variantManifest,
  variantUnavailable,
  withVariant,
} from '../chapters/variants.ts';
import { DEPENDENCY_ENV, describeDependency, resolveDependency } from '../containers/dependencies.ts';
import { chapterList } from '../core/chapter-list.ts';
import { environment } from '../core/environment.ts';
import { countStatuses, gradeChapter, loadErrorPrefix, type TargetSpec } from '../core/grade-chapter.ts';
import type { Profile } from '../core/load-run.ts';
import { rootDir } from '../core/paths.ts';
import { makeRunDir, newRunId } from '../core/run-dir.ts';
import { newRunSeed } from '../core/seed.ts';
import { parseSettings } from '../core/settings.ts';
import {
  keepPreviousRows,
  mergeRunsForTable,
  previousGradedRows,
  renderChapterTable,
  updateReadmeTable,
} from '../report/chapter-table.ts';
import { compareRuns } from '../report/compare.ts';
import { writeReport } from '../report/write-report.ts';
import type { ChapterResult, RunResults } from '../results/types.ts';
import { findK6 } from '../tools/k6.ts';
import { describeService, mainJobServices } from '../tools/local-services.ts';
import { runMutants } from './mutants.ts';
import { openNetwork } from './network.ts';
import { readResults } from './read-results.ts';
import { scaffoldChapter } from './scaffold.ts';
import { serveReferences } from './serve.ts';

const log = (line: string) => console.log(line);

function parseEnv(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs?.length) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new Error(`--env takes KEY=VALUE, got ${p}`);
    out[p.slice(0, i)] = p.slice(i + 1);
  }
  return out;
}

async function k6For(profile: Profile | null | undefined, build: boolean) {
  if (!profile) return null;
  try {
    const k = await findK6({ build });
    return { path: k.path, version: k.version };
  } catch (e) {
    log(`k6 not available: ${(e as Error).message}`);
    return null;
  }
}

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
  const loadErrors = run.chapters.flatMap((c) => c.targets).filter((t) => t.reason?.startsWith(loadErrorPrefix)).length;
  if (s.fail > 0 || targetsFailed > 0) return 1;
  return s.error > 0 || loadErrors > 0 ? 2 : 0;
}

/**
 * --real-deps: PostgreSQL and Redis from SDGRADE_DATABASE_URL / SDGRADE_REDIS_URL, else started with testcontainers
 * where a container engine exists, else (as on machines without Docker) the embedded defaults, saying why.
 */
async function realDependencies(): Promise<() => Promise<void>> {
  const stops: (() => Promise<void>)[] = [];
  for (const kind of ['postgres', 'redis'] as const) {
    const r = await resolveDependency(kind);
    log(describeDependency(r));
    if (r.source === 'testcontainers') {
      process.env[DEPENDENCY_ENV[kind]] = r.url;
      stops.push(r.stop);
    }
  }
  return async () => {
    for (const s of stops) await s();
  };
}

interface TestOpts {
  realDeps?: boolean;
  url?: string;
  manifest?: string;
  seed?: number;
  runs: number;
  only?: string[];
  failFast?: boolean;
  env?: string[];
  out?: string;
  load?: Profile;
  /** --shuffle alone is `true` (a fresh seed); --shuffle <n> replays order n. */
  shuffle?: number | boolean;
  setting?: string[];
  /** Count targets beyond this machine as failures. */
  strict?: boolean;
  /** k6 processes for the load (execution segments). */
  segments?: number;
  /** A deployment variant of the chapter's reference (ChapterModule.variants). */
  variant?: string;
}

function shuffleSeedOf(v: number | boolean | undefined): number | undefined {
  if (v === undefined || v === false) return undefined;
  if (v === true) return newRunSeed();
  if (!Number.isInteger(v) || v < 0) throw new Error('--shuffle takes a non-negative integer seed');
  return v;
}

export async function cmdTest(chapter: string, o: TestOpts): Promise<number> {
  let module = chapterModule(chapter);
  // A variant brings its env and settings (--env and --setting still override them) and skips, with the variant's
  // reason, the checks that cannot apply to it.
  const variant = o.variant ? findVariant(module, o.variant) : undefined;
  if (variant) {
    const why = variantUnavailable(variant);
    if (why && !o.realDeps) throw new Error(why);
    module = withVariant(module, variant);
  }
  // A variant that is its own deployment (three brokers) brings its manifest: `test 20 --variant cluster` alone
  // grades the reference cluster.
  const manifest = o.manifest ?? (!o.url && variant?.manifest ? variantManifest(module, variant) : undefined);
  if (!o.url === !manifest) throw new Error('give exactly one of --url <base URL> or --manifest <file>');
  const target: TargetSpec = o.url ? { url: o.url } : { manifest: manifest! };
  const runId = newRunId();
  const dir = makeRunDir(runId, o.out);
  const runSeed = o.seed ?? newRunSeed();
  log(`run ${runId}, seed ${runSeed} (replay with --seed ${runSeed})`);
  const shuffle = shuffleSeedOf(o.shuffle);
  if (shuffle !== undefined)
    log(`checks in shuffled order, shuffle seed ${shuffle} (replay with --shuffle ${shuffle})`);
  const parsedSettings = parseSettings(o.setting);
  const settings =
    variant?.settings || parsedSettings ? { ...(variant?.settings ?? {}), ...(parsedSettings ?? {}) } : undefined;
  const stopDeps = o.realDeps ? await realDependencies() : async () => {};
  const network = await openNetwork(log);
  const k6 = await k6For(o.load, false);
  const started = new Date().toISOString();
  try {
    const extraEnv = parseEnv(o.env);
    const envOverrides = variant || extraEnv ? { ...(variant?.env ?? {}), ...(extraEnv ?? {}) } : undefined;
    const variantLabel = [
      ...(variant ? [variant.name] : []),
      ...Object.entries(extraEnv ?? {}).map(([k, v]) => `${k}=${v}`),
    ].join(',');
    const result = await gradeChapter({
      module,
      target,
      runDir: dir,
      runSeed,
      numRuns: o.runs,
      ...(o.only ? { only: o.only } : {}),
      ...(o.failFast ? { failFast: true } : {}),
      ...(shuffle !== undefined ? { shuffle } : {}),
      ...(settings ? { settings } : {}),
      load: o.load ?? null,
      k6,
      ...(o.segments ? { segments: o.segments } : {}),
      network,
      onProgress: log,
      ...(envOverrides ? { envOverrides } : {}),
      ...(variantLabel ? { variant: variantLabel } : {}),
    });
    return await finishRun(
      {
        schemaVersion: 1,
        runId,
        startedAt: started,
        command: `sdgrade test ${chapter}${variant ? ` --variant ${variant.name}` : ''}${shuffle !== undefined ? ` --shuffle ${shuffle}` : ''}`,
        environment: environment(k6?.version ?? null),
        chapters: [result],
      },
      dir,
      { strict: o.strict ?? false },
    );
  } finally {
    await network?.close();
    await stopDeps();
  }
}

export async function cmdAll(o: {
  profile: Profile;
  runs: number;
  seed?: number;
  out?: string;
  embedded?: boolean;
  chapters?: string[];
  strict?: boolean;
  segments?: number;
}): Promise<number> {
  const runId = newRunId();
  const dir = makeRunDir(runId, o.out);
  const runSeed = o.seed ?? newRunSeed();
  const graded = o.chapters ? o.chapters.map((c) => chapterModule(c)) : [...chapters];
  // PostgreSQL and Redis: the given URLs, else throwaway local servers where the packages are installed (ended
  // with the run however it ends), else embedded; the checks that need a real one are skipped only in that case.
  const services = await mainJobServices({ embedded: Boolean(o.embedded) });
  const real = Object.values(services).filter((s) => s.source !== 'embedded');
  log(`main job: grading ${graded.length} reference implementation(s), load profile ${o.profile}, with`);
  for (const s of Object.values(services)) log(`  ${describeService(s)}`);
  const saved = Object.fromEntries(real.map((s) => [DEPENDENCY_ENV[s.kind], process.env[DEPENDENCY_ENV[s.kind]]]));
  for (const s of real) process.env[DEPENDENCY_ENV[s.kind]] = s.url!;
  log(`run ${runId}, seed ${runSeed}`);
  const network = await openNetwork(log);
  const k6 = await k6For(o.profile, true);
  const started = new Date().toISOString();
  const results: ChapterResult[] = [];
  const broken: string[] = [];
  try {
    for (const [i, m] of graded.entries()) {
      log(`\n[${i + 1}/${graded.length}] ${m.slug}`);
      try {
        const common = {
          runDir: dir,
          runSeed,
          numRuns: o.runs,
          network,
          // Without a real dependency the manifests' URLs are ignored (even ones set in the environment).
          embedded: real.length === 0,
          onProgress: (l: string) => log(`  ${l}`),
        };
        let result = await gradeChapter({
          ...common,
          module: m,
          target: { manifest: m.referenceManifest },
          load: o.profile,
          bench: true,
          k6,
          ...(o.segments ? { segments: o.segments } : {}),
        });
        // What the default deployment skips because only a variant has it (a cluster): graded on that variant.
        for (const v of m.variants ?? []) {
          if (!v.completes?.length) continue;
          const why = variantUnavailable(v);
          if (why) {
            log(`  variant ${v.name} not graded (${why}): ${v.completes.join(', ')} stay skipped`);
            continue;
          }
          const manifest = variantManifest(m, v);
          log(`  variant ${v.name} (${manifest}) for ${v.completes.join(', ')}`);
          const onVariant = await gradeChapter({
            ...common,
            module: withVariant(m, v),
            target: { manifest },
            only: [...v.completes],
            load: null,
            k6: null,
            envOverrides: { ...v.env },
            ...(v.settings ? { settings: { ...v.settings } } : {}),
            variant: v.name,
          });
          result = completedByVariant(result, onVariant, v, manifest);
        }
        results.push(result);
      } catch (e) {
        // One chapter that cannot be graded (its reference does not start, say) does not lose the others' results.
        broken.push(m.slug);
        log(`  ERROR ${m.slug} could not be graded: ${(e as Error).message}`);
      }
    }
  } finally {
    await network?.close();
    for (const s of Object.values(services)) await s.stop().catch((e) => log(`stopping ${s.kind}: ${e.message}`));
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  const code = await finishRun(
    {
      schemaVersion: 1,
      runId,
      startedAt: started,
      command: `sdgrade all --profile ${o.profile}${o.embedded ? ' --embedded' : ''}${o.chapters ? ` --chapters ${o.chapters.join(',')}` : ''}`,
      environment: environment(k6?.version ?? null, {
        postgres: services.postgres.description,
        redis: services.redis.description,
      }),
      chapters: results,
    },
    dir,
    { strict: o.strict ?? false },
  );
  if (broken.length) log(`not graded (errors above): ${broken.join(', ')}`);
  return broken.length ? 2 : code;
}

export async function cmdBench(chapter: string, o: { profile: Profile; out?: string }): Promise<number> {
  const module = chapterModule(chapter);
  if (!module.bench) throw new Error(`${module.slug} has no micro-benchmark`);
  const runId = newRunId();
  const dir = makeRunDir(runId, o.out);
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

export async function cmdReport(
  p: string,
  o: { out?: string; readme?: boolean; also?: string[]; keepRows?: boolean },
): Promise<number> {
  const results = readResults(p);
  const dir = o.out ? resolve(o.out) : existsSync(p) && statSync(p).isDirectory() ? p : resolve(p, '..');
  const paths = await writeReport(results, dir);
  log(`report: ${paths.html}\nsummary: ${paths.markdown}\njunit: ${paths.junit}`);
  if (o.readme) {
    const readme = join(rootDir, 'README.md');
    const merged = mergeRunsForTable([results, ...(o.also ?? []).map((a) => readResults(a))]);
    const entries = chapterList.map((c) => {
      const hasSpec = existsSync(join(rootDir, 'specs', c.slug, 'README.md'));
      const graded = chapters.some((m) => m.slug === c.slug);
      const inRun = merged.results.chapters.some((r) => r.chapter === c.slug);
      const note =
        graded && !inRun
          ? 'graded by the harness; not in this run'
          : !graded && hasSpec
            ? 'library and unit tests (no service to grade)'
            : undefined;
      return { ...c, hasSpec, power: gradingPowerCell(c.slug), ...(note ? { note } : {}) };
    });
    const text = readFileSync(readme, 'utf8');
    // --keep-rows: chapters none of these runs graded keep the row the table had, with its run named.
    const notInRuns = entries.filter((e) => e.note === 'graded by the harness; not in this run');
    const kept = o.keepRows
      ? keepPreviousRows(
          renderChapterTable(merged.results, entries),
          previousGradedRows(text),
          notInRuns.map((e) => e.slug.split('-')[0] ?? ''),
        )
      : { table: renderChapterTable(merged.results, entries), sources: '' };
    const table = `${kept.table}\n\n${merged.sources}${kept.sources ? ` ${kept.sources}` : ''}`;
    writeFileSync(readme, updateReadmeTable(text, table));
    log(`updated the chapter table in ${readme}`);
  }
  return 0;
}

export async function cmdNewChapter(slug: string, o: { prefix?: string }): Promise<number> {
  for (const line of scaffoldChapter(slug, o.prefix)) log(line);
  return 0;
}
