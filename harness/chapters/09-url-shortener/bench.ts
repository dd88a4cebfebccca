import baseX from 'base-x';
import { Bench } from 'tinybench';
import { ALPHABET, encodeBase62 } from '../../../reference/09-url-shortener/base62.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { loadTargets } from '../../core/resolve-targets.ts';

export const benchUrlShortener: BenchRun = async ({ profile, onProgress }) => {
  const t8 = loadTargets('09-url-shortener')['URL-T8']!;
  const codec = baseX(ALPHABET);
  // IDs below 62^7 (the book's 7-character range), from a fixed-seed generator so runs are comparable.
  let seed = 42;
  const ids = Array.from({ length: 4096 }, () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return Math.floor((seed / 2 ** 32) * 62 ** 7);
  });
  for (const id of ids.slice(0, 64)) {
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64BE(BigInt(id));
    // Both must produce the same code (base-x keeps leading zero bytes as leading "0"s; strip them).
    if (codec.encode(buf).replace(/^0+/, '') !== encodeBase62(id))
      throw new Error(`base62 and base-x disagree on ${id}`);
  }
  let i = 0;
  const buf = Buffer.alloc(8);
  const bench = new Bench({ time: profile === 'full' ? 2000 : 300, warmupTime: profile === 'full' ? 500 : 100 });
  bench.add('reference base62', () => {
    encodeBase62(ids[i++ & 4095]!);
  });
  bench.add('base-x', () => {
    buf.writeBigUInt64BE(BigInt(ids[i++ & 4095]!));
    codec.encode(buf);
  });
  onProgress(`micro-benchmark: base62 encode vs base-x (${profile})`);
  await bench.run();
  const hz = (name: string) => {
    const r = bench.tasks.find((x) => x.name === name)?.result;
    return r && 'throughput' in r ? r.throughput.mean : Number.NaN;
  };
  const ours = hz('reference base62');
  const theirs = hz('base-x');
  return [
    gradeTarget(
      t8,
      {
        value: Math.round((ours / theirs) * 1000) / 1000,
        yardstick: {
          name: 'base-x 5 encoding the same IDs as 8-byte buffers',
          value: Math.round(theirs),
          unit: 'ops/s',
        },
        reason: `reference ${Math.round(ours)} ops/s vs base-x ${Math.round(theirs)} ops/s`,
      },
      profile,
    ),
  ];
};
