import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { newEvent, payApi } from './api.ts';
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
}
