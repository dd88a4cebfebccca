// Everything a check gets: the target, a validating HTTP client, a history, the fault tools, its seed, and the
// ways to end (fail with evidence, or skip with a reason).
import { setTimeout as delay } from 'node:timers/promises';
import fc from 'fast-check';
import type { RecordedExchange } from '../results/types.ts';
import { CheckFailure, CheckSkipped } from './check-outcome.ts';
import type { ExchangeValidator } from './exchange-validator.ts';
import { History } from './history.ts';
import { CheckAborted, type Exchange, ExchangeSink, HttpClient, throwIfStopped, toRecorded } from './http-client.ts';
import type { NetworkFaults } from './network-faults.ts';
import type { Settings, SettingValue } from './settings.ts';
import type { Capability, Target } from './target.ts';

export interface CheckContextOptions {
  target: Target;
  validator: ExchangeValidator;
  network: NetworkFaults | null;
  seed: number;
  /** Runs per property; the CLI's --runs scales it. */
  numRuns: number;
  log: (line: string) => void;
  /** Aborted when the check is stopped (it timed out): every request, sleep and property of the check ends. */
  signal?: AbortSignal;
  /** When the check must be done by (epoch ms); properties stop their runs there. */
  deadline?: number;
  /** The settings the target declared (manifest `settings`, or `--setting` for a URL target). */
  settings?: Settings;
  /**
   * false: a failed property stops at its first failing case, unshrunk. For self-tests that need only "caught or
   * not" (the grade tests' mutants); shrinking can take SHRINK_BUDGET_MS per failure. Default true.
   */
  shrink?: boolean;
}

/** How long a failed property may spend shrinking its counterexample (see CheckContext.property). */
export const SHRINK_BUDGET_MS = 20_000;

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
  readonly signal: AbortSignal;
  private readonly deadline: number;
  private readonly declared: Settings;
  private readonly shrink: boolean;
  /** What the check changed on the target and did not put back (restarted nodes, a rule left installed...). */
  readonly changes: string[] = [];
  /** Every setting the check read, with the value it graded against (declared, or the spec's default). */
  readonly settingsRead: Record<string, SettingValue> = {};

  constructor(o: CheckContextOptions) {
    this.target = o.target;
    this.validator = o.validator;
    this.seed = o.seed;
    this.numRuns = o.numRuns;
    this.network = o.network;
    this.log = o.log;
    this.signal = o.signal ?? new AbortController().signal;
    this.deadline = o.deadline ?? Number.POSITIVE_INFINITY;
    this.declared = o.settings ?? {};
    this.shrink = o.shrink ?? true;
    this.http = new HttpClient(o.target.baseUrl, o.validator, this.sink, this.signal);
  }

  /**
   * Says what this check changed on the target and did not restore (recorded with its result), so a check that
   * runs after it, in any order, can be understood: "a check leaves the target as it found it or says what it
   * changed".
   */
  changed(what: string): void {
    if (!this.changes.includes(what)) this.changes.push(what);
  }

  /**
   * The value the target declared for a setting the spec gives a default for, else that default. A declared value
   * of another type, or outside `allowed`, is an error of the declaration (not a pass or a fail of the target).
   */
  setting<T extends SettingValue>(key: string, specDefault: T, allowed?: readonly T[]): T {
    const v = key in this.declared ? this.declared[key] : specDefault;
    if (typeof v !== typeof specDefault)
      throw new Error(`setting ${key} is declared as ${JSON.stringify(v)}; it must be a ${typeof specDefault}`);
    if (allowed && !allowed.includes(v as T))
      throw new Error(`setting ${key} is declared as ${JSON.stringify(v)}; it must be one of ${allowed.join(', ')}`);
    this.settingsRead[key] = v as T;
    return v as T;
  }

  /** Waits, unless the check is stopped first (then throws CheckAborted). */
  async sleep(ms: number): Promise<void> {
    throwIfStopped(this.signal);
    try {
      await delay(Math.max(0, ms), undefined, { signal: this.signal });
    } catch {
      throwIfStopped(this.signal);
    }
  }

  /** Throws CheckAborted if the check was stopped: for loops that do not go through ctx.http or ctx.sleep. */
  throwIfStopped(): void {
    throwIfStopped(this.signal);
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
    throwIfStopped(this.signal);
    const left = this.deadline - Date.now();
    // Shrinking is bounded: once a case has failed, smaller candidates are tried for at most this long, then taken as
    // passing so the smallest failure found so far is reported. Unbounded, a slow property shrank until the check's
    // time limit and a real failure was reported as "did not finish".
    const shrinkBudgetMs = Math.min(SHRINK_BUDGET_MS, Number.isFinite(left) ? left * 0.25 : SHRINK_BUDGET_MS);
    let firstFailureAt: number | null = null;
    const details = await fc.check(
      fc.asyncProperty(arb, async (v) => {
        // A stopped check runs no more cases (and shrinks nothing): every case would only fail on the abort.
        throwIfStopped(this.signal);
        if (firstFailureAt !== null && Date.now() - firstFailureAt > shrinkBudgetMs) return;
        count++;
        try {
          await predicate(v);
        } catch (e) {
          if (!(e instanceof CheckSkipped)) firstFailureAt ??= Date.now();
          throw e;
        }
      }),
      {
        seed: this.seed,
        numRuns,
        endOnFailure: !this.shrink,
        // A backstop a little after the check's deadline: the harness's stop normally comes first.
        ...(Number.isFinite(left)
          ? { interruptAfterTimeLimit: Math.max(1, left + 1000), markInterruptAsFailure: true }
          : {}),
      },
    );
    this.runs += count;
    throwIfStopped(this.signal);
    if (details.interrupted && details.failed && !details.errorInstance)
      throw new CheckAborted(`the property was interrupted at the check's time limit after ${count} runs`);
    if (details.failed) {
      const err = details.errorInstance as Error | undefined;
      if (err instanceof CheckSkipped) throw err;
      const exchange = err instanceof CheckFailure ? err.details.exchange : undefined;
      const cut = firstFailureAt !== null && Date.now() - firstFailureAt > shrinkBudgetMs;
      const shrinks = this.shrink
        ? `${details.numShrinks} shrinks${cut ? ` (shrinking stopped after ${Math.round(shrinkBudgetMs / 1000)} s)` : ''}`
        : 'no shrinking (turned off)';
      throw new CheckFailure(
        `property failed after ${details.numRuns} runs and ${shrinks}: ${err?.message ?? 'no message'}`,
        { counterexample: details.counterexample?.[0], ...(exchange ? { exchange } : {}) },
      );
    }
  }
}
