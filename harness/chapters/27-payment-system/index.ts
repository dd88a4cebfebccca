// Chapter 27, the payment system: its checks keyed by the catalog's IDs (the compiler rejects a missing or unknown
// one), its mutants, the PSP fake it runs for every graded target, its load test and its micro-benchmark.
import { MUTANTS } from '../../../reference/27-payment-system/mutants.ts';
import { type CheckId, catalog } from '../../../specs/27-payment-system/generated/catalog.ts';
import type { Catalog } from '../../core/catalog.ts';
import { specFile } from '../../core/paths.ts';
import type { ChapterModule } from '../chapter-module.ts';
import { benchPaymentSystem } from './bench.ts';
import {
  accountingConformance,
  createConformance,
  orderConformance,
  readinessConformance,
  reconcileConformance,
  webhookConformance,
} from './conformance.ts';
import { databaseRestart } from './db-restart.ts';
import { databaseOutage, killMidFlow, lostAnswers, pspErrors, webhookDisorder } from './faults.ts';
import { forgedWebhooksRefused } from './forged-webhooks.ts';
import { idempotencyKeys } from './idempotency-keys.ts';
import { ledgerBalances } from './ledger-balances.ts';
import { loadPaymentSystem } from './load.ts';
import { noDoubleCharge } from './no-double-charge.ts';
import { payoutConformance, payoutsConserveMoney } from './payout-checks.ts';
import { amountsKeepPrecision } from './precision.ts';
import { reconciliationFindsMismatches } from './reconciliation.ts';
import { recordedExactlyOnce } from './recorded-once.ts';
import { startPaymentThirdParties } from './third-parties.ts';
import { statusTransitions } from './transitions.ts';
import { transactionsCut } from './tx-cuts.ts';

const NEEDS_POSTGRES = new Set<string>([
  'db-outage-500',
  'db-never-reconnects',
  'tx-client-leaked-on-error',
  'wallet-credit-own-transaction',
  'broken-attempt-fails-order',
  'webhook-acked-before-applied',
  // PAY-F5 ones: on the embedded store the outage changes nothing, so PAY-F5 fails there for that alone.
  'claim-stuck-while-db-away',
  'registration-nonce-per-call',
  'in-flight-key-body-unchecked',
  'left-behind-takeover-race',
  'takeover-answer-replayed',
  'registration-keyed-by-request-key',
  'answer-store-failure-keeps-claim',
]);

export const paymentSystem: ChapterModule<CheckId> = {
  slug: '27-payment-system',
  catalog: catalog as unknown as Catalog,
  specFile: specFile('27-payment-system'),
  referenceManifest: new URL('../../../reference/27-payment-system/manifest.json', import.meta.url).pathname,
  checks: {
    'PAY-C1': readinessConformance,
    'PAY-C2': createConformance,
    'PAY-C3': orderConformance,
    'PAY-C4': webhookConformance,
    'PAY-C5': accountingConformance,
    'PAY-C6': reconcileConformance,
    'PAY-C7': payoutConformance,
    'PAY-I1': noDoubleCharge,
    'PAY-I2': recordedExactlyOnce,
    'PAY-I3': ledgerBalances,
    'PAY-I4': amountsKeepPrecision,
    'PAY-I5': statusTransitions,
    'PAY-I6': idempotencyKeys,
    'PAY-I7': forgedWebhooksRefused,
    'PAY-I8': reconciliationFindsMismatches,
    'PAY-I9': payoutsConserveMoney,
    'PAY-F1': pspErrors,
    'PAY-F2': lostAnswers,
    'PAY-F3': webhookDisorder,
    'PAY-F4': killMidFlow,
    'PAY-F5': databaseOutage,
    'PAY-F6': databaseRestart,
    'PAY-F7': transactionsCut,
  },
  // These show only with a real PostgreSQL to take away.
  mutants: MUTANTS.map((m) => (NEEDS_POSTGRES.has(m.name) ? { ...m, needs: ['SDGRADE_DATABASE_URL'] } : m)),
  thirdParties: startPaymentThirdParties,
  load: loadPaymentSystem,
  bench: benchPaymentSystem,
};
