// `sdgrade estimate [topic]`: the chapter's tables and each worked estimate as plain text, written the way a person
// would on a whiteboard - formula, then the numbers put in, then the result and what the book says.
import { availabilityNotes, availabilityTable, SLA_LEVELS } from './availability.ts';
import { describeBookFigure } from './book-figure.ts';
import { chapterEstimates } from './chapters.ts';
import type { EstimateSet } from './estimate-set.ts';
import { latencyConclusions, latencyNumbers } from './latency-numbers.ts';
import { approximationError, powersOfTwo } from './power-of-two.ts';
import { formatDuration, formatNumber, formatQuantity, substituteInputs } from './quantity.ts';
import { textTable } from './text-table.ts';
import { twitterExample } from './twitter-example.ts';

interface Topic {
  summary: string;
  render: () => string;
}

function renderPowers(): string {
  const rows = powersOfTwo.map((p) => [`2^${p.power}`, p.approximate, p.fullName, p.shortName, formatNumber(p.exact)]);
  const first = powersOfTwo[0];
  const last = powersOfTwo[powersOfTwo.length - 1];
  const spread =
    first && last
      ? `The exact power is ${(approximationError(first) * 100).toFixed(1)}% (2^${first.power}) to ` +
        `${(approximationError(last) * 100).toFixed(1)}% (2^${last.power}) above the round figure.`
      : '';
  return [
    'Power of two (chapter 3)',
    '',
    textTable(['Power', 'Approximate value', 'Full name', 'Short name', 'Exact value'], rows, [
      'left',
      'left',
      'left',
      'left',
      'right',
    ]),
    '',
    'Estimates use the round decimal figure (1 KB = 1,000 bytes).',
    spread,
  ].join('\n');
}

function renderLatency(): string {
  const l1 = latencyNumbers[0]?.ns ?? 1;
  const rows = latencyNumbers.map((n) => [
    n.operation,
    formatNumber(n.ns),
    formatDuration(n.ns * 1e-9),
    `${formatNumber(n.ns / l1)}x`,
  ]);
  return [
    'Latency numbers every programmer should know (Jeff Dean, as listed in chapter 3)',
    '',
    textTable(['Operation', 'ns', 'Readable', 'vs L1'], rows, ['left', 'right', 'right', 'right']),
    '',
    'Conclusions:',
    ...latencyConclusions.map((c) => `  - ${c}`),
  ].join('\n');
}

function renderAvailability(): string {
  const rows = availabilityTable(SLA_LEVELS).map((d) => [
    `${d.slaPercent}%`,
    formatQuantity(d.perDay),
    formatQuantity(d.perWeek),
    formatQuantity(d.perMonth),
    formatQuantity(d.perYear),
  ]);
  return [
    'Downtime allowed by an SLA (chapter 3, "Availability numbers")',
    '',
    textTable(['SLA', 'Per day', 'Per week', 'Per month', 'Per year'], rows, [
      'left',
      'right',
      'right',
      'right',
      'right',
    ]),
    '',
    'downtime = (100 - SLA%) / 100 * period; year = 365 days, month = year / 12 (30.42 days).',
    ...availabilityNotes,
  ].join('\n');
}

/** One estimate set as a whiteboard derivation. */
export function renderEstimateSet(set: EstimateSet): string {
  const assumptionRows = Object.entries(set.assumptions).map(([name, a]) => [
    name,
    formatQuantity({ value: a.value, unit: a.unit, formula: name }),
    a.book,
  ]);
  const derivation: string[] = [];
  for (const [name, d] of Object.entries(set.derived)) {
    const pad = ' '.repeat(name.length + 1);
    const q = d.quantity;
    derivation.push(`  ${name} = ${q.formula}`);
    const substituted = substituteInputs(q);
    if (substituted !== q.formula) derivation.push(`  ${pad}= ${substituted}`);
    derivation.push(`  ${pad}= ${formatQuantity(q)}`);
    if (d.book) derivation.push(`  ${pad}${describeBookFigure(q.value, d.book)}`);
    if (d.note) derivation.push(`  ${pad}note: ${d.note}`);
    derivation.push('');
  }
  return [
    set.title,
    `Source: ${set.source}`,
    '',
    'Assumptions',
    textTable(['name', 'value', 'from'], assumptionRows)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
    '',
    'Derivation',
    ...derivation,
    ...(set.notes.length ? ['Notes', ...set.notes.map((n) => `  - ${n}`)] : []),
  ]
    .join('\n')
    .trimEnd();
}

const topics: Record<string, Topic> = {
  powers: { summary: 'The power-of-two table (2^10 ... 2^50)', render: renderPowers },
  latency: { summary: 'Latency numbers every programmer should know', render: renderLatency },
  availability: { summary: 'Downtime allowed per day, week, month and year for an SLA', render: renderAvailability },
  twitter: {
    summary: 'The book’s worked example: Twitter QPS and storage',
    render: () => renderEstimateSet(twitterExample),
  },
  ...Object.fromEntries(
    Object.values(chapterEstimates).map((set): [string, Topic] => [
      set.slug,
      {
        summary: `${set.title}: the chapter's estimate and the targets it derives`,
        render: () => renderEstimateSet(set),
      },
    ]),
  ),
};

export const estimateTopics: readonly string[] = Object.keys(topics);

/** The text for `sdgrade estimate [topic]`; without a topic, the list of topics. Throws for an unknown topic. */
export function renderEstimate(topic?: string): string {
  if (topic === undefined || topic === '') {
    const width = Math.max(...estimateTopics.map((t) => t.length));
    return [
      'Usage: sdgrade estimate [topic]',
      '',
      'Topics:',
      ...Object.entries(topics).map(([name, t]) => `  ${name.padEnd(width)}  ${t.summary}`),
    ].join('\n');
  }
  const found = Object.hasOwn(topics, topic) ? topics[topic] : undefined;
  if (!found) throw new Error(`Unknown estimate topic "${topic}". Valid topics: ${estimateTopics.join(', ')}`);
  return found.render();
}
