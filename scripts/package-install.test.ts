// Issue 24: the package as another repository uses it. Packs this checkout, installs the tarball into an empty
// folder, and from there grades chapter 09 by URL (the reference, started from the checkout) and runs the CI recipe
// (scripts/ci-grade.sh, which action.yml calls) with a baseline: a good run exits 0 and writes the job summary; a
// broken implementation (a reference mutant) exits 1 against that baseline.
//
// The install uses --ignore-scripts: compiling better-sqlite3's native addon is npm's job and takes minutes on two
// cores, and grading by URL loads no native addon. --prefer-offline takes what `npm ci` already cached.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootDir } from '../harness/core/paths.ts';
import { freePort } from '../harness/faults/free-port.ts';

const scale = Number(process.env.SDGRADE_TIME_SCALE ?? 1) || 1;
const work = mkdtempSync(join(tmpdir(), 'sdgrade-pack-'));
const project = join(work, 'user-project');
const servers: ChildProcess[] = [];

async function startReference(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(work, 'data-'));
  const child = spawn('node', ['--import', 'tsx', 'reference/09-url-shortener/main.ts'], {
    cwd: rootDir,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), DATA_DIR: dataDir, PUBLIC_BASE_URL: url, ...env },
    stdio: 'ignore',
  });
  servers.push(child);
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${url}/health/ready`)).ok) return url;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`reference 09 did not get ready at ${url}`);
}

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, {
    cwd: project,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 240_000 * scale,
  });
  return { code: r.status, out: `${r.stdout}\n${r.stderr}` };
}

describe('installed into another project from a packed tarball', () => {
  let good = '';
  let broken = '';

  beforeAll(async () => {
    mkdirSync(project);
    execFileSync('npm', ['pack', '--silent', '--pack-destination', work], { cwd: rootDir, stdio: 'ignore' });
    const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'));
    if (!tgz) throw new Error('npm pack wrote no tarball');
    execFileSync(
      'npm',
      [
        'install',
        join(work, tgz),
        '--prefer-offline',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--loglevel=error',
      ],
      { cwd: project, stdio: 'ignore', timeout: 600_000 * scale },
    );
    [good, broken] = await Promise.all([startReference({}), startReference({ MUTANT: 'status-200-on-create' })]);
  }, 900_000 * scale);

  afterAll(() => {
    for (const s of servers) s.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('ships the specs, catalog, load scripts and references, and not the tests of this repository', () => {
    const pkg = join(project, 'node_modules', 'sdgrade');
    for (const f of [
      'bin/sdgrade.js',
      'specs/09-url-shortener/openapi.yaml',
      'specs/09-url-shortener/catalog.yaml',
      'load/09-url-shortener.js',
      'reference/09-url-shortener/main.ts',
      'harness/contract/manifest.schema.json',
      'scripts/ci-grade.sh',
      'action.yml',
    ])
      expect(existsSync(join(pkg, f)), f).toBe(true);
    expect(existsSync(join(pkg, '.ci'))).toBe(false);
  });

  it(
    'grades chapter 09 by URL from there, writing results into the project, not into the package',
    () => {
      const r = run('npx', [
        '--no-install',
        'sdgrade',
        'test',
        '09',
        '--url',
        good,
        '--only',
        'URL-C1,URL-I1',
        '--runs',
        '3',
      ]);
      expect(r.out).toMatch(/PASS\s+URL-C1/);
      expect(r.code, r.out).toBe(0);
      const results = JSON.parse(readFileSync(join(project, 'results', 'latest', 'results.json'), 'utf8'));
      expect(results.chapters[0].chapter).toBe('09-url-shortener');
      expect(existsSync(join(project, 'node_modules', 'sdgrade', 'results', 'latest'))).toBe(false);
    },
    300_000 * scale,
  );

  it(
    'the CI recipe passes on the reference, writes the summary, and fails on a broken one against the baseline',
    () => {
      const summary = join(work, 'summary.md');
      const common = {
        SDGRADE_CHAPTER: '09-url-shortener',
        SDGRADE_ARGS: '--only URL-C1,URL-I1 --runs 3',
        SDGRADE_CLI: 'npx --no-install sdgrade',
        GITHUB_STEP_SUMMARY: summary,
      };
      const script = join(project, 'node_modules', 'sdgrade', 'scripts', 'ci-grade.sh');
      const base = run('bash', [script], { ...common, SDGRADE_URL: good, SDGRADE_OUT: 'results/base' });
      expect(base.code, base.out).toBe(0);
      expect(readFileSync(summary, 'utf8')).toMatch(/URL-C1/);

      const head = run('bash', [script], {
        ...common,
        SDGRADE_URL: broken,
        SDGRADE_OUT: 'results/head',
        SDGRADE_BASELINE: 'results/base',
      });
      expect(head.out).toMatch(/FAIL\s+URL-C1/);
      expect(head.out).toMatch(/sdgrade compare results\/base results\/head/);
      expect(head.code, head.out).toBe(1);

      const bad = run('bash', [script], { ...common, SDGRADE_URL: good, SDGRADE_LOAD: 'huge' });
      expect(bad.code).toBe(2);
      expect(bad.out).toMatch(/SDGRADE_LOAD must be none, smoke or full/);
    },
    600_000 * scale,
  );
});
