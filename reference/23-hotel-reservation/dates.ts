// Calendar dates as the spec gives them (YYYY-MM-DD, the hotel's calendar), the nights of a range, and the range
// rules: end after start, start no earlier than today (UTC), at most 30 nights, end at most 730 days from today.
import { ProblemError } from '../kit/problem.ts';

export const MAX_NIGHTS = 30;
export let HORIZON_DAYS = 730; // `let` only for MUTANT horizon-on-last-night (the end of this file)
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a YYYY-MM-DD date (the schema has already checked its form). */
export function dayNumber(date: string): number {
  return Math.floor(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

export function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export function today(now = Date.now()): number {
  return Math.floor(now / DAY_MS);
}

/**
 * The nights of [startDate, endDate): the check-out day is not a night. Refuses, as 422 invalid_dates, a range the
 * spec does not accept. `offByOne` is MUTANT date-range-off-by-one: the check-out day counted as a night;
 * `todayRefused` is MUTANT start-today-refused: a stay must start after today.
 */
export function nightsOf(startDate: string, endDate: string, offByOne = false, todayRefused = false): string[] {
  const start = dayNumber(startDate);
  const end = dayNumber(endDate);
  const now = today();
  if (!(end > start)) throw invalid(`endDate ${endDate} is not after startDate ${startDate}`);
  if (start < now || (todayRefused && start === now))
    throw invalid(`startDate ${startDate} is before today (${dateOf(now)}, UTC)`);
  if (end - start > MAX_NIGHTS) throw invalid(`${end - start} nights; at most ${MAX_NIGHTS}`);
  if (end > now + HORIZON_DAYS) throw invalid(`endDate ${endDate} is more than ${HORIZON_DAYS} days from today`);
  const nights: string[] = [];
  for (let d = start; d < end + (offByOne ? 1 : 0); d++) nights.push(dateOf(d));
  return nights;
}

function invalid(detail: string): ProblemError {
  return new ProblemError(422, 'invalid_dates', detail);
}

/**
 * MUTANT horizon-on-last-night (the blind bug horizon-counts-last-night): the 730 days are counted to the last night,
 * not to the check-out day, so a range ending 731 days from today is accepted (and the nights are made one further).
 * Kept out of nightsOf so the blind bugs' patches still apply to it as it is.
 */
export function horizonCountedToLastNight(): void {
  HORIZON_DAYS = 731;
}
