// RL-I1's other half: over-admission.ts bounds admissions from above, which cannot see a limiter that admits too
// little, or a sliding log that forgets the refused requests it must keep. For the three window algorithms the
// definition's state is a count that a timed trace bounds, so some decisions are sure (specs/05-rate-limiter/README.md
// section 3): a refusal is wrong when even the most the state can hold is below L, and the sliding log's admission
// is wrong when more than L requests, refused ones included, were surely logged in the W before it. As in
// over-admission.ts, each request was decided somewhere between the harness sending it and hearing back; every count
// here takes the side that excuses the target, so the reference cannot fail it however slow the machine is.
import type { Algorithm, Timed } from './api.ts';
import { W } from './over-admission.ts';

/** A decision the definition surely makes the other way, or null when none in the trace is sure. */
export function againstDefinition(algorithm: Algorithm, limit: number, trace: readonly Timed[]): string | null {
  if (trace.some((t) => !t.d)) return null; // a request without a decision: its effect on the state is unknown
  if (algorithm === 'token_bucket' || algorithm === 'leaking_bucket') return bucketRefusal(limit, trace);
  for (const r of trace) {
    const others = trace.filter((j) => j !== r && j.sentAt <= r.doneAt); // those that may have been decided first
    const wrong =
      algorithm === 'sliding_window_log' ? logDecision(limit, r, others) : windowRefusal(algorithm, limit, r, others);
    if (wrong) return wrong;
  }
  return null;
}

/**
 * A bucket's refusal while it surely held a token (its room, for the leaking bucket). From any moment T (it held
 * >= 0 tokens then) to a request decided at d >= sentAt, it earned min(L, (sentAt - T) · L/W) and spent at most one
 * per admission that may have been decided in [T, d]: a refusal where that leaves >= 1 is wrong. A bucket that
 * drops the refill's fraction, or moves its clock on without refilling, refuses a steady stream above the rate long
 * after it has earned tokens back. Each T is a moment the harness read its own clock (the target's, same machine).
 */
function bucketRefusal(limit: number, trace: readonly Timed[]): string | null {
  const moments = trace.flatMap((t) => [t.sentAt, t.doneAt]);
  for (const r of trace) {
    if (r.d?.allowed) continue;
    for (const from of moments) {
      if (from > r.sentAt) continue;
      const earned = Math.min(limit, ((r.sentAt - from) * limit) / W);
      const spent = trace.filter((j) => j !== r && j.d?.allowed && j.doneAt >= from && j.sentAt <= r.doneAt).length;
      if (earned - spent >= 1 + 1e-6)
        return `a refusal ${r.sentAt - from} ms after a moment the bucket held >= 0 tokens, with at most ${spent} admitted since (limit ${limit} per second): it had earned ${earned.toFixed(2)} tokens, so it admits it`;
    }
  }
  return null;
}

/** Admissions that may have been decided inside [from, from + W). */
function mayBeIn(from: number, ts: readonly Timed[]): number {
  return ts.filter((t) => t.d?.allowed && t.doneAt >= from && t.sentAt < from + W).length;
}

/** A fixed window or counter refusal, decided surely inside one window, where the estimate cannot reach L. */
function windowRefusal(algorithm: Algorithm, limit: number, r: Timed, others: readonly Timed[]): string | null {
  const k = Math.floor(r.sentAt / W);
  if (r.d?.allowed || Math.floor(r.doneAt / W) !== k) return null;
  const start = k * W;
  // The fixed window's retry-after is the end of its window (section 3.3): from a refusal decided at or after
  // sentAt, at most start + W - sentAt (1 ms allowed for rounding), not a whole window from whenever it is asked.
  if (algorithm === 'fixed_window' && r.d && r.d.retryAfterMs > start + W - r.sentAt + 1)
    return `a refusal ${r.sentAt - start}..${r.doneAt - start} ms into a window says retryAfterMs ${r.d.retryAfterMs}: the fixed window ends (and admits again) within ${start + W - r.sentAt} ms`;
  const curr = mayBeIn(start, others);
  if (algorithm === 'fixed_window')
    return curr < limit
      ? `a refusal ${r.sentAt - start}..${r.doneAt - start} ms into a window that holds at most ${curr} admissions (limit ${limit} per second): the fixed window, aligned to the epoch, admits it`
      : null;
  // The counter's estimate curr + floor(prev · (1 - p)) is largest at the earliest p the request may have had.
  const prev = mayBeIn(start - W, others);
  const estimate = curr + Math.floor(prev * (1 - (r.sentAt - start) / W) + 1e-9);
  return estimate < limit
    ? `a refusal ${r.sentAt - start} ms into a window with at most ${curr} admitted, after one with at most ${prev} (limit ${limit} per second): the counter's estimate is at most ${estimate}, so it admits it`
    : null;
}

/**
 * The book's log appends every request, refused ones too, and admits iff it then holds at most L entries newer than
 * now - W. Refused wrongly: at most L entries (itself included) may be in its window. Admitted wrongly: more than L
 * were surely logged before it (answered before it was sent) and surely still inside its window.
 */
function logDecision(limit: number, r: Timed, others: readonly Timed[]): string | null {
  if (r.d?.allowed) {
    const sure = others.filter((j) => j.doneAt <= r.sentAt && j.sentAt > r.doneAt - W);
    return sure.length + 1 > limit
      ? `an admission after ${sure.length} requests (${sure.filter((j) => !j.d?.allowed).length} of them refused) surely logged in the last ${W} ms (limit ${limit} per second): the book's log keeps refused requests too, so it refuses it`
      : null;
  }
  const may = others.filter((j) => j.doneAt > r.sentAt - W).length;
  return may + 1 <= limit
    ? `a refusal with at most ${may + 1} requests (itself included) in the log's last ${W} ms (limit ${limit} per second): the log admits it`
    : null;
}
