// Which modules of a chapter's reference `sdgrade mutate` mutates by default: its core, not its entry point, its
// hand-written mutants, its tests or test helpers. Backends for real services (Redis, PostgreSQL) are left out unless
// the run uses them (--real-deps): on the embedded path their code never runs, so every mutant there would be
// "no coverage", a statement about the run's configuration rather than about the checks.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

// mutant-*.ts: hand-written mutants kept in modules of their own (26's mutant-stores.ts, subclasses of its stores);
// only a MUTANT switch runs their code, so every StrykerJS mutant there would be "no coverage".
const NOT_CORE = [
  /(^|\/)main\.ts$/,
  /(^|\/)mutants(-[^/]*)?\.ts$/,
  /(^|\/)mutant-[^/]*\.ts$/,
  // ... or named for what they break (20's delay-mutants.ts: a preHandler installed only when MUTANT names one)
  /(^|\/)[^/]*-mutants\.ts$/,
  // a client library of the chapter's spec (20's client/: QueueClient over HTTP and NATS) is not the server the
  // checks start and grade; no check runs it (its own unit test does), so each of its mutants would be "no coverage"
  /(^|\/)client\//,
  /\.test\.ts$/,
  // helpers several of a chapter's tests share (26's board-model.test-kit.ts)
  /\.test-kit\.ts$/,
  /(^|\/)testing\.ts$/,
  /(^|\/)config\.ts$/,
];
const REAL_DEPS = [/redis/i, /postgres/i, /(^|\/)pg-/];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

export function chapterFiles(root: string, slug: string, o: { glob?: string; realDeps?: boolean } = {}): string[] {
  const all = walk(join(root, 'reference', slug))
    .map((f) => relative(root, f).split('\\').join('/'))
    .sort();
  if (o.glob) {
    const re = globToRegExp(o.glob);
    return all.filter((f) => re.test(f) || re.test(f.slice(`reference/${slug}/`.length)));
  }
  return all.filter((f) => !NOT_CORE.some((r) => r.test(f)) && (o.realDeps || !REAL_DEPS.some((r) => r.test(f))));
}

/** `**` any path, `*` any name part, `?` one character, `{a,b}` either; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',') re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
