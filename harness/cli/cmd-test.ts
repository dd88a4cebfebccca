// `sdgrade test <chapter>`: grade one implementation (by URL or manifest, optionally a deployment variant, real
// PostgreSQL and Redis, a load profile) and write the run's results and reports.
import { chapterModule } from '../chapters/registry.ts';
import { findVariant, variantManifest, variantUnavailable, withVariant } from '../chapters/variants.ts';
import { DEPENDENCY_ENV, describeDependency, resolveDependency } from '../containers/dependencies.ts';
import { environment } from '../core/environment.ts';
import { gradeChapter, type TargetSpec } from '../core/grade-chapter.ts';
import type { Profile } from '../core/load-run.ts';
import { newRun } from '../core/run-dir.ts';
import { newRunSeed } from '../core/seed.ts';
import { parseSettings } from '../core/settings.ts';
import { finishRun } from './finish-run.ts';
import { k6For } from './k6-for-run.ts';
import { openNetwork } from './network.ts';

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
  const { runId, dir } = newRun(o.out);
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
