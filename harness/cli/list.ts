// `sdgrade list`: every chapter of the books and its status from the latest run. Loads no chapter module (fast).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { gradedSlugs } from '../chapters/graded-slugs.ts';
import { chapterList } from '../core/chapter-list.ts';
import { resultsDir, rootDir } from '../core/paths.ts';
import { readResults } from './read-results.ts';

const log = (line: string) => console.log(line);

export async function cmdList(): Promise<number> {
  const latest = join(resultsDir, 'latest', 'results.json');
  const results = existsSync(latest) ? readResults(latest) : null;
  for (const c of chapterList) {
    const graded = gradedSlugs.includes(c.slug);
    const r = results?.chapters.find((x) => x.chapter === c.slug);
    const status = r
      ? `${r.counts.pass} pass, ${r.counts.fail} fail, ${r.counts.skipped} skipped (latest run)`
      : graded
        ? 'graded (no run yet: `sdgrade test` or `npm start`)'
        : existsSync(join(rootDir, 'specs', c.slug))
          ? 'spec only'
          : 'not started';
    log(`${c.slug.padEnd(30)} ${c.title.padEnd(40)} ${status}`);
  }
  return 0;
}
