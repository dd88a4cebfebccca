// Staff authentication for the ops writes (the book: hotels and rooms are written "only by ops", through an internal
// API "only visible to authorized personnel"): a bearer key given to the service at start, compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import { ProblemError } from '../kit/problem.ts';

/** The spec's grading default for the key (setting `staffKey`); a deployment sets STAFF_KEY. */
export const DEFAULT_STAFF_KEY = 'sdgrade-hotel-staff';

/** How a key given is compared with the staff key: whole and as it is, or as a mutant compares it. */
export type KeyComparison = 'exact' | 'case-folded' | 'prefix';

export function isStaff(authorization: string | undefined, key: string, comparison: KeyComparison = 'exact'): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  if (!m) return false;
  // MUTANT staff-key-case-folded: the key compared in lower case, so the key in other letter case passes.
  const fold = (s: string) => (comparison === 'case-folded' ? s.toLowerCase() : s);
  const given = Buffer.from(fold(m[1]!), 'utf8');
  const want = Buffer.from(fold(key), 'utf8');
  // MUTANT staff-key-prefix-accepted: compared over the length of the key given, so any prefix of the key passes.
  if (comparison === 'prefix')
    return given.length <= want.length && timingSafeEqual(given, want.subarray(0, given.length));
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Throws 401 unauthorized unless the request carries the staff key; `skip` is MUTANT staff-auth-skipped. */
export function requireStaff(
  authorization: string | undefined,
  key: string,
  skip = false,
  comparison: KeyComparison = 'exact',
): void {
  if (skip) return;
  if (!isStaff(authorization, key, comparison))
    throw new ProblemError(
      401,
      'unauthorized',
      'only hotel staff change hotels and room types (Authorization: Bearer <key>)',
    );
}
