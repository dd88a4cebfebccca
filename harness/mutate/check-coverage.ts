// Which checks reach each mutant's code, from one baseline run: the times the coverage hook recorded in the nodes
// (coverage-hook.mjs, `<pid>.hits`) put against the spans the harness recorded (check-spans.ts). A check's span
// runs from its start to the next check's start, so the reset after it (heal) counts as its own. A mutant whose code
// ran before the first check (start-up) or after the last (shutdown) may shape everything the checks see: every
// check is taken to reach it, as Stryker does with "static" mutants. Without spans (a grader that writes none),
// every mutant reached is taken to be reached by every check.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const checkSpansFile = 'check-spans.txt';

export interface CheckCoverage {
  /** Every mutant whose code ran. */
  reached: Set<string>;
  /** Reached outside every check's span (or no spans were recorded): every check is taken to reach it. */
  everywhere: Set<string>;
  /** The checks that ran, in the order they ran, each with the mutants it reached. */
  byCheck: Map<string, Set<string>>;
}

export interface CheckSpans {
  checks: { id: string; start: number; status?: string }[];
  end: number;
}

export function parseCheckSpans(text: string): CheckSpans | null {
  const checks: CheckSpans['checks'] = [];
  let end: number | null = null;
  for (const line of text.split('\n')) {
    const [kind, a, b] = line.trim().split(' ');
    if (kind === 'start' && a && b) checks.push({ id: a, start: Number(b) });
    else if (kind === 'done' && a && b) {
      const c = checks.findLast((x) => x.id === a);
      if (c) c.status = b;
    } else if (kind === 'end' && a) end = Number(a);
  }
  return end === null || !checks.length ? null : { checks, end };
}

/** Each mutant ID with the intervals its code ran in (`<id> <from> <to>`), from every process's file. */
export function parseHits(texts: readonly string[]): Map<string, [number, number][]> {
  const hits = new Map<string, [number, number][]>();
  // the part after the last newline is empty, or a line kill -9 cut short
  for (const text of texts)
    for (const line of text.split('\n').slice(0, -1)) {
      const m = /^(\S+) (\d+) (\d+)$/.exec(line);
      if (!m) continue;
      const [, id, from, to] = m as unknown as [string, string, string, string];
      const times = hits.get(id) ?? [];
      times.push([Number(from), Number(to)]);
      hits.set(id, times);
    }
  return hits;
}

/**
 * A mutant whose code ran in [from, to] (widened by 1 ms each side for the millisecond clocks) is reached by every
 * check whose span meets that interval. A check that was skipped reached nothing on purpose (a timer that fired
 * during it fires during the others too); a mutant only skipped checks would claim is taken to be reached
 * everywhere, so it is never graded by checks that cannot fail.
 */
export function attributeHits(hits: Map<string, [number, number][]>, spans: CheckSpans | null): CheckCoverage {
  const reached = new Set(hits.keys());
  const byCheck = new Map<string, Set<string>>((spans?.checks ?? []).map((c) => [c.id, new Set<string>()]));
  if (!spans) return { reached, everywhere: new Set(reached), byCheck };
  const everywhere = new Set<string>();
  const cs = spans.checks;
  for (const [id, times] of hits) {
    const claimed = new Set<string>();
    for (const [from, to] of times) {
      const lo = from - 1;
      const hi = to + 1;
      if (lo < (cs[0] as CheckSpans['checks'][number]).start || hi > spans.end) {
        everywhere.add(id);
        break;
      }
      for (const [i, c] of cs.entries()) {
        const until = cs[i + 1]?.start ?? spans.end;
        if (c.start <= hi && until >= lo) claimed.add(c.id);
      }
    }
    if (everywhere.has(id)) continue;
    const graded = [...claimed].filter((c) => cs.find((x) => x.id === c)?.status !== 'skipped');
    if (!graded.length) everywhere.add(id);
    else for (const c of graded) byCheck.get(c)?.add(id);
  }
  return { reached, everywhere, byCheck };
}

export function readCheckCoverage(dir: string): CheckCoverage {
  const hits = parseHits(
    readdirSync(dir)
      .filter((f) => f.endsWith('.hits'))
      .map((f) => readFileSync(join(dir, f), 'utf8')),
  );
  const spansPath = join(dir, checkSpansFile);
  const spans = existsSync(spansPath) ? parseCheckSpans(readFileSync(spansPath, 'utf8')) : null;
  return attributeHits(hits, spans);
}

/**
 * Checks that read one fixture built by whichever of them runs first (chapter 10's shared crawl): the baseline credits
 * the fixture's code to that one alone, so each check of a group is taken to reach what any of them reaches. A check
 * the baseline did not run is left out (one it skipped is kept: it skips again when it grades).
 */
export function shareFixtures(cov: CheckCoverage, groups: readonly (readonly string[])[]): CheckCoverage {
  const byCheck = new Map([...cov.byCheck].map(([c, ids]) => [c, new Set(ids)]));
  for (const group of groups) {
    const members = group.filter((c) => cov.byCheck.has(c));
    const union = new Set(members.flatMap((c) => [...(cov.byCheck.get(c) as Set<string>)]));
    for (const c of members) for (const id of union) byCheck.get(c)?.add(id);
  }
  return { ...cov, byCheck };
}

/** The checks to grade a mutant with: undefined for every check (reached everywhere), else the ones that reach it. */
export function checksReaching(cov: CheckCoverage, id: string): string[] | undefined {
  if (cov.everywhere.has(id)) return undefined;
  return [...cov.byCheck].filter(([, ids]) => ids.has(id)).map(([c]) => c);
}
