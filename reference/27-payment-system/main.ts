// The chapter 27 reference server: node --import tsx reference/27-payment-system/main.ts
// Wires config -> database -> store, PSP client, executor -> app -> run-server (see README.md for the environment).
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { baseUrlOf, ConfigError } from '../kit/config.ts';
import { loadSpec } from '../kit/load-spec.ts';
import { runServer } from '../kit/run-server.ts';
import { schemaForDataDir } from '../kit/sql-db.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { type Db, PostgresDb, SqliteDb } from './db.ts';
import { Executor } from './executor.ts';
import { IdempotencyKeys } from './idempotency.ts';
import { MUTANT_NAMES, type MutantName } from './mutants.ts';
import { PaymentService } from './payment-service.ts';
import { PayoutClient, Payouts } from './payouts.ts';
import { PspClient } from './psp-client.ts';
import { PaymentStore } from './store.ts';

export const CHAPTER = '27-payment-system';

await runServer({
  chapter: CHAPTER,
  defaultPort: 8270,
  mutants: MUTANT_NAMES,
  async start({ config, readiness }) {
    const mutant = config.mutant as MutantName | undefined;
    const pspUrl = process.env['PSP_URL']?.trim();
    if (!pspUrl) throw new ConfigError('PSP_URL (the payment service provider) is required');
    const webhookSecret = process.env['PSP_WEBHOOK_SECRET']?.trim();
    if (!webhookSecret)
      throw new ConfigError('PSP_WEBHOOK_SECRET (shared with the PSP for webhook signatures) is required');
    const payoutUrl = process.env['PAYOUT_URL']?.trim();
    if (!payoutUrl) throw new ConfigError('PAYOUT_URL (the payout provider) is required');
    let app: FastifyInstance | undefined;
    const log = (message: string) => (app ? app.log.warn(message) : console.error(message));

    const spec = await loadSpec(SPEC_URL);
    // MUTANTs db-outage-500, db-never-reconnects and tx-client-leaked-on-error live in the PostgreSQL store (they
    // `need` the real database).
    const databaseUrl = config.databaseUrl;
    const pgMutants = ['db-outage-500', 'db-never-reconnects', 'tx-client-leaked-on-error'];
    if (mutant && pgMutants.includes(mutant) && !databaseUrl)
      throw new ConfigError(`MUTANT ${mutant} needs PostgreSQL`);
    // Tables of its own per data directory (DB_SCHEMA overrides): one fixed schema let a grade's mutants and
    // blind bugs read each other's rows (a false catch by an unbalanced ledger another run left).
    const db: Db = databaseUrl
      ? await PostgresDb.connect(databaseUrl, schemaForDataDir(config.dataDir, 'pay27'), log, {
          rawErrors: mutant === 'db-outage-500',
          neverReconnects: mutant === 'db-never-reconnects',
          leaksBrokenClients: mutant === 'tx-client-leaked-on-error',
        })
      : new SqliteDb(join(config.dataDir, 'payments.sqlite'));
    const store = new PaymentStore(db, mutant);
    const psp = new PspClient({
      baseUrl: pspUrl,
      timeoutMs: Number(process.env['PSP_TIMEOUT_MS'] ?? 2000),
      freshRegistrationKeys: mutant === 'registration-nonce-per-call',
      requestKeyedRegistrations: mutant === 'registration-keyed-by-request-key',
      chargeAnyFourxxDeclined: mutant === 'charge-4xx-declined',
    });
    const payouts = new Payouts(db, mutant);
    const payoutClient = new PayoutClient(payoutUrl, Number(process.env['PSP_TIMEOUT_MS'] ?? 2000));
    const executor = new Executor({ store, psp, payouts, payoutClient, mutant, log });
    let baseUrl = config.publicBaseUrl ?? baseUrlOf(config.host, config.port);
    const service = new PaymentService({
      store,
      psp,
      executor,
      mutant,
      baseUrl: () => baseUrl,
      returnUrl: process.env['CHECKOUT_RETURN_URL']?.trim() || 'https://shop.example/checkout',
    });
    readiness.dependencies = async () => ({ database: await db.health() });
    app = buildApp({
      spec,
      readiness,
      service,
      store,
      payouts,
      idempotency: new IdempotencyKeys(db, mutant),
      webhookSecret,
      mutant,
      logger: { level: config.logLevel },
    });
    app.log.info({ store: db.kind, psp: pspUrl, mutant: mutant ?? null }, 'payment system configured');
    return {
      app,
      onListening(url) {
        if (!config.publicBaseUrl) baseUrl = url;
        executor.start();
      },
      async close() {
        await executor.stop();
        await Promise.all([psp.close(), payoutClient.close()]);
        await db.close();
      },
    };
  },
});
