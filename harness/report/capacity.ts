// What every report says about rate targets: the beyond-machine verdict's explanation, the capacity per node and
// the nodes the book's rate needs, and k6's own CPU use. One wording for HTML, Markdown, JUnit and the README table.
import type { CapacityPerNode, ChapterResult, LoadGeneratorUse, TargetResult } from '../results/types.ts';
import { formatNumber } from './format.ts';

export const BEYOND_MACHINE_WORD = 'beyond this machine';

export const BEYOND_MACHINE_EXPLANATION =
  'Beyond this machine: the target was not met, and in the same run the no-op Node server (the yardstick) could ' +
  'not carry the offered rate either, or k6 itself was saturated. It says the machine is too small for the ' +
  "book's rate, not that the implementation is slow; the capacity per node and the nodes needed say what it would " +
  'take. Not a failure unless --strict.';

export const isBeyond = (t: TargetResult) => t.verdict === 'beyond-machine';

/** "12,000 req/s" or "not measured". */
export function formatCapacity(c: CapacityPerNode): string {
  if (c.perNode !== null) return `${formatNumber(c.perNode)} ${c.unit}`;
  // Searched, but even the lowest rate tried missed the latency target. With a book rate the steps offered requests
  // (iterations) per second, whatever the target's unit (20: 100 messages per request), as the yardstick's column.
  const stepUnit = c.bookRate === 0 ? c.unit : 'req/s';
  if (c.steps?.length) return `below ${formatNumber(Math.min(...c.steps.map((s) => s.rate)))} ${stepUnit}`;
  return 'not measured';
}

/** "3 nodes" / "1 node", or why there is no number. */
export function formatNodes(c: CapacityPerNode): string {
  if (c.nodesNeeded === null) return c.reason ?? 'not measured';
  return `${c.nodesNeeded} node${c.nodesNeeded === 1 ? '' : 's'}`;
}

/** One line per rate target, e.g. "URL-T2 redirect: 4,100 req/s per node (0.41 of no-op), 3 nodes for 11,574". */
export function capacityLine(c: CapacityPerNode): string {
  if (c.perNode === null)
    return `${c.target} ${c.label}: ${c.steps?.length ? formatCapacity(c) : (c.reason ?? 'not measured')}`;
  const ratio = c.ratio === null ? '' : ` (${formatNumber(c.ratio)} of no-op)`;
  // No book rate (the chapter's targets are latencies at a rate of ours): capacity and ratio, no node count.
  if (c.bookRate === 0) return `${c.target} ${c.label}: ${formatCapacity(c)} per node${ratio}, no book rate`;
  // A book rate that cannot be spread over nodes as measured (29: one matching engine per symbol): why, no count.
  if (c.nodesNeeded === null)
    return `${c.target} ${c.label}: ${formatCapacity(c)} per node${ratio}, ${formatNodes(c)} (book: ${formatNumber(c.bookRate)})`;
  return `${c.target} ${c.label}: ${formatCapacity(c)} per node${ratio}, ${formatNodes(c)} for ${formatNumber(c.bookRate)}`;
}

/** Table rows for a chapter's capacity: target, probed, per node, yardstick, ratio, book rate, nodes, limited by. */
export function capacityRows(chapter: ChapterResult): string[][] {
  return (chapter.load?.capacity ?? []).map((c) => [
    c.target,
    `${c.label} (p99 ≤ ${formatNumber(c.latency.p99Ms)} ms, ${c.latency.id})`,
    formatCapacity(c),
    // Without a book rate both searches ran in the search's own unit (13: messages per second).
    c.yardstick === null ? '–' : `${formatNumber(c.yardstick)} ${c.bookRate === 0 ? c.unit : 'req/s'}`,
    c.ratio === null ? '–' : formatNumber(c.ratio),
    c.bookRate === 0 ? 'none in the book' : `${formatNumber(c.bookRate)} ${c.unit}`,
    formatNodes(c),
    c.limitedBy ?? '',
  ]);
}

export const CAPACITY_HEADER = [
  'Target',
  'Probed (within)',
  'Capacity per node',
  'No-op server',
  'Ratio',
  "Book's rate",
  'Nodes needed',
  'Limited by',
];

/** The assumptions behind the nodes-needed numbers, once per distinct wording. */
export function capacityAssumptions(chapter: ChapterResult): string[] {
  const out = new Set<string>();
  for (const c of chapter.load?.capacity ?? []) {
    out.add(c.assumption);
    if (c.store) out.add(`${c.store.name}: ${c.store.note}`);
  }
  return [...out];
}

/** "k6 0.42 cores (peak 0.80)" with "SATURATED" when k6 was the bottleneck. */
export function formatLoadGenerator(g: LoadGeneratorUse | undefined): string {
  if (!g) return '';
  const use = `k6 ${formatNumber(g.cpuCores)} cores (peak ${formatNumber(g.peakCpuCores)})`;
  return g.saturated ? `${use}, SATURATED` : use;
}
