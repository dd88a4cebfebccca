// bin/sdgrade.js as a user runs it: the light commands from the esbuild bundle, the others through tsx.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../../bin/sdgrade.js', import.meta.url));
const run = async (...args: string[]) => {
  try {
    const r = await promisify(execFile)(process.execPath, [bin, ...args]);
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
};

it('--help, list and estimate answer from the bundle, and a command outside it still runs its TypeScript', async () => {
  const help = await run('--help');
  expect(help.code).toBe(0);
  expect(help.out).toMatch(/estimate \[topic\]/);
  const testHelp = await run('help', 'test');
  expect(testHelp.code).toBe(0);
  expect(testHelp.out).toMatch(/05-rate-limiter,\s+06-consistent-hashing/);
  const list = await run('list');
  expect(list.code).toBe(0);
  expect(list.out.trim().split('\n')).toHaveLength(28);
  const estimate = await run('estimate', '09');
  expect(estimate.code).toBe(0);
  expect(estimate.out).toMatch(/1,157/);
  // `test` loads cmd-test.ts through tsx: an unknown chapter is its own error, exit 2.
  const test = await run('test', '42-nothing', '--url', 'http://127.0.0.1:1');
  expect(test.code).toBe(2);
  expect(test.err).toMatch(/no graded chapter "42-nothing"/);
});
