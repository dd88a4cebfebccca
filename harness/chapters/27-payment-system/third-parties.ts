// The PSP fake for one graded run: started before the target (its URL and the webhook secret reach the target as
// SDGRADE_PAY_PSP_URL and SDGRADE_PAY_WEBHOOK_SECRET, see the reference's manifest), stopped after it. Checks find it
// here. For a target graded by URL, start your implementation against a fixed port and secret:
// SDGRADE_PAY_PSP_PORT=9270 SDGRADE_PAY_PAYOUT_PORT=9271 SDGRADE_PAY_WEBHOOK_SECRET=... and PSP_URL,
// PAYOUT_URL on your side pointing at them.
import { randomBytes } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { type FakeService, startFakeService } from '../../fakes/fake-service.ts';
import type { ThirdParties } from '../chapter-module.ts';
import { PayoutFake } from './payout-fake.ts';
import { PspFake } from './psp-fake.ts';

export interface PaymentThirdParties {
  psp: PspFake;
  service: FakeService;
  payouts: PayoutFake;
  payoutService: FakeService;
  secret: string;
}

let current: PaymentThirdParties | null = null;

export async function startPaymentThirdParties(o: { seed: number }): Promise<ThirdParties> {
  const secret = process.env['SDGRADE_PAY_WEBHOOK_SECRET'] || randomBytes(24).toString('hex');
  let url = '';
  const psp = new PspFake({ secret, seed: o.seed, publicUrl: () => url });
  const port = Number(process.env['SDGRADE_PAY_PSP_PORT'] ?? 0);
  const service = await startFakeService({ name: 'psp', handlers: psp.handlers, seed: o.seed, port });
  url = service.url;
  const payouts = new PayoutFake();
  const payoutPort = Number(process.env['SDGRADE_PAY_PAYOUT_PORT'] ?? 0);
  const payoutService = await startFakeService({
    name: 'payout',
    handlers: payouts.handlers,
    seed: o.seed,
    port: payoutPort,
  });
  const mine = { psp, service, payouts, payoutService, secret };
  current = mine;
  return {
    env: { SDGRADE_PAY_PSP_URL: url, SDGRADE_PAY_PAYOUT_URL: payoutService.url, SDGRADE_PAY_WEBHOOK_SECRET: secret },
    async close() {
      psp.stop();
      await service.stop();
      await payoutService.stop();
      if (current === mine) current = null;
    },
  };
}

/** The run's PSP fake, if one runs (for the load test, which has no check context). */
export function currentPsp(): PaymentThirdParties | null {
  return current;
}

/** The run's PSP fake as it is; skips the check when none runs. */
export function runningPsp(ctx: CheckContext): PaymentThirdParties {
  if (!current) ctx.skip('the PSP fake is not running (the chapter module starts it for each graded run)');
  return current;
}

/** The run's PSP fake, reset to a well-behaved PSP (call it first in a check); skips the check when none runs. */
export function pspOf(ctx: CheckContext): PaymentThirdParties {
  runningPsp(ctx);
  if (!current) throw new Error('unreachable');
  current.service.faults.clear();
  current.payoutService.faults.clear();
  current.psp.latencyMs = 0;
  current.psp.registrationLookupsDown = false;
  current.psp.hiddenRegistrations.clear();
  current.psp.loseAnswers(0);
  current.psp.clearChargeFaults();
  current.psp.clearLookupFaults();
  current.psp.setWebhookMode({ mode: 'normal' });
  return current;
}
