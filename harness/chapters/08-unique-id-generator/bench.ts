import { createRequire } from 'node:module';
import { Snowflake as SapphireSnowflake } from '@sapphire/snowflake';
import { Bench } from 'tinybench';
import { v7 as uuidv7 } from 'uuid';
import { EPOCH_MS, Snowflake } from '../../../reference/08-unique-id-generator/snowflake.ts';
import { TicketServer } from '../../../reference/08-unique-id-generator/sources.ts';
import type { BenchRun } from '../../core/bench-run.ts';
import { gradeTarget } from '../../core/grade-target.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { deriveTarget } from '../../estimate/chapters.ts';

const require = createRequire(import.meta.url);
// snowflake-id 1.1 is CommonJS with `exports.default` and no types.
const SnowflakeId = (
  require('snowflake-id') as { default: new (o: { mid: number; offset: number }) => { generate(): string } }
).default;

const RUN = 1000;

export const benchIdGenerator: BenchRun = async ({ profile, onProgress }) => {
  const t = loadTargets('08-unique-id-generator');
  const limit = deriveTarget('08-unique-id-generator', 'idsPerSecondPerMachine').value; // 4,096,000

  const ours = new Snowflake({ datacenterId: 1, machineId: 1 });
  const sapphire = new SapphireSnowflake(BigInt(EPOCH_MS));
  const snowflakeId = new SnowflakeId({ mid: 33, offset: EPOCH_MS });
  const databaseUrl = process.env['SDGRADE_DATABASE_URL'];
  const ticket = databaseUrl ? await TicketServer.connect(databaseUrl).catch(() => null) : null;

  let sink = '';
  const bench = new Bench({ time: profile === 'full' ? 2000 : 400, warmupTime: profile === 'full' ? 500 : 100 });
  bench.add('reference snowflake', () => {
    for (let i = 0; i < RUN; i++) sink = ours.next();
  });
  bench.add('@sapphire/snowflake', () => {
    for (let i = 0; i < RUN; i++) sink = sapphire.generate().toString();
  });
  bench.add('snowflake-id', () => {
    for (let i = 0; i < RUN; i++) sink = snowflakeId.generate();
  });
  bench.add('uuid v7', () => {
    for (let i = 0; i < RUN; i++) sink = uuidv7();
  });
  if (ticket)
    bench.add('ticket server (PostgreSQL)', async () => {
      sink = (await ticket.batch(RUN))[0]!;
    });
  onProgress(
    `micro-benchmark: Snowflake generator vs @sapphire/snowflake, snowflake-id, uuid v7${ticket ? ', ticket server' : ''} (${profile})`,
  );
  try {
    await bench.run();
  } finally {
    await ticket?.close();
  }
  if (sink === '') throw new Error('the benchmark made no IDs');
  const idsPerSecond = (name: string) => {
    const r = bench.tasks.find((x) => x.name === name)?.result;
    // Total IDs over total time (the mean latency), not the mean of per-iteration rates: an iteration that waits
    // for the next millisecond is rare but long, and averaging rates would hide exactly that wait.
    return r && 'latency' in r ? (RUN * 1000) / r.latency.mean : Number.NaN;
  };
  const rate = idsPerSecond('reference snowflake');
  const r3 = (n: number) => Math.round(n * 1000) / 1000;
  const versus = (id: string, name: string, label: string) => {
    const theirs = idsPerSecond(name);
    return gradeTarget(
      t[id]!,
      {
        value: r3(rate / theirs),
        yardstick: { name: label, value: Math.round(theirs), unit: 'IDs/s' },
        reason: `reference ${Math.round(rate)} IDs/s vs ${name} ${Math.round(theirs)} IDs/s`,
      },
      profile,
    );
  };
  return [
    gradeTarget(
      t['UID-T5']!,
      {
        value: r3(rate / limit),
        yardstick: { name: "the layout's limit, 2^12 IDs per millisecond", value: limit, unit: 'IDs/s' },
        reason: `${Math.round(rate)} IDs/s in process`,
      },
      profile,
    ),
    versus('UID-T6', '@sapphire/snowflake', '@sapphire/snowflake 3.5 (bigint, made a string)'),
    versus('UID-T7', 'snowflake-id', 'snowflake-id 1.1 (decimal string)'),
    versus('UID-T8', 'uuid v7', 'uuid 11 v7()'),
    ticket
      ? versus('UID-T9', 'ticket server (PostgreSQL)', 'one PostgreSQL sequence, 1,000 IDs per round trip')
      : gradeTarget(
          t['UID-T9']!,
          {
            value: null,
            reason: databaseUrl
              ? 'SDGRADE_DATABASE_URL is set but PostgreSQL could not be reached'
              : 'needs SDGRADE_DATABASE_URL (a real PostgreSQL for the ticket server)',
          },
          profile,
        ),
  ];
};
