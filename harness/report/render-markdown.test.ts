import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './render-markdown.ts';
import { loadFixture, sparseRun, XSS } from './test-support.ts';

const rowOf = (md: string, id: string) => md.split('\n').find((l) => l.startsWith(`| ${id} |`)) ?? '';

describe('renderMarkdown', () => {
  const md = renderMarkdown(loadFixture('sample-run'));

  it('opens with the run and a headline of counts', () => {
    expect(md.startsWith('# sdgrade run 2025-11-03T14-02-11Z-9c1e4f2\n')).toBe(true);
    expect(md).toContain('**FAILED** · 11 pass, 1 fail, 1 error, 2 skipped of 15 checks · 6/6 graded targets met');
    expect(md).toContain('took 7 min 36 s');
  });

  it('has one row per check with a status word, duration and reason', () => {
    expect(rowOf(md, 'URL-C1')).toBe('| URL-C1 | conformance | pass | 413 ms |  |');
    expect(rowOf(md, 'URL-I2')).toMatch(
      /^\| URL-I2 \| property \| \*\*FAIL\*\* \| 3\.4 s \| Shortening the same long URL/,
    );
    expect(rowOf(md, 'URL-I7')).toContain('| **ERROR** | 30.0 s | Timed out after 30000 ms');
  });

  it('shows why skipped checks were skipped', () => {
    expect(rowOf(md, 'URL-F2')).toBe(
      '| URL-F2 | fault | skipped | 0 ms | needs network-faults: toxiproxy-server was not found on PATH |',
    );
  });

  it("says which checks were graded on a variant, not on the chapter's target", () => {
    const run = loadFixture('sample-run');
    const chapter = run.chapters[0]!;
    const i = chapter.checks.findIndex((c) => c.id === 'URL-C1');
    chapter.checks[i] = { ...chapter.checks[i]!, variant: 'cluster', variantManifest: 'manifest.cluster.json' };
    expect(rowOf(renderMarkdown(run), 'URL-C1')).toBe(
      '| URL-C1 | conformance | pass | 413 ms | [on variant cluster] |',
    );
  });

  it('lists targets with value, rule, verdict, yardstick ratio and an abbreviated origin', () => {
    expect(rowOf(md, 'URL-T2')).toMatch(
      /\| 11,576 req\/s \| &gt;= 11,574 req\/s \| met \| {2}\| Book: 10 reads per write; [^|]{0,50}… \|$/,
    );
    // URL-T6's value is itself the share of its yardstick.
    expect(rowOf(md, 'URL-T6')).toContain(
      '| 0.472 | &gt;= 0.25 | met (redirect 17011.2 req/s vs no-op 36040 req/s) | 0.472× of no-op node:http server, same machine, same run (36,040 req/s) |',
    );
    expect(rowOf(md, 'URL-T7')).toContain('| 212 bytes | info (ref. 100 bytes) | info (74480 links');
    expect(rowOf(md, 'URL-T7')).toContain("| 2.12× of the book's 100 bytes per record (100 bytes) |");
  });

  it('lists load scenarios with rps, percentiles and errors', () => {
    expect(rowOf(md, 'shorten')).toBe('| shorten | 1,158 | 1,157 | 6.2 | 19.7 | 38.6 | 0.0% |  |  |');
    expect(rowOf(md, 'redirect')).toBe('| redirect | 11,576 | 11,574 | 2.1 | 7.9 | 14.8 | 0.0% |  |  |');
  });

  it('shows dropped iterations and k6 CPU use next to each scenario, and says when k6 was saturated', () => {
    const run = loadFixture('sample-run');
    const s = run.chapters[0]!.load!.scenarios[1]!;
    s.dropped = 1200;
    s.loadGenerator = { processes: 1, cpuCores: 0.95, peakCpuCores: 1.2, dropped: 1200, saturated: true };
    expect(rowOf(renderMarkdown(run), 'redirect')).toBe(
      '| redirect | 11,576 | 11,574 | 2.1 | 7.9 | 14.8 | 0.0% | 1,200 | k6 0.95 cores (peak 1.2), SATURATED |',
    );
  });

  it('gives a target beyond this machine its own word, a headline count and the explanation', () => {
    const run = loadFixture('sample-run');
    const t = run.chapters[0]!.targets[1]!;
    t.verdict = 'beyond-machine';
    t.reason = 'beyond this machine: the no-op yardstick was offered the same 12731 req/s';
    const out = renderMarkdown(run);
    expect(rowOf(out, 'URL-T2')).toContain('_beyond this machine_ (beyond this machine: the no-op yardstick');
    expect(out).toContain('5/5 graded targets met, 1 beyond this machine');
    expect(out).toContain('Beyond this machine: the target was not met');
    // Not a failure of the run: with no failing check, the run passed.
    run.summary = { ...run.summary, fail: 0, error: 0 };
    expect(renderMarkdown(run)).toContain('**PASSED**');
  });

  it('shows the capacity per node with the nodes needed and the assumption', () => {
    const run = loadFixture('sample-run');
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
        limitedBy: 'p99 over 50 ms at 4,800 req/s',
        assumption: 'Assumes a stateless tier that scales out linearly.',
        store: { name: 'SQLite', measured: false, note: 'not measured' },
      },
    ];
    const out = renderMarkdown(run);
    expect(out).toContain('### Capacity per node');
    expect(out.split('\n').find((l) => l.includes('redirect (p99'))).toBe(
      '| URL-T2 | redirect (p99 ≤ 50 ms, URL-T4) | 4,100 req/s | 10,000 req/s | 0.41 | 11,574 req/s | 3 nodes | p99 over 50 ms at 4,800 req/s |',
    );
    expect(out).toContain('- Assumes a stateless tier that scales out linearly.');
    expect(out).toContain('- SQLite: not measured');
  });

  it('describes the environment', () => {
    expect(md).toContain('| CPU | AMD EPYC 7B13 (2 cores) |');
    expect(md).toContain('| k6 | v1.3.0 |');
  });

  it('uses words, not emoji', () => {
    expect(md).not.toMatch(/\p{Extended_Pictographic}/u);
  });

  it('escapes user-controlled text so it neither breaks the table nor becomes HTML', () => {
    const run = loadFixture('sample-run');
    run.chapters[0]!.checks[1]!.reason = `${XSS}\nsecond line`;
    run.chapters[0]!.checks[1]!.status = 'fail';
    const row = rowOf(renderMarkdown(run), 'URL-C2');
    expect(row).not.toContain('<script>');
    expect(row).not.toContain('<img');
    expect(row).toContain(
      '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt; \\| pipe<br>second line',
    );
    expect(row.split(/(?<!\\)\|/).length).toBe(7);
  });

  it('says so when a chapter has no load and no targets', () => {
    const sparse = renderMarkdown(sparseRun());
    expect(sparse).toContain('_No targets for this chapter._');
    expect(sparse).toContain('_No load run for this chapter._');
    expect(sparse).toContain('**PASSED**');
  });
});
