// The test-file grader's reading of vitest's JSON report: only failed tests are catches, each named by its full title.
import { describe, expect, it } from 'vitest';
import { failedTests } from './test-file-grader.ts';

describe('test-file grader', () => {
  it('reads the failed tests of a vitest JSON report, with the first line of each failure', () => {
    const report = {
      testResults: [
        {
          assertionResults: [
            { fullName: 'contract HTTP clean run', status: 'passed', failureMessages: [] },
            { fullName: 'contract HTTP created again', status: 'failed', failureMessages: ['expected 3\nat line 4'] },
            { fullName: 'contract NATS', status: 'skipped' },
          ],
        },
        { assertionResults: [{ status: 'failed' }] },
      ],
    };
    expect(failedTests(report)).toEqual([
      { id: 'contract HTTP created again', reason: 'expected 3' },
      { id: '(unnamed test)', reason: '' },
    ]);
    expect(failedTests({})).toEqual([]);
  });
});
