import { describe, expect, it } from 'vitest';
import type { TargetResult } from '../results/types.ts';
import { benchErrorPrefix, joinBenchTargets } from './bench-targets.ts';

const t = (id: string, verdict: TargetResult['verdict'], reason?: string): TargetResult => ({
  id,
  title: id,
  metric: 'm',
  unit: 'ratio',
  op: '>=',
  value: verdict === 'skipped' ? null : 1,
  target: 1,
  verdict,
  ...(reason ? { reason } : {}),
});
const catalog = ['X-T1', 'X-T2', 'X-T3'].map((id) => ({
  id,
  title: id,
  metric: 'm',
  unit: 'ratio',
  op: '>=' as const,
}));

describe('joinBenchTargets', () => {
  it("replaces the load step's placeholder for a target the bench measured, so each target is listed once", () => {
    const reported = [
      t('X-T1', 'pass'),
      t('X-T2', 'skipped', 'k6 was not found'),
      t('X-T3', 'skipped', 'k6 was not found'),
    ];
    const joined = joinBenchTargets(reported, [t('X-T3', 'pass')], catalog);
    expect(joined.map((x) => `${x.id}:${x.verdict}`)).toEqual(['X-T1:pass', 'X-T2:skipped', 'X-T3:pass']);
  });

  it('lists the targets nobody reported as skipped with the error when the bench throws, keeping the rest', () => {
    const joined = joinBenchTargets([t('X-T1', 'pass')], { error: new Error('nats-server exited 1\nmore') }, catalog);
    expect(joined.map((x) => x.id)).toEqual(['X-T1', 'X-T2', 'X-T3']);
    expect(joined[0]!.verdict).toBe('pass');
    expect(joined[2]).toMatchObject({ verdict: 'skipped', reason: `${benchErrorPrefix} nats-server exited 1` });
  });
});
