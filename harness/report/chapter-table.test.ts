import { describe, expect, it } from 'vitest';
import {
  keepPreviousRows,
  mergeRunsForTable,
  previousGradedRows,
  renderChapterTable,
  TABLE_END,
  TABLE_START,
  updateReadmeTable,
} from './chapter-table.ts';
import { loadFixture } from './test-support.ts';

const chapters = [
  { slug: '04-rate-limiter', title: 'Rate limiter' },
  { slug: '09-url-shortener', title: 'URL shortener' },
];

describe('renderChapterTable', () => {
  it('lists every chapter in the given order, graded or not', () => {
    expect(renderChapterTable(loadFixture('sample-run'), chapters).split('\n')).toEqual([
      "| # | Chapter | Status | Targets met | Capacity per node, nodes for the book's rate | Grading power | Spec |",
      '| ---: | --- | --- | ---: | --- | --- | --- |',
      '| 04 | Rate limiter | not started | – | – | – | [spec](specs/04-rate-limiter/README.md) |',
      '| 09 | URL shortener | graded: 11/15 checks pass, 2 skipped | 6/6 | – | – | [spec](specs/09-url-shortener/README.md) |',
    ]);
  });

  it('shows the grading power it is given, escaped, and a dash without one', () => {
    const table = renderChapterTable(loadFixture('sample-run'), [
      { slug: '09-url-shortener', title: 'URL shortener', power: 'blind bugs 9/12 caught | 12/12 after' },
    ]);
    expect(table).toContain('| blind bugs 9/12 caught \\| 12/12 after | [spec]');
  });

  it('counts only graded targets as met, and shows a dash when there are none', () => {
    const run = loadFixture('sample-run');
    run.chapters[0]!.targets[0]!.verdict = 'fail';
    run.chapters[0]!.targets[1]!.verdict = 'skipped';
    expect(renderChapterTable(run, chapters)).toContain('| 4/6 |');
    run.chapters[0]!.targets = [];
    expect(renderChapterTable(run, chapters)).toContain('| graded: 11/15 checks pass, 2 skipped | – |');
  });

  it('says how many targets were beyond this machine, and the capacity per node with the nodes needed', () => {
    const run = loadFixture('sample-run');
    run.chapters[0]!.targets[0]!.verdict = 'beyond-machine';
    run.chapters[0]!.load!.capacity = [
      {
        target: 'URL-T2',
        label: 'redirect',
        unit: 'req/s',
        latency: { id: 'URL-T4', p99Ms: 50 },
        perNode: 4100,
        yardstick: 10000,
        ratio: 0.41,
        bookRate: 11574.074,
        nodesNeeded: 3,
        assumption: 'a stateless tier that scales out',
      },
      {
        target: 'URL-T1',
        label: 'shorten',
        unit: 'req/s',
        latency: { id: 'URL-T5', p99Ms: 100 },
        perNode: null,
        yardstick: null,
        ratio: null,
        bookRate: 1157.407,
        nodesNeeded: null,
        assumption: 'a stateless tier that scales out',
        reason: 'not measured: the load ran elsewhere',
      },
    ];
    const row = renderChapterTable(run, chapters).split('\n')[3]!;
    expect(row).toContain('| 5/6 (1 beyond this machine) |');
    expect(row).toContain(
      '| URL-T2 redirect: 4,100 req/s per node (0.41 of no-op), 3 nodes for 11,574; URL-T1 shorten: not measured: the load ran elsewhere |',
    );
  });

  it('says a search where no step held was below the lowest rate tried, not unmeasured', () => {
    const run = loadFixture('sample-run');
    const step = { rps: 50, p99Ms: 80, dropped: 0, errorRate: 0, ok: false };
    run.chapters[0]!.load!.capacity = [
      {
        target: 'URL-T2',
        label: 'redirect',
        unit: 'req/s',
        latency: { id: 'URL-T4', p99Ms: 50 },
        perNode: null,
        yardstick: 120,
        ratio: null,
        bookRate: 11574.074,
        nodesNeeded: null,
        assumption: 'a stateless tier that scales out',
        steps: [
          { ...step, rate: 250 },
          { ...step, rate: 63 },
        ],
      },
    ];
    expect(renderChapterTable(run, chapters)).toContain('| URL-T2 redirect: below 63 req/s |');
  });

  it('shows capacity and ratio without a node count where the book gives no rate', () => {
    const run = loadFixture('sample-run');
    run.chapters[0]!.load!.capacity = [
      {
        target: 'KV-T6',
        label: 'cluster read R=2',
        unit: 'req/s',
        latency: { id: 'KV-T6', p99Ms: 100 },
        perNode: 900,
        yardstick: 6000,
        ratio: 0.15,
        bookRate: 0,
        nodesNeeded: null,
        assumption: 'a stateless tier that scales out',
        reason: 'no nodes needed: the book gives no rate for this chapter',
      },
    ];
    expect(renderChapterTable(run, chapters)).toContain(
      '| KV-T6 cluster read R=2: 900 req/s per node (0.15 of no-op), no book rate |',
    );
  });

  it('shows capacity and ratio with the reason, not a node count, where the book rate cannot spread over nodes', () => {
    const run = loadFixture('sample-run');
    run.chapters[0]!.load!.capacity = [
      {
        target: 'SE-T1',
        label: 'limit order',
        unit: 'orders/s',
        latency: { id: 'SE-T3', p99Ms: 10 },
        perNode: 1500,
        yardstick: 6000,
        ratio: 0.25,
        bookRate: 43000,
        nodesNeeded: null,
        assumption: 'a stateless tier that scales out',
        reason: 'no node count: one matching engine per symbol',
      },
    ];
    expect(renderChapterTable(run, chapters)).toContain(
      '| SE-T1 limit order: 1,500 orders/s per node (0.25 of no-op), no node count: one matching engine per symbol (book: 43,000) |',
    );
  });

  it('says the lowest rate tried in requests per second when no step held, whatever the rate target counts', () => {
    const run = loadFixture('sample-run');
    run.chapters[0]!.load!.capacity = [
      {
        target: 'MQ-T1',
        label: 'batched produce (100 x 1 KB)',
        unit: 'msgs/s',
        latency: { id: 'MQ-T3', p99Ms: 50 },
        perNode: null,
        yardstick: null,
        ratio: null,
        bookRate: 10000,
        nodesNeeded: null,
        assumption: 'brokers',
        reason: 'no step held: p99 86 ms over 50 ms at 4 req/s',
        steps: [25, 13, 7, 4].map((rate) => ({ rate, rps: rate, p99Ms: 90, dropped: 0, errorRate: 0, ok: false })),
      },
    ];
    expect(renderChapterTable(run, chapters)).toContain('| MQ-T1 batched produce (100 x 1 KB): below 4 req/s |');
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

describe('mergeRunsForTable', () => {
  it('takes each chapter from the first run that graded it and names the runs under the table', () => {
    const a = loadFixture('sample-run');
    const first = a.chapters[0]!;
    const b = {
      ...a,
      runId: 'later',
      chapters: [
        { ...first, checks: [] },
        { ...first, chapter: '99-extra' },
      ],
    };
    const { results, sources } = mergeRunsForTable([a, b]);
    expect(results.chapters.map((c) => c.chapter)).toEqual([...a.chapters.map((c) => c.chapter), '99-extra']);
    // The chapter both graded comes from the first run, with its checks, not the later run's empty list.
    expect(results.chapters[0]!.checks).toEqual(first.checks);
    expect(sources).toBe(
      `Graded in run ${a.runId} (${a.chapters.map((c) => c.chapter.split('-')[0]).join(', ')}); run later (99).`,
    );
  });

  it('refuses to build a table from no run', () => {
    expect(() => mergeRunsForTable([])).toThrow(/no run/);
  });
});

describe('keepPreviousRows', () => {
  const before = [
    'Intro.',
    TABLE_START,
    '| # | Chapter | Status | Targets met | Capacity | Grading power | Spec |',
    '| ---: | --- | --- | ---: | --- | --- | --- |',
    '| 04 | Rate limiter | graded: 14/14 checks pass, 0 skipped | 5/7 | RL-T1: 30 req/s | old power | [spec](a) |',
    '| 09 | URL shortener | graded: 15/15 checks pass, 0 skipped | 3/7 | URL-T2: 900 req/s | – | [spec](b) |',
    '| 11 | Notification | not started | – | – | – | – |',
    '',
    'Graded in run R1 (04); run R2 (09).',
    TABLE_END,
  ].join('\n');

  it('reads the graded rows and the run named for each, and skips rows that were not graded', () => {
    const rows = previousGradedRows(before);
    expect([...rows.keys()]).toEqual(['04', '09']);
    expect(rows.get('04')).toMatchObject({ run: 'R1' });
    expect(rows.get('09')!.row).toContain('URL-T2: 900 req/s');
  });

  it("puts back the old status, targets and capacity of the chapters asked for, with today's power, naming their run", () => {
    const table = renderChapterTable(loadFixture('sample-run'), [
      { slug: '04-rate-limiter', title: 'Rate limiter', note: 'graded by the harness; not in this run', power: 'new' },
      { slug: '09-url-shortener', title: 'URL shortener' },
    ]);
    const kept = keepPreviousRows(table, previousGradedRows(before), ['04']);
    expect(kept.table).toContain(
      '| 04 | Rate limiter | graded: 14/14 checks pass, 0 skipped | 5/7 | RL-T1: 30 req/s | new | [spec](specs/04-rate-limiter/README.md) |',
    );
    // 09 is in the run given, so its row is the run's, not the old one.
    expect(kept.table).toContain('| 09 | URL shortener | graded: 11/15 checks pass, 2 skipped |');
    expect(kept.sources).toBe('Rows 04 kept from the table before, graded in run R1 (04).');
    expect(keepPreviousRows(table, previousGradedRows(before), ['11'])).toEqual({ table, sources: '' });
  });
});
