// CHAT-C2's race for a pair's first one-on-one channel: both sides asking at once get one channel (one 201, the
// others 200 with it). A lookup-then-create window is a few store round trips wide, so the requests are released
// together: over HTTP connections opened beforehand (a round of reads on as many connections at once leaves them idle
// in the client's pool), all written in one turn of the event loop, so the API server reads them together instead of
// one connection handshake apart. Several pairs per round, several rounds, each with new pairs.
import type { CheckContext } from '../../core/check-context.ts';
import type { Channel, User, World } from './api.ts';

const ROUNDS = 2;
const PAIRS = 4;
/** Requests per pair, alternating sides. */
const ASKS = 6;

export async function directRaces(w: World): Promise<void> {
  const ctx: CheckContext = w.ctx;
  const h = w.http;
  for (let round = 0; round < ROUNDS; round++) {
    const pairs = await Promise.all(
      Array.from({ length: PAIRS }, async () => [await w.user(), await w.user()] as const),
    );
    const asks = pairs.flatMap(([p, q]) =>
      Array.from({ length: ASKS }, (_, i): [User, User] => (i % 2 ? [q, p] : [p, q])),
    );
    await warmConnections(
      w,
      asks.map(([who]) => who),
    );
    const answers = await Promise.all(
      asks.map(([who, other]) =>
        w.x(h.POST('/api/v1/channels', { body: { type: 'direct', members: [other.userId] }, ...w.auth(who.token) })),
      ),
    );
    for (let k = 0; k < PAIRS; k++) {
      const racing = answers.slice(k * ASKS, (k + 1) * ASKS);
      const ids = new Set(racing.map((r) => (r.body as Channel | undefined)?.channelId));
      const created = racing.filter((r) => r.status === 201).length;
      ctx.expect(
        racing.every((r) => r.status === 200 || r.status === 201) && ids.size === 1 && created === 1,
        `${ASKS} requests released together for the first one-on-one channel of a pair (round ${round + 1}) answered ` +
          `${racing.map((r) => r.status).join(', ')} with channels [${[...ids].join(', ')}], not one channel created ` +
          'once (one 201, then 200s with it)',
      );
    }
  }
  ctx.evidence.directRaces = `${ROUNDS} rounds of ${PAIRS} pairs x ${ASKS} requests released together`;
}

/** As many reads at once as there will be racing requests: the pool then holds that many idle connections. */
async function warmConnections(w: World, callers: User[]): Promise<void> {
  const h = w.http;
  const reads = await Promise.all(
    callers.map((u) =>
      w.x(h.GET('/api/v1/users/{userId}', { params: { path: { userId: u.userId } }, ...w.auth(u.token) })),
    ),
  );
  for (const r of reads) w.ctx.expectStatus(r, 200);
}
