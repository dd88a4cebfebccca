// A blind bug in code no check runs (chapter 20's client library runs in the user's process, not in the graded
// server) is graded by the test file that exercises that code: bugs.yaml's `test:` names it, and this grader runs it
// with vitest in the patched workspace. Each failed test is a catch, named by its full title.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GradeOutcome, Grader } from '../mutate/run-mutate.ts';

interface VitestJson {
  testResults?: { assertionResults?: { fullName?: string; status?: string; failureMessages?: string[] }[] }[];
}

/** The failed tests of a vitest JSON report, each with the first line of its failure. */
export function failedTests(report: VitestJson): { id: string; reason: string }[] {
  return (report.testResults ?? []).flatMap((f) =>
    (f.assertionResults ?? [])
      .filter((a) => a.status === 'failed')
      .map((a) => ({ id: a.fullName ?? '(unnamed test)', reason: (a.failureMessages?.[0] ?? '').split('\n')[0]! })),
  );
}

export function testFileGrader(file: string): Grader {
  return ({ workspace, env, timeoutMs }) =>
    new Promise<GradeOutcome>((resolve) => {
      if (!existsSync(join(workspace, file))) {
        resolve({ status: 'error', reason: `${file} is not in the workspace` });
        return;
      }
      const out = join(workspace, '.blind-bug-test.json');
      const child = spawn(
        process.execPath,
        [
          join(workspace, 'node_modules', 'vitest', 'vitest.mjs'),
          'run',
          file,
          '--reporter=json',
          `--outputFile=${out}`,
        ],
        { cwd: workspace, env: { ...process.env, ...env, SDGRADE_TEST_WORKERS: '1' }, stdio: 'ignore' },
      );
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        if (signal) return resolve({ status: 'timeout', reason: `${file} did not finish within ${timeoutMs} ms` });
        if (!existsSync(out)) return resolve({ status: 'error', reason: `vitest exited ${code} without a report` });
        const failed = failedTests(JSON.parse(readFileSync(out, 'utf8')) as VitestJson);
        resolve(failed.length ? { status: 'killed', by: failed[0]!.id, failed } : { status: 'survived' });
      });
    });
}
