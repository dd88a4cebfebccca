// How a chapter's micro-benchmark joins the targets the load test reported. Its results replace any placeholder with
// the same ID (without k6 every catalog target is listed unmeasured, the bench's too: each must appear once). A bench
// that throws keeps the chapter's checks and load results; the catalog targets nobody reported are listed skipped
// with the error, and the run's exit code says error (finish-run counts the prefix), as for a load test that breaks.
import type { TargetResult } from '../results/types.ts';

export const benchErrorPrefix = 'the micro-benchmark could not run:';

/** A catalog target that was not measured, with the reason. */
export function skippedTarget(t: CatalogTarget, reason: string): TargetResult {
  return {
    id: t.id,
    title: t.title,
    metric: t.metric,
    unit: t.unit,
    op: t.op,
    value: null,
    target: t.value ?? null,
    verdict: 'skipped',
    reason,
  };
}

interface CatalogTarget {
  id: string;
  title: string;
  metric: string;
  unit: string;
  op: TargetResult['op'];
  value?: number;
}

export function joinBenchTargets(
  reported: readonly TargetResult[],
  bench: readonly TargetResult[] | { error: Error },
  catalog: readonly CatalogTarget[],
): TargetResult[] {
  if ('error' in bench) {
    const why = `${benchErrorPrefix} ${bench.error.message.split('\n')[0]}`;
    const seen = new Set(reported.map((t) => t.id));
    return [...reported, ...catalog.filter((t) => !seen.has(t.id)).map((t) => skippedTarget(t, why))];
  }
  const replaced = new Set(bench.map((t) => t.id));
  return [...reported.filter((t) => !replaced.has(t.id)), ...bench];
}
