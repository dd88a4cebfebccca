import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { newEvent, type PayApi, payApi } from './api.ts';
import { amountArb } from './arbitraries.ts';
import { createAndPay, entriesOf, orderIds, waitFinal } from './flow.ts';
import { minorOf } from './money.ts';
import { pspOf } from './third-parties.ts';

/** PAY-I3: every transaction balances, and over all accounts debits equal credits. */
export async function ledgerBalances(ctx: CheckContext): Promise<void> {
  pspOf(ctx);
  const api = payApi(ctx);
  await ctx.property(fc.record({ amounts: fc.array(amountArb('EUR'), { minLength: 1, maxLength: 3 }) }), async (s) => {
    const [ev] = await createAndPay(ctx, api, () => newEvent('i3', s.amounts, { currency: 'EUR' }), 1);
    const ids = orderIds([ev!]);
    await waitFinal(ctx, api, ids, 15_000);
    for (const id of ids) {
      const entries = await entriesOf(ctx, api, id);
      ctx.expect(entries.length > 0, `${id} succeeded with no ledger entries`);
      const byTx = new Map<string, bigint>();
      for (const e of entries) {
        byTx.set(
          e.transaction_id,
          (byTx.get(e.transaction_id) ?? 0n) + minorOf(e.debit, e.currency) - minorOf(e.credit, e.currency),
        );
      }
      for (const [tx, net] of byTx) {
        if (net !== 0n)
          ctx.fail(`transaction ${tx} does not balance: debits - credits = ${net} minor units`, {
            counterexample: entries,
          });
      }
    }
    const t = await api.trialBalance();
    ctx.expectStatus(t, 200);
    for (const c of (t.body as { currencies: { currency: string; debits: string; credits: string }[] }).currencies) {
      ctx.expect(
        minorOf(c.debits, c.currency) === minorOf(c.credits, c.currency),
        `the ledger does not balance in ${c.currency}: debits ${c.debits}, credits ${c.credits}`,
        t,
      );
    }
  });
  await transactionsCounted(ctx, api);
}

interface TrialLine {
  currency: string;
  debits: string;
  credits: string;
  transactions: number;
}

/**
 * The trial balance's `transactions` counts transactions (one per successful order here), not entries: its growth
 * over one event of two EUR orders is 2. Judged only over a quiet window, one in which the EUR debits grew by exactly
 * the two orders' sum (nothing else was recorded meanwhile); up to three tries, and no verdict without such a window.
 */
async function transactionsCounted(ctx: CheckContext, api: PayApi): Promise<void> {
  const eur = async () => {
    const t = await api.trialBalance();
    ctx.expectStatus(t, 200);
    const line = (t.body as { currencies: TrialLine[] }).currencies.find((c) => c.currency === 'EUR');
    return { debits: line ? minorOf(line.debits, 'EUR') : 0n, transactions: line?.transactions ?? 0, t };
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await eur();
    const [ev] = await createAndPay(ctx, api, () => newEvent('i3tx', ['1.10', '2.20'], { currency: 'EUR' }), 1);
    const ids = orderIds([ev!]);
    const settled = await waitFinal(ctx, api, ids, 15_000);
    if (![...settled.values()].every((s) => s.order.status === 'SUCCESS')) continue;
    const after = await eur();
    if (after.debits - before.debits !== 330n) continue; // not a quiet window: something else was recorded too
    const grew = after.transactions - before.transactions;
    ctx.expect(
      grew === 2,
      `two successful EUR orders (one transaction each) grew the trial balance's EUR transactions by ${grew}, not 2 ` +
        `(${before.transactions} -> ${after.transactions}; the debits grew by exactly their 3.30)`,
      after.t,
    );
    return;
  }
}
