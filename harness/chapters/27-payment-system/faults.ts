// PAY-F1..F5: faults injected into the PSP, the webhooks, the process and the database, and what "survive" means
// checked afterwards: every paid order ends SUCCESS, charged once (the PSP fake's own record), recorded once.
// Each records evidence that its fault really happened (a fault that did not bite proves nothing, and says so),
// then keeps paying after it and re-verifies every order of the check against the PSP's record and the ledger.

import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import { newEvent, type OrderInput, payApi } from './api.ts';
import { expectStepsNotDoubled } from './backoff-steps.ts';
import {
  createAndPay,
  createPayment,
  EXECUTING_BOUND_MS,
  expectSettledOnce,
  orderIds,
  payOnAndReverify,
  payOnHostedPage,
  remembering,
  waitExecuting,
  waitFinal,
} from './flow.ts';
import { expectPaidDespiteLookups, LOOKUP_FAULTS } from './lookup-faults.ts';
import { outageAfterRegistering } from './outage-after-register.ts';
import { outageWhileRegistering } from './outage-mid-create.ts';
import { deliverWhileDown, expectAppliedOnceBack, heldRegistrationEvent } from './outage-webhook.ts';
import { DECLINED_CARD } from './psp-fake.ts';
import { expectRetrySchedule, retrySlack } from './retry-schedule.ts';
import { pspOf } from './third-parties.ts';

/**
 * PAY-F1: the PSP fails. First a declined charge and charges failed every time (chargeDeclined, chargesExhausted).
 * Then registrations answer 5xx (createPayment is 503, the client retries with its key within the spec's rules),
 * and every new order's charge first gets a 5xx, then a hang, then goes through. The fault must bite
 * on the charges of this check's orders (the PSP fake records which it hit), else the check is skipped. Then more
 * payments, and every order of the check, before, during and after the fault, is re-verified against the PSP's
 * record and the ledger: SUCCESS, charged once, at the amount asked, recorded once.
 */
export async function pspErrors(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  // First the charges that must not go through (declined, failed every time): the mutants these catch, and the
  // back-off's schedule, are judged before the rest runs.
  await chargeDeclined(ctx, third, api);
  await chargesExhausted(ctx, third, api);
  const asked = new Map<string, OrderInput>();
  const before = await createAndPay(
    ctx,
    api,
    remembering(asked, (i) => newEvent(`f1_${i}`, ['19.99', '0.01'])),
    4,
  );
  await expectSettledOnce(ctx, third.psp, orderIds(before), 15_000, asked);
  third.psp.setWebhookMode({ mode: 'drop' }); // so the executor's retries, not the webhook, must settle them
  const hitsFrom = third.psp.chargeFaultHits.length;
  const firedFrom = third.service.faults.fired.length;
  // Then a 429 (Stripe's rate limit): a 4xx that is no decline, so the charge is retried, not the order failed.
  third.psp.planChargeFaults(['error5xx', 'timeout', 'rateLimited'], 5000);
  // With the webhooks dropped the poller learns each payment; its first lookup of each paid registration fails, one
  // way per checkout (a failed lookup is no outcome: the next poll asks again).
  const lookupHitsFrom = third.psp.lookupFaultHits.length;
  third.psp.planLookupFaults(LOOKUP_FAULTS, 5000);
  let during: Awaited<ReturnType<typeof createAndPay>>;
  try {
    // The next three PSP calls are the three registrations: each createPayment gets a 503 first.
    third.service.faults.set({ mode: 'error5xx', times: 3 });
    during = await createAndPay(
      ctx,
      api,
      remembering(asked, (i) => newEvent(`f1b_${i}`, ['3.50'])),
      LOOKUP_FAULTS.length,
    );
    third.service.faults.clear();
    const settled = await waitFinal(ctx, api, orderIds(during), 30_000);
    expectPaidDespiteLookups(ctx, third, during, settled, lookupHitsFrom);
  } finally {
    third.psp.clearChargeFaults();
    third.psp.clearLookupFaults();
    third.service.faults.clear();
    third.psp.setWebhookMode({ mode: 'normal' });
  }
  const duringIds = new Set(orderIds(during));
  const hits = third.psp.chargeFaultHits.slice(hitsFrom).filter((h) => duringIds.has(h.paymentOrderId));
  const hitBy = (f: string) => new Set(hits.filter((h) => h.fault === f).map((h) => h.paymentOrderId)).size;
  ctx.evidence.chargesHitBy5xx = hitBy('error5xx');
  ctx.evidence.chargesHitByTimeout = hitBy('timeout');
  ctx.evidence.chargesHitByRateLimit = hitBy('rateLimited');
  ctx.evidence.registrationFaults = third.service.faults.fired
    .slice(firedFrom)
    .filter((f) => f.path === '/v1/registrations').length;
  await payOnAndReverify(ctx, third.psp, asked, 'f1', 30_000);
  if (ctx.evidence.lookupFaultsWhilePaid === 0)
    ctx.skip('the fault never bit: no lookup of a paid registration of this check failed at the PSP');
  if (ctx.evidence.registrationFaults === 0)
    ctx.skip('the fault never bit on registrations: no registration of the PSP answered a 5xx');
  if (hitBy('error5xx') === 0 || hitBy('timeout') === 0 || hitBy('rateLimited') === 0) {
    ctx.skip(
      `the fault never bit: of the ${duringIds.size} orders paid during the fault, the PSP answered a charge of ` +
        `${hitBy('error5xx')} with a 5xx, held a charge of ${hitBy('timeout')} without answering and answered a ` +
        `charge of ${hitBy('rateLimited')} with a 429`,
    );
  }
}

/** The spec's attempt limit (README "Payment executor": after 8 attempts the PSP's record decides). */
const SPEC_ATTEMPTS = 8;
/**
 * How many orders (one checkout) the PSP fails every time: their retries run side by side, so many samples of each
 * retry cost no more time than one, and the back-off's lower edges are estimated from them (backoff-edges.ts).
 */
const EXHAUSTED_ORDERS = 16;

/**
 * Part of PAY-F1: orders whose every charge the PSP answers 5xx, judged from the PSP fake's record of the requests
 * it received. The spec: exponential back-off with jitter (100 ms doubling to 2 s), and after 8 attempts the PSP's
 * record decides (never charged: FAILED). So exactly 8 charge requests each, spaced by the back-off (retry-schedule.ts:
 * every retry from below, the first four from above too; backoff-edges.ts: the steps themselves, from the earliest
 * retries of all the orders), then FAILED with no charge at the PSP.
 */
async function chargesExhausted(
  ctx: CheckContext,
  third: ReturnType<typeof pspOf>,
  api: ReturnType<typeof payApi>,
): Promise<void> {
  const hitsFrom = third.psp.chargeFaultHits.length;
  // More 5xx answers planned than the spec's attempts, so an attempt too many is answered (and recorded) too.
  third.psp.planChargeFaults(Array.from({ length: SPEC_ATTEMPTS + 4 }, () => 'error5xx' as const));
  const slack = retrySlack();
  let ids: string[];
  try {
    // Eight orders a checkout, the checkouts paid one after the other, so the retries of all the orders do not
    // come in one burst (a burst's own contention lengthens the first retries more than the later ones).
    const amounts = Array.from({ length: 8 }, () => '4.00');
    const checkouts = EXHAUSTED_ORDERS / amounts.length;
    const events = await createAndPay(ctx, api, (i) => newEvent(`f1x_${i}`, amounts), checkouts, 1);
    ids = orderIds(events);
    // Wait on the fake's record (free) rather than reading every order from the service in a loop: the check's own
    // reads would load the service whose timing it judges. Until each has its 8 requests, or none came for 3 s
    // (longer than the longest back-off: an implementation that stopped sooner is judged below).
    const mine = new Set(ids);
    const count = () => third.psp.chargeFaultHits.slice(hitsFrom).filter((h) => mine.has(h.paymentOrderId)).length;
    for (let seen = -1, quietSince = Date.now(); count() < ids.length * SPEC_ATTEMPTS; await sleep(100)) {
      if (count() !== seen) [seen, quietSince] = [count(), Date.now()];
      else if (Date.now() - quietSince > 3000) break;
    }
    const settled = await waitFinal(ctx, api, ids, 60_000);
    const notFailed = ids.filter((id) => settled.get(id)?.order.status !== 'FAILED');
    ctx.expect(
      notFailed.length === 0,
      `${notFailed.length} of ${ids.length} orders whose every charge the PSP answered 5xx ended ` +
        `${notFailed.map((id) => settled.get(id)?.order.status).join(', ')} (the spec: after 8 attempts, never charged is FAILED)`,
    );
  } finally {
    third.psp.clearChargeFaults();
    slack.stop();
  }
  const hits = third.psp.chargeFaultHits.slice(hitsFrom);
  const timesOf = (id: string) =>
    hits
      .filter((h) => h.paymentOrderId === id)
      .map((h) => h.at)
      .sort((a, b) => a - b);
  const times = ids.map(timesOf);
  ctx.evidence.exhaustedChargeRequests = times.map((t) => t.length);
  const wrong = times.filter((t) => t.length !== SPEC_ATTEMPTS).map((t) => t.length);
  ctx.expect(
    wrong.length === 0,
    `the PSP received ${wrong.join(', ')} charge requests for ${wrong.length} of ${ids.length} orders it failed every time, not the spec's ${SPEC_ATTEMPTS}`,
  );
  expectRetrySchedule(ctx, times, slack, 'orders whose charges the PSP answered 5xx', 'exhaustedRetryGaps');
  expectStepsNotDoubled(ctx, times, Math.ceil(slack.loopLagMs()), 'orders whose charges the PSP answered 5xx');
  const charged = ids.filter((id) => third.psp.chargeCounts().get(id));
  ctx.expect(charged.length === 0, `${charged.length} orders the PSP never charged have a charge at the PSP`);
}

/**
 * Part of PAY-F1: the PSP declines a charge (402 card_error). The spec: a decline is final, so the order is FAILED
 * after that one charge request, not retried (the same key would only replay the decline) and not SUCCESS. Judged
 * from the PSP fake's record of the charge requests it received for the order, including any after it was FAILED.
 */
async function chargeDeclined(
  ctx: CheckContext,
  third: ReturnType<typeof pspOf>,
  api: ReturnType<typeof payApi>,
): Promise<void> {
  const hitsFrom = third.psp.chargeFaultHits.length;
  // Every charge request of the order is declined (so a retry would be answered, and recorded, too).
  third.psp.planChargeFaults(Array.from({ length: SPEC_ATTEMPTS + 4 }, () => 'decline' as const));
  let id: string;
  try {
    const [event] = await createAndPay(ctx, api, () => newEvent('f1d', ['7.25']), 1);
    id = event!.payment_orders[0]!.payment_order_id;
    const settled = await waitFinal(ctx, api, [id], 60_000);
    const final = settled.get(id)?.order;
    ctx.expect(
      final?.status === 'FAILED',
      `an order whose charge the PSP declined (402) ended ${final?.status}, not FAILED`,
    );
    // A retry of a FAILED order would come within the back-off's first steps: wait them out before counting.
    await sleep(1000);
  } finally {
    third.psp.clearChargeFaults();
  }
  const requests = third.psp.chargeFaultHits.slice(hitsFrom).filter((h) => h.paymentOrderId === id).length;
  ctx.evidence.declinedChargeRequests = requests;
  ctx.expect(
    requests === 1,
    `the PSP declined an order's charge and received ${requests} charge requests for it, not 1 (a decline is final, not retried)`,
  );
  ctx.expect(!third.psp.chargeCounts().get(id), `the order whose charge the PSP declined has a charge at the PSP`);
}

/** PAY-F2: the PSP charges and the answer is lost, with no webhook; the retry (same key) must not charge again. */
export async function lostAnswers(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  third.psp.setWebhookMode({ mode: 'drop' });
  const lostBefore = third.psp.lostAnswers;
  third.psp.loseAnswers(8);
  const asked = new Map<string, OrderInput>();
  const events = await createAndPay(
    ctx,
    api,
    remembering(asked, (i) => newEvent(`f2_${i}`, ['250.00', '0.99'])),
    4,
  );
  const ids = orderIds(events);
  await expectSettledOnce(ctx, third.psp, ids, 30_000, asked);
  ctx.evidence.lostAnswers = third.psp.lostAnswers - lostBefore;
  if (third.psp.lostAnswers === lostBefore) throw new Error('no answer was lost: the fault did not bite');
  third.psp.loseAnswers(0);
  third.psp.setWebhookMode({ mode: 'normal' });
  await payOnAndReverify(ctx, third.psp, asked, 'f2');
}

/** PAY-F3: webhooks duplicated, reordered, or never sent: every order settles (polling), recorded once. */
export async function webhookDisorder(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const ids: string[] = [];
  const asked = new Map<string, OrderInput>();
  const droppedFrom = third.psp.webhooksDropped().length;
  const sentFrom = third.psp.webhooksSent().length;
  for (const mode of [{ mode: 'drop' }, { mode: 'duplicate' }, { mode: 'reorder', batchSize: 3 }] as const) {
    third.psp.setWebhookMode(mode);
    const make = remembering(asked, (i) => newEvent(`f3_${mode.mode}_${i}`, ['8.00', '1.10']));
    const events = await createAndPay(ctx, api, make, 3);
    if (mode.mode === 'reorder') await sleep(2500).then(() => third.psp.flushWebhooks());
    const mine = orderIds(events);
    // Polling starts 2 s after a registration (the reference's), so 10 s leaves room for a loaded machine.
    await expectSettledOnce(ctx, third.psp, mine, 10_000);
    ids.push(...mine);
  }
  // A buyer who pays on the hosted page well after the checkout (the book: a payment can take hours), with the
  // webhook lost: polling still finds it, within the same 10 s of the payment.
  third.psp.setWebhookMode({ mode: 'drop' });
  const late = await createPayment(ctx, api, remembering(asked, () => newEvent('f3_late', ['6.30']))(0));
  await sleep(5000);
  await payOnHostedPage(ctx, late);
  await expectSettledOnce(ctx, third.psp, orderIds([late]), 10_000);
  ids.push(...orderIds([late]));
  await declinedWithWebhookLost(ctx, third, api);
  ctx.evidence.orders = ids.length;
  const dropped = third.psp.webhooksDropped().length - droppedFrom;
  ctx.evidence.webhooksDropped = dropped;
  ctx.evidence.webhooksDelivered = third.psp.webhooksSent().length - sentFrom;
  third.psp.setWebhookMode({ mode: 'normal' });
  await payOnAndReverify(ctx, third.psp, asked, 'f3');
  if (dropped === 0) ctx.skip('the fault never bit: no webhook of this check was dropped, so polling was not needed');
}

/**
 * Part of PAY-F3: the buyer's card is declined on the hosted page and the registration.declined webhook is lost
 * (webhooks are dropped when this runs): polling must learn the decline, so the orders end FAILED within the same
 * 10 s, and nothing is charged (the PSP's own record).
 */
async function declinedWithWebhookLost(
  ctx: CheckContext,
  third: ReturnType<typeof pspOf>,
  api: ReturnType<typeof payApi>,
): Promise<void> {
  const droppedFrom = third.psp.webhooksDropped().length;
  const declined = await createPayment(ctx, api, newEvent('f3_declined', ['4.40', '0.60']));
  await payOnHostedPage(ctx, declined, DECLINED_CARD);
  const ids = orderIds([declined]);
  const settled = await waitFinal(ctx, api, ids, 10_000);
  for (const id of ids) {
    const status = settled.get(id)?.order.status;
    ctx.expect(
      status === 'FAILED',
      `${id} of a checkout declined on the hosted page, its webhook lost, ended ${status}, not FAILED`,
    );
  }
  ctx.expect(
    ids.every((id) => !third.psp.chargeCounts().has(id)),
    `an order of a checkout declined on the hosted page was charged at the PSP`,
  );
  ctx.evidence.declinedWebhooksDropped = third.psp
    .webhooksDropped()
    .slice(droppedFrom)
    .filter((e) => e.type === 'registration.declined' && JSON.stringify(e).includes(declined.psp_token)).length;
}

/** PAY-F4: kill -9 while charges are in flight, restart: nothing stays EXECUTING past the bound, nothing charged twice. */
export async function killMidFlow(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const third = pspOf(ctx);
  const api = payApi(ctx);
  third.psp.setWebhookMode({ mode: 'drop' });
  third.psp.latencyMs = 400; // charges are in flight when the process dies
  // Each order's first charge attempt hangs at the PSP, so the kill lands while an attempt holds its order.
  const hitsFrom = third.psp.chargeFaultHits.length;
  third.psp.planChargeFaults(['timeout'], 5000);
  const asked = new Map<string, OrderInput>();
  const events = await createAndPay(
    ctx,
    api,
    remembering(asked, (i) => newEvent(`f4_${i}`, ['12.00', '4.56'])),
    6,
    6,
  );
  const ids = orderIds(events);
  // Wait until the poller has started executing some of them, then kill -9.
  const executing = await waitExecuting(api, ids);
  ctx.evidence.executingAtKill = executing;
  if (executing === 0) throw new Error('no order was EXECUTING before the kill: the fault did not bite');
  const hanging = () => third.psp.chargeFaultHits.slice(hitsFrom).filter((h) => ids.includes(h.paymentOrderId)).length;
  for (let i = 0; i < 60 && hanging() === 0; i++) await sleep(100);
  ctx.evidence.chargesInFlightAtKill = hanging();
  if (hanging() === 0) throw new Error('no charge was in flight at the PSP at the kill: the fault did not bite');
  await ctx.target.kill();
  third.psp.latencyMs = 0;
  third.psp.clearChargeFaults();
  await ctx.target.start();
  const restarted = Date.now();
  await expectSettledOnce(ctx, third.psp, ids, EXECUTING_BOUND_MS, asked);
  ctx.evidence.settledAfterRestartMs = Date.now() - restarted;
  third.psp.setWebhookMode({ mode: 'normal' });
  await payOnAndReverify(ctx, third.psp, asked, 'f4');
}

/** PAY-F5: PostgreSQL unreachable: 503s (no 500, no hang) meanwhile, and every paid order settles once it is back. */
export async function databaseOutage(ctx: CheckContext): Promise<void> {
  ctx.require('dependency:database');
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const db = ctx.target.dependencies.database!;
  const asked = new Map<string, OrderInput>();
  const events = await createAndPay(
    ctx,
    api,
    remembering(asked, (i) => newEvent(`f5_${i}`, ['66.60'])),
    3,
  );
  // A paid checkout whose registration.authorized reaches the service only as delivered below, while it is down.
  const held = await heldRegistrationEvent(ctx, third, api, asked);
  third.psp.latencyMs = 300;
  const during = await createAndPay(
    ctx,
    api,
    remembering(asked, (i) => newEvent(`f5b_${i}`, ['1.23'])),
    2,
  );
  await db.setReachable(false);
  const statuses: (number | null)[] = [];
  let webhook: Awaited<ReturnType<typeof deliverWhileDown>>;
  try {
    await sleep(300);
    webhook = await deliverWhileDown(ctx, third, api, held);
    for (let i = 0; i < 3; i++) {
      const x = await api.create(newEvent(`f5c_${i}`, ['2.00']));
      statuses.push(x.status);
      ctx.expect(
        x.status === 503,
        `with PostgreSQL unreachable createPayment answered ${x.status ?? x.error}, not 503`,
        x,
      );
      ctx.expect(
        x.durationMs < 10_000,
        `createPayment took ${Math.round(x.durationMs)} ms with PostgreSQL unreachable`,
        x,
      );
    }
  } finally {
    await db.setReachable(true);
    third.psp.latencyMs = 0;
  }
  ctx.evidence.statusesWhileDown = statuses;
  await expectAppliedOnceBack(ctx, third, api, held, webhook);
  await expectSettledOnce(ctx, third.psp, orderIds([...events, ...during, held.checkout]), 30_000, asked);
  await outageWhileRegistering(ctx, third, api, db);
  await outageAfterRegistering(ctx, third, api, db, asked);
  await payOnAndReverify(ctx, third.psp, asked, 'f5');
}
