// Everything a check gets: the target, a validating HTTP client, a history, the fault tools, its seed, and the
// ways to end (fail with evidence, or skip with a reason).
import fc from 'fast-check';
import type { RecordedExchange } from '../results/types.ts';
import { CheckFailure, CheckSkipped } from './check-outcome.ts';
import type { ExchangeValidator } from './exchange-validator.ts';
import { History } from './history.ts';
import { type Exchange, ExchangeSink, HttpClient, toRecorded } from './http-client.ts';
import type { NetworkFaults } from './network-faults.ts';
import type { Capability, Target } from './target.ts';

export interface CheckContextOptions {
  target: Target;
  validator: ExchangeValidator;
  network: NetworkFaults | null;
  seed: number;
  /** Runs per property; the CLI's --runs scales it. */
  numRuns: number;
  log: (line: string) => void;
}

export class CheckContext {
  readonly sink = new ExchangeSink();
  readonly http: HttpClient;
  readonly history = new History();
  readonly evidence: Record<string, unknown> = {};
  runs = 0;
  readonly seed: number;
  readonly numRuns: number;
  readonly target: Target;
  readonly validator: ExchangeValidator;
  readonly network: NetworkFaults | null;
  readonly log: (line: string) => void;

  constructor(o: CheckContextOptions) {
    this.target = o.target;
    this.validator = o.validator;
    this.seed = o.seed;
    this.numRuns = o.numRuns;
    this.network = o.network;
    this.log = o.log;
    this.http = new HttpClient(o.target.baseUrl, o.validator, this.sink);
  }

  skip(reason: string): never {
    throw new CheckSkipped(reason);
  }

  fail(message: string, details: { counterexample?: unknown; exchange?: Exchange | RecordedExchange } = {}): never {
    const ex = details.exchange;
    throw new CheckFailure(message, {
      ...(details.counterexample !== undefined ? { counterexample: details.counterexample } : {}),
      ...(ex ? { exchange: 'violations' in ex && 'request' in ex ? ex : toRecorded(ex as Exchange) } : {}),
    });
  }

  /** Fails with the exchange attached unless the condition holds. */
  expect(cond: unknown, message: string, exchange?: Exchange): asserts cond {
    if (!cond) this.fail(message, exchange ? { exchange } : {});
  }

  /** Fails unless the exchange has the status (and, for problems, the machine code). */
  expectStatus(x: Exchange, status: number, code?: string): void {
    if (x.status !== status) {
      this.fail(`${x.method} ${x.path}: expected ${status}${code ? ` ${code}` : ''}, got ${x.status ?? x.error}`, {
        exchange: x,
      });
    }
    if (code !== undefined) {
      const got = (x.body as { code?: unknown } | undefined)?.code;
      if (got !== code)
        this.fail(`${x.method} ${x.path}: expected problem code ${code}, got ${String(got)}`, { exchange: x });
    }
  }

  requireNetwork(): NetworkFaults {
    if (!this.network) this.skip('no fault proxy: Toxiproxy was not found (run `npx tsx scripts/get-tools.ts`)');
    return this.network;
  }

  require(cap: Capability): void {
    if (cap === 'process-control' && !this.target.processControl)
      this.skip('needs process control (kill -9, restart): give the harness a manifest instead of a URL');
    if (cap === 'network-faults') this.requireNetwork();
    if (cap.startsWith('dependency:')) {
      const name = cap.slice('dependency:'.length);
      if (!this.target.dependencies[name])
        this.skip(
          `needs the real ${name} dependency: none was configured (see the chapter README for its URL variable)`,
        );
    }
  }

  /**
   * Runs a fast-check property over the wire with this check's seed. A failure throws with the shrunk
   * counterexample; the number of runs is recorded.
   */
  async property<T>(arb: fc.Arbitrary<T>, predicate: (v: T) => Promise<void>, numRuns = this.numRuns): Promise<void> {
    let count = 0;
    const details = await fc.check(
      fc.asyncProperty(arb, async (v) => {
        count++;
        await predicate(v);
      }),
      { seed: this.seed, numRuns, endOnFailure: false },
    );
    this.runs += count;
    if (details.failed) {
      const err = details.errorInstance as Error | undefined;
      if (err instanceof CheckSkipped) throw err;
      const exchange = err instanceof CheckFailure ? err.details.exchange : undefined;
      throw new CheckFailure(
        `property failed after ${details.numRuns} runs and ${details.numShrinks} shrinks: ${err?.message ?? 'no message'}`,
        { counterexample: details.counterexample?.[0], ...(exchange ? { exchange } : {}) },
      );
    }
  }
}
