// PAY-F6: PostgreSQL itself crashes and restarts, with payments in flight. PAY-F5 takes the link away (a proxy);
// here the server goes: the target is pointed at a PostgreSQL cluster the harness owns (harness/faults/
// private-postgres.ts), which is killed as a crash kills it (`pg_ctl stop -m immediate`) while charges and new
// payment events are in flight, and started again. Survive means: meanwhile 503 (no 500, no hang); once it is back,
// 201 again within DB_BACK_BOUND_MS; every payment event acknowledged with 201 still there (nothing lost); every
// paid order SUCCESS within EXECUTING_BOUND_MS, charged once at the PSP and recorded once.

import type { CheckContext } from '../../core/check-context.ts';
import { sleep } from '../../core/check-scope.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import type { PrivatePostgres } from '../../faults/private-postgres.ts';
import { withPrivatePostgres } from '../../faults/target-on-private-service.ts';
import { newEvent, type OrderInput, type PaymentEvent, payApi } from './api.ts';
import {
  createAndPay,
  EXECUTING_BOUND_MS,
  expectSettledOnce,
  orderIds,
  payOnAndReverify,
  remembering,
  waitExecuting,
} from './flow.ts';
import { pspOf } from './third-parties.ts';

/** After PostgreSQL is back, createPayment answers 201 again within this (PAY-F6's stated bound). */
export const DB_BACK_BOUND_MS = 10_000;
/** How long the server stays down. */
const DOWN_MS = 1500;

export async function databaseRestart(ctx: CheckContext): Promise<void> {
  await withPrivatePostgres(ctx, (pg) => paymentsSurviveCrash(ctx, pg));
}

async function paymentsSurviveCrash(ctx: CheckContext, pg: PrivatePostgres): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  try {
    // Charges in flight (slow PSP, no webhooks: only the executor settles them) when the server dies.
    third.psp.setWebhookMode({ mode: 'drop' });
    third.psp.latencyMs = 300;
    const asked = new Map<string, OrderInput>();
    const make = remembering(asked, (i) => newEvent(`f6_${i}`, ['42.00', '0.42']));
    const events = await createAndPay(ctx, api, make, 6, 6);
    const ids = orderIds(events);
    const executing = await waitExecuting(api, ids);
    ctx.evidence.executingAtCrash = executing;
    if (executing === 0) throw new Error('no order was EXECUTING before the crash: the fault did not bite');
    // New payment events in flight at the crash: each is 201 (then it must survive) or 503, never a 500.
    const racing = Array.from({ length: 4 }, (_, i) => {
      const event = newEvent(`f6r_${i}`, ['7.00']);
      return api.create(event).then((x) => ({ event, x }));
    });
    await pg.crash();
    const whileDown: Exchange[] = [];
    for (let i = 0; i < 2; i++) whileDown.push(await api.create(newEvent(`f6d_${i}`, ['1.00'])));
    const raced = await Promise.all(racing);
    await sleep(Math.max(0, DOWN_MS - whileDown.reduce((n, x) => n + x.durationMs, 0)));
    await pg.start();
    const back = Date.now();
    third.psp.latencyMs = 0;
    ctx.evidence.statusesWhileDown = whileDown.map((x) => x.status);
    ctx.evidence.statusesAtCrash = raced.map((r) => r.x.status);
    for (const x of [...whileDown, ...raced.map((r) => r.x)]) {
      ctx.expect(
        x.status === 201 || x.status === 503,
        `createPayment answered ${x.status ?? x.error} around the PostgreSQL crash, not 201 or 503`,
        x,
      );
      ctx.expect(x.durationMs < 10_000, `createPayment took ${Math.round(x.durationMs)} ms around the crash`, x);
    }
    ctx.expect(
      whileDown.some((x) => x.status === 503),
      'no createPayment answered 503 while PostgreSQL was down: the fault did not bite',
    );
    const recoveredMs = await answersAgain(ctx, api, back);
    ctx.evidence.answersAgainAfterMs = recoveredMs;
    // Acknowledged is durable: every event answered 201 at the crash is still there.
    const acknowledged = raced.filter((r) => r.x.status === 201).map((r) => r.x.body as PaymentEvent);
    for (const id of orderIds(acknowledged)) {
      const x = await api.order(id);
      ctx.expect(x.status === 200, `payment order ${id}, acknowledged with 201 at the crash, is gone (${x.status})`, x);
    }
    await expectSettledOnce(ctx, third.psp, ids, EXECUTING_BOUND_MS, asked);
    ctx.evidence.settledAfterBackMs = Date.now() - back;
    third.psp.setWebhookMode({ mode: 'normal' });
    await payOnAndReverify(ctx, third.psp, asked, 'f6');
  } finally {
    third.psp.latencyMs = 0;
    third.psp.setWebhookMode({ mode: 'normal' });
  }
}

/** Polls createPayment with fresh events until a 201; fails past DB_BACK_BOUND_MS. Returns the time it took. */
async function answersAgain(ctx: CheckContext, api: ReturnType<typeof payApi>, since: number): Promise<number> {
  let last: Exchange | undefined;
  // The bound plus the scheduling delay measured (at most 5 s): a service that never reconnects is still caught.
  for (let i = 0; Date.now() - since < checkSlack(ctx.evidence, 5000).bound(DB_BACK_BOUND_MS); i++) {
    last = await api.create(newEvent(`f6b_${i}`, ['2.00']));
    if (last.status === 201) return Date.now() - since;
    ctx.expect(
      last.status === 503,
      `after PostgreSQL came back createPayment answered ${last.status ?? last.error}`,
      last,
    );
    await sleep(200);
  }
  return ctx.fail(
    `createPayment did not answer 201 within ${DB_BACK_BOUND_MS} ms after PostgreSQL came back (last: ${last?.status})`,
    last ? { exchange: last } : {},
  );
}
