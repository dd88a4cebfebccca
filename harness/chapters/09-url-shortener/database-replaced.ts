// URL-F6: the database replaced by an empty one (a new environment, a restore, a wiped database) while the cache
// (Redis) keeps its entries. The service is pointed at a PostgreSQL cluster the harness owns
// (harness/faults/private-postgres.ts), freshly initdb'd: on its first database it shortens FIRST_LINKS links and
// follows each, in ROUNDS rounds (a read-through cache now holds them); then it is restarted on a second, empty database of that
// cluster, with the same Redis, and shortens SECOND_LINKS other URLs. Every code must redirect to the URL its own
// database holds (URL-I3), and a code the second database never issued must be 404 (URL-I5), never a redirect to
// the first database's URL. A database hands out the same codes again when it starts from empty (a sequence, say),
// so a cache that keys entries by code alone serves the other database's links; an implementation whose codes never
// repeat cannot show it (the evidence says how many codes the two databases shared). The links made here live only
// in databases the check removes: they are not recorded in the run's registry of acknowledged links.
import pg from 'pg';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { withPrivatePostgres } from '../../faults/target-on-private-service.ts';
import { runNonce, urlApi } from './api.ts';

/** Links made on the first database; the second makes fewer, so some codes of the first are never issued there. */
const FIRST_LINKS = 20;
const SECOND_LINKS = 10;
/**
 * A cache client may skip the cache for a moment after one slow answer (a breaker; a loaded CI runner makes Redis
 * answers slow): the first database's links are followed again after such a pause, so the cache gets to hold them, and
 * the never-issued codes are asked in as many rounds, so a cache skipped during one round is read in the next.
 */
const ROUNDS = 3;
const ROUND_GAP_MS = 1_500;

export async function databaseReplaced(ctx: CheckContext): Promise<void> {
  ctx.require('dependency:redis');
  await withPrivatePostgres(ctx, async (server) => {
    const first = await shortenAndFollow(ctx, 'f6-first', FIRST_LINKS);
    const api = urlApi(ctx);
    for (let round = 2; round <= ROUNDS; round++) {
      await ctx.sleep(ROUND_GAP_MS);
      for (const [code, url] of first)
        expectRedirect(ctx, await api.follow(code), code, url, `followed again (${round})`);
    }
    // A second, empty database on the same cluster; the service restarts on it, its Redis unchanged.
    const second = new URL(server.url);
    second.pathname = `/f6_${runNonce()
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')}`;
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${second.pathname.slice(1)}`);
    } finally {
      await admin.end();
    }
    await ctx.target.useDependency!('database', second.toString());
    ctx.log(`the target uses a second, empty database at ${second}`);
    const links = await shortenAndFollow(ctx, 'f6-second', SECOND_LINKS);
    // Every link of the second database once more (the cache has had its chance to answer now), then the codes of the
    // first database that the second never issued.
    for (const [code, url] of links) expectRedirect(ctx, await api.follow(code), code, url, 'followed again');
    const neverIssued = [...first.keys()].filter((c) => !links.has(c));
    for (let round = 1; round <= ROUNDS; round++) {
      if (round > 1) await ctx.sleep(ROUND_GAP_MS);
      for (const code of neverIssued) {
        const r = await api.follow(code);
        ctx.expect(
          r.status === 404,
          `on a second, empty database ${code} was never issued, but answered ${r.status ?? r.error} (round ${round})` +
            (r.status === 302 && r.headers.location === first.get(code)
              ? ` with the first database's URL ${r.headers.location} (the cache answered a code of another database)`
              : ''),
          r,
        );
      }
    }
    ctx.evidence.codesOnBoth = [...links.keys()].filter((c) => first.has(c)).length;
    ctx.evidence.neverIssuedAsked = neverIssued.length;
  });
}

/** Shortens `count` new URLs (one at a time, so codes come in order) and follows each: 302 to its own URL. */
async function shortenAndFollow(ctx: CheckContext, tag: string, count: number): Promise<Map<string, string>> {
  const api = urlApi(ctx);
  const links = new Map<string, string>();
  const nonce = runNonce();
  for (let i = 0; i < count; i++) {
    const url = `https://example.com/${tag}/${i}?n=${nonce}`;
    // Not through urlApi's shorten: these links are not the run's (their database is removed after the check).
    const x = await ctx.http.send({ method: 'POST', path: '/api/v1/data/shorten', json: { longUrl: url } });
    ctx.expect(x.status === 201, `shortening a new URL on an empty database answered ${x.status ?? x.error}`, x);
    const code = (x.body as { code?: unknown } | undefined)?.code;
    if (typeof code !== 'string') ctx.fail(`shortening ${url} answered no code`, { exchange: x });
    links.set(code, url);
    expectRedirect(ctx, await api.follow(code), code, url, 'just shortened');
  }
  return links;
}

function expectRedirect(ctx: CheckContext, r: Exchange, code: string, url: string, when: string): void {
  ctx.expect(
    r.status === 302 && r.headers.location === url,
    `${code} (${when}) answered ${r.status ?? r.error} ${r.headers.location ?? ''}, not 302 to its own URL ${url}`,
    r,
  );
}
