import { describe, expect, it } from 'vitest';
import { faultBite, type RequestSpan } from './workload.ts';

const span = (node: string, start: number, end: number, ok = true): RequestSpan => ({ node, start, end, ok });

describe('faultBite', () => {
  it('counts the requests through the victim started during the fault that failed or were held up', () => {
    const spans = [
      span('n1', 90, 95), // before the fault
      span('n1', 100, 104), // during, quick: not bitten
      span('n1', 110, 600), // during, held until the resume
      span('n1', 120, 125, false), // during, failed
      span('n2', 130, 900), // another node
      span('n1', 500, 700), // after the fault
    ];
    expect(faultBite(spans, 'n1', 100, 400)).toEqual({ requests: 3, failed: 1, heldUp: 1 });
  });

  it('says a fault did not bite when every request through the victim was quick and answered', () => {
    expect(faultBite([span('n1', 100, 110), span('n1', 200, 205)], 'n1', 100, 400)).toEqual({
      requests: 2,
      failed: 0,
      heldUp: 0,
    });
  });
});
