// RL-I1's model: the most admissions each algorithm's definition (specs/05-rate-limiter/README.md) allows in a timed
// trace, allowing for the fact that the target decided each request at some moment between the harness sending it
// and hearing the answer. Also used by RL-I5 (two instances behind one store) and unit-tested in the grade test.
import type { Algorithm, Timed } from './api.ts';

export const W = 1000; // every generated rule is per second: short windows keep the checks fast

/** The admissions that exceed the definition's bound, or null when the trace keeps it. */
export function overAdmission(algorithm: Algorithm, limit: number, trace: readonly Timed[]): string | null {
  const admitted = trace.filter((t) => t.d?.allowed).sort((a, b) => a.sentAt - b.sentAt);
  if (algorithm === 'fixed_window' || algorithm === 'sliding_window_counter') {
    // At most `limit` admitted in any window [kW, (k+1)W): count requests decided surely inside one.
    const byWindow = new Map<number, number>();
    for (const t of admitted) {
      const k = Math.floor(t.sentAt / W);
      if (Math.floor(t.doneAt / W) === k) byWindow.set(k, (byWindow.get(k) ?? 0) + 1);
    }
    for (const [k, n] of byWindow)
      if (n > limit) return `${n} admitted inside the window starting at ${k * W} (limit ${limit} per second)`;
    if (algorithm === 'sliding_window_counter') return overPreviousWindow(limit, admitted, byWindow);
    return null;
  }
  for (let i = 0; i < admitted.length; i++) {
    for (let j = i; j < admitted.length; j++) {
      const from = admitted[i]!.sentAt;
      const to = Math.max(...admitted.slice(i, j + 1).map((t) => t.doneAt));
      const n = j - i + 1;
      const span = to - from;
      // Buckets start full (token) or empty (leaking) and gain limit per W; the log admits limit per any W.
      const bound =
        algorithm === 'sliding_window_log'
          ? span < W
            ? limit
            : Number.POSITIVE_INFINITY
          : Math.floor(limit + (span * limit) / W);
      if (n > bound) return `${n} admitted within ${span} ms (the ${algorithm} definition allows ${bound})`;
    }
  }
  return null;
}

/**
 * The counter's estimate also weighs the previous window: in window k+1, at elapsed share p, no admission happens
 * while curr + floor(prev · (1 - p)) >= L, so by time T at most L - floor(prev · (1 - p(T))) are admitted in it. prev
 * (window k's admissions) is at least those surely inside window k, and the admissions counted in k+1 by T are
 * those surely inside it answered by T: both only make the bound looser. Needs the target's clock (same machine).
 */
function overPreviousWindow(limit: number, admitted: readonly Timed[], byWindow: Map<number, number>): string | null {
  for (const [k, prev] of byWindow) {
    const start = (k + 1) * W;
    const next = admitted
      .filter((t) => t.sentAt >= start && Math.floor(t.doneAt / W) === k + 1)
      .sort((a, b) => a.doneAt - b.doneAt);
    for (const [i, t] of next.entries()) {
      const p = (t.doneAt - start) / W;
      const bound = limit - Math.floor(prev * (1 - p));
      if (i + 1 > bound)
        return `${i + 1} admitted ${t.doneAt - start} ms into the window after one with ${prev} admitted (limit ${limit} per second): the counter's estimate allows ${bound}`;
    }
  }
  return null;
}
