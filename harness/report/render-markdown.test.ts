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
    expect(rowOf(md, 'shorten')).toBe('| shorten | 1,158 | 1,157 | 6.2 | 19.7 | 38.6 | 0.0% |');
    expect(rowOf(md, 'redirect')).toBe('| redirect | 11,576 | 11,574 | 2.1 | 7.9 | 14.8 | 0.0% |');
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
