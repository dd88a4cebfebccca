// URL-F5, second round: a click write that lands but whose answer is lost. Right after a link is followed, every
// answer PostgreSQL sends the service is dropped (a Toxiproxy `timeout` toxic on the downstream of its proxy: the
// service's statements still reach the server and commit), for longer than the spec's one-second click lag, so the
// service has sent those clicks' write and it has committed; then PostgreSQL is taken away (its proxy disabled,
// every connection closed), so the write's answer never arrives. The service cannot know whether the write landed.
// Once PostgreSQL is back, every metadata read that answers must show each click exactly once: a retry that adds the
// batch again (it had landed) shows more, and a batch given up shows fewer. While PostgreSQL is away the link is
// followed twice more (a cached link may still be redirected): those clicks are newer than the batch in doubt and must
// be counted too, so a retry that carries them under the in-doubt batch's id (which had landed, so the retry changes
// nothing) shows fewer (blind bug clicks-retry-merges-new).
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { runNonce, urlApi } from './api.ts';
import { clicksShown } from './clicks-shown.ts';

const LOST_CLICKS = 3;
/** Redirects of the link while PostgreSQL is away (each counted if it answered 302). */
const AWAY_CLICKS = 2;
/** How long answers are dropped after the clicks: past the one-second lag (plus this process's measured timer lag). */
const HOLD_MS = 1500;
/** How long PostgreSQL stays away once the answers are lost, so a retry meets it away. */
const AWAY_MS = 300;
/** How long metadata is read once it answers: past the one-second lag, so a retry on a timer has been made. */
const READS_MS = 2000;
const RECOVERY_MS = 15_000;

export async function lostClickAnswer(ctx: CheckContext, code: string): Promise<void> {
  const db = ctx.target.dependencies.database!;
  const api = urlApi(ctx);
  const counted = await api.stats(code);
  ctx.expectStatus(counted.x, 200);
  let made = (counted.stats?.clicks ?? 0) + LOST_CLICKS;
  for (let i = 0; i < LOST_CLICKS; i++) ctx.expectStatus(await api.follow(code), 302);
  const slack = checkSlack(ctx.evidence, 2500);
  const drop = await db.addToxic({ type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } });
  const heldFrom = Date.now();
  // A create sent while the answers are dropped: its query is in flight when the connection is closed under it, and
  // that is the database not answering, 503 `unavailable`, never a 500 (blind bug pg-terminated-is-500: errors told
  // apart by their code only, and a closed connection has none, only a message).
  const inFlight = api.shorten(`https://example.com/in-flight/${runNonce()}`);
  try {
    await ctx.sleep(slack.bound(HOLD_MS));
    await db.setReachable(false); // closes every connection: the answers held back are lost with them
  } finally {
    await db.removeToxic(drop);
  }
  const cut = await inFlight;
  ctx.expect(
    cut.x.status === 503 || cut.x.status === 201 || cut.x.error !== undefined,
    `a create whose database query was in flight when PostgreSQL's connections were closed answered ` +
      `${cut.x.status}: a database that cannot answer is 503 unavailable`,
    cut.x,
  );
  const awayFrom = Date.now();
  let awayClicks = 0;
  let awayUnanswered = 0;
  try {
    for (let i = 0; i < AWAY_CLICKS; i++) {
      const r = await api.follow(code);
      if (r.status === 302) awayClicks++;
      else if (r.status === null) awayUnanswered++; // served or not: either count is right
    }
    await ctx.sleep(AWAY_MS);
  } finally {
    await db.setReachable(true);
  }
  made += awayClicks;
  ctx.evidence.lostAnswer = { code, clicks: made, awayClicks, answersDroppedMs: awayFrom - heldFrom };

  const back = Date.now();
  let firstAnswer: number | undefined;
  let answered = 0;
  const wrong: { clicks: number; afterMs: number }[] = [];
  let wrongExchange: Exchange | undefined;
  while (firstAnswer === undefined ? Date.now() - back < timeLimit(RECOVERY_MS) : Date.now() - firstAnswer < READS_MS) {
    const r = await api.stats(code);
    if (!r.stats) {
      await ctx.sleep(50);
      continue;
    }
    firstAnswer ??= Date.now();
    answered++;
    if (r.stats.clicks < made || r.stats.clicks > made + awayUnanswered) {
      wrong.push({ clicks: r.stats.clicks, afterMs: Date.now() - back });
      wrongExchange ??= r.x;
    }
  }
  ctx.evidence.lostAnswer = { ...(ctx.evidence.lostAnswer as object), answered, wrong: wrong.slice(0, 5) };
  ctx.expect(
    answered > 0,
    `no metadata read of ${code} answered 200 within ${Math.round(timeLimit(RECOVERY_MS) / 1000)} s of the database coming back`,
  );
  ctx.expect(
    wrong.length === 0,
    `link ${code} had ${made} clicks counted, and their write's answer was lost (PostgreSQL's answers dropped for ` +
      `${awayFrom - heldFrom} ms after them, then the database taken away; ${awayClicks} more redirects served while ` +
      `it was away): ${wrong.length} of ${answered} metadata ` +
      `reads once it was back showed another count, first ${clicksShown(wrong[0]?.clicks ?? made, made)}; ` +
      'each click must be counted exactly once, whether or not a write whose answer was lost had landed',
    wrongExchange,
  );
}
