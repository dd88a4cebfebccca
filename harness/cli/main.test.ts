// The CLI as a user runs it: exit codes 0 pass, 1 fail, 2 error.
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from './main.ts';

const fixture = (n: string) => fileURLToPath(new URL(`../../fixtures/results/${n}`, import.meta.url));

describe('sdgrade CLI', () => {
  afterEach(() => vi.restoreAllMocks());
  const quiet = () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
  };

  it('compare exits 1 on a doctored regression and 0 on an identical run', async () => {
    quiet();
    expect(await main(['compare', fixture('sample-run.json'), fixture('sample-run-regressed.json')])).toBe(1);
    expect(await main(['compare', fixture('sample-run.json'), fixture('sample-run.json')])).toBe(0);
  });
  it('estimate prints the book derivations, and an unknown topic is an error (2)', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['estimate', '09-url-shortener'])).toBe(0);
    expect(out.join('\n')).toMatch(/1,157/);
    out.length = 0;
    expect(await main(['estimate', '09'])).toBe(0);
    expect(out.join('\n')).toMatch(/1,157/);
    expect(await main(['estimate', 'nope'])).toBe(2);
  });
  it('test needs exactly one of --url and --manifest, and an unknown chapter is an error', async () => {
    quiet();
    expect(await main(['test', '09'])).toBe(2);
    expect(await main(['test', '42-nothing', '--url', 'http://127.0.0.1:1'])).toBe(2);
    expect(await main(['no-such-command'])).toBe(2);
  });
  it('list names every chapter of the book', async () => {
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    expect(await main(['list'])).toBe(0);
    expect(out.length).toBe(28);
    expect(out.join('\n')).toMatch(/09-url-shortener/);
  });
});
