// Part of PAY-F1: the PSP's registration lookups fail while payments are in flight. The poller is how the service
// learns a payment whose webhook never came; a lookup that fails (5xx, no answer, 404) tells it nothing about the
// buyer's payment, so it must ask again at the next poll, never take the failure for a decline.
import type { CheckContext } from '../../core/check-context.ts';
import type { PaymentEvent } from './api.ts';
import { orderIds, type Settled } from './flow.ts';
import type { LookupFault } from './psp-fake.ts';
import type { PaymentThirdParties } from './third-parties.ts';

/** The registration-lookup faults, one per checkout paid during the fault. */
export const LOOKUP_FAULTS: LookupFault[] = ['error5xx', 'timeout', 'notFound'];

/**
 * The checkouts paid during the fault, their webhooks dropped, had their first registration lookup
 * after the buyer paid fail (503, a hang, a 404). A failed lookup says nothing about the buyer's payment: every
 * order must end SUCCESS, not FAILED as if declined. The hits are the evidence that the fault bit.
 */
export function expectPaidDespiteLookups(
  ctx: CheckContext,
  third: PaymentThirdParties,
  during: readonly PaymentEvent[],
  settled: Map<string, Settled>,
  hitsFrom: number,
): void {
  const faultOf = new Map(third.psp.lookupFaultHits.slice(hitsFrom).map((h) => [h.token, h.fault]));
  const paid = during.filter((e) => faultOf.has(e.psp_token));
  ctx.evidence.lookupFaultsWhilePaid = paid.length;
  for (const e of paid) {
    for (const id of orderIds([e])) {
      const status = settled.get(id)?.order.status;
      ctx.expect(
        status === 'SUCCESS',
        `${id} of a paid checkout ended ${status} after the PSP's lookup of its registration failed ` +
          `(${faultOf.get(e.psp_token)}): a failed lookup is no outcome, not a decline`,
      );
    }
  }
}
