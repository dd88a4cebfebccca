// The horizon's edge, graded by HR-C3 (a search) and HR-C4 (a reservation) alike.
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { day } from './api.ts';

/**
 * The horizon's edge: a range whose check-out day is 730 days from today is accepted (its last night is the 729th), one
 * whose check-out day is 731 days ahead is 422 invalid_dates (the 730 days count to the check-out day, not to the last
 * night). Near midnight UTC the day may turn between computing the dates and the answer, which moves the edge a day:
 * then a 2xx for the later range is the spec's answer, and that edge is not graded this time.
 */
export async function horizonEdge(
  ctx: CheckContext,
  what: string,
  send: (startDate: string, endDate: string) => Promise<Exchange>,
): Promise<void> {
  const [today, from, beyond, lastFrom, lastEnd] = [day(0), day(724), day(731), day(723), day(730)];
  const past = await send(from, beyond);
  if (!(past.status != null && past.status < 300 && day(0) !== today)) {
    ctx.expect(
      past.status === 422,
      `${what} ending 731 days from today (${from}..${beyond}) answered ${past.status ?? past.error}, not 422 (the 730 days end on the check-out day)`,
      past,
    );
    ctx.expectStatus(past, 422, 'invalid_dates');
  }
  const last = await send(lastFrom, lastEnd);
  ctx.expect(
    last.status != null && last.status < 300,
    `${what} ending 730 days from today (${lastFrom}..${lastEnd}) answered ${last.status ?? last.error}, not 2xx`,
    last,
  );
}
