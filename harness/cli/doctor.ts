// `sdgrade doctor [chapter]`: what this machine has for grading, and, for a chapter, which checks would be skipped
// without each missing piece and how to get it. A missing tool otherwise shows up only as skips in the middle of a
// run. Exit code 0 when the chapter (or, without one, every graded chapter) can be graded fully here.
import { loadCatalog } from '../core/catalog.ts';
import { chapterList } from '../core/chapter-list.ts';
import { cliCommand, installedAsDependency } from '../core/paths.ts';
import { findPostgresBin } from '../faults/private-postgres.ts';
import { findOnPath } from '../tools/find-on-path.ts';
import { findTool } from '../tools/find-tool.ts';
import { K6_TOOL } from '../tools/k6.ts';
import { toolCacheDir } from '../tools/tool-cache.ts';
import { TOXIPROXY_TOOL } from '../tools/toxiproxy.ts';

/** What a piece of the machine gives the harness: catalog capabilities (`needs`) or the k6 load test. */
export type Provides = 'network-faults' | 'dependency:redis' | 'dependency:database' | 'load' | 'info';

export interface Probe {
  name: string;
  found: boolean;
  /** Where it was found, or why not. */
  detail: string;
  /** How to get it when it is missing. */
  howTo: string;
  provides: Provides;
}

type Env = NodeJS.ProcessEnv;

async function probeTool(def: typeof K6_TOOL, provides: Provides, env: Env): Promise<Probe> {
  const howTo = `\`${installedAsDependency ? `${cliCommand} get-tools` : 'npm run get-tools'}\` builds ${def.name} ${def.version} once with Go; or put ${def.pathNames[0]} on PATH, or set $${def.envVar}`;
  try {
    const t = await findTool(def, { build: false, env, onProgress: () => {} });
    return { name: def.name, found: true, detail: `${t.version} (${t.path}, ${t.source})`, howTo, provides };
  } catch (e) {
    return { name: def.name, found: false, detail: (e as Error).message.split(';')[0] ?? '', howTo, provides };
  }
}

async function probeRedis(env: Env): Promise<Probe> {
  const howTo = '`apt-get install redis-server` (Debian), or set SDGRADE_REDIS_URL to a Redis you run';
  const base = { name: 'Redis', howTo, provides: 'dependency:redis' as const };
  if (env.SDGRADE_REDIS_URL) return { ...base, found: true, detail: `SDGRADE_REDIS_URL=${env.SDGRADE_REDIS_URL}` };
  const bin = await findOnPath('redis-server', env);
  return bin
    ? {
        ...base,
        found: true,
        detail: `${bin} (the main job starts a throwaway server; for \`test\`, set SDGRADE_REDIS_URL)`,
      }
    : { ...base, found: false, detail: 'no SDGRADE_REDIS_URL and no redis-server on PATH' };
}

function probePostgres(env: Env): Probe {
  const howTo = '`apt-get install postgresql` (Debian), or set SDGRADE_DATABASE_URL to a PostgreSQL you run';
  const base = { name: 'PostgreSQL', howTo, provides: 'dependency:database' as const };
  const bin = env.SDGRADE_PG_BIN || findPostgresBin();
  if (env.SDGRADE_DATABASE_URL) {
    const crash = bin ? '' : ' (no server binaries: a check that crashes a private cluster is skipped)';
    return { ...base, found: true, detail: `SDGRADE_DATABASE_URL is set${crash}` };
  }
  return bin
    ? {
        ...base,
        found: true,
        detail: `${bin} (the main job starts a throwaway cluster; for \`test\`, set SDGRADE_DATABASE_URL)`,
      }
    : { ...base, found: false, detail: 'no SDGRADE_DATABASE_URL and no server binaries in /usr/lib/postgresql/*/bin' };
}

function probeNode(): Probe {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  const ok = major > 20 || (major === 20 && minor >= 19);
  return {
    name: 'Node.js',
    found: ok,
    detail: ok ? `v${process.versions.node}` : `v${process.versions.node} is older than the 20.19 the harness needs`,
    howTo: 'install Node.js 20.19 or newer',
    provides: 'info',
  };
}

async function probeContainers(): Promise<Probe> {
  const howTo = 'a Docker-compatible engine, for `--real-deps` without SDGRADE_*_URL (optional)';
  // testcontainers is heavy to import; only doctor pays for it, and only here.
  const { detectContainerRuntime } = await import('../containers/container-runtime.ts');
  const s = await detectContainerRuntime();
  return s.available
    ? { name: 'container runtime', found: true, detail: 'testcontainers found an engine', howTo, provides: 'info' }
    : { name: 'container runtime', found: false, detail: s.reason.split(';')[0] ?? '', howTo, provides: 'info' };
}

async function probePythonTools(env: Env): Promise<Probe> {
  const howTo = `\`${installedAsDependency ? `${cliCommand} get-tools` : 'npm run get-tools'}\` (a virtual environment under the tool cache; needs python3 and PyPI)`;
  const venvBin = `${toolCacheDir(env)}/venv/bin`;
  const found: string[] = [];
  for (const name of ['schemathesis', 'openapi-spec-validator', 'openapi-python-client']) {
    const p = (await findOnPath(name, { ...env, PATH: `${venvBin}:${env.PATH ?? ''}` })) ?? null;
    if (p) found.push(name);
  }
  return {
    name: 'Python spec tools',
    found: found.length === 3,
    detail: found.length
      ? `found ${found.join(', ')}`
      : 'none of schemathesis, openapi-spec-validator, openapi-python-client',
    howTo,
    provides: 'info',
  };
}

export async function probeMachine(env: Env = process.env, o: { containers?: boolean } = {}): Promise<Probe[]> {
  return [
    probeNode(),
    await probeTool(K6_TOOL, 'load', env),
    await probeTool(TOXIPROXY_TOOL, 'network-faults', env),
    await probeRedis(env),
    probePostgres(env),
    ...(o.containers === false ? [] : [await probeContainers()]),
    await probePythonTools(env),
  ];
}

export interface ChapterNeeds {
  slug: string;
  /** Per missing probe: the check IDs it would skip (or, for k6, the load test). */
  missing: { probe: Probe; skipped: string[] }[];
  /** Checks that need a manifest (process control): skipped when graded by URL, whatever the machine has. */
  manifestOnly: string[];
}

/** Which checks of a chapter each missing piece of the machine would skip. */
export function chapterNeeds(slug: string, probes: readonly Probe[]): ChapterNeeds {
  const cat = loadCatalog(slug);
  const missing: ChapterNeeds['missing'] = [];
  for (const p of probes) {
    if (p.found || p.provides === 'info') continue;
    const skipped =
      p.provides === 'load'
        ? cat.targets.length
          ? ['the k6 load test and the targets it measures']
          : []
        : cat.checks.filter((c) => (c.needs ?? []).includes(p.provides)).map((c) => c.id);
    if (skipped.length) missing.push({ probe: p, skipped });
  }
  const manifestOnly = cat.checks.filter((c) => (c.needs ?? []).includes('process-control')).map((c) => c.id);
  return { slug, missing, manifestOnly };
}

/** Chapters with a service to grade (a catalog with checks other than chapter 3's estimates). */
export function gradedSlugs(): string[] {
  return chapterList
    .map((c) => c.slug)
    .filter((s) => {
      try {
        return loadCatalog(s).checks.some((c) => c.kind !== 'estimate');
      } catch {
        return false; // not built yet
      }
    });
}

export function resolveBuiltChapter(arg: string): string {
  const built = gradedSlugs();
  const m = built.find((s) => s === arg || s.slice(3) === arg || s.slice(0, 2) === arg);
  if (!m) throw new Error(`no graded chapter "${arg}"; graded chapters: ${built.join(', ')}`);
  return m;
}

export function renderDoctor(probes: readonly Probe[], needs: readonly ChapterNeeds[]): string {
  const lines = ['This machine:'];
  for (const p of probes) lines.push(`  ${p.found ? 'ok     ' : 'missing'} ${p.name.padEnd(18)} ${p.detail}`);
  for (const n of needs) {
    lines.push('', `${n.slug}:`);
    if (!n.missing.length) lines.push('  everything it needs is here: no check is skipped for lack of a tool');
    for (const m of n.missing) {
      lines.push(`  without ${m.probe.name}, skipped: ${m.skipped.join(', ')}`);
      lines.push(`    get it: ${m.probe.howTo}`);
    }
    if (n.manifestOnly.length)
      lines.push(`  graded by --url, these need a manifest (process control): ${n.manifestOnly.join(', ')}`);
  }
  return lines.join('\n');
}

export async function cmdDoctor(chapter: string | undefined, env: Env = process.env): Promise<number> {
  const slugs = chapter ? [resolveBuiltChapter(chapter)] : gradedSlugs();
  const probes = await probeMachine(env);
  const needs = slugs.map((s) => chapterNeeds(s, probes));
  console.log(renderDoctor(probes, needs));
  const node = probes.find((p) => p.name === 'Node.js');
  const full = Boolean(node?.found) && needs.every((n) => n.missing.length === 0);
  console.log(
    full
      ? `\n${chapter ? 'This chapter' : 'Every graded chapter'} can be graded fully here (by manifest).`
      : '\nSome checks would be skipped here; see above for how to get what is missing.',
  );
  return full ? 0 : 1;
}
