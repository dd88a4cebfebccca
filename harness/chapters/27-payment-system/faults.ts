// PAY-F1..F5: faults injected into the PSP, the webhooks, the process and the database, and what "survive" means
// checked afterwards: every paid order ends SUCCESS, charged once (the PSP fake's own record), recorded once.
// Each records evidence that its fault really happened (a fault that did not bite proves nothing, and says so).
import { setTimeout as sleep } from 'node:timers/promises';
import type { CheckContext } from '../../core/check-context.ts';
import { newEvent, payApi } from './api.ts';
import { createAndPay, EXECUTING_BOUND_MS, expectSettledOnce, orderIds, waitExecuting } from './flow.ts';
import { pspOf } from './third-parties.ts';

/** PAY-F1: the PSP answers 5xx half the time and sometimes hangs; everything paid still succeeds, once. */
export async function pspErrors(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const events = await createAndPay(ctx, api, (i) => newEvent(`f1_${i}`, ['19.99', '0.01']), 4);
  third.psp.setWebhookMode({ mode: 'drop' }); // so the executor's retries, not the webhook, must settle them
  third.service.faults.set({ mode: 'error5xx', probability: 0.6 });
  const more = await createAndPay(ctx, api, (i) => newEvent(`f1b_${i}`, ['3.50']), 3);
  await sleep(1500);
  third.service.faults.set({ mode: 'timeout', times: 2, delayMs: 5000 });
  await sleep(500);
  third.service.faults.clear();
  const fired = third.service.faults.fired.length;
  ctx.evidence.faultsFired = fired;
  if (fired === 0) throw new Error('no PSP fault fired: the fault did not bite, so this run proves nothing');
  await expectSettledOnce(ctx, third.psp, orderIds([...events, ...more]), 30_000);
}

/** PAY-F2: the PSP charges and the answer is lost, with no webhook; the retry (same key) must not charge again. */
export async function lostAnswers(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  third.psp.setWebhookMode({ mode: 'drop' });
  const lostBefore = third.psp.lostAnswers;
  third.psp.loseAnswers(8);
  const events = await createAndPay(ctx, api, (i) => newEvent(`f2_${i}`, ['250.00', '0.99']), 4);
  const ids = orderIds(events);
  await expectSettledOnce(ctx, third.psp, ids, 30_000);
  ctx.evidence.lostAnswers = third.psp.lostAnswers - lostBefore;
  if (third.psp.lostAnswers === lostBefore) throw new Error('no answer was lost: the fault did not bite');
}

/** PAY-F3: webhooks duplicated, reordered, or never sent: every order settles (polling), recorded once. */
export async function webhookDisorder(ctx: CheckContext): Promise<void> {
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const ids: string[] = [];
  for (const mode of [{ mode: 'drop' }, { mode: 'duplicate' }, { mode: 'reorder', batchSize: 3 }] as const) {
    third.psp.setWebhookMode(mode);
    const events = await createAndPay(ctx, api, (i) => newEvent(`f3_${mode.mode}_${i}`, ['8.00', '1.10']), 3);
    if (mode.mode === 'reorder') await sleep(2500).then(() => third.psp.flushWebhooks());
    const mine = orderIds(events);
    // Polling starts 2 s after a registration (the reference's), so 10 s leaves room for a loaded machine.
    await expectSettledOnce(ctx, third.psp, mine, 10_000);
    ids.push(...mine);
  }
  ctx.evidence.orders = ids.length;
  ctx.evidence.webhooksDropped = third.psp.webhooksDropped().length;
  ctx.evidence.webhooksDelivered = third.psp.webhooksSent().length;
}

/** PAY-F4: kill -9 while charges are in flight, restart: nothing stays EXECUTING past the bound, nothing charged twice. */
export async function killMidFlow(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const third = pspOf(ctx);
  const api = payApi(ctx);
  third.psp.setWebhookMode({ mode: 'drop' });
  third.psp.latencyMs = 400; // charges are in flight when the process dies
  const events = await createAndPay(ctx, api, (i) => newEvent(`f4_${i}`, ['12.00', '4.56']), 6, 6);
  const ids = orderIds(events);
  // Wait until the poller has started executing some of them, then kill -9.
  const executing = await waitExecuting(api, ids);
  ctx.evidence.executingAtKill = executing;
  if (executing === 0) throw new Error('no order was EXECUTING before the kill: the fault did not bite');
  await ctx.target.kill();
  third.psp.latencyMs = 0;
  await ctx.target.start();
  const restarted = Date.now();
  await expectSettledOnce(ctx, third.psp, ids, EXECUTING_BOUND_MS);
  ctx.evidence.settledAfterRestartMs = Date.now() - restarted;
}

/** PAY-F5: PostgreSQL unreachable: 503s (no 500, no hang) meanwhile, and every paid order settles once it is back. */
export async function databaseOutage(ctx: CheckContext): Promise<void> {
  ctx.require('dependency:database');
  const third = pspOf(ctx);
  const api = payApi(ctx);
  const db = ctx.target.dependencies.database!;
  const events = await createAndPay(ctx, api, (i) => newEvent(`f5_${i}`, ['66.60']), 3);
  third.psp.latencyMs = 300;
  const during = await createAndPay(ctx, api, (i) => newEvent(`f5b_${i}`, ['1.23']), 2);
  await db.setReachable(false);
  const statuses: (number | null)[] = [];
  try {
    await sleep(300);
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
  await expectSettledOnce(ctx, third.psp, orderIds([...events, ...during]), 30_000);
}
