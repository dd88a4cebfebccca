// One self-contained HTML report per run: inline CSS and SVG, no scripts, no external URLs, so it can be archived
// as a CI artefact and opened anywhere. A CSP meta tag forbids scripts outright as a second line of defence behind
// the escaping html`` template.
import { pathToFileURL } from 'node:url';
import type {
  ChapterResult,
  CheckResult,
  CheckStatus,
  Counts,
  RecordedExchange,
  RunResults,
  TargetResult,
} from '../results/types.ts';
import {
  BEYOND_MACHINE_EXPLANATION,
  CAPACITY_HEADER,
  capacityAssumptions,
  capacityRows,
  formatLoadGenerator,
  isBeyond,
} from './capacity.ts';
import { type LatencyLine, latencyChart, PERCENTILE_COLORS, PERCENTILES } from './chart-latency.ts';
import { scenarioRow, type ThroughputRow, throughputChart, yardstickNote } from './chart-throughput.ts';
import {
  abbreviate,
  CHECK_KINDS,
  countChecks,
  countsTotal,
  describeEnvironment,
  formatDuration,
  formatTargetRule,
  formatTimestamp,
  formatValue,
  runDurationMs,
  yardstickRatio,
} from './format.ts';
import { html, raw, type SafeHtml } from './html.ts';
import { REPORT_CSS } from './html-styles.ts';
import { runPassed } from './render-markdown.ts';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
const STATUS_ORDER: CheckStatus[] = ['pass', 'fail', 'error', 'skipped'];
const STATUS_FILL: Record<CheckStatus, string> = {
  pass: '#2da44e',
  fail: '#cf222e',
  error: '#e16f24',
  skipped: '#8c959f',
};

// Anchors must be unique across chapters; IDs are schema-constrained but are escaped by html`` regardless.
const anchor = (chapter: ChapterResult, prefix: string, id: string) => `${prefix}-${chapter.chapter}-${id}`;
const isFailing = (c: CheckResult) => c.status === 'fail' || c.status === 'error';

function badge(word: string, kind: string): SafeHtml {
  return html`<span class="badge badge-${kind}">${word}</span>`;
}

function header(results: RunResults): SafeHtml {
  const s = results.summary;
  const total = countsTotal(s) || 1;
  const targets = results.chapters
    .flatMap((c) => c.targets)
    .filter((t) => t.verdict === 'pass' || t.verdict === 'fail');
  const met = targets.filter((t) => t.verdict === 'pass').length;
  const beyond = results.chapters.flatMap((c) => c.targets).filter(isBeyond).length;
  const took = runDurationMs(results.startedAt, results.finishedAt);
  const passed = runPassed(results);
  const env = describeEnvironment(results.environment).map(
    ([k, v]) => html`<div><dt>${k}</dt><dd title="${v}">${k === 'Commit' ? v.slice(0, 12) : v}</dd></div>`,
  );
  return html`<header class="top" data-testid="header"><div class="wrap">
<div class="brand">sdgrade run report</div>
<h1>Run <code data-testid="run-id">${results.runId}</code><span class="verdict ${passed ? 'passed' : 'failed'}" data-testid="run-verdict">${passed ? 'PASSED' : 'FAILED'}</span></h1>
<p class="meta">Started <span data-testid="started-at">${formatTimestamp(results.startedAt)}</span>${took === null ? '' : html` · took ${formatDuration(took)}`}${results.command ? html` · <code>${results.command}</code>` : ''}</p>
<div class="tiles" data-testid="summary">${STATUS_ORDER.map(
    (st) => html`<div class="tile ${st}" data-status="${st}"><b>${s[st]}</b><span>${st}</span></div>`,
  )}<div class="tile"><b>${met}/${targets.length}</b><span>targets met</span></div>${beyond ? html`<div class="tile" data-testid="beyond-tile"><b>${beyond}</b><span>beyond this machine</span></div>` : ''}</div>
<div class="stack" aria-hidden="true">${STATUS_ORDER.map((st) =>
    s[st] > 0
      ? html`<div style="width:${((s[st] / total) * 100).toFixed(2)}%;background:${STATUS_FILL[st]}"></div>`
      : '',
  )}</div>
<dl class="env" data-testid="environment">${env}</dl>
</div></header>`;
}

function statusLegend(): SafeHtml {
  return html`<div class="legend">${STATUS_ORDER.map(
    (st) => html`<span><i class="cell-${st}"></i>${st}</span>`,
  )}<span>hover a cell for its reason; click to jump to it</span></div>`;
}

function matrix(results: RunResults): SafeHtml {
  const chapters = results.chapters.map((chapter) => {
    const rows = CHECK_KINDS.map((kind) => {
      const checks = chapter.checks.filter((c) => c.kind === kind);
      if (checks.length === 0) return '';
      const c = countChecks(checks);
      const cells = checks.map((check) => {
        const tip = `${check.id} · ${check.status}${check.reason ? ` — ${check.reason}` : ''}\n${check.title}`;
        const href = `#${anchor(chapter, isFailing(check) ? 'detail' : 'check', check.id)}`;
        return html`<a class="cell cell-${check.status}" data-testid="matrix-cell" data-chapter="${chapter.chapter}" data-check-id="${check.id}" data-status="${check.status}" title="${tip}" href="${href}"><b>${check.id}</b><span>${check.status}</span></a>`;
      });
      return html`<div class="matrix-row" data-kind="${kind}"><div class="matrix-kind"><b>${kind}</b>${c.pass}/${checks.length} pass</div><div class="cells">${cells}</div></div>`;
    });
    const body = chapter.checks.length === 0 ? html`<p class="empty">No checks ran for this chapter.</p>` : rows;
    return html`<div class="matrix-chapter" data-chapter="${chapter.chapter}"><h3>${chapter.chapter} · ${chapter.title}</h3>${body}</div>`;
  });
  return html`<section class="card" data-testid="matrix-section"><h2>Check matrix</h2>${statusLegend()}
<div data-testid="matrix">${results.chapters.length === 0 ? html`<p class="empty">No chapters were graded.</p>` : chapters}</div></section>`;
}

/** A millisecond target belongs to the scenario its metric names (redirect_p99 -> redirect), if any. */
function latencyLines(chapter: ChapterResult): LatencyLine[] {
  const names = new Set(chapter.load?.scenarios.map((s) => s.name.toLowerCase()));
  return chapter.targets
    .filter((t) => t.unit === 'ms' && t.target !== null)
    .map((t) => {
      const token = t.metric
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .find((part) => names.has(part));
      const sign = t.op === '>=' ? '≥' : t.op === '<=' ? '≤' : 'ref.';
      const line: LatencyLine = { label: `${t.id} ${sign} ${formatValue(t.target, 'ms')}`, value: t.target ?? 0 };
      const scenario = chapter.load?.scenarios.find((s) => s.name.toLowerCase() === token);
      if (scenario) line.scenario = scenario.name;
      return line;
    });
}

function latencyFigure(chapter: ChapterResult): SafeHtml {
  const scenarios = chapter.load?.scenarios ?? [];
  const lines = latencyLines(chapter);
  const legend = html`<div class="legend">${PERCENTILES.map(
    (p) => html`<span><i style="background:${PERCENTILE_COLORS[p]}"></i>${p}</span>`,
  )}${lines.length > 0 ? html`<span><i class="dash"></i>latency target</span>` : ''}</div>`;
  const body =
    scenarios.length === 0
      ? html`<p class="empty" data-testid="no-load">No load run for this chapter.</p>`
      : html`${legend}${latencyChart(scenarios, lines)}`;
  const profile = chapter.load
    ? html` <span class="muted">· ${chapter.load.profile} profile, ${chapter.load.tool}</span>`
    : '';
  return html`<figure data-testid="latency-figure"><figcaption>Latency percentiles per scenario${profile}</figcaption>${body}</figure>`;
}

/** A yardstick target as a chart row: value against its yardstick, or a share against 1× of the yardstick. */
function yardstickRow(t: TargetResult): ThroughputRow | null {
  const y = t.yardstick;
  if (!y || t.value === null) return null;
  const ratio = yardstickRatio(t);
  const share = t.unit === 'ratio' && y.unit !== 'ratio';
  const row: ThroughputRow = {
    key: t.id,
    kind: 'yardstick',
    label: t.id,
    sublabel: abbreviate(`${t.metric}, ${share ? 'share of' : 'vs'} ${y.name}`, 80),
    measured: t.value,
    measuredUnit: t.unit,
    reference: share
      ? { text: `1× = ${formatValue(y.value, y.unit)}`, value: 1 }
      : { text: `${abbreviate(y.name, 40)} ${formatValue(y.value, y.unit)}`, value: y.value },
    note: [
      ratio === undefined ? '' : yardstickNote(ratio),
      t.op === 'info' ? '' : `target ${formatTargetRule(t, 'math')}`,
    ]
      .filter(Boolean)
      .join(' · '),
    tone: t.verdict === 'fail' ? 'bad' : t.verdict === 'pass' ? 'good' : 'neutral',
  };
  if (t.op !== 'info' && t.target !== null)
    row.threshold = { value: t.target, label: `${t.id} ${formatTargetRule(t, 'math')}` };
  return row;
}

function throughputRows(chapter: ChapterResult): ThroughputRow[] {
  const rows = (chapter.load?.scenarios ?? []).map((s) => scenarioRow(s.name, s.rps, s.targetRps));
  for (const t of chapter.targets) {
    const row = yardstickRow(t);
    if (row) rows.push(row);
  }
  return rows;
}

function throughputFigure(chapter: ChapterResult): SafeHtml {
  const rows = throughputRows(chapter);
  const body =
    rows.length === 0
      ? html`<p class="empty" data-testid="no-throughput">No throughput measured and no yardstick targets.</p>`
      : html`<div class="legend"><span><i style="background:#2f73c0"></i>measured</span><span><i style="background:#c3cad2"></i>target rate or yardstick</span>${
          rows.some((r) => r.threshold) ? html`<span><i class="dash"></i>target floor</span>` : ''
        }</div>${throughputChart(rows)}`;
  return html`<figure data-testid="throughput-figure"><figcaption>Throughput vs targets and yardsticks</figcaption>${body}</figure>`;
}

const VERDICT_WORD: Record<TargetResult['verdict'], string> = {
  pass: 'met',
  fail: 'missed',
  'beyond-machine': 'beyond this machine',
  skipped: 'skipped',
  info: 'info',
};

function targetsTable(chapter: ChapterResult): SafeHtml {
  if (chapter.targets.length === 0)
    return html`<p class="empty" data-testid="no-targets">No targets for this chapter.</p>`;
  const rows = chapter.targets.map((t) => {
    const ratio = yardstickRatio(t);
    const yardstick = t.yardstick
      ? html`${t.yardstick.name}<span class="origin">${formatValue(t.yardstick.value, t.yardstick.unit)}${ratio === undefined ? '' : html` · ratio <b>${yardstickNote(ratio).replace('ratio ', '')}</b>`}</span>`
      : html`<span class="muted">–</span>`;
    return html`<tr data-testid="target-row" data-target-id="${t.id}" data-verdict="${t.verdict}">
<td class="id">${t.id}</td>
<td>${t.title}${t.origin ? html`<span class="origin">${t.origin}</span>` : ''}</td>
<td class="num">${formatValue(t.value, t.unit)}</td>
<td class="num">${formatTargetRule(t, 'math')}</td>
<td><span class="badge badge-${t.verdict}" data-testid="verdict">${VERDICT_WORD[t.verdict]}</span>${t.reason ? html`<span class="origin">${t.reason}</span>` : ''}</td>
<td class="yard">${yardstick}</td></tr>`;
  });
  const note = chapter.targets.some(isBeyond)
    ? html`<p class="beyond-note" data-testid="beyond-note">${BEYOND_MACHINE_EXPLANATION}</p>`
    : '';
  return html`<div class="scroll"><table data-testid="targets-table"><thead><tr><th>ID</th><th>Target</th><th class="num">Measured</th><th class="num">Rule</th><th>Verdict</th><th>Yardstick</th></tr></thead><tbody>${rows}</tbody></table></div>${note}`;
}

/** The capacity per node of each rate target and the nodes the book's rate needs at it. */
function capacityTable(chapter: ChapterResult): SafeHtml | string {
  const rows = capacityRows(chapter);
  if (rows.length === 0) return '';
  const numeric = new Set([2, 3, 4, 5, 6]);
  return html`<h3>Capacity per node</h3><div class="scroll"><table data-testid="capacity-table"><thead><tr>${CAPACITY_HEADER.map(
    (h, i) => html`<th${raw(numeric.has(i) ? ' class="num"' : '')}>${h}</th>`,
  )}</tr></thead><tbody>${rows.map(
    (r) =>
      html`<tr data-testid="capacity-row" data-target-id="${r[0] ?? ''}">${r.map((v, i) => html`<td${raw(numeric.has(i) ? ' class="num"' : '')}>${v}</td>`)}</tr>`,
  )}</tbody></table></div><ul class="logs">${capacityAssumptions(chapter).map((a) => html`<li>${a}</li>`)}</ul>`;
}

function checksTable(chapter: ChapterResult): SafeHtml {
  if (chapter.checks.length === 0) return html`<p class="empty">No checks ran for this chapter.</p>`;
  const rows = chapter.checks.map((c) => {
    const reason = c.variant ? `[on variant ${c.variant}] ${c.reason ?? ''}`.trim() : (c.reason ?? '');
    const link = isFailing(c) ? html` <a href="#${anchor(chapter, 'detail', c.id)}">details</a>` : '';
    const runs = [c.runs === undefined ? '' : `${c.runs} runs`, c.seed === undefined ? '' : `seed ${c.seed}`]
      .filter(Boolean)
      .join(', ');
    return html`<tr id="${anchor(chapter, 'check', c.id)}" class="row-${c.status}" data-testid="check-row" data-check-id="${c.id}" data-status="${c.status}">
<td class="id">${c.id}</td><td>${c.title}</td><td>${c.kind}</td><td>${badge(c.status, c.status)}</td>
<td class="num">${formatDuration(c.durationMs)}</td><td class="num muted">${runs}</td><td class="reason">${reason}${link}</td></tr>`;
  });
  return html`<div class="scroll"><table data-testid="checks-table"><thead><tr><th>ID</th><th>Check</th><th>Kind</th><th>Status</th><th class="num">Duration</th><th class="num">Runs</th><th>Reason</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/** JSON bodies pretty-printed; strings (HTML pages, plain text) shown as sent. */
function showBody(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body, null, 2);
}

function httpText(head: string, headers: Record<string, string> | undefined, body: unknown): string {
  const lines = [head, ...Object.entries(headers ?? {}).map(([k, v]) => `${k}: ${String(v)}`)];
  if (body !== undefined) lines.push('', showBody(body));
  return lines.join('\n');
}

function exchangeBlock(x: RecordedExchange): SafeHtml {
  const request = httpText(`${x.request.method} ${x.request.url}`, x.request.headers, x.request.body);
  const response = x.response
    ? httpText(`HTTP ${x.response.status}`, x.response.headers, x.response.body)
    : '(no response)';
  const violations =
    x.violations.length > 0
      ? html`<h4>Violations</h4><ul class="violations" data-testid="violations">${x.violations.map((v) => html`<li>${v}</li>`)}</ul>`
      : '';
  return html`<h4>Failing exchange</h4><div class="exchange" data-testid="exchange"><div><h5>Request</h5><pre>${request}</pre></div><div><h5>Response</h5><pre>${response}</pre></div></div>${violations}`;
}

function failureDetails(chapter: ChapterResult, c: CheckResult): SafeHtml {
  const facts: [string, string][] = [
    ['kind', c.kind],
    ['duration', formatDuration(c.durationMs)],
  ];
  if (c.seed !== undefined) facts.push(['seed', String(c.seed)]);
  if (c.runs !== undefined) facts.push(['runs', String(c.runs)]);
  return html`<details class="failure status-${c.status}" id="${anchor(chapter, 'detail', c.id)}" data-testid="failure-details" data-check-id="${c.id}" data-status="${c.status}">
<summary>${badge(c.status, c.status)}<b>${c.id}</b>${c.title}</summary>
<div class="failure-body">
<p class="reason" data-testid="failure-reason">${c.reason ?? 'No reason was recorded.'}</p>
<dl class="facts">${facts.map(([k, v]) => html`<div><dt>${k}</dt><dd>${v}</dd></div>`)}</dl>
${c.counterexample === undefined ? '' : html`<h4>Counterexample</h4><pre data-testid="counterexample">${JSON.stringify(c.counterexample, null, 2) ?? String(c.counterexample)}</pre>`}
${c.exchange ? exchangeBlock(c.exchange) : ''}
${c.evidence ? html`<h4>Evidence</h4><pre>${JSON.stringify(c.evidence, null, 2)}</pre>` : ''}
</div></details>`;
}

function countBadges(c: Counts): SafeHtml {
  return html`${STATUS_ORDER.map((st) => (c[st] > 0 ? badge(`${c[st]} ${st}`, st) : ''))}`;
}

/** Where the raw load-test output lives: k6's own HTML dashboard export and its JSON summary. */
function loadLinks(load: NonNullable<ChapterResult['load']>): SafeHtml {
  const items = [
    load.dashboardPath
      ? html`<li><a href="${pathToFileURL(load.dashboardPath).href}">k6 dashboard</a> (${load.tool}, ${load.profile} profile)</li>`
      : '',
    load.summaryPath ? html`<li>k6 summary: <code>${load.summaryPath}</code></li>` : '',
    (load.segments ?? 1) > 1 ? html`<li>load from ${load.segments} k6 processes (execution segments), merged</li>` : '',
    ...load.scenarios
      .filter((s) => s.loadGenerator || s.dropped !== undefined)
      .map(
        (s) =>
          html`<li data-testid="load-generator">${s.name}: ${s.dropped ?? 0} iterations dropped${s.loadGenerator ? html`, ${formatLoadGenerator(s.loadGenerator)}` : ''}</li>`,
      ),
  ];
  return html`<h3>Load test output</h3><ul class="logs" data-testid="load-links">${items}</ul>`;
}

function chapterSection(chapter: ChapterResult): SafeHtml {
  const t = chapter.target;
  const failures = chapter.checks.filter(isFailing);
  const where = [
    t.implementation,
    t.variant ? `variant ${t.variant}` : '',
    t.mode === 'manifest' ? `manifest ${t.manifest ?? ''}` : '',
    t.baseUrl,
  ]
    .filter(Boolean)
    .join(' · ');
  return html`<section class="card chapter" data-testid="chapter" data-chapter="${chapter.chapter}" id="chapter-${chapter.chapter}">
<div class="chapter-head"><div><h2>${chapter.chapter} · ${chapter.title}</h2><p class="sub">${where}</p></div><div class="counts">${countBadges(countChecks(chapter.checks))}</div></div>
<div class="charts">${latencyFigure(chapter)}${throughputFigure(chapter)}</div>
<h3>Targets</h3>${targetsTable(chapter)}
${capacityTable(chapter)}
<h3>Checks</h3>${checksTable(chapter)}
${failures.length > 0 ? html`<h3>Failures and errors</h3>${failures.map((c) => failureDetails(chapter, c))}` : ''}
${chapter.load ? loadLinks(chapter.load) : ''}
${chapter.logs.length > 0 ? html`<h3>Logs</h3><ul class="logs">${chapter.logs.map((l) => html`<li><b>${l.node}</b>: <code>${l.path}</code></li>`)}</ul>` : ''}
</section>`;
}

export function renderHtml(results: RunResults): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sdgrade · ${results.runId}</title>
<style>${raw(REPORT_CSS)}</style>
</head>
<body>
${header(results)}
<main class="wrap">
${matrix(results)}
${results.chapters.map(chapterSection)}
</main>
<footer class="wrap">sdgrade results schema v${results.schemaVersion} · run ${results.runId} · finished ${formatTimestamp(results.finishedAt)}</footer>
</body>
</html>
`;
  return page.value;
}
