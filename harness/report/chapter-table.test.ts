import { describe, expect, it } from 'vitest';
import { renderChapterTable, TABLE_END, TABLE_START, updateReadmeTable } from './chapter-table.ts';
import { loadFixture } from './test-support.ts';

const chapters = [
  { slug: '04-rate-limiter', title: 'Rate limiter' },
  { slug: '09-url-shortener', title: 'URL shortener' },
];

describe('renderChapterTable', () => {
  it('lists every chapter in the given order, graded or not', () => {
    expect(renderChapterTable(loadFixture('sample-run'), chapters).split('\n')).toEqual([
      '| # | Chapter | Status | Targets met | Spec |',
      '| ---: | --- | --- | ---: | --- |',
      '| 04 | Rate limiter | not started | – | [spec](specs/04-rate-limiter/README.md) |',
      '| 09 | URL shortener | graded: 11/15 checks pass, 2 skipped | 6/6 | [spec](specs/09-url-shortener/README.md) |',
    ]);
  });

  it('counts only graded targets as met, and shows a dash when there are none', () => {
    const run = loadFixture('sample-run');
    run.chapters[0]!.targets[0]!.verdict = 'fail';
    run.chapters[0]!.targets[1]!.verdict = 'skipped';
    expect(renderChapterTable(run, chapters)).toContain('| 4/6 |');
    run.chapters[0]!.targets = [];
    expect(renderChapterTable(run, chapters)).toContain('| graded: 11/15 checks pass, 2 skipped | – |');
  });

  it('escapes pipes in titles', () => {
    expect(renderChapterTable(loadFixture('sample-run'), [{ slug: '01-a', title: 'a | b' }])).toContain('| a \\| b |');
  });
});

describe('updateReadmeTable', () => {
  const readme = `# sdgrade\n\nIntro.\n\n${TABLE_START}\nold table\n${TABLE_END}\n\nMore text.\n`;

  it('replaces only what lies between the markers', () => {
    expect(updateReadmeTable(readme, '| new |\n')).toBe(
      `# sdgrade\n\nIntro.\n\n${TABLE_START}\n| new |\n${TABLE_END}\n\nMore text.\n`,
    );
  });

  it('is idempotent', () => {
    const once = updateReadmeTable(readme, '| t |');
    expect(updateReadmeTable(once, '| t |')).toBe(once);
  });

  it('throws a clear error when markers are missing, out of order or repeated', () => {
    expect(() => updateReadmeTable('# no markers', 'x')).toThrow(
      `README has no chapter table markers: add ${TABLE_START} and ${TABLE_END} where the table belongs`,
    );
    expect(() => updateReadmeTable(`${TABLE_START}\n`, 'x')).toThrow(/add <!-- chapter-table:end -->/);
    expect(() => updateReadmeTable(`${TABLE_END}\n${TABLE_START}`, 'x')).toThrow(/out of order/);
    expect(() => updateReadmeTable(`${readme}${TABLE_START}`, 'x')).toThrow(/more than one/);
  });
});
