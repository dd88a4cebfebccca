// Markdown for a CI job summary ($GITHUB_STEP_SUMMARY): plain tables, status words instead of emoji, every
// user-controlled string escaped for a table cell.
import type {
  ChapterResult,
  CheckStatus,
  LoadResult,
  RunResults,
  TargetResult,
  TargetVerdict,
} from '../results/types.ts';
import {
  BEYOND_MACHINE_EXPLANATION,
  CAPACITY_HEADER,
  capacityAssumptions,
  capacityRows,
  formatLoadGenerator,
  isBeyond,
} from './capacity.ts';
import { escapeMarkdownCell as cell } from './escape.ts';
import {
  abbreviate,
  countChecks,
  countsTotal,
  describeEnvironment,
  formatDuration,
  formatNumber,
  formatPercent,
  formatTargetRule,
  formatTimestamp,
  formatValue,
  formatYardstick,
  runDurationMs,
} from './format.ts';

const STATUS_WORD: Record<CheckStatus, string> = {
  pass: 'pass',
  fail: '**FAIL**',
  error: '**ERROR**',
  skipped: 'skipped',
};
const VERDICT_WORD: Record<TargetVerdict, string> = {
  pass: 'met',
  fail: '**MISSED**',
  'beyond-machine': '_beyond this machine_',
  skipped: 'skipped',
  info: 'info',
};

function table(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : '---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function runPassed(results: RunResults): boolean {
  const s = results.summary;
  const targetFailed = results.chapters.some((c) => c.targets.some((t) => t.verdict === 'fail'));
  return s.fail === 0 && s.error === 0 && !targetFailed;
}

function targetTally(chapters: readonly ChapterResult[]): { met: number; graded: number } {
  let met = 0;
  let graded = 0;
  for (const t of chapters.flatMap((c) => c.targets)) {
    if (t.verdict === 'pass' || t.verdict === 'fail') graded++;
    if (t.verdict === 'pass') met++;
  }
  return { met, graded };
}

function headline(results: RunResults): string {
  const s = results.summary;
  const { met, graded } = targetTally(results.chapters);
  const took = runDurationMs(results.startedAt, results.finishedAt);
  const beyond = results.chapters.flatMap((c) => c.targets).filter(isBeyond).length;
  const parts = [
    `**${runPassed(results) ? 'PASSED' : 'FAILED'}**`,
    `${s.pass} pass, ${s.fail} fail, ${s.error} error, ${s.skipped} skipped of ${countsTotal(s)} checks`,
    `${met}/${graded} graded targets met${beyond ? `, ${beyond} beyond this machine` : ''}`,
    `started ${formatTimestamp(results.startedAt)}`,
  ];
  if (took !== null) parts.push(`took ${formatDuration(took)}`);
  return parts.join(' · ');
}

function checksTable(chapter: ChapterResult): string {
  if (chapter.checks.length === 0) return '_No checks ran._';
  const rows = chapter.checks.map((c) => {
    const why = c.reason ?? (c.status === 'pass' ? '' : '(no reason given)');
    // A check the main job graded on a variant (a cluster) says so: it was not graded on this chapter's target.
    const reason = c.variant ? `[on variant ${c.variant}] ${why}`.trim() : why;
    return [cell(c.id), c.kind, STATUS_WORD[c.status], formatDuration(c.durationMs), cell(reason)];
  });
  return table(['ID', 'Kind', 'Status', 'Duration', 'Reason'], ['l', 'l', 'l', 'r', 'l'], rows);
}

function targetsTable(targets: readonly TargetResult[]): string {
  if (targets.length === 0) return '_No targets for this chapter._';
  const rows = targets.map((t) => {
    const verdict = VERDICT_WORD[t.verdict] + (t.reason ? ` (${cell(t.reason)})` : '');
    return [
      cell(t.id),
      cell(t.title),
      cell(formatValue(t.value, t.unit)),
      cell(formatTargetRule(t)),
      verdict,
      cell(formatYardstick(t)),
      cell(t.origin ? abbreviate(t.origin, 60) : ''),
    ];
  });
  return (
    table(
      ['ID', 'Target', 'Measured', 'Rule', 'Verdict', 'Yardstick (ratio)', 'Origin'],
      ['l', 'l', 'r', 'l', 'l', 'l', 'l'],
      rows,
    ) + (targets.some(isBeyond) ? `\n\n${BEYOND_MACHINE_EXPLANATION}` : '')
  );
}

function capacityTable(chapter: ChapterResult): string {
  const rows = capacityRows(chapter).map((r) => r.map(cell));
  if (rows.length === 0) return '';
  const notes = capacityAssumptions(chapter).map((a) => `- ${cell(a)}`);
  return [
    '### Capacity per node',
    table(CAPACITY_HEADER, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'l'], rows),
    notes.join('\n'),
  ].join('\n\n');
}

function loadTable(load: LoadResult): string {
  const from = (load.segments ?? 1) > 1 ? ` from ${load.segments} k6 processes (execution segments)` : '';
  const intro = `Profile \`${load.profile}\`, tool ${cell(load.tool)}${from}.`;
  if (load.scenarios.length === 0) return `${intro}\n\n_No scenarios were recorded._`;
  const rows = load.scenarios.map((s) => [
    cell(s.name),
    formatNumber(s.rps),
    s.targetRps === undefined ? '' : formatNumber(s.targetRps),
    formatNumber(s.latencyMs.p50),
    formatNumber(s.latencyMs.p95),
    formatNumber(s.latencyMs.p99),
    formatPercent(s.errorRate),
    s.dropped === undefined ? '' : formatNumber(s.dropped),
    cell(formatLoadGenerator(s.loadGenerator)),
  ]);
  const header = [
    'Scenario',
    'req/s',
    'target req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'errors',
    'dropped',
    'load generator',
  ];
  return `${intro}\n\n${table(header, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'], rows)}`;
}

function chapterSection(chapter: ChapterResult): string {
  const c = countChecks(chapter.checks);
  const t = chapter.target;
  const where = [
    cell(t.implementation),
    t.variant ? `variant ${cell(t.variant)}` : '',
    t.manifest ? `manifest ${cell(t.manifest)}` : '',
    cell(t.baseUrl),
  ];
  return [
    `## ${cell(chapter.chapter)}: ${cell(chapter.title)}`,
    where.filter(Boolean).join(' · '),
    `### Checks (${c.pass} pass, ${c.fail} fail, ${c.error} error, ${c.skipped} skipped)`,
    checksTable(chapter),
    '### Targets',
    targetsTable(chapter.targets),
    '### Load',
    chapter.load ? loadTable(chapter.load) : '_No load run for this chapter._',
    ...(chapter.load?.capacity?.length ? [capacityTable(chapter)] : []),
  ].join('\n\n');
}

export function renderMarkdown(results: RunResults): string {
  const env = describeEnvironment(results.environment).map(([k, v]) => [k, cell(v)]);
  const sections = [
    `# sdgrade run ${cell(results.runId)}`,
    headline(results),
    ...(results.command ? [`Command: \`${results.command.replace(/`/g, "'").replace(/\s+/g, ' ')}\``] : []),
    ...(results.chapters.length === 0 ? ['_No chapters were graded._'] : results.chapters.map(chapterSection)),
    '## Environment',
    table(['', ''], ['l', 'l'], env),
  ];
  return `${sections.join('\n\n')}\n`;
}
