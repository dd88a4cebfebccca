// PAY-C1..C6: every operation and every documented status, errors included. Each response is also validated
// against the spec by the client, so a wrong header, content type or body shape fails here too.
import { randomUUID } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  type LedgerEntry,
  newEvent,
  type PaymentEvent,
  type PaymentEventInput,
  type PaymentOrder,
  payApi,
} from './api.ts';
import { createAndPay, createPayment, orderIds, payOnHostedPage, waitFinal } from './flow.ts';
import { hmacHex, signWebhook } from './signature.ts';
import { pspOf } from './third-parties.ts';

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/v1/payments' },
    { method: 'PUT', path: '/v1/payments/po_1' },
    { method: 'GET', path: '/v1/webhooks/psp' },
    { method: 'POST', path: '/v1/ledger/balance' },
  ]);
}

export async function createConformance(ctx: CheckContext): Promise<void> {
  pspOf(ctx);
  const api = payApi(ctx);
  const event = newEvent('c2', ['3.15', '10']);
  const key = randomUUID();
  const first = await api.create(event, key);
  ctx.expectStatus(first, 201);
  expectNotReplayed(ctx, first, 'the first answer to a new Idempotency-Key');
  const body = first.body as PaymentEvent;
  ctx.expect(body.checkout_id === event.checkout_id, 'the answer is not for this checkout', first);
  ctx.expect(body.payment_page_url && body.psp_token, 'no hosted payment page or PSP token', first);
  ctx.expect(
    body.payment_orders.length === 2 && body.payment_orders.every((o) => o.status === 'NOT_STARTED'),
    'a new event does not list its orders as NOT_STARTED',
    first,
  );
  const replay = await api.create(event, key);
  ctx.expectStatus(replay, 201);
  ctx.expect(replay.headers['idempotent-replayed'] === 'true', 'a replay lacks Idempotent-Replayed: true', replay);
  // The same JSON value with every object's keys in the opposite order (a client that serialises again): a replay.
  const reordered = await api.create(keysReversed(event), key);
  ctx.expectStatus(reordered, 201);
  ctx.expect(
    reordered.headers['idempotent-replayed'] === 'true',
    'the same body with its keys in another order is not replayed (the spec: same key and same body replays)',
    reordered,
  );

  const base = newEvent('c2bad', ['1.00']);
  const order = base.payment_orders[0]!;
  const bad: { body: unknown; code: string; why: string; key?: string | null }[] = [
    { body: base, key: null, code: 'invalid_request', why: 'no Idempotency-Key' },
    { body: { ...base, payment_orders: [{ ...order, amount: 1.5 }] }, code: 'invalid_request', why: 'a JSON number' },
    // Zero and too many fraction digits for the currency: the schema says so (PositiveAmount, the if-then on currency).
    {
      body: { ...base, payment_orders: [{ ...order, amount: '1.001' }] },
      code: 'invalid_request',
      why: '3 decimals in USD',
    },
    { body: { ...base, payment_orders: [{ ...order, amount: '0.00' }] }, code: 'invalid_request', why: 'zero' },
    {
      body: { ...base, payment_orders: [{ ...order, amount: '1.5', currency: 'JPY' }] },
      code: 'invalid_request',
      why: 'a fraction of a yen',
    },
    {
      body: { ...base, payment_orders: [order, { ...order, amount: '2.00' }] },
      code: 'duplicate_payment_order',
      why: 'one payment_order_id twice',
    },
    {
      body: {
        ...base,
        payment_orders: [order, { ...order, payment_order_id: `${order.payment_order_id}b`, currency: 'EUR' }],
      },
      code: 'invalid_amount',
      why: 'two currencies',
    },
    { body: { ...base, credit_card_info: { number: '4242424242424242' } }, code: 'invalid_request', why: 'card data' },
    { body: { ...base, payment_orders: [] }, code: 'invalid_request', why: 'no orders' },
  ];
  for (const b of bad) {
    const x = await api.create(b.body, b.key === undefined ? randomUUID() : b.key, false);
    ctx.expectStatus(x, 400, b.code);
  }
  // A refused request stores nothing, its key included: the corrected request with the same key is executed (201, not
  // the refusal replayed, not 409 idempotency_key_reused).
  const fixKey = randomUUID();
  const fix = newEvent('c2fix', ['1.00', '2.00']);
  const twice = [
    fix.payment_orders[0]!,
    { ...fix.payment_orders[1]!, payment_order_id: fix.payment_orders[0]!.payment_order_id },
  ];
  ctx.expectStatus(await api.create({ ...fix, payment_orders: twice }, fixKey), 400, 'duplicate_payment_order');
  const fixed = await api.create(fix, fixKey);
  ctx.expect(
    fixed.status === 201,
    `the corrected request after a 400 duplicate_payment_order with the same Idempotency-Key answered ` +
      `${fixed.status ?? fixed.error} ${(fixed.body as { code?: string } | undefined)?.code ?? ''} (the spec: a refused request stores nothing)`,
    fixed,
  );
  expectNotReplayed(ctx, fixed, 'the corrected request after a refused one with the same key');
  // A body that is not JSON at all: a 400 problem (not a 500, not a request left unanswered).
  const notJson = await ctx.http.send({
    method: 'POST',
    path: '/v1/payments',
    rawBody: '{"checkout_id": "chk_',
    contentType: 'application/json',
    headers: { 'idempotency-key': randomUUID() },
    validRequest: false,
    timeoutMs: 10_000,
  });
  ctx.expectStatus(notJson, 400, 'invalid_request');
  const other = newEvent('c2other', ['1.00']);
  const reused = await api.create(other, key, true);
  ctx.expectStatus(reused, 409, 'idempotency_key_reused');
  const taken = await api.create({ ...event, payment_orders: [{ ...event.payment_orders[0]!, amount: '9.99' }] });
  ctx.expectStatus(taken, 409, 'already_exists');
  // The same checkout and orders for another buyer: the buyer is part of the event, so another body, 409 as well.
  const otherBuyer = await api.create({
    ...event,
    buyer_info: { ...event.buyer_info, buyer_id: `${event.buyer_info.buyer_id}_other` },
  });
  ctx.expect(
    otherBuyer.status === 409,
    `the same checkout and orders for another buyer answered ${otherBuyer.status ?? otherBuyer.error}, not 409 ` +
      'already_exists (the buyer is part of the payment event)',
    otherBuyer,
  );
  ctx.expectStatus(otherBuyer, 409, 'already_exists');
  // Every field of the event is part of it: another seller for one order, or the orders in another currency, under a
  // new key is another body for the checkout (409), not the first event.
  const [o0, o1] = event.payment_orders as [
    PaymentEventInput['payment_orders'][number],
    PaymentEventInput['payment_orders'][number],
  ];
  for (const [what, changed] of [
    [
      'another seller for its first order',
      { ...event, payment_orders: [{ ...o0, seller_account: `${o0.seller_account}_other` }, o1] },
    ],
    [
      'its orders in EUR',
      {
        ...event,
        payment_orders: [
          { ...o0, currency: 'EUR' },
          { ...o1, currency: 'EUR' },
        ],
      },
    ],
  ] as const) {
    const x = await api.create(changed);
    ctx.expect(
      x.status === 409,
      `the same checkout with ${what} answered ${x.status ?? x.error}, not 409 already_exists (another payment event)`,
      x,
    );
    ctx.expectStatus(x, 409, 'already_exists');
  }
  // An Idempotency-Key may be 255 visible ASCII characters (the spec's maxLength): such a key is honoured (201, then
  // its replay), not refused.
  const longKey = `k!~${randomUUID()}`.padEnd(255, 'Z');
  const longEvent = newEvent('c2longkey', ['1.25']);
  const long = await api.create(longEvent, longKey);
  ctx.expect(
    long.status === 201,
    `a 255-character Idempotency-Key answered ${long.status ?? long.error}, not 201`,
    long,
  );
  const longReplay = await api.create(longEvent, longKey);
  ctx.expectStatus(longReplay, 201);
  ctx.expect(
    longReplay.headers['idempotent-replayed'] === 'true',
    'the replay under a 255-character Idempotency-Key lacks Idempotent-Replayed: true',
    longReplay,
  );
  // One payment_order_id under another checkout and another seller (identifiers reused across scopes): refused,
  // and the first checkout's order is untouched.
  const elsewhere = newEvent('c2elsewhere', ['5.00', '6.00']);
  elsewhere.payment_orders[1] = {
    ...event.payment_orders[0]!,
    seller_account: `${event.payment_orders[0]!.seller_account}x`,
  };
  ctx.expectStatus(await api.create(elsewhere), 409, 'already_exists');
  const kept = await api.order(event.payment_orders[0]!.payment_order_id);
  ctx.expectStatus(kept, 200);
  const k = kept.body as PaymentOrder;
  ctx.expect(
    k.checkout_id === event.checkout_id &&
      k.amount === '3.15' &&
      k.seller_account === event.payment_orders[0]!.seller_account,
    `an order of ${event.checkout_id} changed when another checkout reused its id: ${JSON.stringify(k)}`,
    kept,
  );
  // A refused request spends nothing: no order stored, nothing registered at the PSP (its own record).
  await expectSpentNothing(ctx, [other, elsewhere, base], [event.payment_orders[0]!.payment_order_id]);
  const text = await ctx.http.send({
    method: 'POST',
    path: '/v1/payments',
    rawBody: JSON.stringify(event),
    contentType: 'text/plain',
    headers: { 'idempotency-key': randomUUID() },
    validRequest: false,
  });
  ctx.expectStatus(text, 415, 'unsupported_media_type');
}

/** The spec: `Idempotent-Replayed: true` only on the stored answer to an earlier request with the key and body. */
export function expectNotReplayed(ctx: CheckContext, x: Exchange, what: string): void {
  ctx.expect(
    x.headers['idempotent-replayed'] === undefined,
    `${what} carries Idempotent-Replayed: ${x.headers['idempotent-replayed']} (the spec: only a replay of an earlier request does)`,
    x,
  );
}

/** No order of the refused events exists (but `existing`), and the PSP holds no registration for their checkouts. */
async function expectSpentNothing(ctx: CheckContext, refused: PaymentEventInput[], existing: string[]): Promise<void> {
  const api = payApi(ctx);
  const { psp } = pspOf(ctx);
  for (const e of refused) {
    const regs = [...psp.registrations.values()].filter((r) => r.reference === e.checkout_id);
    ctx.expect(
      regs.length === 0,
      `a refused payment event (checkout ${e.checkout_id}) was registered at the PSP anyway (${regs.map((r) => r.token).join(', ')})`,
    );
    for (const o of e.payment_orders) {
      if (existing.includes(o.payment_order_id)) continue;
      const x = await api.order(o.payment_order_id);
      ctx.expectStatus(x, 404, 'not_found');
    }
  }
}

export async function orderConformance(ctx: CheckContext): Promise<void> {
  pspOf(ctx);
  const api = payApi(ctx);
  const event = newEvent('c3', ['42.00']);
  await createPayment(ctx, api, event);
  const id = event.payment_orders[0]!.payment_order_id;
  const x = await api.order(id);
  ctx.expectStatus(x, 200);
  const o = x.body as PaymentOrder;
  ctx.expect(
    o.payment_order_id === id && o.checkout_id === event.checkout_id && o.amount === '42.00' && o.currency === 'USD',
    'the order does not echo its id, checkout, amount and currency',
    x,
  );
  ctx.expect(
    o.status === 'NOT_STARTED' && !o.ledger_updated && !o.wallet_updated,
    'an unpaid order is not NOT_STARTED',
    x,
  );
  ctx.expectStatus(await api.order(`po_never_${randomUUID().slice(0, 8)}`), 404, 'not_found');
  const m = await ctx.http.send({ method: 'GET', path: '/v1/payments/a.b', validRequest: false });
  ctx.expectStatus(m, 400, 'invalid_request');
}

export async function webhookConformance(ctx: CheckContext): Promise<void> {
  const { secret } = pspOf(ctx);
  const api = payApi(ctx);
  const event = {
    id: `evt_c4_${randomUUID()}`,
    type: 'charge.succeeded',
    created: Math.floor(Date.now() / 1000),
    data: {
      object: {
        id: 'ch_c4',
        amount: 100,
        currency: 'usd',
        status: 'succeeded',
        metadata: { payment_order_id: 'po_unknown_c4' },
      },
    },
  };
  const raw = JSON.stringify(event);
  const ok = await api.webhook(raw, signWebhook(secret, raw));
  ctx.expectStatus(ok, 200);
  ctx.expect((ok.body as { received?: boolean }).received === true, 'the ack is not {received: true}', ok);
  // The HMAC is over the bytes received: the same event laid out otherwise (indented, as a PSP may send it) and
  // signed over those bytes is valid, not checked against the body parsed and serialised again.
  const pretty = JSON.stringify({ ...event, id: `${event.id}_pretty` }, null, 2);
  const laidOut = await api.webhook(pretty, signWebhook(secret, pretty));
  ctx.expect(
    laidOut.status === 200,
    `a webhook signed over its exact bytes (indented JSON) answered ${laidOut.status ?? laidOut.error}, not 200 ` +
      '(the signature covers the raw body as received)',
    laidOut,
  );
  const refusals: [string, string | null][] = [
    ['unsigned', null],
    ['signed with another secret', signWebhook(`${secret}x`, raw)],
    ['signed over another body', signWebhook(secret, `${raw} `)],
    ['signed 10 minutes ago', signWebhook(secret, raw, Math.floor(Date.now() / 1000) - 600)],
    ['a malformed header', 'v1=abc'],
    // No timestamp at all, with v1 an HMAC of the body under what a missing one might read as: still no timestamp.
    ...['NaN', 'undefined', ''].map((t): [string, string] => [
      `with no timestamp (v1 over "${t}.<body>")`,
      `v1=${hmacHex(secret, `${t}.${raw}`)}`,
    ]),
  ];
  for (const [why, sig] of refusals) {
    const x = await api.webhook(raw, sig);
    ctx.expect(x.status === 401, `a webhook ${why} answered ${x.status ?? x.error}, not 401`, x);
    ctx.expectStatus(x, 401, 'invalid_signature');
  }
  const notEvent = JSON.stringify({ hello: 'world' });
  ctx.expectStatus(await api.webhook(notEvent, signWebhook(secret, notEvent), false), 400, 'invalid_request');
  await registrationEventsApplied(ctx);
}

/**
 * The spec's 200 for a webhook means "authenticated and applied": once the PSP's registration event is answered,
 * a declined checkout's orders read FAILED and an authorized one's have left NOT_STARTED. The fake's own delivery
 * is held (dropped) and the event it would have sent is delivered here, so the read follows the 200 directly; the
 * PSP's registration lookups answer 503 meanwhile, so a poller cannot settle the checkout first (on a loaded
 * machine it did, and an implementation that ignores `registration.declined` passed every check).
 */
async function registrationEventsApplied(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  third.psp.setWebhookMode({ mode: 'drop' });
  third.psp.registrationLookupsDown = true;
  try {
    for (const [outcome, card] of [
      ['declined', '4000000000000002'],
      ['authorized', undefined],
    ] as const) {
      const droppedFrom = third.psp.webhooksDropped().length;
      const created = await createPayment(ctx, api, newEvent(`c4_${outcome}`, ['3.15']));
      await payOnHostedPage(ctx, created, card);
      const event = third.psp
        .webhooksDropped()
        .slice(droppedFrom)
        .find((e) => e.type === `registration.${outcome}` && JSON.stringify(e).includes(created.psp_token));
      if (!event) throw new Error(`the PSP fake sent no registration.${outcome} for ${created.checkout_id}`);
      const raw = JSON.stringify(event);
      ctx.expectStatus(await api.webhook(raw, signWebhook(third.secret, raw)), 200);
      for (const id of orderIds([created])) {
        const x = await api.order(id);
        ctx.expectStatus(x, 200);
        const status = (x.body as PaymentOrder).status;
        ctx.expect(
          outcome === 'declined' ? status === 'FAILED' : status !== 'NOT_STARTED',
          `right after the 200 for a signed registration.${outcome} webhook, order ${id} is ${status}` +
            ` (the 200 means the event was applied: ${outcome === 'declined' ? 'FAILED' : 'EXECUTING or later'})`,
          x,
        );
      }
    }
  } finally {
    third.psp.registrationLookupsDown = false;
    third.psp.setWebhookMode({ mode: 'normal' });
  }
}

export async function accountingConformance(ctx: CheckContext): Promise<void> {
  pspOf(ctx);
  const api = payApi(ctx);
  const seller = `seller_c5_${randomUUID().slice(0, 8)}`;
  const [ev] = await createAndPay(ctx, api, () => newEvent('c5', ['7.25'], { seller }), 1);
  const id = ev!.payment_orders[0]!.payment_order_id;
  const settled = await waitFinal(ctx, api, [id], 15_000);
  ctx.expect(settled.get(id)?.order.status === 'SUCCESS', `the paid order ended ${settled.get(id)?.order.status}`);
  const w = await api.wallet(seller);
  ctx.expectStatus(w, 200);
  const balances = (w.body as { balances: { currency: string; amount: string }[] }).balances;
  ctx.expect(balances.length === 1 && balances[0]!.amount === '7.25', 'the wallet does not hold the 7.25 paid', w);
  ctx.expectStatus(await api.wallet(`seller_none_${randomUUID().slice(0, 8)}`), 404, 'not_found');
  const mw = await ctx.http.send({ method: 'GET', path: '/v1/wallets/a.b', validRequest: false });
  ctx.expectStatus(mw, 400, 'invalid_request');
  const l = await api.ledger(id);
  ctx.expectStatus(l, 200);
  ctx.expect((l.body as { entries: LedgerEntry[] }).entries.length >= 2, 'a paid order has no double entry', l);
  const empty = await api.ledger(`po_none_${randomUUID().slice(0, 8)}`);
  ctx.expectStatus(empty, 200);
  ctx.expect((empty.body as { entries: unknown[] }).entries.length === 0, 'an unknown order has ledger entries', empty);
  const noQuery = await ctx.http.send({ method: 'GET', path: '/v1/ledger/entries', validRequest: false });
  ctx.expectStatus(noQuery, 400, 'invalid_request');
  ctx.expectStatus(await api.trialBalance(), 200);
}

export async function reconcileConformance(ctx: CheckContext): Promise<void> {
  pspOf(ctx);
  const api = payApi(ctx);
  // A paid order from before the window: `since` leaves it out of "ours", so its absence from the file is no mismatch.
  const [old] = await createAndPay(ctx, api, () => newEvent('c6old', ['2.50']), 1);
  const oldId = old!.payment_orders[0]!.payment_order_id;
  const oldSettled = await waitFinal(ctx, api, [oldId], 15_000);
  ctx.expect(oldSettled.get(oldId)?.order.status === 'SUCCESS', `the paid order ${oldId} did not settle`);
  await sleep(50); // its created_at is now strictly before the window, whatever the clock's resolution
  const csv = `payment_order_id,amount,currency,status\npo_c6_${randomUUID().slice(0, 8)},1.00,USD,SUCCESS\n`;
  const key = randomUUID();
  const since = new Date().toISOString();
  const r = await api.reconcile(csv, key, since);
  ctx.expectStatus(r, 200);
  expectNotReplayed(ctx, r, 'the first reconciliation with a key');
  const report = r.body as { rows: number; mismatches: { kind: string; payment_order_id: string }[] };
  ctx.expect(
    report.rows === 1 && report.mismatches.some((m) => m.kind === 'theirs_only'),
    'an unknown row is not theirs_only',
    r,
  );
  ctx.expect(
    !report.mismatches.some((m) => m.payment_order_id === oldId),
    `an order created before since=${since} is reported (${oldId}): only orders created at or after it count as ours`,
    r,
  );
  // The settlement file's lines may end in CRLF (the schema allows a CR before every newline): the same report.
  const crlf = await api.reconcile(csv.replace(/\n/g, '\r\n'), randomUUID(), since);
  ctx.expectStatus(crlf, 200);
  const crlfReport = crlf.body as { rows: number; mismatches: { kind: string }[] };
  ctx.expect(
    crlfReport.rows === 1 && crlfReport.mismatches.some((m) => m.kind === 'theirs_only'),
    'a settlement file with CRLF line ends does not give the report of the same file with LF',
    crlf,
  );
  const again = await api.reconcile(csv, key, since);
  ctx.expectStatus(again, 200);
  ctx.expect(
    again.headers['idempotent-replayed'] === 'true',
    'a replayed reconciliation lacks Idempotent-Replayed',
    again,
  );
  // The window is part of the request: the same key and file with another `since` is 409, not the first report.
  const otherWindow = await api.reconcile(csv, key, new Date(Date.parse(since) - 60_000).toISOString());
  ctx.expect(
    otherWindow.status === 409,
    `the same key and file with another since answered ${otherWindow.status ?? otherWindow.error}` +
      `${otherWindow.headers['idempotent-replayed'] === 'true' ? ' (a replay)' : ''}, not 409 idempotency_key_reused`,
    otherWindow,
  );
  ctx.expectStatus(otherWindow, 409, 'idempotency_key_reused');
  // The spec: 400 invalid_settlement "with the line in detail"; each file's first bad line is known here.
  for (const [bad, line] of [
    ['id,amount\n1,2\n', 1],
    ['payment_order_id,amount,currency,status\npo_1,abc,USD,SUCCESS\n', 2],
    ['payment_order_id,amount,currency,status\npo_1,1.00,USD,SUCCESS\npo_2,1.00,USD,MAYBE\n', 3],
    [
      'payment_order_id,amount,currency,status\npo_1,1.00,USD,SUCCESS\npo_2,1.00,USD,SUCCESS\npo_3,1.00,XYZ,FAILED\n',
      4,
    ],
  ] as const) {
    const x = await api.reconcile(bad);
    ctx.expectStatus(x, 400, 'invalid_settlement');
    const detail = (x.body as { detail?: unknown } | undefined)?.detail;
    ctx.expect(
      typeof detail === 'string' && new RegExp(`(^|\\D)${line}(\\D|$)`).test(detail),
      `a settlement file bad at line ${line} is refused without that line in detail (the spec: "with the line in detail"): ${JSON.stringify(detail)}`,
      x,
    );
  }
  const reused = await api.reconcile(`${csv}po_other,2.00,USD,SUCCESS\n`, key, since);
  ctx.expectStatus(reused, 409, 'idempotency_key_reused');
  // A day's file is megabytes: the key's fingerprint covers all of it, not a prefix (a file that differs only past
  // its first 128 KiB under the same key is another request, 409, not the first report replayed).
  const tag = randomUUID().slice(0, 8);
  const rows = Array.from({ length: 3600 }, (_, i) => `po_c6big_${tag}_${i},1.00,USD,SUCCESS\n`).join('');
  const big = `payment_order_id,amount,currency,status\n${rows}`;
  const bigKey = randomUUID();
  ctx.expectStatus(await api.reconcile(big, bigKey, since), 200);
  const longer = await api.reconcile(`${big}po_c6big_${tag}_last,1.00,USD,SUCCESS\n`, bigKey, since);
  ctx.expect(
    longer.status === 409,
    `a ${big.length}-byte settlement file with one more row at its end, under the key of the file without it, ` +
      `answered ${longer.status ?? longer.error}${longer.headers['idempotent-replayed'] === 'true' ? ' (a replay)' : ''}, ` +
      'not 409 idempotency_key_reused (the fingerprint must cover the whole file)',
    longer,
  );
  ctx.expectStatus(longer, 409, 'idempotency_key_reused');
}

/** The same JSON value, every object's keys in reverse insertion order (JSON.stringify keeps insertion order). */
function keysReversed(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keysReversed);
  if (typeof v !== 'object' || v === null) return v;
  return Object.fromEntries(
    Object.entries(v)
      .reverse()
      .map(([k, x]) => [k, keysReversed(x)]),
  );
}
