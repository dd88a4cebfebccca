// Chapter 29's mutants, each expected caught by the check it names. A file of its own (not in grade.test.ts) so that
// CI's workers run the two halves side by side: SE-I12's mutants stream tens of thousands of orders each.
import { describeMutants } from '../grade-test-kit.ts';
import { stockExchange } from './index.ts';

describeMutants(stockExchange, {
  numRuns: 10,
  // SE-I12's buys may take 110 s (times SDGRADE_TIME_SCALE) after its set-up.
  mutantTimeoutMs: 200_000,
  reasons: {
    'md-answers-await-subscribers': /not answered within .* the stream holds up the exchange/,
    'md-slow-bound-shared': /a subscriber that reads was closed/,
    'md-slow-subscriber-kept': /without being closed/,
    'log-outage-rewrites-in-doubt':
      /never reached PostgreSQL(: it was placed after all|, retried with its clientOrderId answered 200)/,
    'pg-reopened-without-error-listener': /round 2: /,
    'md-registered-once-written': /over a narrow connection and read nothing while/,
    'torn-tail-kept': /the torn write was left in the log/,
  },
});
