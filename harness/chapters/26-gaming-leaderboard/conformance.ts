// RGL-C1..C3: every operation and every documented status, errors included. Each response is also validated against
// the spec by ctx.http, so a wrong status, content type or body shape fails here too.
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import {
  currentMonth,
  freshMonth,
  type Leaderboard,
  lbApi,
  okBody,
  type ScoreUpdated,
  type UserScore,
  uniqueUser,
} from './api.ts';

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/v1/scores' },
    { method: 'PUT', path: '/v1/scores' },
    { method: 'POST', path: '/v1/scores/u1' },
    { method: 'DELETE', path: '/v1/scores/u1' },
    { method: 'POST', path: '/v1/scores/u1/around' },
    { method: 'POST', path: '/v1/users/u1' },
    { method: 'DELETE', path: '/v1/users/u1' },
  ]);
}

export async function updateConformance(ctx: CheckContext): Promise<void> {
  const api = lbApi(ctx);
  const month = await freshMonth(ctx, api);
  const u = uniqueUser('c2');
  // Each answer is the player's total just after it, in the month it names.
  let total = 0;
  for (const points of [3, 1, 1000]) {
    const x = await api.update({ user_id: u, points, month });
    const b = okBody<ScoreUpdated>(ctx, x, 200, `posting ${points} points for ${u} in ${month}`);
    total += points;
    ctx.expect(
      b.user_id === u && b.month === month && b.score === total,
      `posting ${points} for ${u} in ${month} answered ${JSON.stringify(b)}; the total is ${total}`,
      x,
    );
  }
  const r = await api.user(u, month);
  const info = okBody<UserScore>(ctx, r, 200, `reading ${u}`).user_info;
  ctx.expect(
    info.score === total && info.rank === 1,
    `${u} reads back ${info.score} rank ${info.rank}, not ${total} rank 1`,
    r,
  );

  // Without a month the update goes to the current month (UTC); it may turn while the request is in flight.
  const v = uniqueUser('c2now');
  const before = currentMonth();
  const x = await api.update({ user_id: v, points: 2 });
  const after = currentMonth();
  const b = okBody<ScoreUpdated>(ctx, x, 200, `posting for ${v} without a month`);
  ctx.expect(
    (b.month === before || b.month === after) && b.score === 2,
    `an update without a month answered ${JSON.stringify(b)}; the current month is ${after} and the total 2`,
    x,
  );
  const now = await api.user(v, b.month);
  ctx.expect(
    okBody<UserScore>(ctx, now, 200, `reading ${v} in ${b.month}`).user_info.score === 2,
    `${v} is not 2 in ${b.month}`,
    now,
  );
  if (currentMonth() === b.month) {
    const implicit = await api.user(v);
    ctx.expect(
      okBody<UserScore>(ctx, implicit, 200, `reading ${v} without a month`).user_info.score === 2,
      `reading ${v} without a month does not read the current month's board`,
      implicit,
    );
  }

  // The current month is the service's (UTC, when it receives the update), not the client's: an update without a
  // month whose Date header (a game server's clock a year off) names another month still goes to the current one.
  const w = uniqueUser('c2date');
  const yearAgo = new Date();
  yearAgo.setUTCFullYear(yearAgo.getUTCFullYear() - 1);
  const dateFrom = currentMonth();
  const dated = await ctx.http.send({
    method: 'POST',
    path: '/v1/scores',
    json: { user_id: w, points: 2 },
    headers: { authorization: `Bearer ${api.key}`, date: yearAgo.toUTCString() },
  });
  const dateTo = currentMonth();
  const d = okBody<ScoreUpdated>(
    ctx,
    dated,
    200,
    `posting for ${w} without a month, with Date: ${yearAgo.toUTCString()}`,
  );
  ctx.expect(
    (d.month === dateFrom || d.month === dateTo) && d.score === 2,
    `an update without a month sent with Date: ${yearAgo.toUTCString()} answered ${JSON.stringify(d)}; the service's current month is ${dateTo} (the month is the service's, not the client's clock)`,
    dated,
  );
  ctx.expectStatus(await api.user(w, yearAgo.toISOString().slice(0, 7)), 404, 'user_not_ranked');

  // Errors: bad bodies are 400 invalid_request; no key is 401 unauthorized; neither changes the score.
  for (const [label, body] of [
    ['zero points', { user_id: u, points: 0, month }],
    ['1001 points', { user_id: u, points: 1001, month }],
    ['fractional points', { user_id: u, points: 1.5, month }],
    ['a bad month', { user_id: u, points: 1, month: '2021-13' }],
    ['a bad user_id', { user_id: 'a b', points: 1, month }],
    ['an unknown field', { user_id: u, points: 1, month, bonus: 1 }],
  ] as const) {
    const e = await ctx.http.send({
      method: 'POST',
      path: '/v1/scores',
      json: body,
      headers: { authorization: `Bearer ${api.key}` },
      validRequest: false,
    });
    ctx.expect(
      e.status === 400 && (e.body as { code?: string } | undefined)?.code === 'invalid_request',
      `an update with ${label} got ${e.status ?? e.error}, not 400 invalid_request`,
      e,
    );
  }
  ctx.expectStatus(await api.update({ user_id: u, points: 1, month }, { kind: 'none' }), 401, 'unauthorized');
  // A body over the spec's 64 KiB is 413 payload_too_large, whatever it holds.
  const big = await ctx.http.send({
    method: 'POST',
    path: '/v1/scores',
    json: { user_id: u, points: 1, month, padding: 'x'.repeat(70 * 1024) },
    headers: { authorization: `Bearer ${api.key}` },
    validRequest: false,
  });
  ctx.expect(
    big.status === 413 && (big.body as { code?: string } | undefined)?.code === 'payload_too_large',
    `an update body of 70 KiB got ${big.status ?? big.error}, not 413 payload_too_large (the spec's limit is 64 KiB)`,
    big,
  );
  const end = await api.user(u, month);
  ctx.expect(
    okBody<UserScore>(ctx, end, 200, `reading ${u} after refused updates`).user_info.score === total,
    `refused updates changed ${u}'s score (${total} before)`,
    end,
  );
}

export async function readConformance(ctx: CheckContext): Promise<void> {
  const api = lbApi(ctx);
  const month = await freshMonth(ctx, api);
  const ghost = uniqueUser('ghost');
  ctx.expectStatus(await api.user(ghost, month), 404, 'user_not_ranked');
  ctx.expectStatus(await api.around(ghost, month), 404, 'user_not_ranked');

  const u = uniqueUser('c3');
  okBody(ctx, await api.update({ user_id: u, points: 5, month }), 200, `posting for ${u}`);
  const t = await api.top(month);
  const top = okBody<Leaderboard>(ctx, t, 200, `top 10 of ${month}`);
  ctx.expect(
    top.total === 1 &&
      top.data.length === 1 &&
      top.data[0]!.user_id === u &&
      top.data[0]!.score === 5 &&
      top.data[0]!.rank === 1,
    `the top 10 of a month with one player answered ${JSON.stringify(top)}`,
    t,
  );
  const a = await api.around(u, month);
  const around = okBody<Leaderboard>(ctx, a, 200, `window of ${u}`);
  ctx.expect(
    around.total === 1 && around.data.length === 1 && around.data[0]!.user_id === u,
    `the window of the only player answered ${JSON.stringify(around)}`,
    a,
  );
  // A player on the board does not make another one ranked, in this month or another.
  const g = await api.user(ghost, month);
  ctx.expectStatus(g, 404, 'user_not_ranked');
  ctx.expectStatus(await api.around(ghost, month), 404, 'user_not_ranked');
  ctx.expectStatus(await api.user(u, await freshMonth(ctx, api)), 404, 'user_not_ranked');

  // Bad parameters are 400 invalid_request.
  for (const path of [
    '/v1/scores?month=2021-13',
    '/v1/scores?month=21-02',
    `/v1/scores/${u}?month=x`,
    '/v1/scores/a%20b',
    `/v1/scores/${u}/around?month=2021-13`,
    '/v1/scores/a%20b/around',
  ]) {
    ctx.expectStatus(await ctx.http.send({ method: 'GET', path, validRequest: false }), 400, 'invalid_request');
  }
}
