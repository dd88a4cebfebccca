// The spec's retry schedule (README "Payment executor"): exponential back-off with jitter, 100 ms doubling to 2 s,
// jittered over its upper half, for charges and payout transfers alike. Judged from a fake's own record of when the
// requests arrived, so the service's answers are not the evidence.
//
// From below: no retry sooner than half its step (load only lengthens a wait, so this bound holds on any machine).
// From above: the first retries, whose steps (100 to 800 ms) are far below the 3 s lease an attempt takes, must
// come within their step plus RETRY_ALLOWANCE_MS plus the harness's own event-loop lag measured in the same check,
// never later than RETRY_UPPER_CAP_MS. A retry that waits for the lease to run out (its retry time never written)
// comes about 3 s after the attempt before: caught, while a correct one has over a second of slack on each.
import type { CheckContext } from '../../core/check-context.ts';
import { SchedulingSlack } from '../../core/scheduling-slack.ts';

/** The spec's back-off step after attempt k (1-based): 100 ms doubling, capped at 2 s. */
export function backoffStepMs(k: number): number {
  return Math.min(2000, 100 * 2 ** (k - 1));
}

/** The least wait before the retry after attempt k: the step jittered over its upper half. */
export function backoffFloorMs(k: number): number {
  return backoffStepMs(k) / 2;
}

/** How many first retries get an upper bound: their steps (100, 200, 400, 800 ms) are far below the 3 s lease. */
export const RETRIES_BOUNDED_ABOVE = 4;
/** What a retry may take beyond its step: the retry queue's read, the lease's write, the request's round trip. */
export const RETRY_ALLOWANCE_MS = 1000;
/** No upper bound is ever later than this: half a second under the spec's 3 s lease. */
export const RETRY_UPPER_CAP_MS = 2500;

export interface RetryGap {
  /** The attempt this request was (2 = the first retry). */
  attempt: number;
  gapMs: number;
  floorMs: number;
  /** The upper bound applied, when this retry has one. */
  boundMs?: number;
}

/**
 * Checks the times (ms, in arrival order) of one order's or payout's successive requests at a fake against the
 * spec's back-off, from below for every retry and from above for the first RETRIES_BOUNDED_ABOVE. `slack` measures
 * the harness's event-loop lag over the requests; `what` names the requests in failure messages. Records the gaps
 * in ctx.evidence[evidenceKey].
 */
export function expectRetrySchedule(
  ctx: CheckContext,
  times: readonly number[],
  slack: SchedulingSlack,
  what: string,
  evidenceKey: string,
): RetryGap[] {
  const gaps: RetryGap[] = times.slice(1).map((t, i) => {
    const k = i + 1;
    const gap: RetryGap = { attempt: k + 1, gapMs: t - times[i]!, floorMs: backoffFloorMs(k) };
    if (k <= RETRIES_BOUNDED_ABOVE) gap.boundMs = slack.bound(backoffStepMs(k) + RETRY_ALLOWANCE_MS);
    return gap;
  });
  ctx.evidence[evidenceKey] = { gaps, slack: slack.record() };
  const early = gaps.filter((g) => g.gapMs < g.floorMs - 1);
  ctx.expect(
    early.length === 0,
    `${what}: retries came sooner than the spec's back-off allows (100 ms doubling to 2 s, jittered over its upper half): ${early
      .map((g) => `attempt ${g.attempt} ${g.gapMs} ms after the one before, floor ${g.floorMs} ms`)
      .join('; ')}`,
  );
  const late = gaps.filter((g) => g.boundMs !== undefined && g.gapMs > g.boundMs);
  ctx.expect(
    late.length === 0,
    `${what}: retries came later than their back-off step plus ${RETRY_ALLOWANCE_MS} ms and the measured ` +
      `scheduling slack (${late
        .map((g) => `attempt ${g.attempt} ${g.gapMs} ms after the one before, bound ${g.boundMs} ms`)
        .join('; ')}); a retry that waits out the 3 s lease instead of its back-off is this late`,
  );
  return gaps;
}

/** A scheduling slack for the upper bounds: never more than keeps every bound at or under RETRY_UPPER_CAP_MS. */
export function retrySlack(): SchedulingSlack {
  return new SchedulingSlack(RETRY_UPPER_CAP_MS - backoffStepMs(RETRIES_BOUNDED_ABOVE) - RETRY_ALLOWANCE_MS);
}
