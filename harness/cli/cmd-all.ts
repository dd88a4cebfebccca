// `sdgrade all`, the main job: every reference implementation graded by its manifest with load and micro-benchmarks,
// on real PostgreSQL and Redis where they can be had, each chapter's variants grading what its default deployment
// skips; one chapter that cannot be graded does not lose the others' results.
import { chapterModule, chapters } from '../chapters/registry.ts';
import { completedByVariant, variantManifest, variantUnavailable, withVariant } from '../chapters/variants.ts';
import { DEPENDENCY_ENV } from '../containers/dependencies.ts';
import { environment } from '../core/environment.ts';
import { gradeChapter } from '../core/grade-chapter.ts';
import type { Profile } from '../core/load-run.ts';
import { newRun } from '../core/run-dir.ts';
import { newRunSeed } from '../core/seed.ts';
import type { ChapterResult } from '../results/types.ts';
import { mainJobEtcd } from '../tools/local-etcd.ts';
import { describeService, mainJobServices } from '../tools/local-services.ts';
import { finishRun } from './finish-run.ts';
import { k6For } from './k6-for-run.ts';
import { openNetwork } from './network.ts';

const log = (line: string) => console.log(line);

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
  const { runId, dir } = newRun(o.out);
  const runSeed = o.seed ?? newRunSeed();
  const graded = o.chapters ? o.chapters.map((c) => chapterModule(c)) : [...chapters];
  // PostgreSQL and Redis: the given URLs, else throwaway local servers where the packages are installed (ended
  // with the run however it ends), else embedded; the checks that need a real one are skipped only in that case.
  const services = await mainJobServices({ embedded: Boolean(o.embedded) });
  const real = Object.values(services).filter((s) => s.source !== 'embedded');
  log(`main job: grading ${graded.length} reference implementation(s), load profile ${o.profile}, with`);
  for (const s of Object.values(services)) log(`  ${describeService(s)}`);
  // etcd only where a graded chapter has a variant on it (20's cluster): without one that variant is not graded.
  const etcd = graded.some((m) => m.variants?.some((v) => v.needs?.includes('etcd')))
    ? await mainJobEtcd({ embedded: Boolean(o.embedded) })
    : null;
  if (etcd) log(`  ${etcd.description}`);
  const saved = Object.fromEntries(real.map((s) => [DEPENDENCY_ENV[s.kind], process.env[DEPENDENCY_ENV[s.kind]]]));
  for (const s of real) process.env[DEPENDENCY_ENV[s.kind]] = s.url!;
  if (etcd?.url) {
    saved['SDGRADE_ETCD_URL'] = process.env['SDGRADE_ETCD_URL'];
    process.env['SDGRADE_ETCD_URL'] = etcd.url;
  }
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
    await etcd?.stop().catch((e: Error) => log(`stopping etcd: ${e.message}`));
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
