// The self-tests' daily rotation. Every run shows each check failing on at least one mutant (its witness: the first
// mutant `mutants.ts` lists for it) and grades each reference by manifest with every check; the rest (the other
// mutants, which keep particular bugs caught, and the repeat grades: by URL and each deployment variant) is split
// into SDGRADE_ROTATION parts by a stable hash of each name, and a run takes the part of its day, so consecutive days
// cover all of it. Why: the suite outgrew its 30-minute CI budget, and those tests repeat what the witnesses and the
// manifest grades show on every run. CI rotates in 4 parts (3 until the suite's npm test reached 1,436 s of the
// budget); elsewhere (and with SDGRADE_ROTATION=1) everything runs.
export interface Rotation {
  /** How many parts the rotated tests are split into (1: no rotation). */
  parts: number;
  /** The part this run takes, 0-based. */
  part: number;
}

const DAY_MS = 86_400_000;

/**
 * The rotation of this run: SDGRADE_ROTATION parts (default 4 under CI, else 1), the part of the day (UTC days since
 * 1970, modulo the parts) unless SDGRADE_ROTATION_PART names one.
 */
export function rotation(env: NodeJS.ProcessEnv = process.env, now: Date = new Date()): Rotation {
  const parts = positiveInt(env['SDGRADE_ROTATION'], env['CI'] ? 4 : 1, 'SDGRADE_ROTATION');
  const given = env['SDGRADE_ROTATION_PART'];
  if (given !== undefined && given !== '') {
    const part = Number(given);
    if (!Number.isInteger(part) || part < 0 || part >= parts)
      throw new Error(`SDGRADE_ROTATION_PART must be an integer from 0 to ${parts - 1}: ${given}`);
    return { parts, part };
  }
  return { parts, part: Math.floor(now.getTime() / DAY_MS) % parts };
}

function positiveInt(v: string | undefined, fallback: number, name: string): number {
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer: ${v}`);
  return n;
}

/** Whether `name` falls in the run's part: a stable hash (FNV-1a), so adding a name moves no other. */
export function inPart(name: string, r: Rotation): boolean {
  if (r.parts <= 1) return true;
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % r.parts === r.part;
}

/** The reason a rotated test is skipped today (shown by vitest and in the log, never counted as passed). */
export function notTodayReason(r: Rotation): string {
  return `in another part of the daily rotation (this run: part ${r.part + 1} of ${r.parts}; SDGRADE_ROTATION=1 runs everything)`;
}

/** The mutants that witness each check: the first one listed for it. */
export function witnesses(mutants: readonly { name: string; breaks: string }[]): Set<string> {
  const seen = new Set<string>();
  const out = new Set<string>();
  for (const m of mutants) {
    if (seen.has(m.breaks)) continue;
    seen.add(m.breaks);
    out.add(m.name);
  }
  return out;
}
