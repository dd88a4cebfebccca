// Runs a chapter's checks against one target, in catalog order or shuffled from a seed, and turns each outcome into
// a result: pass, fail (with evidence), skipped (with the reason) or error (the harness itself broke). A check that
// runs out of time is stopped (its signal aborts every request, sleep and property it has going), and the target is
// put back in a known state: a manifest target's nodes are restarted; a URL target cannot be, so every check after
// it is reported as an error instead of being graded on a target in an unknown state.
import type { ChapterModule } from '../chapters/chapter-module.ts';
import { checkSpanRecorder } from '../mutate/check-spans.ts';
import type { CheckOrder, CheckResult } from '../results/types.ts';
import { checkTimeLimit } from './busy-factor.ts';
import { CheckContext } from './check-context.ts';
import { checkRunOrder } from './check-order.ts';
import { CheckFailure, CheckSkipped } from './check-outcome.ts';
import { runInCheckScope } from './check-scope.ts';
import type { ExchangeValidator } from './exchange-validator.ts';
import { CheckAborted, toRecorded } from './http-client.ts';
import type { NetworkFaults } from './network-faults.ts';
import { checkSeed } from './seed.ts';
import type { Settings } from './settings.ts';
import { CapabilityMissing, type Target } from './target.ts';

export interface RunChecksOptions {
  module: ChapterModule;
  target: Target;
  validator: ExchangeValidator;
  network: NetworkFaults | null;
  runSeed: number;
  numRuns: number;
  only?: string[];
  /** Run the checks in an order shuffled from this seed; catalog order when absent. */
  shuffleSeed?: number;
  /** The settings the target declared; checks read them through ctx.setting(). */
  settings?: Settings;
  checkTimeoutMs?: number;
  /** Stop at the first failed check; the checks not run are reported skipped, with that reason. */
  failFast?: boolean;
  /** How long a stopped check is given to wind down before the target is reset anyway. */
  stopGraceMs?: number;
  /** false: failed properties are not shrunk (CheckContextOptions.shrink). */
  shrink?: boolean;
  onProgress: (line: string) => void;
}

export interface RunChecksOutcome {
  /** Listed in catalog order, whatever order they ran in (`order.ran` has that). */
  checks: CheckResult[];
  order: CheckOrder;
}

export const stateUnknownReason = 'target state unknown after a timeout';

class CheckTimedOut extends Error {}

type Settled = { ok: true } | { ok: false; error: unknown };

export async function runChecks(o: RunChecksOptions): Promise<RunChecksOutcome> {
  const byId = new Map<string, CheckResult>();
  const wanted = o.module.catalog.checks.filter(
    (c) => c.kind !== 'estimate' && (!o.only?.length || o.only.includes(c.id)),
  );
  const ran = checkRunOrder(
    wanted.map((c) => c.id),
    o.shuffleSeed,
  );
  if (o.shuffleSeed !== undefined)
    o.onProgress(`shuffled order (seed ${o.shuffleSeed}, replay with --shuffle ${o.shuffleSeed}): ${ran.join(' ')}`);
  // Scaled like the checks' own bounds (SDGRADE_TIME_SCALE), and stretched by the load when each check starts
  // (busy-factor.ts): a check whose waits are longer on a busy runner gets the longer limit too, so a slow machine
  // makes it slower, not an error.
  const limitOf = (): { ms: number; why: string } =>
    o.checkTimeoutMs !== undefined ? { ms: o.checkTimeoutMs, why: '' } : checkTimeLimit(180_000);
  /** Set once a URL target could not be reset after a timeout: nothing after that is graded. */
  let unknownSince: string | null = null;
  /** Set by --fail-fast at the first failed check: the rest are skipped with that reason. */
  let stoppedBy: string | null = null;
  // sdgrade mutate's baseline: when each check ran, to tell which checks reach each mutant (a no-op otherwise)
  const spans = checkSpanRecorder();
  for (const id of ran) {
    const c = wanted.find((x) => x.id === id)!;
    const seed = checkSeed(o.runSeed, c.id);
    const base = { id: c.id, kind: c.kind as CheckResult['kind'], title: c.title, seed };
    if (unknownSince) {
      const r: CheckResult = {
        ...base,
        status: 'error',
        reason: `${stateUnknownReason} (${unknownSince})`,
        durationMs: 0,
      };
      byId.set(c.id, r);
      o.onProgress(`ERROR   ${c.id} ${c.title} - ${r.reason}`);
      continue;
    }
    if (stoppedBy) {
      byId.set(c.id, {
        ...base,
        status: 'skipped',
        reason: `not run: --fail-fast after ${stoppedBy} failed`,
        durationMs: 0,
      });
      continue;
    }
    const stop = new AbortController();
    const limit = limitOf();
    const timeoutMs = limit.ms;
    // The check's last progress line: a check stopped at its time limit says where it was.
    const progress: { last?: { line: string; at: number } } = {};
    const ctx = new CheckContext({
      target: o.target,
      validator: o.validator,
      network: o.network,
      seed,
      numRuns: o.numRuns,
      log: (line) => {
        progress.last = { line, at: performance.now() };
        o.onProgress(`  ${c.id}: ${line}`);
      },
      signal: stop.signal,
      deadline: Date.now() + timeoutMs,
      ...(o.settings ? { settings: o.settings } : {}),
      ...(o.shrink === false ? { shrink: false } : {}),
    });
    const fn = (o.module.checks as Record<string, (ctx: CheckContext) => Promise<void>>)[c.id];
    await spans.start(c.id);
    const started = performance.now();
    let r: CheckResult;
    let timedOut = false;
    let stoppedCleanly = true;
    try {
      if (!fn) throw new Error(`no implementation registered for ${c.id}`);
      for (const need of c.needs ?? []) ctx.require(need as never);
      const running: Promise<Settled> = runInCheckScope(stop.signal, () => fn(ctx)).then(
        () => ({ ok: true }),
        (error: unknown) => ({ ok: false, error }),
      );
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const first = await Promise.race([running, expired]);
      clearTimeout(timer);
      if (first === 'timeout') {
        timedOut = true;
        stop.abort(new CheckTimedOut(`${c.id} did not finish within ${timeoutMs} ms`));
        // Give it a moment to notice (requests and sleeps end at once); one that ignores the signal is left behind.
        stoppedCleanly = await Promise.race([
          running.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), o.stopGraceMs ?? 5000).unref()),
        ]);
        const last = progress.last;
        const where = last
          ? `; its last progress, ${((last.at - started) / 1000).toFixed(1)} s in: ${last.line}`
          : '; it logged no progress';
        throw new CheckTimedOut(
          `${c.id} did not finish within ${timeoutMs} ms${limit.why ? ` (${limit.why})` : ''} and was stopped${stoppedCleanly ? '' : ` (it had not ended ${o.stopGraceMs ?? 5000} ms after the stop)`}${where}`,
        );
      }
      if (!first.ok) throw first.error;
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
      const bad = ctx.sink.violating[0];
      if ((e instanceof CheckSkipped || e instanceof CapabilityMissing) && bad) {
        // What the check saw before it skipped is still evidence: a response that broke the spec fails it.
        r = {
          ...base,
          status: 'fail',
          reason: `a response did not fit the spec: ${bad.violations.join('; ')} (the check then skipped: ${e.message})`,
          exchange: toRecorded(bad),
          durationMs: 0,
        };
      } else if (e instanceof CheckSkipped || e instanceof CapabilityMissing) {
        r = { ...base, status: 'skipped', reason: e.message, durationMs: 0 };
      } else if (e instanceof CheckFailure) {
        r = { ...base, status: 'fail', reason: e.message, durationMs: 0 };
        if (e.details.counterexample !== undefined) r.counterexample = e.details.counterexample;
        const ex = e.details.exchange ?? (ctx.sink.violating[0] ? toRecorded(ctx.sink.violating[0]) : undefined);
        if (ex) r.exchange = ex;
      } else if (e instanceof CheckTimedOut || e instanceof CheckAborted) {
        // A property interrupted at its time limit ends the same way as a check stopped by the harness.
        timedOut = true;
        r = { ...base, status: 'error', reason: e.message, durationMs: 0 };
      } else {
        r = { ...base, status: 'error', reason: (e as Error).stack ?? String(e), durationMs: 0 };
      }
    }
    r.durationMs = Math.round(performance.now() - started);
    if (ctx.runs) r.runs = ctx.runs;
    if (Object.keys(ctx.evidence).length) r.evidence = ctx.evidence;
    if (Object.keys(ctx.settingsRead).length) r.settings = { ...ctx.settingsRead };
    if (timedOut) {
      // The target may be mid-change (a node down, a membership half moved): put it back, or say it cannot be.
      if (o.target.processControl && o.target.restartAll) {
        try {
          o.onProgress(`  ${c.id}: timed out; restarting every node of the target`);
          await o.target.restartAll();
          ctx.changed('timed out: every node was restarted');
        } catch (e) {
          unknownSince = `${c.id} timed out and restarting the nodes failed: ${(e as Error).message.split('\n')[0]}`;
        }
      } else {
        unknownSince = `${c.id} timed out on a target the harness cannot restart`;
      }
      if (!stoppedCleanly) ctx.changed('timed out and did not stop within the grace period');
    }
    if (ctx.changes.length) r.changed = [...ctx.changes];
    byId.set(c.id, r);
    if (o.failFast && (r.status === 'fail' || r.status === 'error')) stoppedBy = c.id;
    if (!timedOut) await o.target.heal();
    spans.done(c.id, r.status);
    const why = r.reason ? ` - ${r.reason.split('\n')[0]}` : '';
    o.onProgress(
      `${r.status.toUpperCase().padEnd(7)} ${c.id} ${c.title} (${(r.durationMs / 1000).toFixed(1)} s)${why}`,
    );
  }
  await spans.end();
  return {
    checks: wanted.map((c) => byId.get(c.id)!),
    order: o.shuffleSeed !== undefined ? { mode: 'shuffled', seed: o.shuffleSeed, ran } : { mode: 'catalog', ran },
  };
}
