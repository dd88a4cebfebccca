// Places every mutant StrykerJS's instrumenter can make in a set of source files behind "mutant switches" (mutant
// schemata): one instrumented copy holds them all, and the environment variable __STRYKER_ACTIVE_MUTANT__ picks the
// one that is live. So grading a mutant is just a restart with another value, never a rebuild.
import { Instrumenter } from '@stryker-mutator/instrumenter';

export interface SourceFile {
  /** Path relative to the repository root, e.g. reference/09-url-shortener/codes.ts */
  name: string;
  content: string;
}

export interface MutantInfo {
  id: string;
  file: string;
  mutator: string;
  replacement: string;
  /** 1-based line and 0-based column where the mutated code starts and ends. */
  start: { line: number; column: number };
  end: { line: number; column: number };
  /** The original code the replacement takes the place of. */
  original: string;
}

export interface Instrumented {
  files: SourceFile[];
  mutants: MutantInfo[];
}

// The instrumenter wants a Stryker logger; warnings are worth seeing, the rest is noise here.
const logger = {
  isTraceEnabled: () => false,
  isDebugEnabled: () => false,
  isInfoEnabled: () => false,
  isWarnEnabled: () => true,
  isErrorEnabled: () => true,
  isFatalEnabled: () => true,
  trace() {},
  debug() {},
  info() {},
  warn: (...a: unknown[]) => console.error('stryker:', ...a),
  error: (...a: unknown[]) => console.error('stryker:', ...a),
  fatal: (...a: unknown[]) => console.error('stryker:', ...a),
};

function slice(content: string, m: { start: { line: number; column: number }; end: { line: number; column: number } }) {
  const lines = content.split('\n');
  if (m.start.line === m.end.line) return (lines[m.start.line - 1] ?? '').slice(m.start.column, m.end.column);
  const first = (lines[m.start.line - 1] ?? '').slice(m.start.column);
  const middle = lines.slice(m.start.line, m.end.line - 1);
  const last = (lines[m.end.line - 1] ?? '').slice(0, m.end.column);
  return [first, ...middle, last].join('\n');
}

export async function instrument(files: readonly SourceFile[]): Promise<Instrumented> {
  // biome-ignore lint/suspicious/noExplicitAny: the instrumenter's logger type comes from Stryker's API package
  const ins = new Instrumenter(logger as any);
  const r = await ins.instrument(
    files.map((f) => ({ name: f.name, content: f.content, mutate: true })),
    { plugins: null, excludedMutations: [], ignorers: [], noHeader: false } as never,
  );
  const byName = new Map(files.map((f) => [f.name, f.content]));
  return {
    files: r.files.map((f) => ({ name: f.name, content: f.content })),
    mutants: r.mutants.map((m) => {
      // Stryker's locations are 0-based lines and columns (Babel's columns, Stryker's own lines); ours are 1-based lines.
      const start = { line: m.location.start.line + 1, column: m.location.start.column };
      const end = { line: m.location.end.line + 1, column: m.location.end.column };
      return {
        id: m.id,
        file: m.fileName,
        mutator: m.mutatorName,
        replacement: m.replacement,
        start,
        end,
        original: slice(byName.get(m.fileName) ?? '', { start, end }),
      };
    }),
  };
}

/** A key that stays the same while the mutated code does: file, line, mutator and replacement. */
export function mutantKey(m: Pick<MutantInfo, 'file' | 'start' | 'mutator' | 'replacement'>): string {
  return `${m.file}:${m.start.line}:${m.start.column} ${m.mutator} ${m.replacement.replace(/\s+/g, ' ').slice(0, 80)}`;
}

/** A short unified-style diff of one mutant, for the report of survivors. */
export function mutantDiff(m: MutantInfo): string {
  const show = (s: string) => s.replace(/\s+/g, ' ').slice(0, 160);
  return `${m.file}:${m.start.line}  ${m.mutator}\n- ${show(m.original)}\n+ ${show(m.replacement)}`;
}
