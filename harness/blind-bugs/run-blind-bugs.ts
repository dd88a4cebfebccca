// Grades every blind bug of a chapter (see fixtures/blind-bugs/README.md): an unpatched baseline first (a check that
// fails there is noise on this machine, not a catch), then each bug on its own patched copy of the reference, every
// check run. The outcome is compared with what bugs.yaml records: a bug recorded as caught that nothing catches
// any more is a regression of grading power; one recorded as missed that is now caught asks for bugs.yaml to be
// updated; an "equivalent" bug that some check catches contradicts its reason.
import type { GradeOutcome, Grader } from '../mutate/run-mutate.ts';
import type { BlindBug, BugsFile } from './bugs-file.ts';

export type BugVerdict = 'as-recorded' | 'regressed' | 'now-caught' | 'equivalent-caught' | 'skipped' | 'error';

export interface BugResult {
  id: string;
  path: BlindBug['path'];
  expected: BlindBug['before']['status'];
  status: 'caught' | 'missed' | 'skipped' | 'error';
  by: string[];
  /** Checks that failed on this bug and on the unpatched baseline too (not counted as catches). */
  noise: string[];
  verdict: BugVerdict;
  reason?: string;
  /** Why each check in `by` failed (its first line), so a result file says what caught the bug, not only which. */
  failures?: Record<string, string>;
  ms: number;
}

export interface BlindBugsReport {
  chapter: string;
  /** The unpatched reference, graded as the default deployment. */
  baseline: { failed: string[]; ms: number } | null;
  /** The unpatched reference graded as each deployment variant a bug lives in, and by each bug's test file (`test
   * <file>`). */
  variantBaselines: Record<string, { failed: string[]; ms: number }>;
  bugs: BugResult[];
  regressions: number;
  errors: number;
}

export interface RunBlindBugsOptions {
  file: BugsFile;
  only?: string[];
  baseline: boolean;
  timeoutMs: number;
  /** Grades a workspace; `path` says which stores the bug needs, `test` the test file that grades it instead of the
   * checks (a skip carries its reason). */
  grader: (path: BlindBug['path'], test?: string) => Grader | { skip: string };
  workspace: (patchFile: string | null) => { dir: string; remove(): void };
  patchPath: (bug: BlindBug) => string;
  log: (line: string) => void;
}

/** Which unpatched baseline a bug's failures are compared with: its test file's, its variant's, or (none) the default. */
function baselineKey(bug: BlindBug): string | undefined {
  return bug.test ? `test ${bug.test}` : bug.variant;
}

function failedChecks(g: GradeOutcome): { id: string; reason: string }[] {
  return g.failed ?? (g.by ? [{ id: g.by, reason: g.reason ?? '' }] : []);
}

function failedIds(g: GradeOutcome): string[] {
  return failedChecks(g).map((f) => f.id);
}

function verdictFor(expected: BugResult['expected'], status: BugResult['status']): BugVerdict {
  if (status === 'skipped' || status === 'error') return status;
  if (expected === 'equivalent') return status === 'caught' ? 'equivalent-caught' : 'as-recorded';
  if (expected === 'caught') return status === 'caught' ? 'as-recorded' : 'regressed';
  if (expected === 'missed') return status === 'caught' ? 'now-caught' : 'as-recorded';
  return 'as-recorded'; // pending: nothing recorded yet to compare with
}

export async function runBlindBugs(o: RunBlindBugsOptions): Promise<BlindBugsReport> {
  const bugs = o.only?.length ? o.file.bugs.filter((b) => o.only!.includes(b.id)) : o.file.bugs;
  const unknown = (o.only ?? []).filter((id) => !o.file.bugs.some((b) => b.id === id));
  if (unknown.length) throw new Error(`no blind bug named ${unknown.join(', ')} in ${o.file.dir}/bugs.yaml`);

  // The unpatched reference first, as the default deployment and as each variant a graded bug lives in (on the
  // stores that variant's bugs need): a check that fails there is noise on this machine, not a catch.
  const gradeBaseline = async (path: BlindBug['path'], variant?: string, test?: string) => {
    const grader = o.grader(path, test);
    if ('skip' in grader) return null;
    const ws = o.workspace(null);
    const t = performance.now();
    const label = test ? `baseline (${test})` : variant ? `baseline (variant ${variant})` : 'baseline';
    try {
      const g = await grader({ workspace: ws.dir, env: {}, timeoutMs: o.timeoutMs, ...(variant ? { variant } : {}) });
      if (g.status === 'error' || g.status === 'timeout')
        throw new Error(`the unpatched reference could not be graded (${label}: ${g.status}: ${g.reason ?? ''})`);
      const b = { failed: failedIds(g), ms: performance.now() - t };
      o.log(
        b.failed.length
          ? `${label}: the unpatched reference fails ${b.failed.join(', ')} here; those are not counted as catches`
          : `${label}: the unpatched reference passes (${Math.round(b.ms / 1000)} s)`,
      );
      return b;
    } finally {
      ws.remove();
    }
  };
  let baseline: BlindBugsReport['baseline'] = null;
  const variantBaselines: BlindBugsReport['variantBaselines'] = {};
  if (o.baseline) {
    const grader = o.grader('embedded');
    if ('skip' in grader) throw new Error(grader.skip);
    baseline = await gradeBaseline('embedded');
    for (const bug of bugs) {
      const key = baselineKey(bug);
      if (!key || key in variantBaselines) continue;
      const b = await gradeBaseline(bug.path, bug.variant, bug.test);
      if (b) variantBaselines[key] = b;
    }
  }
  const noiseOf = (bug: BlindBug) => {
    const key = baselineKey(bug);
    return new Set((key ? variantBaselines[key] : baseline)?.failed ?? []);
  };

  const results: BugResult[] = [];
  for (const [i, bug] of bugs.entries()) {
    const expected = (bug.after ?? bug.before).status;
    const t = performance.now();
    const grader = o.grader(bug.path, bug.test);
    let r: Omit<BugResult, 'verdict' | 'ms'>;
    if ('skip' in grader) {
      r = { id: bug.id, path: bug.path, expected, status: 'skipped', by: [], noise: [], reason: grader.skip };
    } else {
      let ws: { dir: string; remove(): void } | null = null;
      try {
        ws = o.workspace(o.patchPath(bug));
        const g = await grader({
          workspace: ws.dir,
          env: bug.env,
          timeoutMs: o.timeoutMs,
          ...(bug.variant ? { variant: bug.variant } : {}),
        });
        if (g.status === 'error' || g.status === 'timeout') {
          r = {
            id: bug.id,
            path: bug.path,
            expected,
            status: 'error',
            by: [],
            noise: [],
            reason: g.reason ?? g.status,
          };
        } else {
          const all = failedIds(g);
          const noisy = noiseOf(bug);
          const by = all.filter((id) => !noisy.has(id));
          const noise = all.filter((id) => noisy.has(id));
          const failures = Object.fromEntries(
            failedChecks(g)
              .filter((f) => by.includes(f.id))
              .map((f) => [f.id, f.reason]),
          );
          r = {
            id: bug.id,
            path: bug.path,
            expected,
            status: by.length ? 'caught' : 'missed',
            by,
            noise,
            ...(by.length ? { failures } : {}),
          };
        }
      } catch (e) {
        r = { id: bug.id, path: bug.path, expected, status: 'error', by: [], noise: [], reason: (e as Error).message };
      } finally {
        ws?.remove();
      }
    }
    const res: BugResult = { ...r, verdict: verdictFor(expected, r.status), ms: performance.now() - t };
    results.push(res);
    const detail = res.status === 'caught' ? ` by ${res.by.join(', ')}` : res.reason ? `: ${res.reason}` : '';
    const flag = res.verdict === 'as-recorded' ? '' : `  [${res.verdict}; recorded: ${expected}]`;
    o.log(
      `bug ${i + 1} of ${bugs.length}: ${bug.id} (${bug.path}${bug.variant ? `, variant ${bug.variant}` : ''}) ${res.status}${detail} in ${Math.round(res.ms / 1000)} s${flag}`,
    );
  }
  return {
    chapter: o.file.chapter,
    baseline,
    variantBaselines,
    bugs: results,
    regressions: results.filter((r) => r.verdict === 'regressed' || r.verdict === 'equivalent-caught').length,
    errors: results.filter((r) => r.verdict === 'error').length,
  };
}
