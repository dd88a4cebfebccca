// How a check ends other than by passing: it failed (the implementation is wrong), or it could not run here.
import type { RecordedExchange } from '../results/types.ts';

export class CheckFailure extends Error {
  constructor(
    message: string,
    readonly details: {
      counterexample?: unknown;
      exchange?: RecordedExchange;
      evidence?: Record<string, unknown>;
    } = {},
  ) {
    super(message);
  }
}

export class CheckSkipped extends Error {}
