// The chapter 20 reference server: node --import tsx reference/20-distributed-message-queue/main.ts
// Wires config -> topic registry (partition logs) + group coordinator -> app -> run-server (README.md lists the
// environment).
import { randomBytes } from 'node:crypto';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { type CoordinatorMutant, GroupCoordinator } from './group-coordinator.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { TopicRegistry } from './topic-registry.ts';

export const CHAPTER = '20-distributed-message-queue';
/** How often retention looks for closed segments past their topic's period. */
const RETENTION_CHECK_MS = Number(process.env['RETENTION_CHECK_MS'] ?? 5000);
const COORDINATOR_MUTANTS: readonly string[] = [
  'leave-without-rebalance',
  'two-owners-after-rebalance',
  'session-never-expires',
  'session-expires-early',
  'commit-ahead',
  'no-generation-fence',
  'describe-without-expiry',
  'expiry-keeps-generation',
] satisfies CoordinatorMutant[];

await runServer({
  chapter: CHAPTER,
  defaultPort: 8200,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const spec = await loadSpec(SPEC_URL);
    let app: ReturnType<typeof buildApp> | undefined;
    const topics = new TopicRegistry(
      config.dataDir,
      {
        verifyCrc: mutant !== 'crc-not-checked', // MUTANT crc-not-checked
        truncateDamagedTail: mutant !== 'torn-tail-kept', // MUTANT torn-tail-kept
        deferWritesMs: mutant === 'ack-before-durable' ? 3000 : 0, // MUTANT ack-before-durable
        wakeOnlyOnDurable: mutant === 'long-poll-woken-only-by-fsync', // MUTANT long-poll-woken-only-by-fsync
        dropPendingAtRoll: mutant === 'roll-drops-pending-batch', // MUTANT roll-drops-pending-batch
        openNewestOnly: mutant === 'restart-opens-newest-segment', // MUTANT restart-opens-newest-segment
        skipSegmentRest: mutant === 'fetch-skips-segment-rest', // MUTANT fetch-skips-segment-rest
        log: (m) => (app ? app.log.warn(m) : console.error(m)),
      },
      mutant === 'retention-in-seconds',
    ); // MUTANT retention-in-seconds
    const groups = new GroupCoordinator(
      config.dataDir,
      mutant && COORDINATOR_MUTANTS.includes(mutant) ? (mutant as CoordinatorMutant) : undefined,
    );
    app = buildApp({
      spec,
      readiness,
      topics,
      groups,
      brokers: 1,
      mutant,
      // MUTANT unstable-key-hash: a salt chosen at every start changes where a key goes.
      keySalt: mutant === 'unstable-key-hash' ? randomBytes(4).toString('hex') : '',
      logger: { level: config.logLevel },
    });
    const retention = setInterval(() => topics.applyRetention(), RETENTION_CHECK_MS);
    retention.unref();
    app.log.info({ dataDir: config.dataDir, mutant: mutant ?? null }, 'message queue broker configured');
    return {
      app,
      close: async () => {
        clearInterval(retention);
        topics.close();
      },
    };
  },
});
