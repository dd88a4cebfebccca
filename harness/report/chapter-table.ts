// The chapter status table in the top-level README, regenerated from a run so the README never claims more than
// the harness measured.
import type { RunResults } from '../results/types.ts';
import { capacityLine } from './capacity.ts';
import { escapeMarkdownCell as cell } from './escape.ts';
import { countChecks } from './format.ts';

export const TABLE_START = '<!-- chapter-table:start -->';
export const TABLE_END = '<!-- chapter-table:end -->';

export interface ChapterEntry {
  slug: string;
  title: string;
  /** Whether specs/<slug>/README.md exists (only then is it linked). */
  hasSpec?: boolean;
  /** Status for a chapter that has work but no graded service (e.g. a library chapter tested by unit tests). */
  note?: string;
  /** Grading power from checked-in measurements (blind bugs, Stryker sample); see harness/blind-bugs/power-cell.ts. */
  power?: string;
}

export function renderChapterTable(results: RunResults, chapters: readonly ChapterEntry[]): string {
  const bySlug = new Map(results.chapters.map((c) => [c.chapter, c]));
  const rows = chapters.map(({ slug, title, hasSpec, note, power }) => {
    const number = slug.split('-')[0] ?? '';
    const graded = bySlug.get(slug);
    let status = note ?? 'not started';
    let targets = '–';
    let nodes = '–';
    if (graded) {
      const c = countChecks(graded.checks);
      const total = graded.checks.length;
      status = `graded: ${c.pass}/${total} checks pass, ${c.skipped} skipped`;
      // Info targets only report a number, so only pass/fail/skipped targets count towards "met".
      const gradable = graded.targets.filter((t) => t.op !== 'info' && t.verdict !== 'info');
      if (gradable.length > 0) targets = `${gradable.filter((t) => t.verdict === 'pass').length}/${gradable.length}`;
      const beyond = gradable.filter((t) => t.verdict === 'beyond-machine').length;
      if (beyond > 0) targets += ` (${beyond} beyond this machine)`;
      const capacity = graded.load?.capacity ?? [];
      if (capacity.length > 0) nodes = capacity.map(capacityLine).join('; ');
    }
    const spec = hasSpec === false ? '–' : `[spec](specs/${encodeURI(slug)}/README.md)`;
    return `| ${cell(number)} | ${cell(title)} | ${cell(status)} | ${targets} | ${cell(nodes)} | ${cell(power ?? '–')} | ${spec} |`;
  });
  return [
    "| # | Chapter | Status | Targets met | Capacity per node, nodes for the book's rate | Grading power | Spec |",
    '| ---: | --- | --- | ---: | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

/**
 * The table's chapters from several runs (the main job takes over an hour here, so chapters may be graded in more
 * than one): each chapter from the first run given that graded it. Returns the merged results and a line naming
 * which run each chapter came from, printed under the table so no figure is read as coming from another run.
 */
export function mergeRunsForTable(runs: readonly RunResults[]): { results: RunResults; sources: string } {
  if (runs.length === 0) throw new Error('no run to build the chapter table from');
  const taken = new Map<string, RunResults['chapters'][number]>();
  const from = new Map<string, string[]>();
  for (const run of runs)
    for (const c of run.chapters) {
      if (taken.has(c.chapter)) continue;
      taken.set(c.chapter, c);
      from.set(run.runId, [...(from.get(run.runId) ?? []), c.chapter.split('-')[0] ?? c.chapter]);
    }
  const sources = [...from].map(([id, nums]) => `run ${id} (${nums.join(', ')})`).join('; ');
  return { results: { ...runs[0]!, chapters: [...taken.values()] }, sources: `Graded in ${sources}.` };
}

/** Replaces what lies between the chapter-table markers, keeping the markers and everything around them. */
export function updateReadmeTable(readmeText: string, table: string): string {
  const start = readmeText.indexOf(TABLE_START);
  const end = readmeText.indexOf(TABLE_END);
  if (start === -1 || end === -1) {
    const missing = [start === -1 ? TABLE_START : '', end === -1 ? TABLE_END : ''].filter(Boolean).join(' and ');
    throw new Error(`README has no chapter table markers: add ${missing} where the table belongs`);
  }
  if (end < start)
    throw new Error(`README chapter table markers are out of order: ${TABLE_END} comes before ${TABLE_START}`);
  if (readmeText.indexOf(TABLE_START, start + 1) !== -1 || readmeText.indexOf(TABLE_END, end + 1) !== -1) {
    throw new Error('README has more than one chapter table marker pair; keep exactly one');
  }
  return `${readmeText.slice(0, start + TABLE_START.length)}\n${table.trim()}\n${readmeText.slice(end)}`;
}

/** A graded row of the README's current table (whole line) and the run it names for it under the table. */
export interface PreviousRow {
  row: string;
  run: string | null;
}

/**
 * The graded rows of the table now in the README, by chapter number, each with the run its sources line names for
 * it: what `report --readme --keep-rows` keeps for chapters none of the given runs graded (runs are not kept in
 * the repository, so an earlier run's chapters cannot be graded again from its results).
 */
export function previousGradedRows(readmeText: string): Map<string, PreviousRow> {
  const start = readmeText.indexOf(TABLE_START);
  const end = readmeText.indexOf(TABLE_END);
  const out = new Map<string, PreviousRow>();
  if (start === -1 || end === -1 || end < start) return out;
  const body = readmeText.slice(start + TABLE_START.length, end);
  const runOf = new Map<string, string>();
  for (const m of body.matchAll(/run (\S+) \(([^)]*)\)/g)) for (const n of m[2]!.split(',')) runOf.set(n.trim(), m[1]!);
  for (const line of body.split('\n')) {
    const cells = line.split(' | ');
    const number = cells[0]?.replace(/^\|\s*/, '').trim() ?? '';
    if (!/^\d+$/.test(number) || !cells[2]?.startsWith('graded:')) continue;
    out.set(number, { row: line, run: runOf.get(number) ?? null });
  }
  return out;
}

/**
 * The table with the previous rows put back for the given chapter numbers, and a sentence naming the runs they
 * came from (appended under the table, after the sources of the runs given).
 */
export function keepPreviousRows(
  table: string,
  previous: Map<string, PreviousRow>,
  numbers: readonly string[],
): { table: string; sources: string } {
  const kept = numbers.filter((n) => previous.has(n));
  if (kept.length === 0) return { table, sources: '' };
  const lines = table.split('\n').map((line) => {
    const n = /^\|\s*(\d+)\s*\|/.exec(line)?.[1];
    if (n === undefined || !kept.includes(n)) return line;
    // The old status, targets and capacity cells; number, title, grading power and spec as they are now.
    const cells = line.split(' | ');
    const old = previous.get(n)!.row.split(' | ');
    return [...cells.slice(0, 2), ...old.slice(2, 5), ...cells.slice(5)].join(' | ');
  });
  const byRun = new Map<string, string[]>();
  for (const n of kept) {
    const run = previous.get(n)!.run ?? 'not named';
    byRun.set(run, [...(byRun.get(run) ?? []), n]);
  }
  const runs = [...byRun].map(([id, nums]) => `run ${id} (${nums.join(', ')})`).join('; ');
  return {
    table: lines.join('\n'),
    sources: `Rows ${kept.join(', ')} kept from the table before, graded in ${runs}.`,
  };
}
