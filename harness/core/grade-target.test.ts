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

describe('gradeTarget at an offered rate', () => {
  const latency: ResolvedTarget = { ...rate, id: 'XX-T2', metric: 'p99', unit: 'ms', op: '<=', value: 50 };
  const carried = { carried: true, rps: 1000, dropped: 0, p99Ms: 2 };
  const notCarried = { carried: false, rps: 640, dropped: 3600, p99Ms: 900 };
  const idle = { processes: 1, cpuCores: 0.4, peakCpuCores: 0.6, dropped: 0, saturated: false };

  it('missed: the yardstick carried the offered rate, the implementation did not', () => {
    const r = gradeTarget(
      rate,
      { value: 700, atRate: { offeredRps: 1000, yardstick: carried, loadGenerator: idle } },
      'full',
    );
    expect(r.verdict).toBe('fail');
    expect(r.reason).toMatch(/^measured 700 req\/s, target >= 1000; the no-op yardstick carried the same 1000 req\/s/);
    expect(r.atRate?.yardstick?.carried).toBe(true);
  });

  it('beyond this machine: the yardstick itself could not carry it, and both figures are shown', () => {
    const r = gradeTarget(rate, { value: 600, atRate: { offeredRps: 1000, yardstick: notCarried } }, 'full');
    expect(r.verdict).toBe('beyond-machine');
    expect(r.reason).toContain('no-op yardstick was offered the same 1000 req/s');
    expect(r.reason).toContain('carried 640 req/s with 3600 iterations dropped');
    expect(r.reason).toContain('the implementation: measured 600 req/s');
  });

  it('a latency target at a rate beyond the machine gets the same verdict', () => {
    expect(
      gradeTarget(latency, { value: 400, atRate: { offeredRps: 1000, yardstick: notCarried } }, 'full').verdict,
    ).toBe('beyond-machine');
    // The yardstick carried the rate but its own p99 was over the target: the machine cannot meet it either.
    const slowNoop = { ...carried, p99Ms: 80 };
    const r = gradeTarget(latency, { value: 400, atRate: { offeredRps: 1000, yardstick: slowNoop } }, 'full');
    expect(r).toMatchObject({ verdict: 'beyond-machine' });
    expect(r.reason).toContain('its p99 was 80 ms');
    expect(gradeTarget(latency, { value: 400, atRate: { offeredRps: 1000, yardstick: carried } }, 'full').verdict).toBe(
      'fail',
    );
  });

  it('says the load generator was the bottleneck instead of blaming the server', () => {
    const busy = { ...idle, cpuCores: 0.97, saturated: true, why: 'k6 used 0.97 of a core on average' };
    const r = gradeTarget(
      rate,
      { value: 700, atRate: { offeredRps: 1000, yardstick: carried, loadGenerator: busy } },
      'full',
    );
    expect(r.verdict).toBe('beyond-machine');
    expect(r.reason).toMatch(/^the load generator was the bottleneck: k6 used 0.97 of a core/);
    // Both figures: what the yardstick did at the same rate is kept beside it.
    expect(r.reason).toContain(
      'the no-op yardstick was offered the same 1000 req/s in this run and carried 1000 req/s',
    );
  });

  it('a met target stays met and a dropped-iterations miss without a yardstick stays a miss', () => {
    expect(
      gradeTarget(rate, { value: 1000, atRate: { offeredRps: 1000, yardstick: notCarried } }, 'full').verdict,
    ).toBe('pass');
    const r = gradeTarget(
      rate,
      { value: 1000, conditions: [{ ok: false, why: '5 dropped' }], atRate: { offeredRps: 1000 } },
      'full',
    );
    expect(r).toMatchObject({ verdict: 'fail', reason: '5 dropped' });
  });

  it('a full-profile target on a smoke run stays info whatever the yardstick did', () => {
    expect(gradeTarget(rate, { value: 20, atRate: { offeredRps: 24, yardstick: notCarried } }, 'smoke').verdict).toBe(
      'info',
    );
  });
});
