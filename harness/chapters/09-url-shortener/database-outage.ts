// URL-F5: the database (PostgreSQL) taken away and brought back slow, with metadata reads overlapping the click
// counter's retried write (faults.ts holds the other faults and the link helpers this uses).
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { timeLimit } from '../../core/time-scale.ts';
import { runNonce, urlApi } from './api.ts';
import { clicksShown } from './clicks-shown.ts';
import { cutClickWrite } from './cut-click-write.ts';
import { createMany } from './faults.ts';
import { lostClickAnswer } from './lost-click-answer.ts';
import { expectAllResolve, verifyAfterFault } from './verify-links.ts';

/** Longest an answer may take with the database unreachable: a prompt 503, not a request hung on the database. */
const OUTAGE_ANSWER_MS = 10_000;
/** How long the service may take to serve creates again once the database is back (a pool reconnecting). */
const RECOVERY_MS = 15_000;

/** A 503 `unavailable` problem with Retry-After (openapi.yaml, components/responses/Unavailable), promptly. */
function expectUnavailable(ctx: CheckContext, x: Exchange, what: string): void {
  const problem = x.body as { code?: unknown } | undefined;
  ctx.expect(
    x.status === 503 && problem?.code === 'unavailable',
    `with the database unreachable, ${what} answered ${x.status ?? x.error}${
      typeof problem?.code === 'string' ? ` (${problem.code})` : ''
    }, not 503 unavailable`,
    x,
  );
  ctx.expect(
    /^[1-9][0-9]*$/.test(x.headers['retry-after'] ?? ''),
    `with the database unreachable, ${what} answered 503 without a Retry-After of whole seconds (got ${
      x.headers['retry-after'] ?? 'none'
    })`,
    x,
  );
  ctx.expect(
    x.durationMs < timeLimit(OUTAGE_ANSWER_MS),
    `with the database unreachable, ${what} took ${Math.round(x.durationMs)} ms to answer`,
    x,
  );
}

/** Redirects served just before URL-F5's outage, and how long the database stays away at least. */
const OUTAGE_CLICKS = 3;
const OUTAGE_MIN_MS = 1500;
/** URL-F5: the latency PostgreSQL comes back with, and how long the link's metadata is read once it answers. */
const SLOW_RETURN_MS = 250;
const RETRY_READS_MS = 2500;
const RETRY_READERS = 6;
/** A reader's pause after a read the database's absence refused: short, so that a read is nearly always in flight. */
const RETRY_GAP_MS = 5;

/**
 * URL-F5, as the database comes back: the clicks served before the outage are more than a second old, so every
 * metadata read that answers must count them all, including a read that overlaps the counter's retried write of them
 * (an implementation that answers a read that missed a write in flight shows fewer). Six clients read back to back
 * until 2.5 s after the first answer; a read answered otherwise than 200 is retried at once (recovery is checked
 * after). They start while the database is still away (`comeBack` brings it back), so that reads are already being
 * made when it returns: a counter retrying on a timer can write the clicks within milliseconds of the return, and
 * a read must overlap that write for the race to show (on a busy machine the first read after the return can come
 * later than the write, and the check would pass a racy implementation).
 */
async function readsDuringRetry(
  ctx: CheckContext,
  code: string,
  clicksWanted: number,
  comeBack: () => Promise<void>,
): Promise<void> {
  const api = urlApi(ctx);
  const started = Date.now();
  let firstAnswer: number | undefined;
  let answered = 0;
  const wrong: { clicks: number; afterMs: number }[] = [];
  let wrongExchange: Exchange | undefined;
  const reading = () =>
    Date.now() - started < timeLimit(RECOVERY_MS) &&
    (firstAnswer === undefined || Date.now() - firstAnswer < RETRY_READS_MS);
  const readers = Promise.all(
    Array.from({ length: RETRY_READERS }, async () => {
      while (reading()) {
        const r = await api.stats(code);
        if (!r.stats) {
          await ctx.sleep(RETRY_GAP_MS);
          continue;
        }
        firstAnswer ??= Date.now();
        answered++;
        if (r.stats.clicks !== clicksWanted) {
          wrong.push({ clicks: r.stats.clicks, afterMs: Date.now() - started });
          wrongExchange ??= r.x;
        }
      }
    }),
  );
  try {
    await ctx.sleep(RETRY_READERS * RETRY_GAP_MS * 4);
    await comeBack();
  } finally {
    await readers;
  }
  ctx.evidence.readsDuringRetry = { answered, wrong: wrong.slice(0, 5) };
  ctx.expect(
    wrong.length === 0,
    `link ${code} had ${clicksWanted} clicks counted more than a second before the database went away, and ` +
      `${wrong.length} of ${answered} metadata reads as it came back showed another count, first ` +
      `${clicksShown(wrong[0]?.clicks ?? clicksWanted, clicksWanted)}: every read must count them exactly (beyond ` +
      'the one-second lag)',
    wrongExchange,
  );
}

/**
 * URL-F5: the database (PostgreSQL) taken away. Creates, metadata reads and redirects the cache cannot answer are
 * 503 `unavailable` with Retry-After (never a 500, a hang or a 404 for a link that may exist); once the database
 * is back, creates work again, clicks served just before it went are all counted, and the run's links re-read as
 * after every fault.
 */
export async function databaseOutage(ctx: CheckContext): Promise<void> {
  ctx.require('dependency:database');
  const db = ctx.target.dependencies.database!;
  const api = urlApi(ctx);
  const own = await createMany(ctx, 5, 'f5-before');
  await expectAllResolve(ctx, own, 'before the fault');
  // Clicks served right before the outage, so that a counter that batches them still holds them when the database
  // goes: a write it refuses must be kept and made once the database is back, not dropped (only a crash may lose
  // clicks, and only the last second of them).
  const clickedCode = [...own.keys()][0]!;
  const counted = await api.stats(clickedCode);
  ctx.expectStatus(counted.x, 200);
  const clicksWanted = (counted.stats?.clicks ?? 0) + OUTAGE_CLICKS;
  for (let i = 0; i < OUTAGE_CLICKS; i++) ctx.expectStatus(await api.follow(clickedCode), 302);
  const nonce = runNonce();
  const statuses: Record<string, (number | null)[]> = { shorten: [], stats: [], redirectOfUnknownCode: [] };
  let slow: string | undefined;
  await db.setReachable(false);
  const downAt = Date.now();
  try {
    await ctx.sleep(300);
    for (let i = 0; i < 3; i++) {
      const r = await api.shorten(`https://example.com/f5-down/${i}?n=${nonce}`);
      statuses['shorten']!.push(r.x.status);
      expectUnavailable(ctx, r.x, 'a shorten of a new long URL');
    }
    for (const code of [...own.keys()].slice(0, 3)) {
      const r = await api.stats(code);
      statuses['stats']!.push(r.x.status);
      expectUnavailable(ctx, r.x, `the metadata of ${code}`);
    }
    // A code no cache holds: only the database can say whether it exists, so neither a 404 nor a redirect is right.
    const r = await api.follow(`zz${nonce.slice(-7)}`.slice(0, 9));
    statuses['redirectOfUnknownCode']!.push(r.status);
    expectUnavailable(ctx, r, 'a redirect of a code no cache holds');
    // Down long enough for a counter flushing every second to try (and fail) to write those clicks.
    await ctx.sleep(Math.max(0, OUTAGE_MIN_MS - (Date.now() - downAt)));
    // It comes back slow (every answer 250 ms late), so that the counter's retry of those clicks is being written
    // while metadata reads of the link are in flight.
    slow = await db.addToxic({ type: 'latency', attributes: { latency: SLOW_RETURN_MS } });
    ctx.evidence.statusesWhileDown = statuses;
    await readsDuringRetry(ctx, clickedCode, clicksWanted, () => db.setReachable(true));
  } finally {
    try {
      await db.setReachable(true);
    } finally {
      if (slow) await db.removeToxic(slow);
    }
  }
  const back = Date.now();
  let again = await api.shorten(`https://example.com/f5-back?n=${nonce}`);
  while (!again.link && Date.now() - back < timeLimit(RECOVERY_MS)) {
    await ctx.sleep(250);
    again = await api.shorten(`https://example.com/f5-back?n=${nonce}`);
  }
  ctx.expect(
    again.link,
    `creates still fail ${Math.round(timeLimit(RECOVERY_MS) / 1000)} s after the database came back (${again.x.status ?? again.x.error})`,
    again.x,
  );
  ctx.evidence.servingAgainAfterMs = Date.now() - back;
  // Read before verifyAfterFault follows the links (which counts more clicks).
  const slack = checkSlack(ctx.evidence, 2500);
  const settling = Date.now();
  let after = await api.stats(clickedCode);
  while (after.stats?.clicks !== clicksWanted && Date.now() - settling < slack.bound(2500)) {
    await ctx.sleep(200);
    after = await api.stats(clickedCode);
  }
  ctx.expect(
    after.stats?.clicks === clicksWanted,
    `link ${clickedCode} had ${clicksWanted} clicks counted (${OUTAGE_CLICKS} of them served just before the database ` +
      `went away) and shows ${after.stats ? clicksShown(after.stats.clicks, clicksWanted) : `no metadata (${after.x.status})`} ` +
      'after it came back: each click counted while the database could not take it must be counted once',
    after.x,
  );
  ctx.evidence.clicksKeptOverOutage = { code: clickedCode, clicks: clicksWanted };
  ctx.evidence.rereadAfterFault = await verifyAfterFault(ctx, own, 'after the database came back', 'f5');
  // Then a click write that lands but whose answer is lost, on another of the check's links.
  await lostClickAnswer(ctx, [...own.keys()][1]!);
  // And a click write whose connection is cut part-way through its answers, at a few points.
  await cutClickWrite(ctx, [...own.keys()][2]!);
}
