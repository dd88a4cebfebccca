// The harness side of per-check coverage (see check-coverage.ts): while `sdgrade mutate` grades its unmutated
// baseline it sets SDGRADE_MUTATE_CHECK_SPANS, and the harness writes there when each check starts, how it ended and
// when the last one ended, so the times the coverage hook recorded in the nodes can be put against the checks.
import { appendFileSync } from 'node:fs';

export const checkSpansVar = 'SDGRADE_MUTATE_CHECK_SPANS';

export interface CheckSpanRecorder {
  start(id: string): Promise<void>;
  done(id: string, status: string): void;
  end(): Promise<void>;
}

const noop: CheckSpanRecorder = { start: async () => {}, done() {}, end: async () => {} };

export function checkSpanRecorder(env: NodeJS.ProcessEnv = process.env): CheckSpanRecorder {
  const file = env[checkSpansVar];
  if (!file) return noop;
  // Synchronous: the line is on disk before the check's first request is sent.
  const write = (line: string) => appendFileSync(file, `${line}\n`);
  // The nodes write what ran once per tick (coverage-hook.mjs), each line naming the tick's interval: a few ticks
  // of quiet after the first start and before the end keep start-up's ticks apart from the first check's, and the
  // last check's from shutdown's (else they would count as reached everywhere).
  const settle = () => new Promise<void>((r) => setTimeout(r, 4 * Number(env.SDGRADE_MUTATE_COVERAGE_TICK_MS ?? 50)));
  let started = false;
  return {
    start: async (id) => {
      write(`start ${id} ${Date.now()}`);
      if (!started) await settle();
      started = true;
    },
    done: (id, status) => write(`done ${id} ${status}`),
    end: async () => {
      await settle();
      write(`end ${Date.now()}`);
    },
  };
}
