import { createRequire } from 'node:module';
import { Bench } from 'tinybench';
import {
  ALGORITHMS,
  type AlgorithmName,
  createPlacement,
  loadStdDevPercent,
  ModuloPlacement,
  type Placement,
} from '../../../reference/06-consistent-hashing/algorithms.ts';
import { HashRing } from '../../../reference/06-consistent-hashing/ring.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { medianHeapBytesOf } from '../../core/heap-bytes.ts';
import type { Profile } from '../../core/load-run.ts';
import { loadTargets } from '../../core/resolve-targets.ts';

interface KetamaRing {
  get(key: string): string;
}
const HashRingPackage = createRequire(import.meta.url)('hashring') as new (
  servers: Record<string, { vnodes: number }>,
  algorithm?: string,
  options?: Record<string, number>,
) => KetamaRing;

const settings = {
  smoke: { keys: 50_000, trials: 3, changes: 4, time: 300, warmup: 100 },
  full: { keys: 200_000, trials: 5, changes: 10, time: 2000, warmup: 500 },
};

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Mean over `trials` sets of 10 server names of the standard deviation of keys per server, in % of the mean. */
export function balance(algorithm: AlgorithmName, virtualNodes: number, keyCount: number, trials: number): number {
  let sum = 0;
  for (let t = 0; t < trials; t++) {
    const p = createPlacement(algorithm, { virtualNodes });
    for (let s = 0; s < 10; s++) p.set(`10.0.${t}.${s}:6379`);
    const counts = new Map<string, number>();
    for (let i = 0; i < keyCount; i++) {
      const o = p.owner(`key-${t}-${i}`)!;
      counts.set(o, (counts.get(o) ?? 0) + 1);
    }
    sum += loadStdDevPercent(counts, new Map(p.members().map((m) => [m.id, m.weight])));
  }
  return sum / trials;
}

/** Keys moved over `changes` joins and as many leaves on a 10-server placement, as a ratio to the sum of K/N. */
export function movedRatio(make: () => Placement, keyCount: number, changes: number): number {
  const p = make();
  for (let s = 0; s < 10; s++) p.set(`node-${s}`);
  const keys = Array.from({ length: keyCount }, (_, i) => `moved-${i}`);
  let owners = keys.map((k) => p.owner(k));
  let moved = 0;
  let optimum = 0;
  for (let c = 0; c < 2 * changes; c++) {
    const join = c % 2 === 0;
    if (join) p.set(`extra-${c}`);
    else if (!p.remove(`node-${(c - 1) / 2}`)) throw new Error(`node-${(c - 1) / 2} was not a member`);
    optimum += keyCount / (join ? p.size : p.size + 1);
    const next = keys.map((k) => p.owner(k));
    for (let i = 0; i < keyCount; i++) if (next[i] !== owners[i]) moved++;
    owners = next;
  }
  return moved / optimum;
}

export async function memoryPerPoint(): Promise<{ ours: number; theirs: number }> {
  const servers = Array.from({ length: 100 }, (_, s) => `10.1.0.${s}:11211`);
  const ours = await medianHeapBytesOf(() => {
    const r = new HashRing({ virtualNodes: 200 });
    for (const s of servers) r.set(s);
    r.owner('warm');
    return r;
  });
  // hashring: 50 vnodes x 4 points each (ketama) = 200 points per server.
  const theirs = await medianHeapBytesOf(() => {
    const r = new HashRingPackage(Object.fromEntries(servers.map((s) => [s, { vnodes: 50 }])));
    r.get('warm');
    return r;
  });
  const points = servers.length * 200;
  return { ours: ours / points, theirs: theirs / points };
}

async function lookupRatio(profile: Profile): Promise<{ ours: number; theirs: number }> {
  const s = settings[profile];
  const servers = Array.from({ length: 10 }, (_, i) => `10.2.0.${i}:11211`);
  const ours = new HashRing({ virtualNodes: 200 });
  for (const x of servers) ours.set(x);
  const theirs = new HashRingPackage(Object.fromEntries(servers.map((x) => [x, { vnodes: 50 }])));
  const keys = Array.from({ length: 65_536 }, (_, i) => `user:${i}`);
  let i = 0;
  let j = 0;
  const bench = new Bench({ time: s.time, warmupTime: s.warmup });
  bench.add('reference ring', () => {
    ours.owner(keys[i++ & 65535]!);
  });
  bench.add('hashring', () => {
    theirs.get(keys[j++ & 65535]!);
  });
  await bench.run();
  const hz = (name: string) => {
    const r = bench.tasks.find((x) => x.name === name)?.result;
    return r && 'throughput' in r ? r.throughput.mean : Number.NaN;
  };
  return { ours: hz('reference ring'), theirs: hz('hashring') };
}

export const benchConsistentHashing: BenchRun = async ({ profile, onProgress }) => {
  const t = loadTargets('06-consistent-hashing');
  const s = settings[profile];
  onProgress(`micro-benchmark: load balance of each algorithm (${s.keys} keys, ${s.trials} trials)`);
  const sd = {
    ring100: balance('ring', 100, s.keys, s.trials),
    ring200: balance('ring', 200, s.keys, s.trials),
    jump: balance('jump', 200, s.keys, s.trials),
    rendezvous: balance('rendezvous', 200, s.keys, s.trials),
    maglev: balance('maglev', 200, s.keys, s.trials),
  };
  const side = `ring/100 ${sd.ring100.toFixed(2)}%, ring/200 ${sd.ring200.toFixed(2)}%, jump ${sd.jump.toFixed(2)}%, rendezvous ${sd.rendezvous.toFixed(2)}%, maglev ${sd.maglev.toFixed(2)}%`;
  onProgress('micro-benchmark: keys moved per join and leave');
  const moveKeys = Math.min(s.keys, 20_000);
  const moved = Object.fromEntries(
    [
      ...ALGORITHMS.map((a) => [a, () => createPlacement(a)] as const),
      ['modulo', () => new ModuloPlacement()] as const,
    ].map(([name, make]) => [name, movedRatio(make, moveKeys, s.changes)]),
  ) as Record<string, number>;
  onProgress('micro-benchmark: lookups/s and bytes per point vs hashring');
  const speed = await lookupRatio(profile);
  const mem = await memoryPerPoint();
  const sdTarget = (id: string, value: number) =>
    gradeTarget(t[id]!, { value: round(value), reason: `side by side: ${side}` }, profile);
  return [
    sdTarget('CH-T1', sd.ring100),
    sdTarget('CH-T2', sd.ring200),
    gradeTarget(
      t['CH-T3']!,
      {
        value: round(moved['ring']!),
        reason: `x K/N per change, ${s.changes} joins and ${s.changes} leaves on 10 servers, ${moveKeys} keys: ${Object.entries(
          moved,
        )
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')}`,
      },
      profile,
    ),
    gradeTarget(
      t['CH-T4']!,
      {
        value: round(speed.ours / speed.theirs),
        yardstick: {
          name: 'hashring 3.2 (ketama, md5), same keys, same run',
          value: Math.round(speed.theirs),
          unit: 'ops/s',
        },
        reason: `reference ${Math.round(speed.ours)} lookups/s vs hashring ${Math.round(speed.theirs)}`,
      },
      profile,
    ),
    gradeTarget(
      t['CH-T5']!,
      mem.ours > 0 && mem.theirs > 0
        ? {
            value: round(mem.ours / mem.theirs),
            yardstick: { name: 'hashring 3.2 bytes per point', value: round(mem.theirs), unit: 'bytes' },
            reason: `reference ${mem.ours.toFixed(1)} bytes per point vs hashring ${mem.theirs.toFixed(1)}`,
          }
        : {
            value: null,
            reason:
              `not measured: the heap did not grow while a ring was built (median of 3: reference ` +
              `${mem.ours.toFixed(1)}, hashring ${mem.theirs.toFixed(1)} bytes per point); the rest of the process ` +
              'freed more than the ring kept, so any figure would be noise',
          },
      profile,
    ),
    sdTarget('CH-T9', sd.jump),
    sdTarget('CH-T10', sd.rendezvous),
    sdTarget('CH-T11', sd.maglev),
  ];
};
