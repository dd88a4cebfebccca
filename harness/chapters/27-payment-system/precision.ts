// PAY-I4: amounts keep their precision end to end; floats and too many fraction digits are refused.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { newEvent, type OrderInput, payApi } from './api.ts';
import { amountArb } from './arbitraries.ts';
import { createAndPay, createPayment, expectSettledOnce, orderIds, remembering, waitFinal } from './flow.ts';
import { DIGITS, decimalOf, minorOf } from './money.ts';
import { pspOf } from './third-parties.ts';

/** PAY-I4: accepted amounts come back exact; floats and too many fraction digits are refused. */
export async function amountsKeepPrecision(ctx: CheckContext): Promise<void> {
  pspOf(ctx);
  const api = payApi(ctx);
  const currencies = Object.keys(DIGITS);
  await ctx.property(
    fc.constantFrom(...currencies).chain((currency) =>
      fc.record({
        currency: fc.constant(currency),
        amounts: fc.array(amountArb(currency), { minLength: 1, maxLength: 4 }),
      }),
    ),
    async (s) => {
      const event = newEvent('i4', s.amounts, { currency: s.currency });
      const created = await createPayment(ctx, api, event);
      for (const [i, o] of created.payment_orders.entries()) {
        const sent = event.payment_orders[i]!.amount;
        ctx.expect(
          minorOf(o.amount, s.currency) === minorOf(sent, s.currency) &&
            o.amount.split('.')[1]?.length === (DIGITS[s.currency] || undefined),
          `${sent} ${s.currency} came back as ${o.amount}`,
        );
      }
      const over = `1.${'1'.repeat((DIGITS[s.currency] ?? 2) + 1)}`;
      const extra = newEvent('i4bad', [over], { currency: s.currency });
      // One digit more than the currency has: the schema refuses it (the if-then on currency).
      ctx.expectStatus(await api.create(extra, randomUUID(), false), 400, 'invalid_request');
      const asNumber = { ...extra, payment_orders: [{ ...extra.payment_orders[0]!, amount: 12.5 }] };
      ctx.expectStatus(await api.create(asNumber, randomUUID(), false), 400, 'invalid_request');
    },
  );
  // One paid event: the wallet holds the exact sum of amounts that floats would round (0.29 * 100 = 28.999...).
  const seller = `seller_i4_${randomUUID().slice(0, 8)}`;
  const amounts = ['0.29', '0.57', '1.13', '4.35'];
  const [ev] = await createAndPay(ctx, api, () => newEvent('i4w', amounts, { seller }), 1);
  await waitFinal(ctx, api, orderIds([ev!]), 15_000);
  const w = await api.wallet(seller);
  ctx.expectStatus(w, 200);
  const bal = (w.body as { balances: { amount: string }[] }).balances[0]?.amount;
  ctx.expect(bal === '6.34', `the wallet holds ${bal} for 0.29 + 0.57 + 1.13 + 4.35 = 6.34`, w);
  // Every currency and scale the spec allows (2, 0 and 3 fraction digits), paid: the PSP's own record of each charge
  // and the ledger hold the exact minor units asked, and the seller's wallet the exact sum in that currency.
  const third = pspOf(ctx);
  const asked = new Map<string, OrderInput>();
  const perCurrency = await Promise.all(
    currencies.map(async (currency) => {
      const amounts = EXACT_AMOUNTS[currency] ?? ['1.01', '2.02'];
      const s = `seller_i4${currency.toLowerCase()}_${randomUUID().slice(0, 8)}`;
      const make = remembering(asked, () => newEvent(`i4${currency.toLowerCase()}`, amounts, { currency, seller: s }));
      const [paid] = await createAndPay(ctx, api, make, 1);
      const sum = amounts.reduce((n, a) => n + minorOf(a, currency), 0n);
      return { currency, seller: s, ids: orderIds([paid!]), want: decimalOf(sum, currency) };
    }),
  );
  await expectSettledOnce(ctx, third.psp, [...asked.keys()], 15_000, asked);
  for (const p of perCurrency) {
    const wallet = await api.wallet(p.seller);
    ctx.expectStatus(wallet, 200);
    const got = (wallet.body as { balances: { currency: string; amount: string }[] }).balances;
    const held = got.find((b) => b.currency === p.currency)?.amount;
    ctx.expect(
      held !== undefined && minorOf(held, p.currency) === minorOf(p.want, p.currency) && got.length === 1,
      `the ${p.currency} wallet holds ${JSON.stringify(got)}, not ${p.want} ${p.currency}`,
      wallet,
    );
  }
  ctx.evidence.currenciesPaid = perCurrency.map((p) => p.currency);
}

/**
 * Amounts per currency at its scale: the largest fraction each allows, a whole amount, and fewer fraction digits than
 * the currency has ("3.1" USD is 3.10, "0.5" KWD is 0.500: the missing digits are trailing zeros).
 */
const EXACT_AMOUNTS: Readonly<Record<string, string[]>> = {
  USD: ['0.07', '19.99', '3.1'],
  EUR: ['0.29', '1000.01', '7'],
  GBP: ['0.57', '4.35', '0.5'],
  JPY: ['1', '500'],
  KWD: ['0.001', '1.234', '0.5', '2.05'],
};
