// RGL-C4 and RGL-I6: players' profiles (the book's user table) and the names the top 10 shows with them. The top 10
// must show each listed player's name as last set before the read (the book caches the top 10's profiles; a cache
// must never serve an older name), and null for a player without a profile.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import {
  BoardModel,
  expectBoard,
  freshMonth,
  type LbApi,
  lbApi,
  okBody,
  type ScoreUpdated,
  type TopScores,
  tieBreakOf,
  type UserProfile,
  uniqueUser,
} from './api.ts';

/** Fails unless every top-10 entry carries its player's name as the harness last set it (null when never). */
function expectNames(ctx: CheckContext, top: TopScores, names: ReadonlyMap<string, string>, what: string, x: Exchange) {
  for (const e of top.data) {
    const want = names.get(e.user_id) ?? null;
    ctx.expect(
      e.display_name === want,
      `${what}: ${e.user_id} is shown as ${JSON.stringify(e.display_name)}; the profile last set says ${JSON.stringify(want)}`,
      x,
    );
  }
}

async function setName(ctx: CheckContext, api: LbApi, user: string, name: string, what: string): Promise<void> {
  const x = await api.putProfile(user, name);
  const b = okBody<UserProfile>(ctx, x, 200, `${what}: setting the profile of ${user}`);
  ctx.expect(
    b.user_id === user && b.display_name === name,
    `${what}: setting ${user}'s name to ${JSON.stringify(name)} answered ${JSON.stringify(b)}`,
    x,
  );
}

export async function profileConformance(ctx: CheckContext): Promise<void> {
  const api = lbApi(ctx);
  const u = uniqueUser('c4');
  ctx.expectStatus(await api.profile(u), 404, 'user_not_found');
  // Without the game servers' key: 401 and nothing stored.
  for (const auth of [{ kind: 'none' }, { kind: 'header', value: `Bearer ${api.key}x` }] as const) {
    ctx.expectStatus(await api.putProfile(u, 'Intruder', auth), 401, 'unauthorized');
  }
  // A name of 65 characters (outside the BMP: 122 UTF-16 units for 64) is refused, and nothing stored.
  const tooLong = await ctx.http.send({
    method: 'PUT',
    path: `/v1/users/${u}`,
    json: { display_name: `Ñandú ${'🏆'.repeat(59)}` },
    headers: { authorization: `Bearer ${api.key}` },
    validRequest: false,
  });
  ctx.expectStatus(tooLong, 400, 'invalid_request');
  ctx.expectStatus(await api.profile(u), 404, 'user_not_found');
  // Set, read back, replace (64 characters, outside the BMP), read back.
  const names = ['Mary', `Ñandú ${'🏆'.repeat(58)}`];
  for (const name of names) {
    await setName(ctx, api, u, name, 'RGL-C4');
    const r = await api.profile(u);
    const b = okBody<UserProfile>(ctx, r, 200, `reading the profile of ${u}`);
    ctx.expect(
      b.user_id === u && b.display_name === name,
      `${u}'s profile reads back ${JSON.stringify(b)} after it was set to ${JSON.stringify(name)}`,
      r,
    );
  }
  // Two players whose IDs differ only by case are two players (IDs are compared byte for byte): each keeps the
  // profile set for it, whichever was set last.
  const lower = uniqueUser('c4case');
  const upper = lower.toUpperCase();
  await setName(ctx, api, lower, 'Lower case', 'RGL-C4');
  await setName(ctx, api, upper, 'Upper case', 'RGL-C4');
  for (const [user, name] of [
    [lower, 'Lower case'],
    [upper, 'Upper case'],
  ] as const) {
    const r = await api.profile(user);
    const b = okBody<UserProfile>(ctx, r, 200, `reading the profile of ${user}`);
    ctx.expect(
      b.user_id === user && b.display_name === name,
      `${user}'s profile reads back ${JSON.stringify(b)} after it was set to ${JSON.stringify(name)} (and ${user === lower ? upper : lower}'s to another name): IDs that differ only by case share a profile`,
      r,
    );
  }
  // The top 10 carries each player's own name, null for a player who has none: named and unnamed players
  // alternate in board order, an unnamed one first, and two of them differ only by case.
  const month = await freshMonth(ctx, api);
  const v = uniqueUser('c4none');
  const w = uniqueUser('c4none');
  const want: [string, string | null, number][] = [
    [w, null, 7],
    [u, names[1]!, 5],
    [lower, 'Lower case', 4],
    [v, null, 3],
    [upper, 'Upper case', 2],
  ];
  for (const [user, , points] of want) {
    okBody<ScoreUpdated>(ctx, await api.update({ user_id: user, points, month }), 200, `posting for ${user}`);
  }
  const t = await api.top(month);
  const top = okBody<TopScores>(ctx, t, 200, `the top 10 of ${month}`);
  const shown = top.data.map((e) => [e.user_id, e.display_name]);
  const named = want.map(([user, name]) => [user, name]);
  ctx.expect(
    JSON.stringify(shown) === JSON.stringify(named),
    `the top 10 of ${month} shows ${JSON.stringify(shown)}; the players in board order with their profiles' names are ${JSON.stringify(named)}`,
    t,
  );
}

type Op = { kind: 'name'; p: number; name: string } | { kind: 'points'; p: number; points: number };

/** When the top-10 reads sent with each profile set leave, in ms after the set. */
const DURING_SET_MS = [0, 1, 3, 10, 30] as const;

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('name' as const), p: fc.nat({ max: 4 }), name: fc.constantFrom('Ann', 'Bob', 'Cy') }),
  fc.record({ kind: fc.constant('points' as const), p: fc.nat({ max: 4 }), points: fc.integer({ min: 1, max: 3 }) }),
);

/**
 * Random score updates and profile sets for five players, the top 10 read after each: its players, scores and ranks
 * equal brute force, and each name is the one last set. Every run starts by naming a player already read in a top
 * 10, then renaming them, so a cache of the top 10's names that outlives a set is always put to the test.
 */
export async function topNamesAreCurrent(ctx: CheckContext): Promise<void> {
  const api = lbApi(ctx);
  let reads = 0;
  const prelude: Op[] = [
    { kind: 'points', p: 0, points: 2 },
    { kind: 'name', p: 0, name: 'Ann' },
    { kind: 'name', p: 0, name: 'Bob' },
  ];
  await ctx.property(fc.array(opArb, { maxLength: 15 }), async (ops) => {
    const month = await freshMonth(ctx, api);
    const players = Array.from({ length: 5 }, (_, i) => uniqueUser(`i6p${i}x`));
    const model = new BoardModel(tieBreakOf(ctx));
    const names = new Map<string, string>();
    for (const [i, op] of [...prelude, ...ops].entries()) {
      const user = players[op.p]!;
      const what = `after step ${i + 1}`;
      if (op.kind === 'name') {
        // Top-10 reads in flight while the name is set: whatever they show, a name one of them read from the store
        // must not be served (from a cache) once the set has been answered: the read after this step checks it.
        const during = DURING_SET_MS.map(async (ms) => {
          await ctx.sleep(ms);
          return api.top(month);
        });
        await setName(ctx, api, user, op.name, what);
        for (const x of await Promise.all(during)) okBody(ctx, x, 200, `${what}: a top 10 read while a name was set`);
        names.set(user, op.name);
      } else {
        const want = model.add(user, op.points);
        const x = await api.update({ user_id: user, points: op.points, month });
        const b = okBody<ScoreUpdated>(ctx, x, 200, `${what}: posting for ${user}`);
        ctx.expect(b.score === want, `${what}: posting for ${user} answered total ${b.score}, not ${want}`, x);
      }
      const t = await api.top(month);
      const top = okBody<TopScores>(ctx, t, 200, `${what}: the top 10 of ${month}`);
      expectBoard(ctx, top, model.top(), `${what}: the top 10 of ${month}`, t);
      expectNames(ctx, top, names, `${what}: the top 10 of ${month}`, t);
      reads++;
    }
  });
  ctx.evidence.topReads = reads;
  ctx.expect(reads > 0, 'the property read no top 10');
}
