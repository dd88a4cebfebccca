// URL-F5, third round: a click write whose connection is cut part-way through PostgreSQL's answers. A write made of
// several statements (check the batch id, add the counts, record the id) can lose its connection after the counts
// landed and before the id did: its retry then adds the clicks again. The second round cannot aim there (its
// answers are dropped from before the write starts, so the first statement takes the loss), and the harness cannot
// see when the service writes. So it cuts by volume instead of time: in each short round, every connection to
// PostgreSQL is closed once it has carried a given number of bytes of answers (a `limit_data` toxic on the
// downstream), 40, 80 and 120 bytes, about one, two and three short answers; a cut of the service's write after any
// of its statements is then met in some round. After each round the link must show each click exactly once.
import type { CheckContext } from '../../core/check-context.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { urlApi } from './api.ts';
import { clicksShown } from './clicks-shown.ts';

/** Bytes of answers a connection carries before it is cut, one round each. */
const CUT_AFTER_BYTES = [40, 80, 120];
/** Redirects per round, served while the cut is on (from a cache: the redirects need no database). */
const ROUND_CLICKS = 2;
/** How long the cut stays on after the clicks: past the one-second lag, so the service has tried to write them. */
const HOLD_MS = 1100;
/** How long a metadata read may be refused once the cut is lifted (a pool reconnecting). */
const RECOVERY_MS = 10_000;

export async function cutClickWrite(ctx: CheckContext, code: string): Promise<void> {
  const db = ctx.target.dependencies.database!;
  const api = urlApi(ctx);
  const slack = checkSlack(ctx.evidence, 2500);
  const first = await api.stats(code);
  ctx.expectStatus(first.x, 200);
  let made = first.stats?.clicks ?? 0;
  let unanswered = 0;
  const rounds: { bytes: number; made: number; shown: number | null }[] = [];
  ctx.evidence.cutClickWrite = { code, rounds };
  for (const bytes of CUT_AFTER_BYTES) {
    // The cut goes on before the clicks, so the write of them meets it wherever the service's timer stands. A
    // redirect read from the database may be cut too: a refused one is no click, one with no answer may be either.
    const cut = await db.addToxic({ type: 'limit_data', stream: 'downstream', attributes: { bytes } });
    try {
      for (let i = 0; i < ROUND_CLICKS; i++) {
        const r = await api.follow(code);
        if (r.status === 302) made++;
        else if (r.status === null) unanswered++;
      }
      await ctx.sleep(slack.bound(HOLD_MS));
    } finally {
      await db.removeToxic(cut);
    }
    const lifted = Date.now();
    let read = await api.stats(code);
    while (!read.stats && Date.now() - lifted < timeLimit(RECOVERY_MS)) {
      await ctx.sleep(100);
      read = await api.stats(code);
    }
    rounds.push({ bytes, made, shown: read.stats?.clicks ?? null });
    ctx.expect(
      read.stats,
      `no metadata read of ${code} answered 200 within ${Math.round(timeLimit(RECOVERY_MS) / 1000)} s of PostgreSQL's ` +
        `connections being cut after ${bytes} bytes of their answers (${read.x.status ?? read.x.error})`,
      read.x,
    );
    const shown = read.stats.clicks;
    ctx.expect(
      shown >= made && shown <= made + unanswered,
      `link ${code} had ${made} clicks counted, the last of them served while every connection to PostgreSQL was ` +
        `cut after ${bytes} bytes of its answers (a write of them may have landed in part), and then showed ` +
        `${clicksShown(shown, made)}: each click must be counted exactly once, however far a write got before its ` +
        'connection was lost',
      read.x,
    );
  }
}
