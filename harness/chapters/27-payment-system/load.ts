// The chapter's load test: the k6 script's checkouts against the target, with the PSP fake answering 40 ms late in
// a process of its own (load-fakes.ts), the fake's own capacity at the same rate as PAY-T1's yardstick, and the
// status-read capacity probe against a no-op server, then the capacity per node: a stepped search of the checkout
// rate (the script's whole flow per iteration, within PAY-T3) beside the no-op server offered two requests per
// iteration. Maps the k6 summaries to PAY-T1..T4 and PAY-T6.
import { join } from 'node:path';
import { gradeTarget, type Measurement } from '../../core/grade-target.ts';
import type { LoadRun } from '../../core/load-run.ts';
import { loadDir } from '../../core/paths.ts';
import { loadTargets } from '../../core/resolve-targets.ts';
import { round3 } from '../../core/stats.ts';
import { throttleProgress } from '../../core/throttle-progress.ts';
import { atOfferedRate } from '../../load/at-rate.ts';
import { capacityMeasurement, capacityRatio } from '../../load/capacity-ratio.ts';
import { capacityPerNode, type SearchPlan } from '../../load/capacity-search.ts';
import { type ChapterK6Run, loadK6 } from '../../load/chapter-k6.ts';
import { flowStepRunner } from '../../load/flow-step.ts';
import { checkFailureRate, loadSection, measuredScenario, shareOf } from '../../load/measured-scenario.ts';
import type { CapacityPerNode } from '../../results/types.ts';
import { type FakeCapacity, measureFakeCapacity } from './fake-capacity.ts';
import { loadFakes } from './load-fakes.ts';

// Mirrors the k6 script's profiles (measured seconds, share of the rate).
const profiles = {
  smoke: { measureS: 8, scale: 0.02, probeS: 3, rounds: 1, fakeS: 2 },
  full: { measureS: 60, scale: 1, probeS: 10, rounds: 3, fakeS: 10 },
};

/**
 * Checkouts per second: each is a create and a hosted-page payment that both wait on the PSP (40 ms), so the
 * search starts lower than an HTTP one. Smoke proves the plumbing in two short steps a side.
 */
const CHECKOUT_PLANS: Record<'smoke' | 'full', SearchPlan> = {
  smoke: { startRps: 10, factor: 4, maxSteps: 2, refine: 0, warmupS: 1, stepS: 2 },
  full: { startRps: 50, factor: 2, maxSteps: 10, refine: 3, warmupS: 3, stepS: 8 },
};

/** A PSP API round trip as a real one takes (the fake's added latency for the run). */
export const PSP_LATENCY_MS = 40;

export const loadPaymentSystem: LoadRun = async (ctx) => {
  const t = loadTargets(ctx.catalog.chapter);
  const p = profiles[ctx.profile];
  const rate = Math.ceil((t['PAY-T1']!.value ?? 0) * p.scale);
  // grade-load: the load ran elsewhere; what needs the implementation is reported as not measured.
  const here = !ctx.replayDir;
  const fakes = here
    ? await loadFakes(ctx.target, PSP_LATENCY_MS, 27)
    : { child: null, where: "the runners' setup (graded from their outputs)", restore: async () => {} };
  let run: ChapterK6Run;
  let fake: FakeCapacity | null = null;
  let orderId: string | null = null;
  let perNode: CapacityPerNode[] = [];
  try {
    if (fakes.child) {
      fake = await measureFakeCapacity({
        pspUrl: fakes.child.pspUrl,
        rate,
        seconds: p.fakeS,
        outDir: join(ctx.outDir, 'psp-fake'),
        k6: ctx.k6,
        onProgress: ctx.onProgress,
      });
    }
    ctx.onProgress(`k6 ${ctx.profile} profile against ${ctx.target.baseUrl} (about ${p.measureS + 5} s)`);
    run = await loadK6(ctx, {
      script: join(loadDir, '27-payment-system.js'),
      env: { TARGET_URL: ctx.target.baseUrl, PROFILE: ctx.profile },
      onProgress: throttleProgress(ctx.onProgress),
      timeoutMs: (p.measureS + 120) * 1000,
    });
    if (here) orderId = await anyOrder(ctx.target.baseUrl);
    // While the load run's PSP fake still answers 40 ms late: the checkout flow at stepped rates, within PAY-T3.
    perNode = await capacityPerNode(ctx, [
      {
        target: t['PAY-T1']!,
        latency: t['PAY-T3']!,
        label: 'checkout (create, then pay on the PSP page)',
        url: `${ctx.target.baseUrl}/v1/payments`,
        store: {
          name: 'the ledger and wallet store',
          measured: false,
          note: 'part of the search (each checkout writes the payment, and its webhook the ledger), not measured separately',
        },
        search: {
          plans: CHECKOUT_PLANS,
          // A checkout is two requests from k6 (the create, the hosted-page payment) and two the service answers
          // (the create, the PSP's webhook): the no-op server is offered two per iteration.
          requestsPerIteration: 2,
          impl: (o) =>
            flowStepRunner({
              script: join(loadDir, '27-payment-system.js'),
              env: { TARGET_URL: ctx.target.baseUrl, PROFILE: ctx.profile },
              scenario: 'pay',
              iterations: 'payments',
              latencyTrend: 'create_ms',
              latencyMs: o.latencyMs,
              plan: o.plan,
              outDir: o.outDir,
              k6: o.k6,
            }),
        },
      },
    ]);
  } finally {
    await fakes.restore();
  }
  const pay = measuredScenario(run.summary, 'pay', p.measureS, ['payments']);
  const checks = checkFailureRate(run.summary);
  const errorRate = shareOf(Math.max(pay.stats.errorRate, checks.rate));
  const created = pay.counters['payments'] ?? 0;
  const paymentRps = round3(created / p.measureS);
  const createTrend = run.summary.metrics['create_ms{scenario:pay}'];
  const createP99 = createTrend?.type === 'trend' ? round3(createTrend.values['p(99)'] ?? Number.NaN) : null;

  // PAY-T4: one order's status read, against the no-op server's ceiling.
  const probe = { label: 'status read', rounds: p.rounds };
  const statusReads: Measurement =
    orderId === null
      ? {
          value: null,
          reason: 'not measured: graded from runner outputs (grade-load); the probe needs the implementation',
        }
      : capacityMeasurement(
          await capacityRatio({
            ...probe,
            url: `${ctx.target.baseUrl}/v1/payments/${orderId}`,
            probeS: p.probeS,
            outDir: ctx.outDir,
            k6: ctx.k6,
            onProgress: ctx.onProgress,
          }),
          probe,
        );
  const yardstick = { name: "the book's 1 million a day (11.6/s)", value: 11.574, unit: 'req/s' };
  const scenarios = [{ name: 'pay', targetRps: rate, ...pay.stats, rps: paymentRps }];
  // The no-op yardstick at the same offered rate, and k6's own CPU use: met, missed, or beyond this machine.
  const atRate = await atOfferedRate(ctx, run, scenarios);
  return {
    load: { ...loadSection(ctx.profile, ctx.k6Version, run, scenarios), capacity: perNode },
    targets: [
      gradeTarget(
        t['PAY-T1']!,
        {
          value: paymentRps,
          yardstick,
          conditions: [
            { ok: pay.dropped === 0, why: `${pay.dropped} checkouts could not start in time (rate not carried)` },
            { ok: errorRate === 0, why: `error rate ${errorRate}` },
          ],
          // Only a rate not carried can be the machine's; a failed payment or wrong body is always a miss.
          ...(errorRate === 0 ? { atRate } : {}),
          reason:
            `${created} payment events in ${p.measureS} s at ${rate}/s offered, PSP latency ${PSP_LATENCY_MS} ms, ` +
            `the PSP fake in ${fakes.where}` +
            (fake ? `; the fake alone carried ${fake.checkoutRps} checkouts/s at the same rate (PAY-T6)` : ''),
        },
        ctx.profile,
      ),
      gradeTarget(
        t['PAY-T2']!,
        { value: errorRate, reason: `${checks.failed} of ${checks.total} body checks failed` },
        ctx.profile,
      ),
      gradeTarget(
        t['PAY-T3']!,
        { value: createP99, reason: 'createPayment p99 over the measured scenario', atRate },
        ctx.profile,
      ),
      gradeTarget(t['PAY-T4']!, statusReads, ctx.profile),
      gradeTarget(
        t['PAY-T6']!,
        fake
          ? {
              value: fake.checkoutRps,
              yardstick: { name: 'the rate PAY-T1 offers the service', value: rate, unit: 'req/s' },
              reason:
                `${fake.dropped} checkouts could not start in time, error rate ${fake.errorRate}; ` +
                `${p.fakeS} s, PSP latency ${PSP_LATENCY_MS} ms, webhooks to a no-op server`,
            }
          : {
              value: null,
              reason: here
                ? 'the fake runs in the harness (URL target): not measured alone'
                : 'not measured: graded from runner outputs (grade-load)',
            },
        ctx.profile,
      ),
    ],
  };
};

async function anyOrder(base: string): Promise<string> {
  const id = `po_probe_${Date.now().toString(36)}`;
  const res = await fetch(`${base}/v1/payments`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': `probe-${id}` },
    body: JSON.stringify({
      checkout_id: `chk_${id}`,
      buyer_info: { buyer_id: 'buyer_probe' },
      payment_orders: [{ payment_order_id: id, seller_account: 'seller_probe', amount: '1.00', currency: 'USD' }],
    }),
  });
  await res.arrayBuffer();
  return id;
}
