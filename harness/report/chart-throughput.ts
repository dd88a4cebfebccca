// Throughput against what it is measured by: each row pairs a measured bar with its reference bar (a scenario's
// target rate, or a target's same-run yardstick). Every row has its own scale, because rows mix units.
import { px } from './chart-scale.ts';
import { formatNumber, formatPercent, formatRatio, formatValue } from './format.ts';
import { html, type SafeHtml } from './html.ts';

export interface ThroughputRow {
  /** Stable id for tests, e.g. the scenario name or the target ID. */
  key: string;
  kind: 'scenario' | 'yardstick';
  label: string;
  sublabel: string;
  measured: number;
  measuredUnit: string;
  /** What the measured bar is held against; `text` labels its bar. */
  reference?: { text: string; value: number };
  /** Text at the right of the row, e.g. "147% of target" or "ratio 0.47×". */
  note: string;
  /** A pass line (e.g. a target's minimum share of its yardstick), drawn as a dashed tick across the bars. */
  threshold?: { value: number; label: string };
  /** good/bad colour the note (met or missed); neutral for yardsticks, which only inform. */
  tone: 'good' | 'bad' | 'neutral';
}

const W = 960;
const ROW_H = 62;
const LEFT = 12;
// Room right of the longest bar for its value label and the reference's name.
const TEXT_ROOM = 330;

export function scenarioRow(name: string, rps: number, targetRps: number | undefined): ThroughputRow {
  const row: ThroughputRow = {
    key: name,
    kind: 'scenario',
    label: name,
    sublabel: 'load scenario',
    measured: rps,
    measuredUnit: 'req/s',
    note: targetRps === undefined ? 'no target rate' : `${formatPercent(rps / targetRps)} of target`,
    tone: targetRps === undefined ? 'neutral' : rps < targetRps ? 'bad' : 'good',
  };
  if (targetRps !== undefined) row.reference = { text: `target ${formatValue(targetRps, 'req/s')}`, value: targetRps };
  return row;
}

export function throughputChart(rows: readonly ThroughputRow[]): SafeHtml {
  const H = rows.length * ROW_H + 8;
  const barMax = W - LEFT - TEXT_ROOM;
  const body = rows.map((r, i) => {
    const top = i * ROW_H + 6;
    const scaleMax = Math.max(r.measured, r.reference?.value ?? 0, r.threshold?.value ?? 0) || 1;
    const len = (v: number) => Math.max((v / scaleMax) * barMax, 2);
    const mw = len(r.measured);
    const ref = r.reference;
    const refBar = ref
      ? html`<rect data-testid="throughput-reference" x="${LEFT}" y="${px(top + 42)}" width="${px(len(ref.value))}" height="9" rx="2" class="ref-bar"><title>${ref.text}</title></rect>
<text class="bar-text muted" x="${px(LEFT + len(ref.value) + 6)}" y="${px(top + 50)}">${ref.text}</text>`
      : '';
    return html`<g data-testid="throughput-row" data-kind="${r.kind}" data-key="${r.key}">
<text class="row-label" x="${LEFT}" y="${px(top + 13)}">${r.label}<tspan class="muted" dx="8">${r.sublabel}</tspan></text>
<text class="row-note ${r.tone}" x="${W - 8}" y="${px(top + 13)}" text-anchor="end">${r.note}</text>
<rect data-testid="throughput-bar" x="${LEFT}" y="${px(top + 21)}" width="${px(mw)}" height="17" rx="2" class="measured-bar${r.tone === 'bad' ? ' short' : ''}"><title>measured: ${formatValue(r.measured, r.measuredUnit)}</title></rect>
<text class="bar-text" x="${px(LEFT + mw + 6)}" y="${px(top + 34)}">${formatValue(r.measured, r.measuredUnit)}</text>
${refBar}${
  r.threshold
    ? html`<line data-testid="throughput-threshold" class="threshold" x1="${px(LEFT + len(r.threshold.value))}" x2="${px(LEFT + len(r.threshold.value))}" y1="${px(top + 17)}" y2="${px(top + 55)}"><title>${r.threshold.label}</title></line>`
    : ''
}</g>`;
  });
  const summary = rows.map((r) => `${r.label}: ${formatNumber(r.measured)} ${r.measuredUnit}, ${r.note}`).join('; ');
  return html`<svg class="chart" data-testid="throughput-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Throughput against targets and yardsticks: ${summary}" xmlns="http://www.w3.org/2000/svg">${body}</svg>`;
}

export function yardstickNote(ratio: number): string {
  return `ratio ${formatRatio(ratio)}`;
}
