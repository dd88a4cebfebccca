// KV-I1's checker: from the recorded writes (acknowledged, failed, or unknown) and the final state of each key,
// decides whether every acknowledged write survived: it is one of the final siblings, or it was superseded by a write
// whose context covered its dot and which itself survived (transitively). A write whose outcome is unknown may or
// may not be there. Linear in the writes per key times the writes that survive; it stops at a time budget and says
// "unknown" rather than hang (the weak spot of linearizability checkers like Knossos on long histories).
import { covers } from './causal.ts';

export interface RecordedWrite {
  key: string;
  value: string;
  /** The context the client sent (empty: a blind write). */
  sentContext: string;
  outcome: 'ok' | 'info' | 'fail';
  /** The version's dot: from the acknowledgement, or from a read that saw the value. */
  dot: string | null;
}

export interface CheckVerdict {
  verdict: 'valid' | 'lost' | 'unknown';
  lost: RecordedWrite[];
  acknowledged: number;
  superseded: number;
  present: number;
  elapsedMs: number;
  reason?: string;
}

export function checkNoLostWrites(
  writes: readonly RecordedWrite[],
  finalValues: ReadonlyMap<string, readonly string[]>,
  budget: { ms: number; steps: number } = { ms: 2000, steps: 5_000_000 },
): CheckVerdict {
  const started = performance.now();
  let steps = 0;
  const byKey = new Map<string, RecordedWrite[]>();
  for (const w of writes) {
    if (w.outcome === 'fail') continue;
    const list = byKey.get(w.key);
    if (list) list.push(w);
    else byKey.set(w.key, [w]);
  }
  const lost: RecordedWrite[] = [];
  let superseded = 0;
  let present = 0;
  let acknowledged = 0;
  for (const [key, ws] of byKey) {
    const final = new Set(finalValues.get(key) ?? []);
    const survives = new Set<RecordedWrite>(ws.filter((w) => final.has(w.value)));
    const queue = [...survives];
    // Worklist: a surviving write carries along every write its context covered.
    while (queue.length) {
      const s = queue.pop()!;
      for (const w of ws) {
        if (++steps > budget.steps || (steps % 4096 === 0 && performance.now() - started > budget.ms))
          return {
            verdict: 'unknown',
            lost: [],
            acknowledged,
            superseded,
            present,
            elapsedMs: performance.now() - started,
            reason: `the checker ran out of its budget (${budget.ms} ms, ${budget.steps} steps)`,
          };
        if (survives.has(w) || w.dot === null || !covers(s.sentContext, w.dot)) continue;
        survives.add(w);
        queue.push(w);
      }
    }
    for (const w of ws) {
      if (w.outcome !== 'ok') continue;
      acknowledged++;
      if (final.has(w.value)) present++;
      else if (survives.has(w)) superseded++;
      else lost.push(w);
    }
  }
  return {
    verdict: lost.length ? 'lost' : 'valid',
    lost,
    acknowledged,
    superseded,
    present,
    elapsedMs: performance.now() - started,
  };
}
