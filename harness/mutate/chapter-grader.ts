// Grades one mutant of a chapter's reference: the harness's own CLI, in a child process, with the workspace's
// manifest and the mutant's environment, every check in catalog order. A failed check kills the mutant; a child
// that outlives the time limit is stopped (SIGTERM, so it stops the nodes it started; SIGKILL 10 s later). A
// deployment variant is graded with `test --variant` (its env, settings and the checks that apply to it). A mutant
// is graded with `test --only` and the checks that reach its code; the baseline, which records coverage, also has
// the harness write when each check ran (check-spans.ts). On the real services each grade gets a PostgreSQL
// database of its own (fresh-database.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { busyFactor } from '../core/busy-factor.ts';
import { rootDir } from '../core/paths.ts';
import { spawnOwned } from '../tools/owned-processes.ts';
import { checkSpansFile } from './check-coverage.ts';
import { checkSpansVar } from './check-spans.ts';
import { freshDatabase } from './fresh-database.ts';
import type { GradeOutcome, Grader } from './run-mutate.ts';

export function chapterGrader(
  slug: string,
  o: {
    runs: number;
    seed: number;
    realDeps: boolean;
    /** The manifest's file name in the workspace's reference for a variant (one with its own deployment). */
    manifestName?: (variant: string | undefined) => string;
  },
): Grader {
  const once = gradeOnce(slug, o);
  return async (args) => {
    const shared = process.env['SDGRADE_DATABASE_URL'];
    if (!o.realDeps || !shared) return once(args, undefined);
    const db = await freshDatabase(shared).catch((e: Error) => {
      console.error(`  (no database of its own: ${e.message.split('\n')[0]}; graded on the shared one)`);
      return null;
    });
    try {
      return await once(args, db?.url);
    } finally {
      await db?.drop().catch(() => {});
    }
  };
}

function gradeOnce(
  slug: string,
  o: { runs: number; seed: number; realDeps: boolean; manifestName?: (variant: string | undefined) => string },
): (args: Parameters<Grader>[0], databaseUrl: string | undefined) => Promise<GradeOutcome> {
  return ({ workspace, env, timeoutMs, variant, checks }, databaseUrl) =>
    new Promise<GradeOutcome>((resolve) => {
      const out = mkdtempSync(join(tmpdir(), 'sdgrade-mutant-'));
      const envArgs = Object.entries({ ...(o.realDeps ? {} : { DATABASE_URL: '', REDIS_URL: '' }), ...env }).flatMap(
        ([k, v]) => ['--env', `${k}=${v}`],
      );
      const args = [
        join(rootDir, 'bin', 'sdgrade.js'),
        'test',
        slug,
        '--manifest',
        join(workspace, 'reference', slug, o.manifestName?.(variant) ?? 'manifest.json'),
        '--runs',
        String(o.runs),
        '--seed',
        String(o.seed),
        '--out',
        out,
        // a mutant is killed by its first failed check; the rest would only cost time
        ...(env.__STRYKER_ACTIVE_MUTANT__ ? ['--fail-fast'] : []),
        ...(variant && variant !== 'default' ? ['--variant', variant] : []),
        ...(checks?.length ? ['--only', checks.join(',')] : []),
        ...envArgs,
      ];
      // Without --real-deps the nodes run on their embedded stores (DATABASE_URL / REDIS_URL emptied above), so the
      // checks must not see the real services either: with SDGRADE_*_URL still set, a check that needs the shared
      // store (05's RL-I5: two instances, one limit) would run against two separate in-memory stores and fail the
      // unmutated baseline.
      const childEnv: NodeJS.ProcessEnv = { ...process.env };
      const covDir = env.SDGRADE_MUTATE_COVERAGE_DIR;
      if (covDir) childEnv[checkSpansVar] = join(covDir, checkSpansFile);
      else delete childEnv[checkSpansVar];
      if (databaseUrl) childEnv['SDGRADE_DATABASE_URL'] = databaseUrl;
      if (!o.realDeps) {
        delete childEnv['SDGRADE_DATABASE_URL'];
        delete childEnv['SDGRADE_REDIS_URL'];
      }
      // owned: if `mutate` itself is stopped, the run grading a mutant (and the nodes it started) stops with it
      const child = spawnOwned(process.execPath, args, {
        cwd: workspace,
        env: childEnv,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let tail = '';
      const keep = (d: Buffer) => {
        tail = (tail + d.toString()).slice(-4000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      let timedOut = false;
      // Stretched by the load now, as each check's own limit is (busy-factor.ts): a mutant that outlives its limit
      // counts as detected, so a limit that did not grow with the load would turn a busy machine's survivors into kills.
      const limitMs = Math.round(timeoutMs * busyFactor());
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }, limitMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        const done = (g: GradeOutcome) => {
          rmSync(out, { recursive: true, force: true });
          resolve(g);
        };
        if (timedOut) return done({ status: 'timeout', reason: `not graded within ${Math.round(limitMs / 1000)} s` });
        const file = join(out, 'results.json');
        if (!existsSync(file)) return done({ status: 'error', reason: `exit ${code}: ${lastError(tail)}` });
        const results = JSON.parse(readFileSync(file, 'utf8')) as {
          chapters: { checks: { id: string; status: string; reason?: string; durationMs?: number }[] }[];
        };
        const ran = results.chapters[0]?.checks ?? [];
        const durations = Object.fromEntries(
          ran.flatMap((c) => (c.durationMs !== undefined ? [[c.id, c.durationMs]] : [])),
        );
        const firstLine = (r?: string) => (r ?? '').split('\n')[0]?.slice(0, 200) ?? '';
        const failed = ran
          .filter((c) => c.status === 'fail' || c.status === 'error')
          .map((c) => ({ id: c.id, reason: firstLine(c.reason) }));
        const [first] = failed;
        if (first) return done({ status: 'killed', by: first.id, reason: first.reason, failed });
        if (code !== 0) return done({ status: 'error', reason: `exit ${code} with no failed check` });
        return done({ status: 'survived', durations });
      });
    });
}

/** The line of a crashed run's output that says what went wrong (node ends with its version line, which does not). */
function lastError(tail: string): string {
  const lines = tail.trim().split('\n');
  return [...lines].reverse().find((l) => /error/i.test(l)) ?? lines.pop() ?? '';
}
