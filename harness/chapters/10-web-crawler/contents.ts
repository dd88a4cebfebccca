// WC-I10: the content store, read through getContent. Every content a job stored is served as the exact bytes the
// web under test sent for that page (its own record of what it served, not the crawler's account): not a decoded
// text, not cut at a NUL byte. Pages of the same bytes under other URLs share that one content, a hash the job never
// stored is 404 (one another job stored included), and a malformed hash is 400. Each is served with the Content-Type
// the web sent for the page that stored it (a Latin-1 page's charset and a bare text/html included). WC-F1 and WC-F2
// apply the same comparison to a job killed and resumed, and to one whose PostgreSQL crashed.

import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { getJob, listAllPages, okBody, type Page, sharedCrawl, waitDone } from './crawl.ts';
import type { Hit, WebModel } from './web.ts';
import { HTML_TYPE, WebUnderTest } from './web.ts';

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const contentPath = (crawlId: string, hash: string) => `/api/v1/crawls/${crawlId}/contents/${hash}`;
const keyOf = (url: string) => {
  const u = new URL(url);
  return `${u.hostname}${u.pathname}`;
};

/**
 * A media type as HTTP compares it: type, subtype and parameter names case-insensitive, a charset's value too, quotes
 * and the whitespace around `;` and `=` not part of it, parameters in any order.
 */
export function mediaType(value: string): string {
  const [essence, ...params] = value.split(';');
  const kept = params
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
      let v = eq < 0 ? '' : p.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
      return `${name}=${name === 'charset' ? v.toLowerCase() : v}`;
    })
    .sort();
  return [essence!.trim().toLowerCase(), ...kept].join(';');
}

/** Where two byte strings first differ, with the bytes around it in hex: a failure message a reader can act on. */
function difference(want: Buffer, got: Buffer): string {
  let i = 0;
  while (i < want.length && i < got.length && want[i] === got[i]) i++;
  const around = (b: Buffer) => b.subarray(Math.max(0, i - 4), i + 8).toString('hex');
  return `${got.length} bytes, not the ${want.length} served; first difference at byte ${i} (served ${around(want)}, stored ${around(got)})`;
}

/**
 * GET one content: validated against the spec by ctx.http (status, content type, problem body), and its bytes read
 * by a second, plain request, since the validated exchange keeps the body only as decoded text.
 */
async function getContentBytes(
  ctx: CheckContext,
  crawlId: string,
  hash: string,
): Promise<{ status: number | null; bytes: Buffer | null; contentType: string | undefined }> {
  const x = await ctx.http.send({ method: 'GET', path: contentPath(crawlId, hash) });
  if (x.status !== 200) return { status: x.status, bytes: null, contentType: x.headers['content-type'] };
  const res = await fetch(`${ctx.target.baseUrl.replace(/\/$/, '')}${contentPath(crawlId, hash)}`, {
    signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]),
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  ctx.expect(res.status === 200, `GET ${contentPath(crawlId, hash)} answered 200, then ${res.status} when read again`);
  return { status: 200, bytes, contentType: x.headers['content-type'] };
}

export interface ContentsServed {
  /** Distinct contents read back. */
  contents: number;
  /** Pages listed as duplicates whose bytes were compared with the content they share. */
  duplicatesCompared: number;
  /** Contents read back holding a NUL byte, and holding bytes that are not UTF-8. */
  withNul: number;
  notUtf8: number;
  /** Contents read back that begin with a UTF-8 byte order mark. */
  withBom: number;
  /** Contents read back whose page the web served with another Content-Type than its usual one (HTML_TYPE). */
  otherTypes: number;
}

/**
 * For every page the job lists as stored or duplicate: its content hash serves 200 with exactly the bytes the web
 * sent for that page's URL (a duplicate's too: it shares the stored one), with the Content-Type the web sent for the
 * page that stored it ("the one recorded for the page", as the spec says; compared as a media type).
 */
export async function expectContentsServed(
  ctx: CheckContext,
  crawlId: string,
  pages: readonly Page[],
  hits: readonly Hit[],
  what: string,
): Promise<ContentsServed> {
  const served = new Map<string, Buffer>();
  const servedType = new Map<string, string>();
  for (const h of hits)
    if (h.served) {
      served.set(`${h.host}${h.path}`, h.served);
      if (h.servedType !== undefined) servedType.set(`${h.host}${h.path}`, h.servedType);
    }
  const read = new Map<string, Buffer>();
  const out: ContentsServed = { contents: 0, duplicatesCompared: 0, withNul: 0, notUtf8: 0, withBom: 0, otherTypes: 0 };
  // Stored pages first, so a failure names the page that stored the content rather than one of its duplicates.
  const withContent = pages
    .filter((p) => p.contentHash !== null && (p.outcome === 'stored' || p.outcome === 'duplicate'))
    .sort((a, b) => (a.outcome === b.outcome ? 0 : a.outcome === 'stored' ? -1 : 1));
  for (const p of withContent) {
    const hash = p.contentHash!;
    const want = served.get(keyOf(p.url));
    if (want === undefined) {
      ctx.fail(`${what}: ${p.url} is listed ${p.outcome} with a content hash, but the web never served it a page`);
    }
    let got = read.get(hash);
    if (got === undefined) {
      const r = await getContentBytes(ctx, crawlId, hash);
      ctx.expect(
        r.status === 200 && r.bytes !== null,
        `${what}: the content ${hash.slice(0, 12)} of ${p.url} (listed ${p.outcome}) is not served: ${r.status}`,
      );
      // The first read of a content is by the page that stored it (stored pages come first): its type is the one
      // recorded for the content. A stored page the web never served is failed above.
      const wantType = servedType.get(keyOf(p.url));
      if (r.status === 200 && wantType !== undefined) {
        ctx.expect(
          mediaType(r.contentType ?? '') === mediaType(wantType),
          `${what}: the content of ${p.url} (listed ${p.outcome}) is served as ${r.contentType ?? 'no Content-Type'}, not the ${wantType} the web served it with`,
        );
        if (mediaType(wantType) !== mediaType(HTML_TYPE)) out.otherTypes++;
      }
      got = r.bytes!;
      read.set(hash, got);
      out.contents++;
      if (got.includes(0)) out.withNul++;
      if (!isUtf8(got)) out.notUtf8++;
      if (want?.subarray(0, 3).equals(BOM)) out.withBom++;
    }
    ctx.expect(
      got.equals(want),
      `${what}: the content ${hash.slice(0, 12)} served for ${p.url} (listed ${p.outcome}${
        p.outcome === 'duplicate' ? ` of ${p.duplicateOf}` : ''
      }) is not the bytes the web served: ${difference(want, got)}`,
    );
    if (p.outcome === 'duplicate') out.duplicatesCompared++;
  }
  return out;
}

/** A one-page web of its own: its page is a content the shared crawl never meets. */
function soloWeb(seed: number): WebModel {
  const host = 'solo.contents.test';
  const body = `<!doctype html><html><body><p>stored by another crawl only (seed ${seed})</p></body></html>`;
  return {
    hosts: [host],
    respond: (h, path) => (h === host && path === '/' ? { kind: 'html', body } : { kind: 'status', status: 404 }),
    robotsTxt: () => null,
    disallowed: () => false,
  };
}

export async function contentsServed(ctx: CheckContext): Promise<void> {
  const { job, pages, hits } = await sharedCrawl(ctx);
  const r = await expectContentsServed(ctx, job.id, pages, hits, 'the shared crawl');
  ctx.evidence['contents'] = r;
  // Not vacuous: the web's bodies that a text store or a C string would change, and contents shared by several URLs
  // (the three copies, the two empty pages), were among those read back.
  ctx.expect(r.withNul >= 1, `no content read back holds a NUL byte (the web serves one): ${JSON.stringify(r)}`);
  ctx.expect(r.notUtf8 >= 2, `fewer than the web's 2 contents in invalid UTF-8 were read back: ${JSON.stringify(r)}`);
  ctx.expect(r.duplicatesCompared >= 3, `fewer than 3 duplicates were compared: ${JSON.stringify(r)}`);
  // And the two pages whose bytes a store could rewrite as text (Latin-1 transcoded, a byte order mark dropped), each
  // with a Content-Type of its own: their contents were read back and compared, type included.
  ctx.expect(
    r.withBom >= 1,
    `no content beginning with a byte order mark was read back (the web serves one): ${JSON.stringify(r)}`,
  );
  ctx.expect(
    r.otherTypes >= 2,
    `fewer than the web's 2 contents served with a Content-Type of their own were read back: ${JSON.stringify(r)}`,
  );

  // A hash this job never stored, a malformed one, an unknown job.
  const unknown = createHash('sha256').update(`never served (seed ${ctx.seed})`).digest('hex');
  ctx.expectStatus(
    await ctx.http.send({ method: 'GET', path: contentPath(job.id, unknown) }),
    404,
    'content_not_found',
  );
  ctx.expectStatus(
    await ctx.http.send({ method: 'GET', path: contentPath('c-none', unknown) }),
    404,
    'crawl_not_found',
  );
  for (const bad of [unknown.toUpperCase(), unknown.slice(1), `${unknown.slice(1)}g`])
    ctx.expectStatus(
      await ctx.http.send({ method: 'GET', path: contentPath(job.id, bad), validRequest: false }),
      400,
      'invalid_request',
    );

  // Each job has its own content store: a content only another job stored is 404 here (and served there).
  const web = await WebUnderTest.start(soloWeb(ctx.seed));
  try {
    const seed = 'http://solo.contents.test/';
    const x = await ctx.http.send({
      method: 'POST',
      path: '/api/v1/crawls',
      json: { seeds: [seed], maxDepth: 0, politenessDelayMs: 0, resolve: web.resolveMap() },
    });
    const other = okBody<{ id: string }>(ctx, x, 201, 'starting a crawl of a one-page web');
    await waitDone(ctx, other.id);
    const [only] = await listAllPages(ctx, other.id);
    ctx.expect(
      only?.outcome === 'stored' && only.contentHash !== null,
      `the one-page crawl listed ${JSON.stringify(only)}, not its page stored`,
    );
    const own = await expectContentsServed(ctx, other.id, [only!], [...web.hits], 'the one-page crawl');
    ctx.expect(own.contents === 1, 'the one-page crawl served no content');
    const elsewhere = await ctx.http.send({ method: 'GET', path: contentPath(job.id, only!.contentHash!) });
    ctx.expectStatus(elsewhere, 404, 'content_not_found');
    ctx.evidence['otherCrawlsContentHere'] = elsewhere.status;
    // And the other way round: the shared crawl's contents are not the one-page crawl's.
    const mine = pages.find((p) => p.outcome === 'stored' && p.contentHash !== null)!;
    ctx.expectStatus(
      await ctx.http.send({ method: 'GET', path: contentPath(other.id, mine.contentHash!) }),
      404,
      'content_not_found',
    );
    ctx.expect((await getJob(ctx, other.id)).state === 'done', 'the one-page crawl is not done');
  } finally {
    await web.close();
  }
}
