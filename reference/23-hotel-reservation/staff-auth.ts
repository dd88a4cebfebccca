// Staff authentication for the ops writes (the book: hotels and rooms are written "only by ops", through an internal
// API "only visible to authorized personnel"): a bearer key given to the service at start, compared in constant time.
import { timingSafeEqual } from 'node:crypto';
import { ProblemError } from '../kit/problem.ts';

/** The spec's grading default for the key (setting `staffKey`); a deployment sets STAFF_KEY. */
export const DEFAULT_STAFF_KEY = 'sdgrade-hotel-staff';

export function isStaff(authorization: string | undefined, key: string): boolean {
  const m = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1]!, 'utf8');
  const want = Buffer.from(key, 'utf8');
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Throws 401 unauthorized unless the request carries the staff key; `skip` is MUTANT staff-auth-skipped. */
export function requireStaff(authorization: string | undefined, key: string, skip = false): void {
  if (skip) return;
  if (!isStaff(authorization, key))
    throw new ProblemError(
      401,
      'unauthorized',
      'only hotel staff change hotels and room types (Authorization: Bearer <key>)',
    );
}
