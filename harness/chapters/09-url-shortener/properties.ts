// URL-I1..I7: the chapter's invariants as fast-check properties run over the wire, each with the check's seed.
import fc from 'fast-check';
import { expectProblem4xx } from '../../core/bad-input-property.ts';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';
import { type BadBody, badBodies } from '../../core/negative-inputs.ts';
import { checkSlack } from '../../core/scheduling-slack.ts';
import { runNonce, urlApi } from './api.ts';
import { base62Alphabet, longUrl, unique } from './arbitraries.ts';

export async function locationIsExact(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const nonce = runNonce();
  await ctx.property(longUrl, async (raw) => {
    const url = unique(raw, nonce);
    const { x, link } = await api.shorten(url);
    ctx.expect(link, `shorten ${url} failed with ${x.status ?? x.error}`, x);
    const r = await api.follow(link.code);
    ctx.expectStatus(r, 302);
    ctx.expect(
      r.headers.location === url,
      `Location ${JSON.stringify(r.headers.location)} is not ${JSON.stringify(url)}`,
      r,
    );
  });
}

export async function oneCodePerUrl(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const nonce = runNonce();
  await ctx.property(fc.tuple(longUrl, fc.integer({ min: 2, max: 5 })), async ([raw, parallel]) => {
    const url = unique(raw, nonce);
    // Concurrent first requests (the race the book's "look up, else create" flow must survive), then one more.
    const first = await Promise.all(Array.from({ length: parallel }, () => api.shorten(url)));
    const later = await api.shorten(url);
    const all = [...first, later];
    for (const a of all) ctx.expect(a.link, `shorten failed with ${a.x.status ?? a.x.error}`, a.x);
    const codes = new Set(all.map((a) => a.link!.code));
    ctx.expect(codes.size === 1, `one long URL got ${codes.size} codes: ${[...codes].join(', ')}`, later.x);
    const created = all.filter((a) => a.x.status === 201).length;
    ctx.expect(created <= 1, `${created} requests for one URL answered 201 Created`, later.x);
    ctx.expect(later.x.status === 200, `shortening a known URL answered ${later.x.status}, not 200`, later.x);
  });
}

export async function distinctUrlsDistinctCodes(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const nonce = runNonce();
  const owner = new Map<string, string>(); // code -> long URL, across every run of the property
  const shortenAll = async (raws: string[], alreadyUnique = false) => {
    const urls = [...new Set(alreadyUnique ? raws : raws.map((r) => unique(r, nonce)))];
    const made = await Promise.all(urls.map((u) => api.shorten(u)));
    for (const [i, m] of made.entries()) {
      ctx.expect(m.link, `shorten failed with ${m.x.status ?? m.x.error}`, m.x);
      const prev = owner.get(m.link.code);
      ctx.expect(
        prev === undefined || prev === urls[i],
        `code ${m.link.code} was given to two long URLs: ${prev} and ${urls[i]}`,
        m.x,
      );
      owner.set(m.link.code, urls[i]!);
    }
  };
  await ctx.property(fc.uniqueArray(longUrl, { minLength: 4, maxLength: 16 }), shortenAll);
  // Near-twins: URLs that differ only in what a normaliser erases (a trailing slash, case, a default port, a dot
  // segment, an escape, an empty query or fragment, the fragment). Each is another long URL: its own code.
  // (The nonce is in their path already; appending it would hide a twin's end.)
  await shortenAll(nearTwins(`https://example.com/twins/${nonce}/quiz`), true);
  await shortenAll(nearTwins(`http://example.com/twins/${nonce}/jazz?q=1`), true);
  // Long near-twins: pairs that differ only in their last character, at lengths past where a truncated dedup key
  // would cut (an index prefix of 255 or 767 characters, say) up to the spec's 2048; all share their first ~200
  // characters. Each is its own long URL: its own code (blind bug dedup-key-prefix).
  await shortenAll(longTwins(`https://example.com/long/${nonce}/`), true);
  // Then a population large enough that a small code space shows its collisions (birthday bound: 400 URLs in a
  // space of 62^2 codes collide with probability 1 - e^-20), from the check's seed, 20 requests at a time.
  const population = fc.sample(longUrl, { seed: ctx.seed, numRuns: 400 });
  for (let i = 0; i < population.length; i += 20) await shortenAll(population.slice(i, i + 20));
  ctx.evidence.distinctCodes = owner.size;
  // The last word: every code still redirects to the URL it was issued for (an overwrite shows here).
  for (const [code, url] of owner) {
    const r = await api.follow(code);
    ctx.expect(r.headers.location === url, `code ${code} now redirects to ${r.headers.location}, not ${url}`, r);
  }
}

/** Pairs of URLs of 200 to 2048 characters that differ only in their last character (a truncated key merges them). */
export function longTwins(base: string): string[] {
  return [200, 300, 800, 1100, 2048].flatMap((length) => {
    const stem = base + 'p'.repeat(length - base.length - 1);
    return [`${stem}a`, `${stem}b`];
  });
}

/** Distinct URLs that one careless normalisation or another would make equal to `url` (or to each other). */
export function nearTwins(url: string): string[] {
  const u = new URL(url);
  const scheme = u.protocol.slice(0, -1);
  const rest = url.slice(scheme.length + 3); // host and everything after it
  const path = u.pathname;
  const upper = path.replace(/[a-z]$/, (c) => c.toUpperCase());
  const twins = [
    url,
    `${url}/`,
    url.replace(path, `${path}/`),
    `${url}#`,
    `${url}#top`,
    `${url}#Top`,
    url.includes('?') ? `${url}&` : `${url}?`,
    `${scheme.toUpperCase()}://${rest}`,
    `${scheme}://${u.host.toUpperCase()}${rest.slice(u.host.length)}`,
    `${scheme}://${u.host}:${scheme === 'https' ? 443 : 80}${rest.slice(u.host.length)}`,
    url.replace(path, `${path}/.`),
    url.replace(path, upper),
    url.replace(
      path,
      path.replace(/[a-z]$/, (c) => `%${c.charCodeAt(0).toString(16)}`),
    ),
    url.replace(
      path,
      path.replace(/[a-z]$/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    ),
  ];
  return [...new Set(twins)];
}

export async function codesAreShortBase62(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const nonce = runNonce();
  await ctx.property(longUrl, async (raw) => {
    const { x, link } = await api.shorten(unique(raw, nonce));
    ctx.expect(link, `shorten failed with ${x.status ?? x.error}`, x);
    ctx.expect(
      /^[0-9A-Za-z]{1,7}$/.test(link.code),
      `code ${JSON.stringify(link.code)} is not 1-7 base62 characters`,
      x,
    );
  });
}

export async function unknownCodesAre404(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const nonce = runNonce();
  const issued = new Map<string, string>();
  // A mix of codes we issued (must redirect, and their case-swapped and zero-prefixed twins must not) and codes of 8-11 characters nobody issued (62^8 = 2e14 of them: a
  // collision with an existing link is negligible for any implementation that has stored fewer than billions).
  const step = fc.oneof(
    longUrl.map((u) => ({ kind: 'issue' as const, url: u })),
    fc
      .string({ unit: fc.constantFrom(...base62Alphabet), minLength: 8, maxLength: 11 })
      .map((code) => ({ kind: 'probe' as const, code })),
  );
  await ctx.property(fc.array(step, { minLength: 1, maxLength: 6 }), async (steps) => {
    for (const s of steps) {
      if (s.kind === 'issue') {
        const url = unique(s.url, nonce);
        const { x, link } = await api.shorten(url);
        ctx.expect(link, `shorten failed with ${x.status ?? x.error}`, x);
        issued.set(link.code, url);
        const r = await api.follow(link.code);
        ctx.expect(r.status === 302, `an issued code answered ${r.status}`, r);
        // Codes are case-sensitive (62 symbols): the code with its letters' case swapped is another code, unknown
        // or another link's, never this link again (a case-insensitive lookup, e.g. a database collation).
        const swapped = swapCase(link.code);
        if (swapped !== link.code) {
          const other = await api.follow(swapped);
          ctx.expect(
            !(other.status === 302 && other.headers.location === url),
            `code ${swapped} redirects to the URL of ${link.code}: codes are treated as case-insensitive`,
            other,
          );
        }
        // A code is a string, not a number: "0" + code is another code (the same base62 value), never this link
        // again (a lookup by the decoded ID, say). Blind bug lookup-by-decoded-id.
        if (link.code.length < 11) {
          const padded = `0${link.code}`;
          const other = await api.follow(padded);
          ctx.expect(
            !(other.status === 302 && other.headers.location === url),
            `code ${padded} redirects to the URL of ${link.code}: codes are looked up by their numeric value`,
            other,
          );
        }
      } else if (!issued.has(s.code)) {
        const r = await api.follow(s.code);
        ctx.expectStatus(r, 404, 'not_found');
        const m = await api.stats(s.code);
        ctx.expectStatus(m.x, 404, 'not_found');
      }
    }
  });
}

/** The base62 code after `code` (0-9a-zA-Z digits), or undefined when it is not base62 or would pass 11 characters. */
export function nextBase62(code: string): string | undefined {
  let n = 0n;
  for (const c of code) {
    const d = base62Alphabet.indexOf(c);
    if (d < 0) return undefined;
    n = n * 62n + BigInt(d);
  }
  n += 1n;
  let out = '';
  while (n > 0n) {
    out = base62Alphabet[Number(n % 62n)]! + out;
    n /= 62n;
  }
  return out.length <= 11 ? out : undefined;
}

function swapCase(code: string): string {
  return [...code].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('');
}

const badPaths = ['-', 'a-b', 'abc.def', 'abc_def', '0123456789ab', '%00', '%C3%A9', '%20'];

export async function badInputIs4xx(
  ctx: CheckContext,
  requestSchema: unknown,
  resolve: (n: unknown) => Record<string, unknown>,
): Promise<void> {
  const bodies: BadBody[] = badBodies(requestSchema, resolve);
  const check = (label: string, x: Exchange) => expectProblem4xx(ctx, label, x);
  for (const b of bodies) {
    const x = await ctx.http.send({
      method: 'POST',
      path: '/api/v1/data/shorten',
      rawBody: b.raw,
      contentType: b.contentType,
      validRequest: false,
    });
    check(b.label, x);
  }
  for (const p of badPaths) {
    check(`GET /api/v1/${p}`, await ctx.http.send({ method: 'GET', path: `/api/v1/${p}`, validRequest: false }));
    check(
      `GET /api/v1/data/links/${p}`,
      await ctx.http.send({ method: 'GET', path: `/api/v1/data/links/${p}`, validRequest: false }),
    );
  }
  // Then arbitrary JSON and arbitrary text bodies: anything that is not a valid request is a documented 4xx.
  await ctx.property(fc.oneof(fc.json(), fc.string()), async (raw) => {
    const x = await ctx.http.send({
      method: 'POST',
      path: '/api/v1/data/shorten',
      rawBody: raw,
      contentType: 'application/json',
      validRequest: false,
    });
    check(`body ${JSON.stringify(raw).slice(0, 80)}`, x);
  });
  // Strings the schema's pattern accepts but that may not be URLs at all ("https://[1:2]/", "http://example.999/"):
  // the implementation must tell them apart with a 400, never trip over them with a 5xx.
  const longUrlSchema = resolve(resolve(resolve(requestSchema)['properties'])['longUrl']);
  const pattern = new RegExp(String(longUrlSchema['pattern']), 'u');
  const patternValid = fc.oneof(
    fc.stringMatching(pattern).filter((u) => u.length <= 2048),
    fc.constantFrom('https://[1:2]/', 'http://example.999/', 'http://a.0x1/', 'https://[::1::]/', 'http://xn--a/'),
  );
  await ctx.property(patternValid, async (longUrl) => {
    const x = await ctx.http.send({ method: 'POST', path: '/api/v1/data/shorten', json: { longUrl } });
    const ok = x.status === 200 || x.status === 201 || x.status === 400;
    if (!ok)
      ctx.fail(`longUrl ${JSON.stringify(longUrl)}: got ${x.status ?? x.error}, not 200/201/400`, { exchange: x });
  });
  ctx.evidence.namedBadInputs = bodies.length + badPaths.length * 2;
}

export async function clicksAreCounted(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const nonce = runNonce();
  // First the concurrent case: a counter that loses clicks under concurrency fails here at once, before the property
  // (whose shrinking waits out the lag for every candidate).
  await clicksCountedUnderConcurrency(ctx, api, nonce);
  let run = 0;
  let lastCode: string | undefined;
  await ctx.property(
    fc.tuple(longUrl, fc.integer({ min: 1, max: 6 })),
    async ([raw, clicks]) => {
      // A fresh link for every run, shrinking included: a counterexample never inherits clicks from an earlier run.
      const url = unique(raw, `${nonce}-${run++}`);
      // The code likely issued next (base62 of the next ID, for a sequence), followed before it exists: its 404 is
      // no click, so the link that then takes the code still starts at 0 (blind bug click-recorded-before-lookup).
      const probed = lastCode === undefined ? undefined : nextBase62(lastCode);
      const probe = probed === undefined ? undefined : await api.follow(probed);
      const { x, link } = await api.shorten(url);
      lastCode = link?.code;
      ctx.expect(link, `shorten failed with ${x.status ?? x.error}`, x);
      ctx.expect(x.status === 201, `shortening the fresh URL ${url} answered ${x.status}, not 201`, x);
      const fresh = await api.stats(link.code);
      ctx.expect(
        fresh.stats?.clicks === 0,
        `the fresh link ${link.code} shows ${fresh.stats?.clicks ?? fresh.x.status} clicks before any redirect` +
          (probed === link.code && probe?.status === 404
            ? ` (its code was followed once, answered 404, just before it was issued: a 404 must count no click)`
            : ''),
        fresh.x,
      );
      for (let i = 0; i < clicks; i++) ctx.expectStatus(await api.follow(link.code), 302);
      // The spec lets the count lag by up to one second; 2.5 s, plus the scheduling delay measured during the check
      // (evidence.schedulingSlack, at most 2.5 s more: a count that never arrives is still caught).
      const slack = checkSlack(ctx.evidence, 2500);
      const started = Date.now();
      let last = await api.stats(link.code);
      while (last.stats?.clicks !== clicks && Date.now() - started < slack.bound(2500)) {
        await ctx.sleep(200);
        last = await api.stats(link.code);
      }
      ctx.expect(last.stats, `stats failed with ${last.x.status}`, last.x);
      ctx.expect(
        last.stats.clicks === clicks,
        `after ${clicks} redirects of the fresh link ${link.code} (0 clicks before), it shows ${last.stats.clicks} clicks`,
        last.x,
      );
    },
    Math.max(5, Math.round(ctx.numRuns / 5)),
  );
}

/**
 * Clients redirecting at once, for several times the spec's one-second lag, so that a counter which batches clicks
 * writes batches while redirects go on: every redirect served is counted, none lost or counted twice. Correctness
 * only: however many redirects the machine manages in that time, the count must equal them.
 */
const CONCURRENT_CLIENTS = 16;

async function clicksCountedUnderConcurrency(ctx: CheckContext, api: ReturnType<typeof urlApi>, nonce: string) {
  const url = unique('https://example.com/clicks/concurrent', nonce);
  const { x, link } = await api.shorten(url);
  ctx.expect(link, `shorten failed with ${x.status ?? x.error}`, x);
  let served = 0;
  const until = Date.now() + 5000;
  await Promise.all(
    Array.from({ length: CONCURRENT_CLIENTS }, async () => {
      while (Date.now() < until) {
        const r = await api.follow(link.code);
        ctx.expectStatus(r, 302);
        served++;
      }
    }),
  );
  const slack = checkSlack(ctx.evidence, 2500);
  const started = Date.now();
  let last = await api.stats(link.code);
  while (last.stats?.clicks !== served && Date.now() - started < slack.bound(2500)) {
    await ctx.sleep(200);
    last = await api.stats(link.code);
  }
  ctx.evidence.concurrentRedirects = served;
  ctx.expect(last.stats, `stats failed with ${last.x.status}`, last.x);
  ctx.expect(
    last.stats.clicks === served,
    `after ${served} redirects of ${link.code} from ${CONCURRENT_CLIENTS} clients at once over 5 s, it shows ${last.stats.clicks} clicks`,
    last.x,
  );
}
