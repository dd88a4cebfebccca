// The KV-I1 history checker on hand-made histories: what counts as lost, superseded or maybe-present, and that it
// answers "unknown" within its budget on a history too large for it instead of hanging.
import { describe, expect, it } from 'vitest';
import { timeLimit } from '../../core/time-scale.ts';
import { checkNoLostWrites, type RecordedWrite } from './history-check.ts';

const w = (
  value: string,
  dot: string | null,
  sentContext = '',
  outcome: RecordedWrite['outcome'] = 'ok',
): RecordedWrite => ({
  key: 'k',
  value,
  dot,
  sentContext,
  outcome,
});

describe('no-lost-writes checker', () => {
  it('accepts a write that is a final sibling, or superseded through a chain of surviving writes', () => {
    const h = [w('a', 'n1:1'), w('b', 'n2:1', 'n1:1'), w('c', 'n3:1', 'n1:1,n2:1'), w('d', 'n1:2')];
    const v = checkNoLostWrites(h, new Map([['k', ['c', 'd']]]));
    expect(v.verdict).toBe('valid');
    expect(v.present).toBe(2);
    expect(v.superseded).toBe(2);
  });

  it('reports an acknowledged write that is neither present nor covered by a surviving write', () => {
    // b and c are concurrent (same context); the final state kept only c: b was silently dropped.
    const h = [w('a', 'n1:1'), w('b', 'n1:2', 'n1:1'), w('c', 'n2:1', 'n1:1')];
    const v = checkNoLostWrites(h, new Map([['k', ['c']]]));
    expect(v.verdict).toBe('lost');
    expect(v.lost.map((x) => x.value)).toEqual(['b']);
  });

  it('does not count a superseding write that did not survive, and lets unknown-outcome writes go either way', () => {
    const h = [w('a', 'n1:1'), w('b', 'n2:1', 'n1:1', 'info'), w('c', 'n3:1', '', 'info')];
    expect(checkNoLostWrites(h, new Map([['k', ['b']]])).verdict).toBe('valid');
    expect(checkNoLostWrites(h, new Map([['k', ['c']]])).verdict).toBe('lost');
    expect(checkNoLostWrites([w('x', 'n1:9', '', 'info')], new Map([['k', []]])).verdict).toBe('valid');
  });

  it('says unknown within its budget on a history too large for it, rather than hang', () => {
    const h = Array.from({ length: 20_000 }, (_, i) => w(`v${i}`, `n1:${i + 1}`, i ? `n1@${i}` : ''));
    const started = performance.now();
    const v = checkNoLostWrites(h, new Map([['k', [`v${h.length - 1}`]]]), { ms: 200, steps: 1_000_000 });
    expect(v.verdict).toBe('unknown');
    expect(performance.now() - started).toBeLessThan(timeLimit(2000));
  });
});
