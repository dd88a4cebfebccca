// A request's timeout fires even once the code sending it is optimised and the garbage collector runs: on Node 20 a
// timeout passed only through AbortSignal.any() was collected and never fired (fixtures/abort/lost-timeout.ts, whose
// MODE=bare shows it: "still waiting"). Each case runs the fixture in its own process with --expose-gc.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { rootDir } from './paths.ts';
import { timeLimit } from './time-scale.ts';

const run = promisify(execFile);

async function outcome(mode: 'combined' | 'plain'): Promise<string> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', 'fixtures/abort/lost-timeout.ts'], {
    cwd: rootDir,
    env: { ...process.env, MODE: mode },
    timeout: timeLimit(120_000),
  });
  return stdout.trim();
}

describe('timeouts that cannot be lost', () => {
  it(
    'timeoutOr: a 1 s timeout combined with a stop signal fires after the loop is optimised, with GC running',
    async () => {
      expect(await outcome('combined')).toMatch(/^TimeoutError after \d+ ms$/);
    },
    timeLimit(150_000),
  );

  it(
    "scopedFetch keeps a caller's own AbortSignal.timeout alive until it fires",
    async () => {
      expect(await outcome('plain')).toMatch(/^TimeoutError after \d+ ms$/);
    },
    timeLimit(150_000),
  );
});
