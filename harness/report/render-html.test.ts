import { describe, expect, it } from 'vitest';
import { renderHtml } from './render-html.ts';
import { loadFixture, sparseRun, XSS } from './test-support.ts';

const all = (html: string, re: RegExp) => [...html.matchAll(re)];

describe('renderHtml', () => {
  const run = loadFixture('sample-run');
  const out = renderHtml(run);

  it('is one standalone document: no scripts, no external resources, inline CSS', () => {
    expect(out.startsWith('<!doctype html>')).toBe(true);
    expect(out).not.toMatch(/<script/i);
    expect(out).not.toMatch(/<link\b/i);
    expect(out).not.toMatch(/\b(src|href)="(?!#)/i);
    expect(out).not.toMatch(/url\(/i);
    expect(out).toContain(`content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:"`);
    expect(out).toMatch(/<style>[\s\S]*--pass:[\s\S]*<\/style>/);
  });

  it('does not escape its own stylesheet (entities are not decoded inside <style>)', () => {
    const css = out.slice(out.indexOf('<style>'), out.indexOf('</style>'));
    expect(css).toContain('"Segoe UI"');
    expect(css).not.toContain('&quot;');
  });

  it('gives a target beyond this machine its own badge colour, a tile and the explanation, and shows capacity', () => {
    const r = loadFixture('sample-run');
    const t = r.chapters[0]!.targets[1]!;
    t.verdict = 'beyond-machine';
    t.reason = 'beyond this machine: the no-op yardstick was offered the same 12731 req/s';
    r.chapters[0]!.load!.capacity = [
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
        assumption: 'Assumes a stateless tier that scales out linearly.',
      },
    ];
    const page = renderHtml(r);
    expect(page).toMatch(
      /data-target-id="URL-T2" data-verdict="beyond-machine">[\s\S]*?<span class="badge badge-beyond-machine" data-testid="verdict">beyond this machine<\/span>/,
    );
    expect(page).toMatch(/\.badge-beyond-machine \{ background: var\(--beyond-bg\); color: var\(--beyond\); \}/);
    expect(page).toContain('data-testid="beyond-tile"><b>1</b><span>beyond this machine</span>');
    expect(page).toContain('data-testid="beyond-note">Beyond this machine: the target was not met');
    expect(page).toMatch(
      /data-testid="capacity-row" data-target-id="URL-T2">.*<td class="num">4,100 req\/s<\/td>.*<td class="num">3 nodes<\/td>/,
    );
    expect(out).not.toContain('data-testid="beyond-note"');
  });

  it('shows run ID, start time and environment in the header', () => {
    expect(out).toContain('<code data-testid="run-id">2025-11-03T14-02-11Z-9c1e4f2</code>');
    expect(out).toContain('2025-11-03 14:02:11 UTC');
    expect(out).toContain('AMD EPYC 7B13 (2 cores)');
    expect(out).toContain('data-testid="run-verdict">FAILED<');
  });

  it('has one matrix cell per check, carrying its ID, status and reason', () => {
    const cells = all(
      out,
      /<a class="cell cell-(\w+)" data-testid="matrix-cell" [^>]*data-check-id="([^"]+)" data-status="(\w+)" title="([^"]*)"/g,
    );
    const checks = run.chapters[0]!.checks;
    expect(cells.map((m) => m[2])).toEqual(checks.map((c) => c.id));
    expect(cells.map((m) => m[3])).toEqual(checks.map((c) => c.status));
    const f2 = cells.find((m) => m[2] === 'URL-F2')!;
    expect(f2[4]).toContain('needs network-faults: toxiproxy-server was not found on PATH');
  });

  it('groups matrix rows by kind', () => {
    expect(all(out, /<div class="matrix-row" data-kind="(\w+)">/g).map((m) => m[1])).toEqual([
      'conformance',
      'property',
      'fault',
    ]);
  });

  it('draws five latency bars per scenario and a line per millisecond target, over its scenario', () => {
    expect(all(out, /data-testid="latency-bar" data-scenario="shorten"/g)).toHaveLength(5);
    expect(all(out, /data-testid="latency-bar" data-scenario="redirect"/g)).toHaveLength(5);
    const labels = all(out, /<text class="target-label"[^>]*>([^<]+)<\/text>/g).map((m) => m[1]);
    expect(labels).toEqual(['URL-T4 ≤ 50 ms', 'URL-T5 ≤ 100 ms']);
    // shorten's max (212 ms) is far above its p99: the axis stops short and the bar says its real value.
    expect(out).toContain('shorten max: 212.4 ms (beyond the axis)');
  });

  it('draws throughput rows for scenarios and yardstick targets with their ratios', () => {
    const rows = all(out, /data-testid="throughput-row" data-kind="(\w+)" data-key="([^"]+)"/g).map(
      (m) => `${m[1]}:${m[2]}`,
    );
    expect(rows).toEqual(['scenario:shorten', 'scenario:redirect', 'yardstick:URL-T6', 'yardstick:URL-T7']);
    expect(out).toContain('100.1% of target');
    // URL-T6 is already a share: drawn against 1× of the no-op server, with its 0.25 floor as a tick.
    expect(out).toContain('ratio 0.472× · target ≥ 0.25');
    expect(out).toContain('redirect_capacity_ratio, share of no-op node:http server, same machine, same run');
    expect(out).toContain('>1× = 36,040 req/s<');
    expect(all(out, /data-testid="throughput-threshold"/g)).toHaveLength(1);
    expect(out).toContain('>ratio 2.12×<');
  });

  it('has a targets table with verdict badges', () => {
    const verdicts = all(out, /data-target-id="([^"]+)" data-verdict="(\w+)"/g).map((m) => `${m[1]}=${m[2]}`);
    expect(verdicts).toEqual([
      'URL-T1=pass',
      'URL-T2=pass',
      'URL-T3=pass',
      'URL-T4=pass',
      'URL-T5=pass',
      'URL-T6=pass',
      'URL-T7=info',
    ]);
    expect(out).toContain('<span class="badge badge-info" data-testid="verdict">info</span>');
  });

  it('has collapsed details for failed and errored checks only, with seed, counterexample and exchange', () => {
    const details = all(
      out,
      /<details class="failure status-(\w+)" id="[^"]+" data-testid="failure-details" data-check-id="([^"]+)"/g,
    );
    expect(details.map((m) => m[2])).toEqual(['URL-I2', 'URL-I7']);
    expect(out).not.toMatch(/<details[^>]* open/);
    const i2 = out.slice(out.indexOf('data-check-id="URL-I2" data-status="fail">'));
    expect(i2).toContain('<dd>771632204</dd>');
    expect(i2).toContain('&quot;concurrency&quot;: 2');
    expect(i2).toContain('POST http://127.0.0.1:41733/api/v1/data/shorten\ncontent-type: application/json');
    expect(i2).toContain('HTTP 201\ncontent-type: application/json; charset=utf-8');
    expect(i2).toContain('<li>expected 200 for a long URL that already has a code, got 201</li>');
  });

  it('escapes every user-controlled string', () => {
    const evil = loadFixture('sample-run');
    const chapter = evil.chapters[0]!;
    const check = chapter.checks[5]!;
    check.reason = XSS;
    check.title = XSS;
    check.exchange!.response!.body = XSS;
    check.exchange!.violations.push(XSS);
    chapter.title = XSS;
    chapter.targets[0]!.origin = XSS;
    chapter.load!.scenarios[0]!.name = XSS;
    evil.runId = XSS;
    evil.environment.os = XSS;
    const page = renderHtml(evil);
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img/i);
    expect(page).toContain(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;',
    );
  });

  it('renders a chapter with no load section and no targets with placeholders instead of charts', () => {
    const page = renderHtml(sparseRun());
    expect(page).toContain('data-testid="no-load">No load run for this chapter.');
    expect(page).toContain('data-testid="no-throughput"');
    expect(page).toContain('data-testid="no-targets">No targets for this chapter.');
    expect(page).not.toContain('<svg');
    expect(page).toContain('data-testid="run-verdict">PASSED<');
  });

  it('renders a run with no chapters', () => {
    const empty = loadFixture('sample-run');
    empty.chapters = [];
    expect(renderHtml(empty)).toContain('No chapters were graded.');
  });

  it('draws a whole-chart target line when the target names no scenario', () => {
    const r = loadFixture('sample-run');
    r.chapters[0]!.targets.push({ ...r.chapters[0]!.targets[3]!, id: 'URL-T9', metric: 'overall_p99', target: 30 });
    const page = renderHtml(r);
    const line = page.match(/<line class="target-line" x1="([\d.]+)" x2="([\d.]+)"[^>]*\/>\s*<text[^>]*>URL-T9/);
    expect(line?.[1]).toBe('56');
    expect(line?.[2]).toBe('944');
  });
});
