// Accepting an outside tool's finding is narrow: a slow answer counts as correct only within the wait it asked for.
import { describe, expect, it } from 'vitest';
import { type ExpectedSchemathesisFinding, isExpected } from './expected-findings.ts';
import type { Finding } from './schemathesis.ts';

const longPoll: ExpectedSchemathesisFinding = {
  chapter: '20-x',
  check: 'max_response_time',
  operation: 'GET /m',
  withinQueryWaitOf: 'maxWait',
  reason: 'a long poll answers at maxWait',
};
const slow = (ms: number, maxWait: string | null): Finding => ({
  check: 'max_response_time',
  operation: 'GET /m',
  status: 200,
  problemCode: null,
  detail: null,
  message: `Actual: ${ms}ms`,
  request: `GET http://127.0.0.1:1/m?offset=2${maxWait === null ? '' : `&maxWait=${maxWait}`}`,
});

describe('expected findings', () => {
  it('accepts a slow answer only within the wait the request asked for (plus 5 s)', () => {
    expect(isExpected('20-x', slow(18212.29, '18210'), [longPoll])).toBe(true);
    expect(isExpected('20-x', slow(23000, '18210'), [longPoll])).toBe(true);
    expect(isExpected('20-x', slow(23300, '18210'), [longPoll])).toBe(false);
    expect(isExpected('20-x', slow(900, null), [longPoll])).toBe(false);
    expect(isExpected('21-y', slow(100, '18210'), [longPoll])).toBe(false);
  });
});
