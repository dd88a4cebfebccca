// The spec's retry schedule (README "Payment executor"): exponential back-off with jitter, 100 ms doubling to 2 s,
// jittered over its upper half, for charges and payout transfers alike. Judged from a fake's own record of when the
// requests arrived, so the service's answers are not the evidence.
//
// From below: no retry sooner than half its step (load only lengthens a wait), less the harness's own event-loop lag
// measured in the check: the fake stamps a request when its handler runs, so one it took late looks nearer the next.
// From above: the first retries, whose steps (100 to 800 ms) are far below the 3 s lease an attempt takes, must
// come within their step plus RETRY_ALLOWANCE_MS plus the harness's own event-loop lag measured in the same check,
// never later than RETRY_UPPER_CAP_MS (the median over the orders failed alike, when there are several). A retry that waits for the lease to run out (its retry time never written)
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

export interface RetryGaps {
  /** Per order or payout, the wait before each retry (ms; the first is the wait after attempt 1). */
  gapsMs: number[][];
  /** The least wait before each retry (ms). */
  floorsMs: number[];
  /** For the first RETRIES_BOUNDED_ABOVE retries: the median wait over the orders, and its upper bound (ms). */
  medianMs: number[];
  boundsMs: number[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/**
 * Checks the times (ms, in arrival order) of the successive requests at a fake of one or more orders or payouts,
 * all failed alike, against the spec's back-off: every retry of every one from below, and the median wait over them
 * of each of the first RETRIES_BOUNDED_ABOVE retries from above (one slow moment cannot decide it; a retry that
 * waits for the lease is late in every one). `slack` measures the harness's event-loop lag over the requests;
 * `what` names the requests in failure messages. Records the gaps in ctx.evidence[evidenceKey].
 */
export function expectRetrySchedule(
  ctx: CheckContext,
  series: readonly (readonly number[])[],
  slack: SchedulingSlack,
  what: string,
  evidenceKey: string,
): RetryGaps {
  const gapsMs = series.map((t) => t.slice(1).map((x, i) => x - t[i]!));
  const retries = Math.max(0, ...gapsMs.map((g) => g.length));
  const floorsMs = Array.from({ length: retries }, (_, i) => backoffFloorMs(i + 1));
  const bounded = Array.from({ length: Math.min(retries, RETRIES_BOUNDED_ABOVE) }, (_, i) => i);
  const medianMs = bounded.map((i) => median(gapsMs.filter((g) => g.length > i).map((g) => g[i]!)));
  const boundsMs = bounded.map((i) => slack.bound(backoffStepMs(i + 1) + RETRY_ALLOWANCE_MS));
  const record: RetryGaps = { gapsMs, floorsMs, medianMs, boundsMs };
  ctx.evidence[evidenceKey] = { ...record, slack: slack.record() };
  const lagMs = Math.ceil(slack.loopLagMs());
  const early = gapsMs.flatMap((g) =>
    g.flatMap((gap, i) =>
      gap < floorsMs[i]! - 1 - lagMs
        ? [`attempt ${i + 2} ${gap} ms after the one before, floor ${floorsMs[i]} ms less ${lagMs} ms of lag`]
        : [],
    ),
  );
  ctx.expect(
    early.length === 0,
    `${what}: retries came sooner than the spec's back-off allows (100 ms doubling to 2 s, jittered over its upper half): ${early.join('; ')}`,
  );
  const late = bounded.filter((i) => medianMs[i]! > boundsMs[i]!);
  const whose = series.length > 1 ? ` (the median over ${series.length})` : '';
  ctx.expect(
    late.length === 0,
    `${what}: retries came later than their back-off step plus ${RETRY_ALLOWANCE_MS} ms and the measured ` +
      `scheduling slack (${late
        .map((i) => `attempt ${i + 2} ${medianMs[i]} ms after the one before${whose}, bound ${boundsMs[i]} ms`)
        .join('; ')}); a retry that waits out the 3 s lease instead of its back-off is this late`,
  );
  return record;
}

/** A scheduling slack for the upper bounds: never more than keeps every bound at or under RETRY_UPPER_CAP_MS. */
export function retrySlack(): SchedulingSlack {
  return new SchedulingSlack(RETRY_UPPER_CAP_MS - backoffStepMs(RETRIES_BOUNDED_ABOVE) - RETRY_ALLOWANCE_MS);
}
