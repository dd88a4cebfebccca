// The chapter's micro-benchmark: the in-memory halves of URL seen and of the frontier, against a plain Set of the
// same URL strings (the yardstick: what a crawler without a Bloom filter keeps). Bits per URL of the Bloom filter
// against its false-positive rate, measured; bytes per URL queued in the frontier; lookups/s of both, tinybench.
import { Bench } from 'tinybench';
import { Frontier } from '../../../reference/10-web-crawler/frontier.ts';
import { BLOOM_CAPACITY, BLOOM_ERROR_RATE, newUrlSeenFilter } from '../../../reference/10-web-crawler/url-seen.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { medianHeapBytesOf } from '../../core/heap-bytes.ts';
import { loadTargets } from '../../core/resolve-targets.ts';

const settings = {
  // The false-positive rate is measured on a filter of `fill` URLs sized for them (the rate does not depend on the
  // size); 60k probes put its sampling error at 0.04 points at 1%. bloom-filters hashes in JavaScript (tens of
  // microseconds an add on a busy machine), which is what bounds these counts.
  smoke: { fill: 20_000, probes: 60_000, queued: 20_000, time: 300, warmup: 100 },
  full: { fill: 200_000, probes: 200_000, queued: 100_000, time: 2000, warmup: 500 },
};

const round = (x: number) => Math.round(x * 1000) / 1000;

/** A crawl-like URL: 500 hosts, nested paths, ~50 characters (each call builds a new string). */
export const urlOf = (i: number, tag = 'p'): string => `http://h${i % 500}.web.test/section-${i % 97}/${tag}-${i}.html`;

/** Share of never-added URLs a filter filled with `fill` URLs (and sized for them) answers "maybe seen" to. */
export function falsePositiveRate(fill: number, probes: number): number {
  const f = newUrlSeenFilter(fill, BLOOM_ERROR_RATE);
  for (let i = 0; i < fill; i++) f.add(urlOf(i));
  let positives = 0;
  for (let i = 0; i < probes; i++) if (f.has(urlOf(i, 'never'))) positives++;
  return positives / probes;
}

export const benchWebCrawler: BenchRun = async ({ profile, onProgress }) => {
  const t = loadTargets('10-web-crawler');
  const s = settings[profile];

  onProgress(`micro-benchmark: URL-seen Bloom filter (capacity ${BLOOM_CAPACITY}) vs a Set of the URL strings`);
  // The filter's memory is fixed by its capacity: the crawler's own filter, as created.
  const bloomBytes = await medianHeapBytesOf(() => newUrlSeenFilter());
  const bloomBitsPerUrl = (bloomBytes * 8) / BLOOM_CAPACITY;
  // The yardstick holds the strings themselves: built inside, so they are counted.
  const setBytesPerUrl =
    (await medianHeapBytesOf(() => {
      const set = new Set<string>();
      for (let i = 0; i < s.queued; i++) set.add(urlOf(i));
      return set;
    })) / s.queued;
  const bloomBytesPerUrl = bloomBytes / BLOOM_CAPACITY;

  onProgress(`micro-benchmark: false positives of a filter of ${s.fill} URLs, ${s.probes} probes`);
  const fp = falsePositiveRate(s.fill, s.probes);

  onProgress(`micro-benchmark: frontier bytes per queued URL (${s.queued} URLs over 500 hosts)`);
  const frontierBytesPerUrl =
    (await medianHeapBytesOf(() => {
      const f = new Frontier(1);
      for (let i = 0; i < s.queued; i++) f.push({ url: urlOf(i), depth: i % 8 });
      return f;
    })) / s.queued;

  onProgress('micro-benchmark: lookups/s, Bloom filter vs Set');
  const probes = Array.from({ length: 65_536 }, (_, i) => urlOf(i * 7, i % 2 ? 'p' : 'never'));
  const filter = newUrlSeenFilter();
  const set = new Set<string>();
  for (let i = 0; i < s.queued; i++) {
    const u = urlOf(i);
    filter.add(u);
    set.add(u);
  }
  let i = 0;
  let j = 0;
  const bench = new Bench({ time: s.time, warmupTime: s.warmup });
  bench.add('bloom-filters has', () => {
    filter.has(probes[i++ & 65535]!);
  });
  bench.add('Set has', () => {
    set.has(probes[j++ & 65535]!);
  });
  await bench.run();
  const hz = (name: string) => {
    const r = bench.tasks.find((x) => x.name === name)?.result;
    return r && 'throughput' in r ? r.throughput.mean : Number.NaN;
  };
  const bloomHz = hz('bloom-filters has');
  const setHz = hz('Set has');

  const setYardstick = {
    name: `a Set of the same URL strings (${s.queued} URLs of ~50 characters)`,
    value: round(setBytesPerUrl),
    unit: 'bytes',
  };
  // A memory figure that is not positive is no measurement (heap-bytes.ts): reported as such, never as small.
  const measured = (x: number) => (x > 0 ? round(x) : null);
  return [
    gradeTarget(
      t['WC-T1']!,
      {
        value: measured(bloomBitsPerUrl),
        reason: `${bloomBytes} bytes for ${BLOOM_CAPACITY} URLs at ${BLOOM_ERROR_RATE} false positives`,
      },
      profile,
    ),
    gradeTarget(
      t['WC-T2']!,
      { value: Math.round(fp * 1e5) / 1e5, reason: `${Math.round(fp * s.probes)} of ${s.probes} never-added URLs` },
      profile,
    ),
    gradeTarget(
      t['WC-T3']!,
      {
        value: bloomBytesPerUrl > 0 && setBytesPerUrl > 0 ? round(bloomBytesPerUrl / setBytesPerUrl) : null,
        yardstick: setYardstick,
        reason: `Bloom ${bloomBytesPerUrl.toFixed(2)} bytes per URL vs Set ${setBytesPerUrl.toFixed(1)} bytes per URL`,
      },
      profile,
    ),
    gradeTarget(
      t['WC-T4']!,
      {
        value: measured(frontierBytesPerUrl),
        yardstick: setYardstick,
        reason: `frontier ${frontierBytesPerUrl.toFixed(1)} bytes per queued URL (string, depth, back-queue slot)`,
      },
      profile,
    ),
    gradeTarget(
      t['WC-T5']!,
      {
        value: round(bloomHz / setHz),
        yardstick: { name: 'Set.has on the same URLs', value: Math.round(setHz), unit: 'ops/s' },
        reason: `bloom-filters ${Math.round(bloomHz)} ops/s vs Set ${Math.round(setHz)} ops/s, one after the other`,
      },
      profile,
    ),
  ];
};
