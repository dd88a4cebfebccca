// RL-T7: how often the sliding window counter (the book's approximation) disagrees with the exact sliding window
// on a generated trace. The book cites Cloudflare: 0.003% of 400 million requests wrongly allowed or limited. The
// trace imitates that population: many sources, Poisson arrivals, rates spread around the limit (most below it, a
// tail far above), several windows long. Each decision of the counter is judged against the exact sliding window
// over the counter's own admissions: an admission is wrong when it makes more than the limit in the last window
// (the approximation let too much through); a refusal is wrong when the last window held fewer than the limit.
// (Running an exact limiter beside it instead would count every later decision of a diverged state as wrong.)
import { decider, type Limit } from '../../../reference/05-rate-limiter/algorithms.ts';
import { type Random, seededRandom } from '../../fakes/prng.ts';

export interface TraceOptions {
  sources: number;
  windows: number;
  limit: Limit;
  seed: number;
}

export interface Disagreement {
  requests: number;
  /** Admitted although the exact window (t - W, t] already held the limit's worth of admissions. */
  wronglyAdmitted: number;
  /** Refused although the exact window held fewer admissions than the limit. */
  wronglyLimited: number;
}

/** A standard normal draw (Box-Muller). */
function normal(random: Random): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Arrival times of one source: a Poisson process at `perMs` over `spanMs`. */
function arrivals(random: Random, perMs: number, spanMs: number): number[] {
  const out: number[] = [];
  for (let t = -Math.log(1 - random()) / perMs; t < spanMs; t += -Math.log(1 - random()) / perMs)
    out.push(Math.floor(t));
  return out;
}

/**
 * Runs every source's requests through both limiters. Sources are independent keys, so each is replayed alone (no
 * need to interleave them in time). A source's rate is the limit's rate times a log-normal factor with median 0.5.
 */
export function counterVsExactWindow(o: TraceOptions): Disagreement {
  const random = seededRandom(o.seed);
  const { limit, windowMs } = o.limit;
  const counter = decider('sliding_window_counter');
  const out: Disagreement = { requests: 0, wronglyAdmitted: 0, wronglyLimited: 0 };
  for (let s = 0; s < o.sources; s++) {
    const factor = 0.1 * Math.exp(normal(random));
    // Start at a random phase of a window, as real sources do.
    const offset = Math.floor(random() * windowMs) + windowMs;
    const times = arrivals(random, (limit / windowMs) * factor, o.windows * windowMs);
    let state: unknown;
    const admitted: number[] = []; // the counter's admissions, oldest first
    let head = 0;
    for (const rel of times) {
      const now = offset + rel;
      const c = counter(state, o.limit, now);
      state = c.state;
      while (head < admitted.length && admitted[head]! <= now - windowMs) head++;
      const room = admitted.length - head < limit;
      out.requests++;
      if (c.outcome.allowed) {
        admitted.push(now);
        if (!room) out.wronglyAdmitted++;
      } else if (room) out.wronglyLimited++;
    }
  }
  return out;
}
