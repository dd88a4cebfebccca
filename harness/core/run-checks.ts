// Runs a chapter's checks against one target, in catalog order, and turns each outcome into a result:
// pass, fail (with evidence), skipped (with the reason) or error (the harness itself broke).
import type { ChapterModule } from '../chapters/chapter-module.ts';
import type { CheckResult } from '../results/types.ts';
import { CheckContext } from './check-context.ts';
import { CheckFailure, CheckSkipped } from './check-outcome.ts';
import type { ExchangeValidator } from './exchange-validator.ts';
import { toRecorded } from './http-client.ts';
import type { NetworkFaults } from './network-faults.ts';
import { checkSeed } from './seed.ts';
import { CapabilityMissing, type Target } from './target.ts';

export interface RunChecksOptions {
  module: ChapterModule;
  target: Target;
  validator: ExchangeValidator;
  network: NetworkFaults | null;
  runSeed: number;
  numRuns: number;
  only?: string[];
  checkTimeoutMs?: number;
  /** Stop at the first failed check; the checks not run are reported skipped, with that reason. */
  failFast?: boolean;
  onProgress: (line: string) => void;
}

function withTimeout<T>(p: Promise<T>, ms: number, id: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${id} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}

export async function runChecks(o: RunChecksOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const wanted = o.module.catalog.checks.filter((c) => !o.only?.length || o.only.includes(c.id));
  let stoppedBy: string | null = null;
  for (const c of wanted) {
    if (c.kind === 'estimate') continue;
    if (stoppedBy) {
      const reason = `not run: --fail-fast after ${stoppedBy} failed`;
      results.push({
        id: c.id,
        kind: c.kind,
        title: c.title,
        seed: checkSeed(o.runSeed, c.id),
        status: 'skipped',
        reason,
        durationMs: 0,
      });
      continue;
    }
    const seed = checkSeed(o.runSeed, c.id);
    const ctx = new CheckContext({
      target: o.target,
      validator: o.validator,
      network: o.network,
      seed,
      numRuns: o.numRuns,
      log: (line) => o.onProgress(`  ${c.id}: ${line}`),
    });
    const fn = (o.module.checks as Record<string, (ctx: CheckContext) => Promise<void>>)[c.id];
    const started = performance.now();
    const base = { id: c.id, kind: c.kind, title: c.title, seed };
    let r: CheckResult;
    try {
      if (!fn) throw new Error(`no implementation registered for ${c.id}`);
      for (const need of c.needs ?? []) ctx.require(need as never);
      await withTimeout(fn(ctx), o.checkTimeoutMs ?? 180_000, c.id);
      const bad = ctx.sink.violating[0];
      r = bad
        ? {
            ...base,
            status: 'fail',
            reason: `a response did not fit the spec: ${bad.violations.join('; ')}`,
            exchange: toRecorded(bad),
            durationMs: 0,
          }
        : { ...base, status: 'pass', durationMs: 0 };
    } catch (e) {
      if (e instanceof CheckSkipped || e instanceof CapabilityMissing) {
        r = { ...base, status: 'skipped', reason: e.message, durationMs: 0 };
      } else if (e instanceof CheckFailure) {
        r = { ...base, status: 'fail', reason: e.message, durationMs: 0 };
        if (e.details.counterexample !== undefined) r.counterexample = e.details.counterexample;
        const ex = e.details.exchange ?? (ctx.sink.violating[0] ? toRecorded(ctx.sink.violating[0]) : undefined);
        if (ex) r.exchange = ex;
      } else {
        r = { ...base, status: 'error', reason: (e as Error).stack ?? String(e), durationMs: 0 };
      }
    }
    r.durationMs = Math.round(performance.now() - started);
    if (ctx.runs) r.runs = ctx.runs;
    if (Object.keys(ctx.evidence).length) r.evidence = ctx.evidence;
    results.push(r);
    if (o.failFast && (r.status === 'fail' || r.status === 'error')) stoppedBy = c.id;
    await o.target.heal();
    const why = r.reason ? ` - ${r.reason.split('\n')[0]}` : '';
    o.onProgress(
      `${r.status.toUpperCase().padEnd(7)} ${c.id} ${c.title} (${(r.durationMs / 1000).toFixed(1)} s)${why}`,
    );
  }
  return results;
}
