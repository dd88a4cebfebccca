import { describe, expect, it } from 'vitest';
import { gradeTarget } from './grade-target.ts';
import type { ResolvedTarget } from './resolve-targets.ts';

const rate: ResolvedTarget = {
  id: 'XX-T1',
  title: 'carries the rate',
  metric: 'rate',
  unit: 'req/s',
  op: '>=',
  value: 1000,
  profile: 'full',
  origin: 'the book',
};

describe('gradeTarget', () => {
  it('passes a value that meets the target and whose conditions hold', () => {
    const r = gradeTarget(rate, { value: 1200, conditions: [{ ok: true, why: 'x' }] }, 'full');
    expect(r.verdict).toBe('pass');
  });

  it('fails a miss with the numbers first and keeps what the measurement said about them', () => {
    const r = gradeTarget(rate, { value: 490, reason: 'the PSP fake in its own process (880/s alone)' }, 'full');
    expect(r.verdict).toBe('fail');
    expect(r.reason).toBe('measured 490 req/s, target >= 1000; the PSP fake in its own process (880/s alone)');
  });

  it('fails a met value when a condition does not hold, with that condition as the reason', () => {
    const r = gradeTarget(rate, { value: 1200, conditions: [{ ok: false, why: '6 iterations dropped' }] }, 'full');
    expect(r).toMatchObject({ verdict: 'fail', reason: '6 iterations dropped' });
  });

  it('reports a missing value as skipped, never passed', () => {
    expect(gradeTarget(rate, { value: null, reason: 'needs Redis' }, 'full')).toMatchObject({
      verdict: 'skipped',
      reason: 'needs Redis',
    });
  });

  it('does not grade a full-profile target on a smoke run', () => {
    expect(gradeTarget(rate, { value: 20 }, 'smoke').verdict).toBe('info');
  });

  it('divides by a yardstick in the same unit', () => {
    const r = gradeTarget(rate, { value: 500, yardstick: { name: 'no-op', value: 1000, unit: 'req/s' } }, 'full');
    expect(r.ratio).toBe(0.5);
  });
});
