// doctor: what a missing tool costs a chapter, computed from the catalog's `needs`, and its exit codes.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { chapterNeeds, cmdDoctor, type Probe, probeMachine, renderDoctor } from './doctor.ts';

const probe = (name: string, provides: Probe['provides'], found: boolean): Probe => ({
  name,
  provides,
  found,
  detail: found ? 'here' : 'not here',
  howTo: `get ${name}`,
});

describe('sdgrade doctor', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names the checks each missing piece would skip, from the catalog', () => {
    const probes = [
      probe('k6', 'load', true),
      probe('toxiproxy-server', 'network-faults', false),
      probe('Redis', 'dependency:redis', false),
      probe('PostgreSQL', 'dependency:database', true),
    ];
    const n = chapterNeeds('05-rate-limiter', probes);
    const redis = n.missing.find((m) => m.probe.name === 'Redis');
    expect(redis?.skipped).toEqual(expect.arrayContaining(['RL-I5', 'RL-F1', 'RL-F2', 'RL-F3']));
    expect(n.missing.find((m) => m.probe.name === 'PostgreSQL')).toBeUndefined();
    const text = renderDoctor(probes, [n]);
    expect(text).toMatch(/without Redis, skipped: .*RL-I5/);
    expect(text).toMatch(/get it: get Redis/);
    // 27's database checks need PostgreSQL, not Redis
    const pay = chapterNeeds('27-payment-system', [probe('PostgreSQL', 'dependency:database', false)]);
    expect(pay.missing[0]?.skipped).toEqual(expect.arrayContaining(['PAY-F5', 'PAY-F6']));
  });

  it('with everything present nothing is skipped; a missing k6 costs the load test', () => {
    const all = [probe('k6', 'load', true), probe('Redis', 'dependency:redis', true)];
    expect(chapterNeeds('09-url-shortener', all).missing).toEqual([]);
    const noK6 = chapterNeeds('09-url-shortener', [probe('k6', 'load', false)]);
    expect(noK6.missing[0]?.skipped[0]).toMatch(/k6 load test/);
  });

  it('finds no k6 or Toxiproxy in an empty cache with an empty PATH, and says how to get them', async () => {
    const probes = await probeMachine(
      { PATH: '', SDGRADE_CACHE_DIR: '/nonexistent-sdgrade-cache' },
      { containers: false },
    );
    const k6 = probes.find((p) => p.name === 'k6');
    expect(k6?.found).toBe(false);
    expect(k6?.howTo).toMatch(/get-tools/);
    expect(probes.find((p) => p.name === 'Redis')?.found).toBe(false);
    expect(probes.find((p) => p.name === 'Redis' && p.detail.match(/SDGRADE_REDIS_URL/))).toBeTruthy();
    const withUrl = await probeMachine({ PATH: '', SDGRADE_REDIS_URL: 'redis://127.0.0.1:1/0' }, { containers: false });
    expect(withUrl.find((p) => p.name === 'Redis')?.found).toBe(true);
  });

  it('exits 1 when a chapter would lose checks, and refuses an unknown chapter', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    const bare = { PATH: '', SDGRADE_CACHE_DIR: '/nonexistent-sdgrade-cache', SDGRADE_PG_BIN: '' };
    expect(await cmdDoctor('05', bare)).toBe(1);
    await expect(cmdDoctor('42-nothing', bare)).rejects.toThrow(/no graded chapter "42-nothing"/);
    await expect(cmdDoctor('03', bare)).rejects.toThrow(/no graded chapter/);
  });
});
