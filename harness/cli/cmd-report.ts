// `sdgrade report <results>`: the reports of a run written again, and with --readme the chapter table in README.md
// (several runs merged, --keep-rows for the chapters none of them graded).
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gradingPowerCell } from '../blind-bugs/power-cell.ts';
import { chapters } from '../chapters/registry.ts';
import { chapterList } from '../core/chapter-list.ts';
import { rootDir } from '../core/paths.ts';
import {
  keepPreviousRows,
  mergeRunsForTable,
  previousGradedRows,
  renderChapterTable,
  updateReadmeTable,
} from '../report/chapter-table.ts';
import { writeReport } from '../report/write-report.ts';
import { readResults } from './read-results.ts';

const log = (line: string) => console.log(line);

export async function cmdReport(
  p: string,
  o: { out?: string; readme?: boolean; also?: string[]; keepRows?: boolean },
): Promise<number> {
  const results = readResults(p);
  const dir = o.out ? resolve(o.out) : existsSync(p) && statSync(p).isDirectory() ? p : resolve(p, '..');
  const paths = await writeReport(results, dir);
  log(`report: ${paths.html}\nsummary: ${paths.markdown}\njunit: ${paths.junit}`);
  if (o.readme) {
    const readme = join(rootDir, 'README.md');
    const merged = mergeRunsForTable([results, ...(o.also ?? []).map((a) => readResults(a))]);
    const entries = chapterList.map((c) => {
      const hasSpec = existsSync(join(rootDir, 'specs', c.slug, 'README.md'));
      const graded = chapters.some((m) => m.slug === c.slug);
      const inRun = merged.results.chapters.some((r) => r.chapter === c.slug);
      const note =
        graded && !inRun
          ? 'graded by the harness; not in this run'
          : !graded && hasSpec
            ? 'library and unit tests (no service to grade)'
            : undefined;
      return { ...c, hasSpec, power: gradingPowerCell(c.slug), ...(note ? { note } : {}) };
    });
    const text = readFileSync(readme, 'utf8');
    // --keep-rows: chapters none of these runs graded keep the row the table had, with its run named.
    const notInRuns = entries.filter((e) => e.note === 'graded by the harness; not in this run');
    const kept = o.keepRows
      ? keepPreviousRows(
          renderChapterTable(merged.results, entries),
          previousGradedRows(text),
          notInRuns.map((e) => e.slug.split('-')[0] ?? ''),
        )
      : { table: renderChapterTable(merged.results, entries), sources: '' };
    const table = `${kept.table}\n\n${merged.sources}${kept.sources ? ` ${kept.sources}` : ''}`;
    writeFileSync(readme, updateReadmeTable(text, table));
    log(`updated the chapter table in ${readme}`);
  }
  return 0;
}
