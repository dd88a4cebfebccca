import { describe, expect, it } from 'vitest';
import { renderJunit } from './render-junit.ts';
import { loadFixture, XSS } from './test-support.ts';

// Attributes are escaped, so no '>' occurs inside a tag and this split is exact.
const testcase = (xml: string, id: string): string =>
  xml.match(/<testcase\b[^>]*?(?:\/>|>[\s\S]*?<\/testcase>)/g)?.find((c) => c.includes(`name="${id} `)) ?? '';

describe('renderJunit', () => {
  const xml = renderJunit(loadFixture('sample-run'));

  it('is a testsuites document with one suite per chapter and totals over checks and targets', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')).toBe(true);
    expect(xml).toMatch(
      /<testsuites name="sdgrade [^"]+" tests="22" failures="1" errors="1" skipped="2" time="78\.088">/,
    );
    expect(xml.match(/<testsuite /g)).toHaveLength(1);
    expect(xml).toContain('<testsuite name="09-url-shortener URL shortener" tests="22"');
    expect(xml.match(/<testcase /g)).toHaveLength(22);
    expect(xml.trimEnd().endsWith('</testsuites>')).toBe(true);
  });

  it('reports checks by status', () => {
    expect(testcase(xml, 'URL-C1')).toMatch(/<testcase classname="09-url-shortener.conformance" [^>]*time="0.413"\/>$/);
    const failed = testcase(xml, 'URL-I2');
    expect(failed).toContain('<failure message="Shortening the same long URL');
    expect(failed).toContain('seed: 771632204');
    expect(failed).toContain('violation: expected 200 for a long URL that already has a code, got 201');
    expect(testcase(xml, 'URL-I7')).toContain('<error message="Timed out after 30000 ms');
    expect(testcase(xml, 'URL-F2')).toContain(
      '<skipped message="needs network-faults: toxiproxy-server was not found on PATH"/>',
    );
  });

  it('reports targets as test cases', () => {
    expect(testcase(xml, 'URL-T2')).toContain('classname="09-url-shortener.targets"');
    expect(testcase(xml, 'URL-T2')).toContain('measured 11,576 req/s, rule &gt;= 11,574 req/s');
    const run = loadFixture('sample-run');
    const t1 = run.chapters[0]!.targets[0]!;
    t1.verdict = 'fail';
    t1.reason = 'below the book rate';
    const t3 = run.chapters[0]!.targets[2]!;
    t3.verdict = 'skipped';
    t3.value = null;
    delete t3.reason;
    const out = renderJunit(run);
    expect(testcase(out, 'URL-T1')).toContain('<failure message="below the book rate" type="target">');
    expect(testcase(out, 'URL-T3')).toContain('<skipped message="not measured"/>');
    expect(out).toMatch(/<testsuites [^>]*failures="2" errors="1" skipped="3"/);
  });

  it('reports a target beyond this machine as skipped with its reason, never as a failure', () => {
    const run = loadFixture('sample-run');
    const t = run.chapters[0]!.targets[1]!;
    t.verdict = 'beyond-machine';
    t.reason = 'beyond this machine: the no-op yardstick carried 7000 req/s';
    const out = renderJunit(run);
    expect(out).toMatch(
      /name="URL-T2 [^"]*" time="0.000"><skipped message="beyond this machine: the no-op yardstick carried 7000 req\/s"\/><\/testcase>/,
    );
    expect(out).toMatch(/<testsuites [^>]*failures="1"[^>]*skipped="3"/);
  });

  it('escapes text in attributes and content', () => {
    const run = loadFixture('sample-run');
    const check = run.chapters[0]!.checks[5]!;
    check.reason = `${XSS}\u0007`;
    const out = renderJunit(run);
    expect(out).not.toContain('<script>');
    expect(out).not.toContain('\u0007');
    expect(out).toContain(
      'message="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt; | pipe"',
    );
  });

  it('renders an empty run as an empty testsuites element', () => {
    const run = loadFixture('sample-run');
    run.chapters = [];
    expect(renderJunit(run)).toMatch(/<testsuites [^>]*tests="0"[^>]*>\n<\/testsuites>\n$/);
  });
});
