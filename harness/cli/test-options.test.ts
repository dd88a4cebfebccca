// `sdgrade test --shuffle [seed]` and `--setting KEY=VALUE` as a user runs them: the shuffle seed is printed and
// recorded with the order the checks ran in (results listed in catalog order), and settings are validated.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { rateLimiter } from '../chapters/05-rate-limiter/index.ts';
import { checkRunOrder } from '../core/check-order.ts';
import { parseSettings } from '../core/settings.ts';
import { timeLimit } from '../core/time-scale.ts';
import type { RunResults } from '../results/types.ts';
import { main } from './main.ts';

describe('sdgrade test --shuffle and --setting', () => {
  afterEach(() => vi.restoreAllMocks());

  it(
    'runs the checks in the seeded order, prints the seed and records the order; results stay in catalog order',
    async () => {
      const out: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
      const dir = mkdtempSync(join(tmpdir(), 'sdgrade-shuffle-'));
      const ids = ['RL-C1', 'RL-C2', 'RL-C4', 'RL-I3'];
      const code = await main([
        'test',
        '05',
        '--manifest',
        rateLimiter.referenceManifest,
        '--only',
        ids.join(','),
        '--runs',
        '2',
        '--shuffle',
        '3',
        '--setting',
        'failMode=open',
        '--out',
        dir,
      ]);
      expect(code, out.join('\n')).toBe(0);
      expect(out.join('\n')).toMatch(/shuffle seed 3 \(replay with --shuffle 3\)/);
      const r: RunResults = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
      const ch = r.chapters[0]!;
      expect(ch.order).toEqual({ mode: 'shuffled', seed: 3, ran: checkRunOrder(ids, 3) });
      expect(ch.order!.ran).not.toEqual(ids);
      expect(ch.checks.map((c) => c.id)).toEqual(ids);
      expect(ch.settings).toEqual({ failMode: 'open' });
      expect(r.command).toBe('sdgrade test 05 --shuffle 3');
    },
    timeLimit(60_000),
  );

  it('refuses a setting that is not KEY=VALUE, and a negative shuffle seed', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['test', '05', '--url', 'http://127.0.0.1:1', '--setting', 'failMode'])).toBe(2);
    expect(await main(['test', '05', '--url', 'http://127.0.0.1:1', '--shuffle', '-4'])).toBe(2);
    expect(parseSettings(['failMode=closed', 'n=3', 'on=true', 'id=007x'])).toEqual({
      failMode: 'closed',
      n: 3,
      on: true,
      id: '007x',
    });
  });
});
