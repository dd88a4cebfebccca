// JUnit XML so CI systems that only understand test reports (GitLab, Jenkins, GitHub test reporters) can show
// checks and targets as test cases: one <testsuite> per chapter, one <testcase> per check and per target.
import type { ChapterResult, CheckResult, RunResults, TargetResult } from '../results/types.ts';
import { escapeXml as x } from './escape.ts';
import { formatTargetRule, formatValue, formatYardstick } from './format.ts';

interface CaseXml {
  xml: string;
  failure: boolean;
  error: boolean;
  skipped: boolean;
  seconds: number;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

function checkBody(c: CheckResult): string {
  const lines: string[] = [];
  if (c.reason) lines.push(c.reason);
  if (c.variant) lines.push(`graded on variant ${c.variant} (${c.variantManifest ?? 'its manifest'})`);
  if (c.seed !== undefined) lines.push(`seed: ${c.seed}`);
  if (c.runs !== undefined) lines.push(`runs: ${c.runs}`);
  if (c.counterexample !== undefined) lines.push(`counterexample: ${JSON.stringify(c.counterexample, null, 2)}`);
  if (c.exchange) {
    const { request, response, violations } = c.exchange;
    lines.push(`request: ${request.method} ${request.url}`);
    if (request.body !== undefined) lines.push(`request body: ${JSON.stringify(request.body, null, 2)}`);
    lines.push(response ? `response: ${response.status}` : 'response: none');
    if (response?.body !== undefined) lines.push(`response body: ${JSON.stringify(response.body, null, 2)}`);
    for (const v of violations) lines.push(`violation: ${v}`);
  }
  return lines.join('\n');
}

function checkCase(chapter: ChapterResult, c: CheckResult): CaseXml {
  const open = `<testcase classname="${x(`${chapter.chapter}.${c.kind}`)}" name="${x(`${c.id} ${c.title}`)}" time="${seconds(c.durationMs)}"`;
  const message = x(c.reason ?? c.status);
  let inner = '';
  if (c.status === 'fail') inner = `<failure message="${message}" type="fail">${x(checkBody(c))}</failure>`;
  else if (c.status === 'error') inner = `<error message="${message}" type="error">${x(checkBody(c))}</error>`;
  else if (c.status === 'skipped') inner = `<skipped message="${message}"/>`;
  return {
    xml: inner ? `${open}>${inner}</testcase>` : `${open}/>`,
    failure: c.status === 'fail',
    error: c.status === 'error',
    skipped: c.status === 'skipped',
    seconds: c.durationMs / 1000,
  };
}

function targetCase(chapter: ChapterResult, t: TargetResult): CaseXml {
  const open = `<testcase classname="${x(`${chapter.chapter}.targets`)}" name="${x(`${t.id} ${t.title}`)}" time="0.000"`;
  const measured = `measured ${formatValue(t.value, t.unit)}, rule ${formatTargetRule(t)}`;
  const detail = [measured, formatYardstick(t), t.reason ?? '', t.origin ? `origin: ${t.origin}` : '']
    .filter(Boolean)
    .join('\n');
  let inner = '';
  if (t.verdict === 'fail')
    inner = `<failure message="${x(t.reason ?? measured)}" type="target">${x(detail)}</failure>`;
  else if (t.verdict === 'skipped') inner = `<skipped message="${x(t.reason ?? 'not measured')}"/>`;
  // Not a failure (the machine could not carry the rate), not a pass either: skipped, saying why.
  else if (t.verdict === 'beyond-machine') inner = `<skipped message="${x(t.reason ?? 'beyond this machine')}"/>`;
  // Info targets pass as test cases; their number goes to system-out so it is not lost.
  else inner = `<system-out>${x(detail)}</system-out>`;
  return {
    xml: `${open}>${inner}</testcase>`,
    failure: t.verdict === 'fail',
    error: false,
    skipped: t.verdict === 'skipped' || t.verdict === 'beyond-machine',
    seconds: 0,
  };
}

function tally(cases: readonly CaseXml[]) {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.failure).length,
    errors: cases.filter((c) => c.error).length,
    skipped: cases.filter((c) => c.skipped).length,
    time: cases.reduce((sum, c) => sum + c.seconds, 0).toFixed(3),
  };
}

const attrs = (t: ReturnType<typeof tally>): string =>
  `tests="${t.tests}" failures="${t.failures}" errors="${t.errors}" skipped="${t.skipped}" time="${t.time}"`;

export function renderJunit(results: RunResults): string {
  const all: CaseXml[] = [];
  const suites = results.chapters.map((chapter) => {
    const cases = [
      ...chapter.checks.map((c) => checkCase(chapter, c)),
      ...chapter.targets.map((t) => targetCase(chapter, t)),
    ];
    all.push(...cases);
    const head = `<testsuite name="${x(`${chapter.chapter} ${chapter.title}`)}" ${attrs(tally(cases))} timestamp="${x(results.startedAt)}">`;
    const props = [
      ['implementation', chapter.target.implementation],
      ['baseUrl', chapter.target.baseUrl],
      ...(chapter.target.variant ? [['variant', chapter.target.variant]] : []),
    ]
      .map(([k, v]) => `<property name="${x(k ?? '')}" value="${x(v ?? '')}"/>`)
      .join('');
    return `  ${head}\n    <properties>${props}</properties>\n${cases.map((c) => `    ${c.xml}`).join('\n')}\n  </testsuite>`;
  });
  const root = `<testsuites name="${x(`sdgrade ${results.runId}`)}" ${attrs(tally(all))}>`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${root}\n${suites.join('\n')}${suites.length ? '\n' : ''}</testsuites>\n`;
}
