// PAY-I2: each successful charge is recorded once in the ledger and once in the seller's wallet.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { newEvent, type PaymentOrder, payApi } from './api.ts';
import { amountArb } from './arbitraries.ts';
import { createAndPay, entriesOf, orderIds, waitFinal } from './flow.ts';
import { decimalOf, minorOf } from './money.ts';
import { pspOf } from './third-parties.ts';

/** PAY-I2: each successful charge is in the ledger once and in the wallet once, with webhooks duplicated. */
export async function recordedExactlyOnce(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  await ctx.property(
    fc.record({
      amounts: fc.array(amountArb('USD'), { minLength: 1, maxLength: 4 }),
      mode: fc.constantFrom('duplicate', 'normal'),
    }),
    async (s) => {
      third.psp.setWebhookMode({ mode: s.mode });
      const seller = `seller_i2_${randomUUID().slice(0, 8)}`;
      const [ev] = await createAndPay(ctx, api, () => newEvent('i2', s.amounts, { seller }), 1);
      const ids = orderIds([ev!]);
      await waitFinal(ctx, api, ids, 15_000);
      await third.psp.flushWebhooks();
      await sleep(200);
      let expected = 0n;
      for (const id of ids) {
        const x = await api.order(id);
        const o = x.body as PaymentOrder;
        ctx.expect(
          o.status === 'SUCCESS' && o.ledger_updated && o.wallet_updated,
          `${id} is not SUCCESS with ledger and wallet updated`,
          x,
        );
        const entries = await entriesOf(ctx, api, id);
        const txs = new Set(entries.map((e) => e.transaction_id));
        ctx.expect(txs.size === 1, `${id} has ${txs.size} ledger transactions, not 1`);
        const credited = entries.reduce((n, e) => n + minorOf(e.credit, e.currency), 0n);
        ctx.expect(
          credited === minorOf(o.amount, o.currency),
          `${id}: ledger credits ${credited} minor units for ${o.amount}`,
        );
        expected += minorOf(o.amount, o.currency);
      }
      const w = await api.wallet(seller);
      ctx.expectStatus(w, 200);
      const bal = (w.body as { balances: { currency: string; amount: string }[] }).balances.find(
        (b) => b.currency === 'USD',
      );
      ctx.expect(
        bal && minorOf(bal.amount, 'USD') === expected,
        `the wallet holds ${bal?.amount} for ${decimalOf(expected, 'USD')} charged`,
        w,
      );
    },
  );
  third.psp.setWebhookMode({ mode: 'normal' });
}
