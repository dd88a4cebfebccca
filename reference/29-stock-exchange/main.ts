// The chapter 29 reference server: node --import tsx reference/29-stock-exchange/main.ts
// Wires config -> exchange (event log replayed into the engine) -> app -> run-server (README.md lists the
// environment).

import { offsetClock } from '../08-unique-id-generator/clock.ts';
import { ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { type EventStore, FileEventStore, PostgresEventStore } from './event-store.ts';
import { Exchange } from './exchange.ts';
import {
  DEFAULT_API_KEY_SECRET,
  DEFAULT_OPERATOR_USER_ID,
  DEFAULT_ORDER_RATE_LIMIT,
  DEFAULT_ORDER_RATE_WINDOW_MS,
  OrderRateLimiter,
} from './gateway.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';

await runServer({
  chapter: '29-stock-exchange',
  defaultPort: 8290,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    // MUTANT secret-setting-ignored: API_KEY_SECRET is not read; every deployment signs with the default secret.
    const configured = mutant === 'secret-setting-ignored' ? undefined : process.env['API_KEY_SECRET']?.trim();
    const secret = configured || DEFAULT_API_KEY_SECRET;
    if (!/^\S{1,200}$/.test(secret)) throw new ConfigError('API_KEY_SECRET must be 1 to 200 non-space characters');
    const operator = process.env['OPERATOR_USER_ID']?.trim() || DEFAULT_OPERATOR_USER_ID;
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(operator))
      throw new ConfigError('OPERATOR_USER_ID must be a user ID: 1 to 64 of letters, digits, ".", "_" and "-"');
    const positive = (name: string, fallback: number) => {
      const raw = process.env[name]?.trim();
      if (!raw) return fallback;
      if (!/^[1-9][0-9]{0,8}$/.test(raw)) throw new ConfigError(`${name} must be a whole number from 1 to 999999999`);
      return Number(raw);
    };
    const limiter = new OrderRateLimiter(
      positive('ORDER_RATE_LIMIT', DEFAULT_ORDER_RATE_LIMIT),
      positive('ORDER_RATE_WINDOW_MS', DEFAULT_ORDER_RATE_WINDOW_MS),
      {
        shared: mutant === 'rate-limit-shared',
        offByOne: mutant === 'rate-limit-off-by-one',
        countRefused: mutant === 'rate-limit-counts-refused',
      },
    );
    const spec = await loadSpec(SPEC_URL);
    const store: EventStore = config.databaseUrl
      ? await PostgresEventStore.connect(config.databaseUrl, config.dataDir, (m) => console.error(m))
      : new FileEventStore(config.dataDir, { keepTornTail: mutant === 'torn-tail-kept' });
    // MUTANT pg-reopened-without-error-listener: the next loss of PostgreSQL after a reconnect ends the process.
    if (store instanceof PostgresEventStore) {
      store.faults.reopenWithoutErrorListener = mutant === 'pg-reopened-without-error-listener';
      store.faults.dropQueuedOnFailure = mutant === 'store-drops-queued-appends';
      store.faults.stallOnOversized = mutant === 'store-stalls-on-oversized-append';
    }
    readiness.dependencies = () => ({ database: store.kind === 'postgres' ? 'up' : 'embedded' });
    // The sequencer's clock: the host's, or held and stepped through a libfaketime-style file (chapter 08's clock
    // control, openapi.yaml), so a grader can take the exchange across a risk day's end on demand.
    const clock = offsetClock(process.env['CLOCK_OFFSET_FILE']?.trim() || undefined);
    const exchange = await Exchange.open(
      store,
      {
        lifo: mutant === 'fifo-broken',
        dropPartlyFilledMaker: mutant === 'partial-fill-loses-quantity',
        wallClock: mutant === 'wall-clock-in-matching',
        keepPriceImprovement: mutant === 'hold-not-released',
        skipRisk: mutant === 'risk-check-skipped',
        gapAfterCancel: mutant === 'sequence-gap',
        cancelNotLogged: mutant === 'cancel-not-logged',
        duplicateRace: mutant === 'duplicate-race',
        cancelAnyOrder: mutant === 'cancel-filled-accepted',
        clientIdsGlobal: mutant === 'client-order-id-global',
        duplicateAfterFunds: mutant === 'duplicate-after-funds-check',
        clientIdsOutsideEngine: mutant === 'client-order-ids-lost-on-restart',
        orderIdsOutsideEngine: mutant === 'order-ids-reused-after-restart',
        sequenceFromInbound: mutant === 'sequence-resumes-before-fills',
        recoverFirstPage: mutant === 'recovery-reads-first-page',
        ownersAtPlacement: mutant === 'events-owners-lost-on-restart',
        dropEmptiedLevels: mutant === 'md-emptied-level-dropped',
        skipSeqAfterTrade: mutant === 'md-sequence-skips',
        tradeTwice: mutant === 'md-trade-published-twice',
        makerSideWrong: mutant === 'md-maker-side-wrong',
        priceAsString: mutant === 'md-price-as-string',
        snapshotTopLevels: mutant === 'md-snapshot-depth-limited',
        resetSeqAfterRecovery: mutant === 'md-seq-reset-on-recovery',
        l1Stale: mutant === 'md-l1-stale',
        l1SidesSwapped: mutant === 'md-l1-sides-swapped',
        l1PriceOnly: mutant === 'md-l1-size-change-missed',
        candlesOnlyWatched: mutant === 'md-candles-only-while-watched',
        highLags: mutant === 'md-candle-high-lags',
        boundaryLeft: mutant === 'md-candle-boundary-left',
        volumeBothSides: mutant === 'md-candle-volume-both-sides',
        closeFirst: mutant === 'candle-close-first',
        wrapOffByOne: mutant === 'ring-wrap-off-by-one',
        keepStateOnLoss: mutant === 'log-loss-keeps-state',
        rewriteInDoubt: mutant === 'log-outage-rewrites-in-doubt',
        fillOverflowUnchecked: mutant === 'fill-overflow-unchecked',
        cancelBeforeLogged: mutant === 'cancel-answered-before-logged',
        cancelAppliedAfterStored: mutant === 'cancel-applied-after-stored',
        adoptUnpublished: mutant === 'adopted-events-unpublished',
        copyBeforeStored: mutant === 'copy-answered-before-stored',
        riskNeverResets: mutant === 'risk-day-never-resets',
        riskDayClock: mutant === 'risk-day-from-clock' ? clock.now : undefined,
      },
      (m) => console.error(m),
      clock.now,
    );
    const app = buildApp({
      spec,
      readiness,
      exchange,
      gateway: { secret, operator, limiter },
      mutant,
      logger: { level: config.logLevel },
    });
    app.log.info(
      { dataDir: config.dataDir, sequence: exchange.sequence, mutant: mutant ?? null },
      'exchange recovered',
    );
    return {
      app,
      close: async () => {
        clock.close();
        await exchange.close();
      },
    };
  },
});
