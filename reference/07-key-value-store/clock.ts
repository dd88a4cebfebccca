// Versions and their causal contexts: the book's vector clocks, kept exact with "dots" (dotted version vectors).
//
// A version is made by one event, its dot `actor:counter`, on top of a causal past (the context the client read).
// A clock is a version vector `{actor: counter}` (every event of the actor up to counter) plus single dots that are
// not contiguous with it. Why the dots: two writes through the same node with the same context get counters 1 and 2;
// as a plain vector clock {n1:2} would claim to descend from {n1:1} and silently drop it (the `plain-version-vectors`
// mutant). With dots, the second write's past is {} and the two are siblings, as the book's conflict rule wants.
// When no write is concurrent the dots fold into the vector and a clock reads exactly like the book's [Sx,2][Sy,1].

export interface Clock {
  vv: Record<string, number>;
  /** Single events `actor:counter` not covered by vv. */
  dots: string[];
}

export interface Version {
  /** The value, or null for a deletion (tombstone). */
  value: string | null;
  /** The event that made this version, `actor:counter`; unique per version. */
  dot: string;
  /** The causal context the write was made with (what it supersedes). */
  past: Clock;
  /** Wall-clock milliseconds at the coordinator: informational, used only by the last-writer-wins mutant. */
  ts: number;
}

export type MergeMode = 'dots' | 'plain-version-vectors' | 'last-writer-wins';

export const EMPTY: Clock = { vv: {}, dots: [] };

const ENTRY = /^([A-Za-z0-9_.-]{1,64})([:@])([0-9]{1,15})$/;

export function splitDot(dot: string): [string, number] {
  const i = dot.lastIndexOf(':');
  return [dot.slice(0, i), Number(dot.slice(i + 1))];
}

/**
 * Parses the wire form (`a:3,b@5`); throws RangeError on anything else. An actor named twice covers the union.
 * MUTANT context-repeated-actor-last-wins (`lastEntryWins`): a later `actor:n` replaces an earlier one.
 */
export function parseClock(text: string, lastEntryWins = false): Clock {
  const c: Clock = { vv: {}, dots: [] };
  if (text === '') return c;
  for (const part of text.split(',')) {
    const m = ENTRY.exec(part);
    if (!m) throw new RangeError(`context entry '${part}' is not actor:counter or actor@counter`);
    const n = Number(m[3]);
    if (m[2] === ':') c.vv[m[1]!] = lastEntryWins ? n : Math.max(c.vv[m[1]!] ?? 0, n);
    else c.dots.push(`${m[1]}:${n}`);
  }
  return normalize(c);
}

export function formatClock(c: Clock): string {
  const vv = Object.keys(c.vv)
    .filter((a) => c.vv[a]! > 0)
    .sort()
    .map((a) => `${a}:${c.vv[a]}`);
  const dots = [...c.dots].sort().map((d) => d.replace(/:(\d+)$/, '@$1'));
  return [...vv, ...dots].join(',');
}

export function covers(c: Clock, dot: string): boolean {
  const [a, n] = splitDot(dot);
  return n <= (c.vv[a] ?? 0) || c.dots.includes(dot);
}

/** MUTANT clock-folds-dots-past-gaps: a dot above a gap folds into the vector (a:1,a@3 becomes a:3). */
let foldPastGaps = false;
export function setFoldPastGaps(on: boolean): void {
  foldPastGaps = on;
}

/** Drops dots the vector covers and folds dots contiguous with it (a:2 and a@3 become a:3). */
function normalize(c: Clock): Clock {
  let dots = [...new Set(c.dots)];
  let changed = true;
  while (changed) {
    changed = false;
    const rest: string[] = [];
    for (const d of dots) {
      const [a, n] = splitDot(d);
      const have = c.vv[a] ?? 0;
      if (n <= have) changed = true;
      else if (n === have + 1 || foldPastGaps) {
        c.vv[a] = n;
        changed = true;
      } else rest.push(d);
    }
    dots = rest;
  }
  c.dots = dots;
  return c;
}

export function join(a: Clock, b: Clock): Clock {
  const vv = { ...a.vv };
  for (const [k, n] of Object.entries(b.vv)) vv[k] = Math.max(vv[k] ?? 0, n);
  return normalize({ vv, dots: [...a.dots, ...b.dots] });
}

/** The version's full clock: its past plus its own dot. */
export function clockOf(v: Version): Clock {
  return join(v.past, { vv: {}, dots: [v.dot] });
}

/** The context a read answers: the join of every version's clock. */
export function contextOf(versions: readonly Version[]): Clock {
  return versions.reduce<Clock>((c, v) => join(c, clockOf(v)), { vv: {}, dots: [] });
}

/** The highest counter of `actor` that the clock mentions. */
export function counterOf(c: Clock, actor: string): number {
  let n = c.vv[actor] ?? 0;
  for (const d of c.dots) {
    const [a, k] = splitDot(d);
    if (a === actor) n = Math.max(n, k);
  }
  return n;
}

/** A clock flattened to a plain vector clock (what the `plain-version-vectors` mutant compares). */
function flat(c: Clock): Record<string, number> {
  const vv = { ...c.vv };
  for (const d of c.dots) {
    const [a, n] = splitDot(d);
    vv[a] = Math.max(vv[a] ?? 0, n);
  }
  return vv;
}

function descends(a: Record<string, number>, b: Record<string, number>): boolean {
  return Object.entries(b).every(([k, n]) => (a[k] ?? 0) >= n);
}

/**
 * Adds version v to a key's sibling set, the one merge every path uses (coordinator, replica, hint, anti-entropy):
 * v is dropped if a sibling's past covers v's dot (v was superseded), and v drops every sibling whose dot its past
 * covers. Commutative and idempotent, so replicas agree whatever order versions reach them in.
 */
export function merge(siblings: readonly Version[], v: Version, mode: MergeMode = 'dots'): Version[] {
  if (siblings.some((s) => s.dot === v.dot)) return siblings as Version[];
  if (mode === 'plain-version-vectors') {
    // MUTANT plain-version-vectors: the book's vector-clock comparison on flattened clocks.
    const fv = flat(clockOf(v));
    if (siblings.some((s) => descends(flat(clockOf(s)), fv))) return siblings as Version[];
    return [...siblings.filter((s) => !descends(fv, flat(clockOf(s)))), v];
  }
  if (siblings.some((s) => covers(s.past, v.dot))) return siblings as Version[];
  const next = [...siblings.filter((s) => !covers(v.past, s.dot)), v];
  if (mode === 'last-writer-wins' && next.length > 1) {
    // MUTANT last-writer-wins: concurrent versions are resolved by wall clock; the loser is silently dropped.
    const winner = next.reduce((a, b) => (b.ts > a.ts || (b.ts === a.ts && b.dot > a.dot) ? b : a));
    return [winner];
  }
  return next;
}

export function mergeAll(siblings: readonly Version[], incoming: readonly Version[], mode: MergeMode): Version[] {
  let s = siblings as Version[];
  for (const v of incoming) s = merge(s, v, mode);
  return s;
}
