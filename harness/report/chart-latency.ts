// Grouped bars of latency percentiles per load scenario, with the chapter's millisecond targets drawn as dashed
// lines. The axis is sized to the p99s and targets, not to the max: one slow outlier would otherwise flatten every
// other bar, so a max bar that overshoots is cut with a break mark and labelled with its real value.
import type { LoadScenario } from '../results/types.ts';
import { niceScale, px } from './chart-scale.ts';
import { formatNumber } from './format.ts';
import { html, type SafeHtml } from './html.ts';

export const PERCENTILES = ['p50', 'p90', 'p95', 'p99', 'max'] as const;
export const PERCENTILE_COLORS: Record<(typeof PERCENTILES)[number], string> = {
  p50: '#bcd7f0',
  p90: '#8dbbe6',
  p95: '#5a9bd8',
  p99: '#2f73c0',
  max: '#174a8b',
};

export interface LatencyLine {
  label: string;
  value: number;
  /** Draw over this scenario's group only; over the whole chart when absent. */
  scenario?: string;
}

const W = 960;
const H = 330;
const M = { top: 30, right: 16, bottom: 58, left: 56 };

export function latencyChart(scenarios: readonly LoadScenario[], lines: readonly LatencyLine[]): SafeHtml {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const p99s = scenarios.map((s) => s.latencyMs.p99);
  const maxes = scenarios.map((s) => s.latencyMs.max);
  let domain = Math.max(...p99s, ...lines.map((l) => l.value), 0);
  // Keep the max bars whole unless they would squash the rest to slivers.
  if (Math.max(...maxes) <= domain * 1.6) domain = Math.max(domain, ...maxes);
  const scale = niceScale(domain * 1.08);
  const y = (v: number) => M.top + plotH - (Math.min(v, scale.max) / scale.max) * plotH;

  const groupW = plotW / Math.max(scenarios.length, 1);
  const barSlot = (groupW * 0.72) / PERCENTILES.length;
  const barW = Math.max(barSlot - 3, 2);
  const showValues = barW >= 22;

  const grid = scale.ticks.map(
    (t) => html`<line class="grid" x1="${px(M.left)}" x2="${px(W - M.right)}" y1="${px(y(t))}" y2="${px(y(t))}"/>
<text class="tick" x="${px(M.left - 8)}" y="${px(y(t) + 4)}" text-anchor="end">${formatNumber(t)}</text>`,
  );

  const groups = scenarios.map((s, gi) => {
    const gx = M.left + gi * groupW + groupW * 0.14;
    const bars = PERCENTILES.map((p, bi) => {
      const v = s.latencyMs[p];
      const x = gx + bi * barSlot;
      const top = y(v);
      const clipped = v > scale.max;
      const h = Math.max(M.top + plotH - top, 1);
      const label =
        showValues || clipped
          ? html`<text class="bar-value" x="${px(x + barW / 2)}" y="${px(clipped ? M.top - 6 : top - 5)}" text-anchor="middle">${formatNumber(v)}</text>`
          : '';
      const cut = clipped
        ? html`<path class="break" d="M${px(x - 1)} ${px(top + 12)} l${px(barW + 2)} -6 M${px(x - 1)} ${px(top + 18)} l${px(barW + 2)} -6"/>`
        : '';
      return html`<rect data-testid="latency-bar" data-scenario="${s.name}" data-percentile="${p}" x="${px(x)}" y="${px(top)}" width="${px(barW)}" height="${px(h)}" fill="${PERCENTILE_COLORS[p]}" rx="2"><title>${s.name} ${p}: ${formatNumber(v)} ms${clipped ? ' (beyond the axis)' : ''}</title></rect>${cut}${label}`;
    });
    const cx = M.left + gi * groupW + groupW / 2;
    return html`<g class="group">${bars}
<text class="x-label" x="${px(cx)}" y="${px(H - M.bottom + 20)}" text-anchor="middle">${s.name}</text>
<text class="x-sub" x="${px(cx)}" y="${px(H - M.bottom + 36)}" text-anchor="middle">${formatNumber(s.rps)} req/s · ${formatNumber(s.errorRate * 100)}% errors</text></g>`;
  });

  const targetLines = lines.map((l) => {
    const gi = l.scenario === undefined ? -1 : scenarios.findIndex((s) => s.name === l.scenario);
    const x1 = gi < 0 ? M.left : M.left + gi * groupW + 6;
    const x2 = gi < 0 ? W - M.right : M.left + (gi + 1) * groupW - 6;
    const ly = y(l.value);
    return html`<g data-testid="latency-target-line"><line class="target-line" x1="${px(x1)}" x2="${px(x2)}" y1="${px(ly)}" y2="${px(ly)}"/>
<text class="target-label" x="${px(x1 + 4)}" y="${px(ly - 5)}">${l.label}</text></g>`;
  });

  const summary = scenarios.map((s) => `${s.name} p99 ${formatNumber(s.latencyMs.p99)} ms`).join(', ');
  return html`<svg class="chart" data-testid="latency-chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Latency percentiles per scenario: ${summary}" xmlns="http://www.w3.org/2000/svg">
<text class="axis-title" x="${px(M.left - 8)}" y="${px(M.top - 14)}" text-anchor="end">ms</text>
${grid}
<line class="axis" x1="${px(M.left)}" x2="${px(W - M.right)}" y1="${px(M.top + plotH)}" y2="${px(M.top + plotH)}"/>
${groups}
${targetLines}
</svg>`;
}
