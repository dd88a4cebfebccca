// PAY-I1..I8: the chapter's invariants as fast-check properties over the wire, with the PSP fake's own record as
// the evidence where money moved.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { type LedgerEntry, newEvent, type PaymentEvent, type PaymentOrder, payApi } from './api.ts';
import { createAndPay, createPayment, expectChargedOnce, orderIds, payOnHostedPage, waitFinal } from './flow.ts';
import { DIGITS, decimalOf, minorOf } from './money.ts';
import { signWebhook } from './signature.ts';
import { pspOf } from './third-parties.ts';

const amountArb = (currency: string) =>
  fc
    .oneof(
      fc.integer({ min: 1, max: 99_999 }),
      fc.constantFrom(29, 57, 58, 113, 114, 1_005, 4_35, 2_01, 1_15, 10_000_001),
      fc.integer({ min: 1, max: 9_999_999_999 }),
    )
    .map((minor) => decimalOf(BigInt(minor), currency));

/** PAY-I1: whatever the retries, duplicate requests and lost answers, the PSP charges each order at most once. */
export async function noDoubleCharge(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const scenario = fc.record({
    amounts: fc.array(amountArb('USD'), { minLength: 1, maxLength: 3 }),
    duplicateCreates: fc.integer({ min: 1, max: 3 }),
    fault: fc.constantFrom('none', 'error5xx', 'lost-answer', 'lost-then-5xx'),
    faultCalls: fc.integer({ min: 1, max: 3 }),
    webhooks: fc.constantFrom('normal', 'duplicate', 'delay'),
  });
  const all: string[] = [];
  type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;
  const run = async (s: Scenario) => {
    third.service.faults.clear();
    third.psp.loseAnswers(0);
    third.psp.setWebhookMode(s.webhooks === 'delay' ? { mode: 'delay', delayMs: 800 } : { mode: s.webhooks });
    const event = newEvent('i1', s.amounts);
    const key = randomUUID();
    const created = await Promise.all(
      Array.from({ length: s.duplicateCreates }, () => createPayment(ctx, api, event, key)),
    );
    await payOnHostedPage(ctx, created[0]!);
    if (s.fault === 'error5xx') third.service.faults.set({ mode: 'error5xx', times: s.faultCalls });
    if (s.fault === 'lost-answer' || s.fault === 'lost-then-5xx') third.psp.loseAnswers(s.faultCalls);
    const ids = event.payment_orders.map((o) => o.payment_order_id);
    if (s.fault === 'lost-then-5xx') {
      await sleep(300);
      third.service.faults.set({ mode: 'error5xx', times: s.faultCalls });
    }
    all.push(...ids);
    const settled = await waitFinal(ctx, api, ids, 20_000);
    expectChargedOnce(ctx, third.psp, ids);
    const failed = ids.filter((id) => settled.get(id)?.order.status !== 'SUCCESS');
    ctx.expect(failed.length === 0, `paid orders ended FAILED: ${failed.join(', ')}`);
  };
  // The dangerous case first, whatever the seed: the charge is made, its answer lost and the webhook late, so only
  // the executor's retry can settle the order. Then random scenarios.
  await run({
    amounts: ['10.00', '0.01'],
    duplicateCreates: 2,
    fault: 'lost-answer',
    faultCalls: 2,
    webhooks: 'delay',
  });
  await ctx.property(scenario, run);
  third.service.faults.clear();
  third.psp.setWebhookMode({ mode: 'normal' });
  ctx.evidence.orders = all.length;
  ctx.evidence.lostAnswers = third.psp.lostAnswers;
  ctx.evidence.pspCharges = all.reduce((n, id) => n + (third.psp.chargeCounts().get(id) ?? 0), 0);
}

async function entriesOf(ctx: CheckContext, api: ReturnType<typeof payApi>, id: string): Promise<LedgerEntry[]> {
  const x = await api.ledger(id);
  ctx.expectStatus(x, 200);
  return (x.body as { entries: LedgerEntry[] }).entries;
}

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
      // One digit more than the currency has: invalid_amount; past the schema's 3 decimals it is invalid_request.
      const tooMany = (DIGITS[s.currency] ?? 2) + 1 > 3;
      ctx.expectStatus(
        await api.create(extra, randomUUID(), !tooMany),
        400,
        tooMany ? 'invalid_request' : 'invalid_amount',
      );
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
}

// Statuses reachable from each along allowed transitions (NOT_STARTED -> EXECUTING -> SUCCESS | FAILED, and
// NOT_STARTED -> FAILED for a declined checkout). Polling can miss a short EXECUTING, never see a step back.
const NEXT: Record<string, string[]> = {
  NOT_STARTED: ['EXECUTING', 'SUCCESS', 'FAILED'],
  EXECUTING: ['SUCCESS', 'FAILED'],
  SUCCESS: [],
  FAILED: [],
};

/** PAY-I5: statuses only move forward, even with old webhooks replayed after the end. */
export async function statusTransitions(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  await ctx.property(
    fc.record({ amounts: fc.array(amountArb('USD'), { minLength: 1, maxLength: 3 }), decline: fc.boolean() }),
    async (s) => {
      const event = newEvent('i5', s.amounts);
      const created = await createPayment(ctx, api, event);
      const before = third.psp.webhooksSent().length;
      await payOnHostedPage(ctx, created, s.decline ? '4000000000000002' : undefined);
      const ids = orderIds([created]);
      const settled = await waitFinal(ctx, api, ids, 15_000);
      await third.psp.flushWebhooks();
      // Every event the PSP sent for this checkout, replayed now (freshly signed: a late retry by the PSP).
      const mine = third.psp
        .webhooksSent()
        .slice(before)
        .map((w) => w.event)
        .filter(
          (e) => JSON.stringify(e).includes(created.psp_token) || ids.some((id) => JSON.stringify(e).includes(id)),
        );
      for (const e of mine.reverse()) {
        const raw = JSON.stringify(e);
        ctx.expectStatus(await api.webhook(raw, signWebhook(third.secret, raw)), 200);
      }
      for (const id of ids) {
        const x: Exchange = await api.order(id);
        const s2 = settled.get(id)!;
        const now = (x.body as PaymentOrder).status;
        const seen = s2.seen.at(-1) === now ? s2.seen : [...s2.seen, now];
        for (let i = 1; i < seen.length; i++) {
          if (!NEXT[seen[i - 1]!]!.includes(seen[i]!)) {
            ctx.fail(`${id} moved ${seen[i - 1]} -> ${seen[i]} (seen: ${seen.join(' -> ')})`, {
              exchange: x,
              counterexample: seen,
            });
          }
        }
        ctx.expect(
          (s.decline ? 'FAILED' : 'SUCCESS') === now,
          `${id} ended ${now} after a ${s.decline ? 'declined' : 'paid'} checkout`,
          x,
        );
      }
    },
  );
}

/** PAY-I6: Stripe's idempotency semantics for createPayment, concurrent duplicates included. */
export async function idempotencyKeys(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  await ctx.property(
    fc.record({
      amounts: fc.array(amountArb('GBP'), { minLength: 1, maxLength: 3 }),
      racers: fc.integer({ min: 2, max: 5 }),
    }),
    async (s) => {
      third.psp.latencyMs = 150; // the first request is still registering at the PSP while the others arrive
      try {
        const event = newEvent('i6', s.amounts, { currency: 'GBP' });
        const key = randomUUID();
        const racing = await Promise.all(Array.from({ length: s.racers }, () => api.create(event, key)));
        const executed = racing.filter((x) => x.status === 201 && x.headers['idempotent-replayed'] !== 'true');
        for (const x of racing) {
          const code = (x.body as { code?: string }).code;
          ctx.expect(
            x.status === 201 || (x.status === 409 && code === 'idempotency_key_in_use'),
            `a racing duplicate got ${x.status} ${code ?? ''}`,
            x,
          );
        }
        ctx.expect(
          executed.length <= 1,
          `${executed.length} racing requests with one key were each executed`,
          executed[1],
        );
        const first = (await createPayment(ctx, api, event, key)) as PaymentEvent;
        const replay = await api.create(event, key);
        ctx.expectStatus(replay, 201);
        ctx.expect(replay.headers['idempotent-replayed'] === 'true', 'the same key and body was not replayed', replay);
        ctx.expect(
          JSON.stringify(replay.body) === JSON.stringify(first),
          'the replay differs from the first answer',
          replay,
        );
        const other = newEvent('i6b', s.amounts, { currency: 'GBP' });
        ctx.expectStatus(await api.create(other, key), 409, 'idempotency_key_reused');
        ctx.expectStatus(await api.order(other.payment_orders[0]!.payment_order_id), 404, 'not_found');
        const regs = [...third.psp.registrations.values()].filter((r) => r.reference === event.checkout_id);
        ctx.expect(regs.length === 1, `the PSP holds ${regs.length} registrations for one checkout`);
      } finally {
        third.psp.latencyMs = 0;
      }
    },
  );
}

/** PAY-I7: unsigned, forged or stale webhooks are refused and change nothing. */
export async function forgedWebhooksRefused(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const forgeries = ['unsigned', 'wrong-secret', 'stale', 'other-body'] as const;
  await ctx.property(fc.record({ forgery: fc.constantFrom(...forgeries), amount: amountArb('USD') }), async (s) => {
    const created = await createPayment(ctx, api, newEvent('i7', [s.amount]));
    const id = created.payment_orders[0]!.payment_order_id;
    // The buyer never paid; a forged "paid" event must not start a charge.
    const event = {
      id: `evt_forged_${randomUUID()}`,
      type: 'registration.authorized',
      created: Math.floor(Date.now() / 1000),
      data: { object: { token: created.psp_token, reference: created.checkout_id, status: 'authorized' } },
    };
    const raw = JSON.stringify(event);
    const sig = {
      unsigned: null,
      'wrong-secret': signWebhook(`not-${third.secret}`, raw),
      stale: signWebhook(third.secret, raw, Math.floor(Date.now() / 1000) - 3600),
      'other-body': signWebhook(third.secret, raw.replace('authorized', 'declined')),
    }[s.forgery];
    const x = await api.webhook(raw, sig);
    ctx.expectStatus(x, 401, 'invalid_signature');
    await sleep(300);
    const o = await api.order(id);
    ctx.expect(
      (o.body as PaymentOrder).status === 'NOT_STARTED',
      `a ${s.forgery} webhook moved ${id} to ${(o.body as PaymentOrder).status}`,
      o,
    );
    ctx.expect(!third.psp.chargeCounts().has(id), `a ${s.forgery} webhook made the service charge an unpaid order`);
  });
}

/** PAY-I8: reconciliation reports exactly the planted mismatches among this run's orders, classified. */
export async function reconciliationFindsMismatches(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  await ctx.property(
    fc.record({
      plants: fc.subarray(['amount', 'missing', 'unknown', 'status'] as const),
      extra: fc.integer({ min: 0, max: 1 }),
    }),
    async (s) => {
      const since = new Date(Date.now() - 1000).toISOString();
      const events = await createAndPay(ctx, api, (i) => newEvent(`i8_${i}`, ['5.00', '12.34']), 2 + s.extra, 4);
      const ids = orderIds(events);
      await waitFinal(ctx, api, ids, 15_000);
      // The settlement file as the PSP would write it from its own record, then the planted differences.
      const rows = third.psp.charges
        .filter((c) => ids.includes(c.metadata['payment_order_id'] ?? ''))
        .map((c) => ({
          id: c.metadata['payment_order_id']!,
          amount: decimalOf(BigInt(c.amount), 'USD'),
          status: 'SUCCESS',
        }));
      const expected = new Map<string, { kind: string; classification: string }>();
      if (s.plants.includes('amount')) {
        const r = rows[0]!;
        r.amount = decimalOf(minorOf(r.amount, 'USD') + 1n, 'USD');
        expected.set(r.id, { kind: 'amount_differs', classification: 'classifiable_manual' });
      }
      if (s.plants.includes('status')) {
        const r = rows[1]!;
        r.status = 'FAILED';
        expected.set(r.id, { kind: 'status_differs', classification: 'classifiable_manual' });
      }
      if (s.plants.includes('missing')) {
        const r = rows.pop()!;
        expected.set(r.id, { kind: 'ours_only', classification: 'classifiable_manual' });
      }
      if (s.plants.includes('unknown')) {
        const id = `po_theirs_${randomUUID().slice(0, 8)}`;
        rows.push({ id, amount: '3.00', status: 'SUCCESS' });
        expected.set(id, { kind: 'theirs_only', classification: 'unclassifiable' });
        ids.push(id);
      }
      const csv = `payment_order_id,amount,currency,status\n${rows.map((r) => `${r.id},${r.amount},USD,${r.status}`).join('\n')}\n`;
      const x = await api.reconcile(csv, randomUUID(), since);
      ctx.expectStatus(x, 200);
      const report = x.body as { mismatches: { payment_order_id: string; kind: string; classification: string }[] };
      const mine = report.mismatches.filter((m) => ids.includes(m.payment_order_id));
      const got = new Map(mine.map((m) => [m.payment_order_id, { kind: m.kind, classification: m.classification }]));
      const describe = (m: Map<string, unknown>) => JSON.stringify([...m.entries()].sort());
      ctx.expect(describe(got) === describe(expected), `reported ${describe(got)}, planted ${describe(expected)}`, x);
    },
  );
}
