// Slack for a timing property, from the scheduling delay measured while the check runs. On a busy machine the
// harness's own timers fire late and a request's round trip grows, so "answered within 2 s" or "refused until the
// timeout" can fail a correct implementation for the harness's slowness alone. A check that times something adds
// the delay it measured (this process's event-loop lag, and the round trip of the request it times) to its bound,
// never more than a cap the check chooses below the gap between a correct and a wrong implementation, so a wrong
// one is still caught; and it records the slack it used in its evidence.
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** How often the event-loop probe ticks, in ms. */
const RESOLUTION_MS = 10;

export interface SlackRecord {
  /** The worst lateness of this process's timers while the check ran, in ms. */
  loopLagMs: number;
  /** The largest slack added to a bound, in ms (0 when none was needed). */
  usedMs: number;
  /** The check's cap on the slack, in ms. */
  capMs: number;
}

// A slack that is never stopped (checkSlack's, when a check ends by failing) stops measuring once it is collected.
const stopWhenCollected = new FinalizationRegistry<IntervalHistogram>((h) => h.disable());

export class SchedulingSlack {
  private readonly histogram: IntervalHistogram;
  private used = 0;

  /** Starts measuring; `capMs` bounds every slack this gives (choose it below what a wrong implementation shows). */
  constructor(
    readonly capMs: number,
    private readonly evidence?: Record<string, unknown>,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.histogram.enable();
    stopWhenCollected.register(this, this.histogram, this);
  }

  /** This process's worst event-loop delay since the start, in ms (a timer due at t fired at t + this, at most). */
  loopLagMs(): number {
    // The histogram records each whole interval between ticks: the lateness is what exceeds the resolution.
    return Number.isFinite(this.histogram.max) ? Math.max(0, this.histogram.max / 1e6 - RESOLUTION_MS) : 0;
  }

  /**
   * The slack for one timed step: the event-loop lag measured so far plus `extraMs` (a delay measured for this
   * step, e.g. the round trip of a request the bound does not already include), capped at capMs.
   */
  slackMs(extraMs = 0): number {
    const s = Math.min(this.capMs, Math.max(0, Math.ceil(this.loopLagMs() + extraMs)));
    this.used = Math.max(this.used, s);
    return s;
  }

  /** `baseMs` plus the slack: the bound a timing property checks against (recorded in the evidence given). */
  bound(baseMs: number, extraMs = 0): number {
    const b = baseMs + this.slackMs(extraMs);
    if (this.evidence) this.evidence['schedulingSlack'] = this.record();
    return b;
  }

  record(): SlackRecord {
    return { loopLagMs: Math.round(this.loopLagMs()), usedMs: this.used, capMs: this.capMs };
  }

  /** Stops measuring and returns what was used (for ctx.evidence.schedulingSlack). */
  stop(): SlackRecord {
    const r = this.record();
    this.histogram.disable();
    stopWhenCollected.unregister(this);
    return r;
  }
}

const perCheck = new WeakMap<Record<string, unknown>, SchedulingSlack>();

/**
 * The SchedulingSlack of one check (keyed by its evidence object, so the helpers of a check share it); every bound
 * it gives is recorded in `evidence.schedulingSlack`. Measuring starts on the first call.
 */
export function checkSlack(evidence: Record<string, unknown>, capMs: number): SchedulingSlack {
  let s = perCheck.get(evidence);
  if (!s) {
    s = new SchedulingSlack(capMs, evidence);
    perCheck.set(evidence, s);
  }
  return s;
}

/**
 * Runs `fn` with a SchedulingSlack and records what it used in `evidence.schedulingSlack`, however `fn` ends
 * (a failed check keeps the slack it was given in its evidence).
 */
export async function withSchedulingSlack<T>(
  evidence: Record<string, unknown>,
  capMs: number,
  fn: (slack: SchedulingSlack) => Promise<T>,
): Promise<T> {
  const slack = new SchedulingSlack(capMs);
  try {
    return await fn(slack);
  } finally {
    evidence['schedulingSlack'] = slack.stop();
  }
}
