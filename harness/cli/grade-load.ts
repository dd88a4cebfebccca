// `grade-load <chapter> --from DIR`: grades the raw samples of N k6 runners made elsewhere (a k6 Operator TestRun
// from `load --emit-k6-operator`, or a local `load --segments N`) with the chapter's targets, and writes the same
// results and report as a local load run. And `load --emit-k6-operator DIR`, which prepares such a run.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chapterModule } from '../chapters/registry.ts';
import { environment } from '../core/environment.ts';
import type { Profile } from '../core/load-run.ts';
import { loadDir } from '../core/paths.ts';
import { newRun } from '../core/run-dir.ts';
import { UrlTarget } from '../core/url-target.ts';
import { readLoadManifest } from '../load/chapter-k6.ts';
import { emitK6Operator } from '../load/k6-operator.ts';
import type { ChapterResult } from '../results/types.ts';
import { findK6 } from '../tools/k6.ts';
import { finishRun } from './finish-run.ts';

const log = (line: string) => console.log(line);

/**
 * Every chapter with a load test and a k6 script grades samples made elsewhere (what needs the implementation is
 * skipped, said why). These run from one k6 process only: their setup makes state the VUs share.
 */
export const SINGLE_RUNNER = new Set(['13-chat-system']);

const hasK6Script = (slug: string) => existsSync(join(loadDir, `${slug}.js`));

export async function cmdGradeLoad(
  chapter: string,
  o: { from: string; out?: string; strict?: boolean },
): Promise<number> {
  const module = chapterModule(chapter);
  const from = resolve(o.from);
  const manifest = readLoadManifest(from);
  if (manifest.chapter !== module.slug)
    throw new Error(`${from} holds a load of chapter ${manifest.chapter}, not ${module.slug}`);
  const load = module.load;
  if (!load || !hasK6Script(module.slug))
    throw new Error(`grade-load: chapter ${module.slug} has no load test with a k6 script`);
  const { runId, dir } = newRun(o.out);
  const baseUrl = manifest.env.TARGET_URL ?? manifest.env.TARGET_URLS?.split(',')[0] ?? 'unknown';
  log(`run ${runId}: grading the ${manifest.profile} load of ${module.slug} from ${from}`);
  const started = new Date().toISOString();
  const measured = await load({
    target: new UrlTarget(baseUrl, `k6 runners' samples in ${from}`),
    catalog: module.catalog,
    profile: manifest.profile,
    outDir: join(dir, 'load'),
    k6: '',
    k6Version: manifest.k6Version,
    onProgress: log,
    replayDir: from,
  });
  for (const t of measured.targets) {
    log(
      `${t.verdict.toUpperCase().padEnd(7)} ${t.id} ${t.title}: ${t.value ?? '-'} ${t.unit}${t.reason ? ` (${t.reason})` : ''}`,
    );
  }
  const result: ChapterResult = {
    chapter: module.slug,
    title: module.catalog.title,
    target: { mode: 'url', baseUrl, implementation: `k6 runners' samples in ${from}` },
    checks: [],
    targets: measured.targets,
    load: measured.load,
    logs: [],
    counts: { pass: 0, fail: 0, skipped: 0, error: 0 },
  };
  return finishRun(
    {
      schemaVersion: 1,
      runId,
      startedAt: started,
      command: `sdgrade grade-load ${module.slug} --from ${o.from}`,
      environment: environment(manifest.k6Version),
      chapters: [result],
    },
    dir,
    { strict: o.strict ?? false },
  );
}

export async function cmdEmitK6Operator(
  chapter: string,
  o: { dir: string; url?: string; profile: Profile; segments?: number },
): Promise<number> {
  const module = chapterModule(chapter);
  if (!o.url)
    throw new Error('--emit-k6-operator needs --url: the base URL the runner pods reach the implementation at');
  const script = join(loadDir, `${module.slug}.js`);
  if (!existsSync(script)) throw new Error(`chapter ${module.slug} has no k6 script at ${script}`);
  if (SINGLE_RUNNER.has(module.slug) && (o.segments ?? 2) > 1)
    throw new Error(`chapter ${module.slug}'s load runs from one k6 process: pass --segments 1`);
  const k6 = await findK6({ build: false });
  const e = await emitK6Operator({
    chapter: module.slug,
    script,
    env: { TARGET_URL: o.url.replace(/\/$/, ''), PROFILE: o.profile },
    profile: o.profile,
    parallelism: o.segments ?? 2,
    outDir: o.dir,
    k6: k6.path,
    k6Version: k6.version,
  });
  log(`k6 Operator TestRun ${e.name}: ${e.testRun}\nConfigMap with the k6 archive: ${e.configMap}`);
  log(`what each runner must write, and how to grade it: ${e.readme}`);
  return 0;
}
