// fixtures/blind-bugs/<chapter>/bugs.yaml: the bugs written by someone who never read the chapter's checks, and how
// the checks graded them (see fixtures/blind-bugs/README.md). Parsing refuses what would make the figures lie: an
// equivalent bug without a reason, a caught bug that names no check, a patch file that is missing.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { rootDir } from '../core/paths.ts';

export type BugStatus = 'caught' | 'missed' | 'equivalent' | 'pending';
export type BugPath = 'embedded' | 'postgres' | 'redis';

export interface Grading {
  status: BugStatus;
  by: string[];
  mutant?: string;
}

export interface BlindBug {
  id: string;
  patch: string;
  summary: string;
  breaks: string;
  path: BugPath;
  /** Deployment settings the bug's code path needs (e.g. ALGORITHM, GENERATOR), passed to the nodes as --env. */
  env: Record<string, string>;
  /** The chapter's deployment variant the bug lives in (`sdgrade test --variant`): its env, settings and the checks
   * that apply to it; graded against a baseline of the same variant. */
  variant?: string;
  /** A test file (from the repository's root) that grades the bug instead of the chapter's checks: for code no check
   * runs, such as a client library inside the user's process. Its failed tests are the catches. */
  test?: string;
  equivalent: string | null;
  /** How the checks graded it when it was written; `pending` when bugs.yaml leaves it out (not graded yet). */
  before: Grading;
  after?: Grading;
}

export interface BugsFile {
  chapter: string;
  written: string;
  bugs: BlindBug[];
  dir: string;
}

const STATUSES: readonly BugStatus[] = ['caught', 'missed', 'equivalent', 'pending'];
const PATHS: readonly BugPath[] = ['embedded', 'postgres', 'redis'];

export function blindBugsDir(slug: string, root = rootDir): string {
  return join(root, 'fixtures', 'blind-bugs', slug);
}

function grading(v: unknown, where: string): Grading {
  const g = (v ?? {}) as Partial<Grading>;
  if (!STATUSES.includes(g.status as BugStatus))
    throw new Error(`${where}: status must be one of ${STATUSES.join(', ')} (got ${JSON.stringify(g.status)})`);
  const by = g.by ?? [];
  if (!Array.isArray(by) || by.some((x) => typeof x !== 'string')) throw new Error(`${where}: by must list check IDs`);
  if (g.status === 'caught' && by.length === 0) throw new Error(`${where}: a caught bug names the checks that failed`);
  return { status: g.status as BugStatus, by, ...(g.mutant ? { mutant: String(g.mutant) } : {}) };
}

export function parseBugsFile(text: string, dir: string, source: string): BugsFile {
  const doc = (parse(text) ?? {}) as { chapter?: string; written?: string; bugs?: Record<string, unknown>[] };
  if (typeof doc.chapter !== 'string') throw new Error(`${source}: no chapter`);
  if (!Array.isArray(doc.bugs) || doc.bugs.length === 0) throw new Error(`${source}: no bugs`);
  const seen = new Set<string>();
  const bugs = doc.bugs.map((b, i): BlindBug => {
    const id = typeof b.id === 'string' ? b.id : '';
    const where = `${source}: bug ${id || i + 1}`;
    if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) throw new Error(`${where}: id must be kebab-case`);
    if (seen.has(id)) throw new Error(`${where}: duplicate id`);
    seen.add(id);
    const patch = typeof b.patch === 'string' ? b.patch : `${id}.patch`;
    if (!existsSync(join(dir, patch))) throw new Error(`${where}: patch ${patch} not found in ${dir}`);
    const path = (b.path ?? 'embedded') as BugPath;
    if (!PATHS.includes(path)) throw new Error(`${where}: path must be one of ${PATHS.join(', ')}`);
    const env = (b.env ?? {}) as Record<string, unknown>;
    if (typeof env !== 'object' || Array.isArray(env) || Object.values(env).some((v) => typeof v !== 'string'))
      throw new Error(`${where}: env must map variable names to strings`);
    const variant = b.variant === undefined || b.variant === null ? undefined : String(b.variant);
    if (variant !== undefined && !/^[a-z0-9][a-z0-9_-]*$/.test(variant))
      throw new Error(`${where}: variant must be the name of one of the chapter's deployment variants`);
    const test = b.test === undefined || b.test === null ? undefined : String(b.test);
    if (test !== undefined && !(/\.test\.ts$/.test(test) && existsSync(join(dir, '..', '..', '..', test))))
      throw new Error(`${where}: test must name a *.test.ts file of the repository (got ${test})`);
    const equivalent = typeof b.equivalent === 'string' && b.equivalent.trim() ? b.equivalent.trim() : null;
    // A new entry leaves `before` out until it has been graded: the same as `{ status: pending }`.
    const before: Grading =
      b.before === undefined || b.before === null
        ? { status: 'pending', by: [] }
        : grading(b.before, `${where} (before)`);
    const after = b.after === undefined || b.after === null ? undefined : grading(b.after, `${where} (after)`);
    for (const g of [before, after])
      if (g?.status === 'equivalent' && !equivalent)
        throw new Error(`${where}: graded equivalent, so it needs an "equivalent:" reason a reviewer can check`);
    return {
      id,
      patch,
      summary: String(b.summary ?? ''),
      breaks: String(b.breaks ?? ''),
      path,
      env: env as Record<string, string>,
      ...(variant ? { variant } : {}),
      ...(test ? { test } : {}),
      equivalent,
      before,
      ...(after ? { after } : {}),
    };
  });
  return { chapter: doc.chapter, written: String(doc.written ?? ''), bugs, dir };
}

export function loadBugsFile(slug: string, root = rootDir): BugsFile | null {
  const dir = blindBugsDir(slug, root);
  const file = join(dir, 'bugs.yaml');
  return existsSync(file) ? parseBugsFile(readFileSync(file, 'utf8'), dir, file) : null;
}

/** What the README and the chapter table say: caught before and after strengthening, among non-equivalent bugs. */
export interface PowerFigures {
  written: number;
  equivalent: number;
  pending: number;
  caughtBefore: number;
  caughtAfter: number;
  /** Non-equivalent bugs whose grading is known. */
  graded: number;
}

export function powerFigures(f: BugsFile): PowerFigures {
  const isEq = (b: BlindBug) => (b.after ?? b.before).status === 'equivalent';
  const known = f.bugs.filter((b) => !isEq(b) && b.before.status !== 'pending');
  return {
    written: f.bugs.length,
    equivalent: f.bugs.filter(isEq).length,
    pending: f.bugs.filter((b) => b.before.status === 'pending').length,
    caughtBefore: known.filter((b) => b.before.status === 'caught').length,
    caughtAfter: known.filter((b) => (b.after ?? b.before).status === 'caught').length,
    graded: known.length,
  };
}
