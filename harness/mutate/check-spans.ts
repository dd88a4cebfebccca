// The harness side of per-check coverage (see check-coverage.ts): while `sdgrade mutate` grades its unmutated
// baseline it sets SDGRADE_MUTATE_CHECK_SPANS, and the harness writes there when each check starts, how it ended and
// when the last one ended, so the times the coverage hook recorded in the nodes can be put against the checks.
import { appendFileSync } from 'node:fs';

export const checkSpansVar = 'SDGRADE_MUTATE_CHECK_SPANS';

export interface CheckSpanRecorder {
  start(id: string): void;
  done(id: string, status: string): void;
  end(): void;
}

const noop: CheckSpanRecorder = { start() {}, done() {}, end() {} };

export function checkSpanRecorder(env: NodeJS.ProcessEnv = process.env): CheckSpanRecorder {
  const file = env[checkSpansVar];
  if (!file) return noop;
  // Synchronous: the line is on disk before the check's first request is sent.
  const write = (line: string) => appendFileSync(file, `${line}\n`);
  return {
    start: (id) => write(`start ${id} ${Date.now()}`),
    done: (id, status) => write(`done ${id} ${status}`),
    end: () => write(`end ${Date.now()}`),
  };
}
