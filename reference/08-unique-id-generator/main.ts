// The chapter 08 reference server: node --import tsx reference/08-unique-id-generator/main.ts
// Wires config -> clock -> generator -> app -> run-server (see README.md for the environment).
import { ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { BorrowingSnowflake } from './borrowing.ts';
import { offsetClock } from './clock.ts';
import { HighWater } from './high-water.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { PartialBatchSnowflake } from './partial-batch.ts';
import { type GeneratorMutant, MAX_DATACENTER, MAX_MACHINE, Snowflake } from './snowflake.ts';
import {
  cachedTickets,
  GENERATOR_KINDS,
  type GeneratorKind,
  type IdSource,
  snowflakeSource,
  type TicketMutant,
  TicketServer,
  uuidv7Source,
} from './sources.ts';

export const CHAPTER = '08-unique-id-generator';

/** An integer environment variable in [0, max]; anything else is a ConfigError (exit 2) naming it. */
function nodeIdFromEnv(name: string, max: number, mutant?: MutantName): number {
  const text = process.env[name]?.trim();
  if (text === undefined || text === '') return 0;
  // MUTANT node-id-32-accepted: the range is checked against 2^5 = 32, not 31, so 32 starts.
  const limit = mutant === 'node-id-32-accepted' ? max + 1 : max;
  if (!/^\d+$/.test(text) || Number(text) > limit)
    throw new ConfigError(
      `${name} must be an integer from 0 to ${max} (it has ${Math.log2(max + 1)} bits), got '${text}'`,
    );
  return Number(text);
}

await runServer({
  chapter: CHAPTER,
  defaultPort: 8080,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const datacenterId = nodeIdFromEnv('DATACENTER_ID', MAX_DATACENTER, mutant);
    // MUTANT fixed-machine-id: MACHINE_ID is ignored; every node is machine 0.
    const machineId = mutant === 'fixed-machine-id' ? 0 : nodeIdFromEnv('MACHINE_ID', MAX_MACHINE, mutant);
    const name = process.env['NODE_NAME']?.trim() || `dc${datacenterId}-m${machineId}`;
    const generator = (process.env['GENERATOR']?.trim() || 'snowflake') as GeneratorKind;
    if (!GENERATOR_KINDS.includes(generator))
      throw new ConfigError(`GENERATOR must be one of ${GENERATOR_KINDS.join(', ')}, got '${generator}'`);
    if (generator === 'ticket' && !config.databaseUrl)
      throw new ConfigError('GENERATOR=ticket needs DATABASE_URL (the ticket server is a PostgreSQL sequence)');

    const spec = await loadSpec(SPEC_URL);
    let source: IdSource;
    // MUTANT ticket-sequence-cache: the ticket server with one mistake.
    if (generator === 'ticket' && mutant === 'ticket-sequence-cache') source = await cachedTickets(config.databaseUrl!);
    else if (generator === 'ticket')
      source = await TicketServer.connect(config.databaseUrl!, mutant as TicketMutant | undefined);
    else if (generator === 'uuidv7') source = uuidv7Source();
    else {
      // MUTANT node-clock-skew: each node's clock lags by 1 s per machine ID (a node NTP left a second off; large
      // enough that a busy machine's own request delays cannot hide it from UID-I3, whose bound is 10 ms).
      const skew = mutant === 'node-clock-skew' ? -1000 * machineId : 0;
      // MUTANT clock-file-ignored: the offset file is not read (a node whose manifest still declares clockControl).
      const clockFile = mutant === 'clock-file-ignored' ? undefined : process.env['CLOCK_OFFSET_FILE']?.trim();
      const clock = offsetClock(clockFile || undefined, { baseOffsetMs: skew });
      const highWater = new HighWater(config.dataDir, mutant === 'lease-file-behind'); // MUTANT lease-file-behind
      // MUTANT high-water-not-persisted: the last millisecond of the previous run is forgotten.
      let notBefore = mutant === 'high-water-not-persisted' ? undefined : highWater.read();
      // MUTANT high-water-far-ahead-ignored: a mark more than 10 minutes ahead of the clock is distrusted (ignored).
      if (mutant === 'high-water-far-ahead-ignored' && notBefore !== undefined && notBefore > clock.now() + 600_000)
        notBefore = undefined;
      // MUTANT batch-partial-on-refusal: a batch cut short by a clock step back is answered 200 with what was made.
      // MUTANT batch-borrows-next-millisecond: a used-up millisecond moves on to the next one without waiting.
      const Generator =
        mutant === 'batch-partial-on-refusal'
          ? PartialBatchSnowflake
          : mutant === 'batch-borrows-next-millisecond'
            ? BorrowingSnowflake
            : Snowflake;
      const g = new Generator({
        datacenterId,
        machineId,
        clock: clock.now,
        ...(notBefore !== undefined ? { notBeforeMs: notBefore } : {}),
        onNewMillisecond: (ms) => highWater.cover(ms),
        mutant: mutant as GeneratorMutant | undefined,
      });
      source = snowflakeSource(g, () => {
        clock.close();
        highWater.settle(g.lastMillisecond);
      });
    }
    readiness.dependencies = async () => ({
      [generator === 'ticket' ? 'database' : 'generator']: await source.health(),
    });

    const app = buildApp({
      spec,
      readiness,
      source,
      node: { name, datacenterId, machineId },
      mutant,
      logger: { level: config.logLevel },
    });
    app.log.info({ node: name, datacenterId, machineId, generator, mutant: mutant ?? null }, 'id generator configured');
    return { app, close: () => source.close() };
  },
});
