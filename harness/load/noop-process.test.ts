// The no-op yardstick in its own process answers, and is gone once stopped.
import { expect, it } from 'vitest';
import { timeLimit } from '../core/time-scale.ts';
import { startNoopProcess } from './noop-process.ts';

it(
  'serves from a process of its own until stopped',
  async () => {
    const p = await startNoopProcess();
    const r = await fetch(`${p.url}/`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
    await p.stop();
    await expect(fetch(`${p.url}/`)).rejects.toThrow();
  },
  timeLimit(60_000),
);
