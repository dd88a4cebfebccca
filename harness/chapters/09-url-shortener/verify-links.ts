// Re-reading acknowledged links after a fault, and writing new ones after it. A failure names its cause (lost, a
// wrong redirect status, a code that now points elsewhere, a URL that got a new code), not a downstream symptom:
// a 301 is not a lost link.
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { acknowledgedLinks } from './acknowledged-links.ts';
import { runNonce, urlApi } from './api.ts';

/** Requests in flight while re-reading: enough to re-read a whole run's links in seconds, few enough not to load
 * a shared machine. */
const PARALLEL = 8;

interface Problem {
  cause: string;
  code: string;
  exchange: Exchange;
}

/** Runs work over items, at most `parallel` at a time. */
async function eachLimited<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(parallel, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** Why a redirect of an acknowledged code is not right, or null when it is. */
function redirectProblem(r: Exchange, url: string): string | null {
  if (r.status === 302 && r.headers.location === url) return null;
  if (r.status === null) return `got no answer (${r.error})`;
  if (r.status === 404) return 'were lost (the redirect answers 404)';
  if (r.status >= 300 && r.status < 400 && r.headers.location === url)
    return `redirect with ${r.status}, not the 302 the spec requires (Location is right: not lost)`;
  if (r.status >= 300 && r.status < 400) return 'now redirect to another URL than the one acknowledged (clobbered)';
  return `answer ${r.status} to the redirect`;
}

/** Why shortening an acknowledged URL again is not right (it must answer 200 with the same code), or null. */
function reshortenProblem(x: Exchange, code: string | undefined, expected: string): string | null {
  if (x.status === 200 && code === expected) return null;
  if (x.status === null) return `got no answer when shortened again (${x.error})`;
  if (x.status === 201) return 'were forgotten by URL: shortening the URL again created a new link (201)';
  if (x.status === 200) return 'now map their URL to another code (shortening it again answers another code)';
  return `answer ${x.status} when their URL is shortened again`;
}

/**
 * Every link in `links` must still redirect (302) to its URL and, unless `redirectOnly`, shortening the URL again
 * must answer 200 with the same code (a cache in front of a store that lost the row still redirects; only the
 * URL -> code mapping shows the loss). Fails with the causes counted, the most frequent first.
 */
export async function expectAllResolve(
  ctx: CheckContext,
  links: ReadonlyMap<string, string>,
  when: string,
  o: { redirectOnly?: boolean } = {},
): Promise<void> {
  const api = urlApi(ctx);
  const problems: Problem[] = [];
  await eachLimited([...links], PARALLEL, async ([code, url]) => {
    const r = await api.follow(code);
    const bad = redirectProblem(r, url);
    if (bad) problems.push({ cause: bad, code, exchange: r });
    if (o.redirectOnly) return;
    const again = await api.shorten(url);
    const badAgain = reshortenProblem(again.x, again.link?.code, code);
    if (badAgain) problems.push({ cause: badAgain, code, exchange: again.x });
  });
  if (!problems.length) return;
  const byCause = new Map<string, Problem[]>();
  for (const p of problems) byCause.set(p.cause, [...(byCause.get(p.cause) ?? []), p]);
  const ranked = [...byCause.values()].sort((a, b) => b.length - a.length);
  const parts = ranked.map((ps) => {
    const codes = [...new Set(ps.map((p) => p.code))];
    return `${codes.length} ${ps[0]!.cause} (e.g. ${codes.slice(0, 3).join(', ')})`;
  });
  ctx.fail(`${when}, of ${links.size} acknowledged links: ${parts.join('; ')}`, { exchange: ranked[0]![0]!.exchange });
}

/**
 * Writes after a fault: creates `count` links for new URLs and fails if one is not answered 201, or got a code that
 * was acknowledged for another URL before (the new link clobbers an old one: an ID counter that restarted, say).
 * Returns the new links (code -> URL); they are in the run's registry too.
 */
export async function writeAfterFault(
  ctx: CheckContext,
  count: number,
  tag: string,
  when: string,
): Promise<Map<string, string>> {
  const api = urlApi(ctx);
  const before = acknowledgedLinks(ctx.target).snapshot();
  const nonce = runNonce();
  const made = new Map<string, string>();
  const clobbers: { code: string; url: string; old: string; x: Exchange }[] = [];
  await eachLimited(
    Array.from({ length: count }, (_, i) => `https://example.com/${tag}/after/${i}?n=${nonce}`),
    PARALLEL,
    async (url) => {
      const { x, link } = await api.shorten(url);
      ctx.expect(link, `${when}, creating a new link answered ${x.status ?? x.error}`, x);
      ctx.expect(x.status === 201, `${when}, a URL never shortened before answered ${x.status}, not 201`, x);
      const old = before.get(link.code);
      if (old !== undefined && old !== url) clobbers.push({ code: link.code, url, old, x });
      made.set(link.code, url);
    },
  );
  const c = clobbers[0];
  if (c)
    ctx.fail(
      `${when}, ${clobbers.length} of ${count} new links got a code already acknowledged for another URL ` +
        `(e.g. ${c.code}, acknowledged for ${c.old}, given to ${c.url}): new writes clobber old links`,
      { exchange: c.x },
    );
  ctx.expect(made.size === count, `${when}, ${count} new URLs got only ${made.size} distinct codes`);
  return made;
}

/** Most links acknowledged elsewhere in the run that one fault check re-reads besides its own: keeps a long run's
 * fault checks within their time (the rest are sampled with the check's seed, anew for each fault). */
export const REREAD_FROM_RUN = 250;

/** The check's own links plus those acknowledged elsewhere in the run, all of them or a seeded sample. */
function linksToReread(ctx: CheckContext, own: ReadonlyMap<string, string>, salt: number | null): Map<string, string> {
  const scope = new Map(own);
  if (salt === null) return scope;
  const rest = [...acknowledgedLinks(ctx.target).snapshot()].filter(([code]) => !own.has(code));
  const picked =
    rest.length <= REREAD_FROM_RUN
      ? rest
      : fc.sample(fc.shuffledSubarray(rest, { minLength: REREAD_FROM_RUN, maxLength: REREAD_FROM_RUN }), {
          seed: ctx.seed + salt,
          numRuns: 1,
        })[0]!;
  for (const [code, url] of picked) scope.set(code, url);
  return scope;
}

/**
 * After a fault: the check's own links and those acknowledged earlier in the run (up to REREAD_FROM_RUN of them;
 * none when `salt` is null) still resolve; new links can be created and take no code acknowledged before anywhere
 * in the run; and after those writes the check's own links still resolve to their own URLs. Returns what was
 * re-read, for the evidence.
 */
export async function verifyAfterFault(
  ctx: CheckContext,
  own: ReadonlyMap<string, string>,
  when: string,
  tag: string,
  salt: number | null = 0,
): Promise<{ reread: number; acknowledgedInRun: number }> {
  const acknowledgedInRun = acknowledgedLinks(ctx.target).size;
  const scope = linksToReread(ctx, own, salt);
  await expectAllResolve(ctx, scope, when);
  const fresh = await writeAfterFault(ctx, 20, tag, when);
  await expectAllResolve(ctx, fresh, `${when}, the links created after it`);
  await expectAllResolve(ctx, own, `${when}, once new links were written`, { redirectOnly: true });
  return { reread: scope.size, acknowledgedInRun };
}
