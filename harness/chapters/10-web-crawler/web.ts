// THE WEB UNDER TEST: a seeded, generated web served on loopback under many host names (one port, dispatched on
// the Host header; the crawler reaches it through the job's `resolve` map, never a real address). It records every
// request it receives (host, path, start and end on one monotonic clock); the checks read that log, not the
// crawler's own report. The same model that serves the pages also computes, independently of any crawler, which
// URLs a correct crawl fetches (expectedFetches).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { seededRandom } from '../../fakes/prng.ts';
import { CloseBound } from './close-bound.ts';

export const USER_AGENT = 'sdgrade-crawler';
export const DOMAIN = 'web.test';
/** Resolvable but outside the allowed domains: the URL filter must keep the crawler away. */
export const OUTSIDE_HOST = 'blocked.other.test';
export const HANG_HOST = `hang.${DOMAIN}`;
const FAIL_HOST = `fail.${DOMAIN}`;
/** Its robots.txt answers 503: RFC 9309 and the spec read that as a complete disallow, so no page of it is fetched. */
export const ROBOTS_5XX_HOST = `r5xx.${DOMAIN}`;
/** The spec's URL length limit (the absolute URL, fragment removed): a longer link is dropped by the URL filter. */
export const MAX_URL_LENGTH = 2048;
/** Relative links on h2's root whose absolute URLs are exactly the limit (fetched) and one over it (never fetched). */
const longPath = (host: string, length: number, fill: string) => {
  const pre = `http://${host}/long/`;
  return `/long/${fill.repeat(length - pre.length - '.html'.length)}.html`;
};
/** Paths whose pages link on forever (spider traps); maxDepth alone bounds them. */
export const TRAPS = [
  { host: `h3.${DOMAIN}`, prefix: '/cal/', name: 'infinite calendar' },
  { host: `h4.${DOMAIN}`, prefix: '/deep/', name: 'ever deeper relative path' },
] as const;
const DUPLICATE_BODY = '<!doctype html><html><body><h1>Mirrored notice</h1><p>Same words everywhere.</p></body></html>';
/** The Content-Type of the web's HTML pages, unless a page says otherwise. */
export const HTML_TYPE = 'text/html; charset=utf-8';
/** Each response waits this long, so that two requests to one host overlap when a crawler sends them together. */
const RESPONSE_DELAY_MS = 4;

export interface Hit {
  host: string;
  path: string;
  start: number;
  /** When the response finished or the connection closed (a hanging page ends when the crawler gives up). */
  end: number | null;
  /** The crawler closed the connection before an answer (its timeout): `end` is then no later than the close. */
  closedByCrawler?: boolean;
  /** How much later than `end` this process noticed the close (how uncertain the close's time is). */
  closeNoticedLateMs?: number;
  /** The bytes of an HTML page's body exactly as this server sent them (what a content store must hold). */
  served?: Buffer;
  /** The Content-Type this server sent with that HTML page (what getContent must serve it with). */
  servedType?: string;
}

type Response =
  /**
   * A Buffer where the page's bytes are not plain UTF-8 text (a NUL byte, invalid UTF-8, another charset, a byte order
   * mark); `type` where it is served with another Content-Type than the web's usual HTML_TYPE; `location` a Location
   * header sent with the 200 (only a 3xx redirects: the page is read as any other, that header no link).
   */
  | { kind: 'html'; body: string | Buffer; type?: string; location?: string }
  | { kind: 'other'; type: string; body: string }
  | { kind: 'redirect'; status: number; location: string }
  | { kind: 'status'; status: number }
  | { kind: 'hang' };

const page = (title: string, links: readonly string[], extra = ''): string =>
  // A line break and an indent: a content hash must be taken over the body as served, whitespace included.
  `<!doctype html><html><head><title>${title}</title>${extra}</head>\n  <body><h1>${title}</h1><ul>${links
    .map((l) => `<li><a href="${l}">${l}</a></li>`)
    .join('')}</ul></body></html>`;

/**
 * The bytes of a page whose body no text column holds as served: the page with `middle` (raw bytes) after its title.
 * A content store must keep them exactly, and the content hash is of these bytes.
 */
const bytesPage = (title: string, links: readonly string[], middle: Buffer): Buffer => {
  const html = page(title, links);
  const at = html.indexOf('</h1>');
  return Buffer.concat([Buffer.from(html.slice(0, at)), middle, Buffer.from(html.slice(at))]);
};
/** Single bytes that are not UTF-8 (each decodes to U+FFFD): a continuation byte, a truncated lead, Latin-1, 0xFF. */
const INVALID_UTF8 = [0x80, 0xc3, 0xe9, 0xff] as const;

export interface WebModel {
  hosts: string[];
  respond(host: string, path: string): Response;
  robotsTxt(host: string): string | null;
  disallowed(host: string, path: string): boolean;
}

/**
 * The generated web. Normal hosts h0..h{N-1}: a root, pages p0..p3, a directory whose pages link relatively (one
 * through <base href>), a private area robots.txt forbids, pages forbidden only to our user agent. Pages only link
 * to pages of a higher level (root 0 or 1, p +1, dir +2, alt +3), and back to roots, so no discovery path is longer
 * than the levels and a crawl's depth limit of 8 reaches every non-trap page whatever the order.
 */
export function generateWeb(seed: number, hostCount = 5): WebModel {
  // The web is a function of the seed.
  const rand = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const normal = Array.from({ length: hostCount }, (_, i) => `h${i}.${DOMAIN}`);
  const P = 4;
  const Q = 3;
  const pages = new Map<string, Response>();
  const put = (host: string, path: string, r: Response) => pages.set(`${host}${path}`, r);
  // robots.txt: even hosts forbid /private/ to everyone; odd hosts have a group for our agent that forbids
  // /private/ and /nocrawl.html, and a `*` group that forbids everything (a crawler must pick its own group).
  const robots = new Map<string, { text: string; rules: string[] }>();
  normal.forEach((h, i) => {
    if (i % 2 === 0) robots.set(h, { text: 'User-agent: *\nDisallow: /private/\n', rules: ['/private/'] });
    else
      robots.set(h, {
        text: `User-agent: ${USER_AGENT}\nDisallow: /private/\nDisallow: /nocrawl.html\n\nUser-agent: *\nDisallow: /\n`,
        rules: ['/private/', '/nocrawl.html'],
      });
  });
  robots.set(OUTSIDE_HOST, { text: 'User-agent: *\nAllow: /\n', rules: [] });
  // Pages whose bytes are not text: one with a NUL byte, two in invalid UTF-8 that differ only in one invalid byte
  // (decoded as UTF-8 they are the same text, as bytes two contents). On a host picked from the seed (a stream of
  // its own, so the rest of the web is the one the seed always gave), each linking to a page reachable only through
  // it (the two invalid ones to the same page).
  const bytesRand = seededRandom(seed ^ 0x10_0b17);
  const bytesHost = normal[Math.floor(bytesRand() * normal.length)]!;
  const first = Math.floor(bytesRand() * INVALID_UTF8.length);
  const second = (first + 1 + Math.floor(bytesRand() * (INVALID_UTF8.length - 1))) % INVALID_UTF8.length;
  const bad = [INVALID_UTF8[first], INVALID_UTF8[second]];
  const bytePages: [string, Buffer][] = [
    ['/bytes/nul.html', Buffer.from([0x61, 0x00, 0x62])],
    ['/bytes/invalid-a.html', Buffer.from([0x63, 0x61, 0x66, bad[0]!])],
    ['/bytes/invalid-b.html', Buffer.from([0x63, 0x61, 0x66, bad[1]!])],
  ];
  // Text pages beside them: two empty HTML bodies (one content, the SHA-256 of no bytes: stored once, the other a
  // duplicate) and one linking to a path with a non-ASCII character, written in the markup as UTF-8 (a crawler reading
  // the body as anything else follows another URL). Linked as written; the path requested is its percent-encoding.
  // Two more whose bytes a content store must not rewrite, each served with a Content-Type of its own (getContent serves
  // the one recorded): a page in Latin-1, declared so (a store that transcodes to UTF-8 changes its bytes), and one
  // that starts with a UTF-8 byte order mark, served as bare text/html (a store that drops the mark loses 3 bytes).
  const typedPages: [string, Buffer, string][] = [
    [
      '/bytes/latin1.html',
      Buffer.from(page(`${bytesHost} en Latin-1 : café, été, naïve`, []), 'latin1'),
      'text/html; charset=iso-8859-1',
    ],
    [
      '/bytes/bom.html',
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(page(`${bytesHost} after a byte order mark`, []))]),
      'text/html',
    ],
  ];
  const textPages: [string, string][] = [
    ['/bytes/empty-a.html', ''],
    ['/bytes/empty-b.html', ''],
    ['/bytes/utf8.html', page(`${bytesHost} in UTF-8`, ['/bytes/café-été.html'])],
  ];

  normal.forEach((h, i) => {
    const abs = (host: string, path: string) => `http://${host}${path}`;
    const rootLinks: string[] = [
      'p0.html',
      '/p1.html',
      abs(h, '/p2.html'),
      `//${h}/p3.html`,
      'dir/q0.html',
      '/private/s.html',
      '/nocrawl.html',
      '#top',
      'mailto:someone@web.test',
      'javascript:void(0)',
      `http://${OUTSIDE_HOST}/x${i}.html`,
    ];
    if (i === 0) {
      rootLinks.push(
        ...normal.slice(1).map((o) => abs(o, '/')),
        abs(HANG_HOST, '/'),
        abs(FAIL_HOST, '/'),
        abs(ROBOTS_5XX_HOST, '/'),
        '/doc.pdf',
        '/loop-a',
        '/moved',
        '/away',
      );
      put(h, '/doc.pdf', { kind: 'other', type: 'application/pdf', body: '%PDF-1.4 not html' });
      put(h, '/loop-a', { kind: 'redirect', status: 302, location: '/loop-b' });
      put(h, '/loop-b', { kind: 'redirect', status: 302, location: abs(h, '/loop-a') });
      put(h, '/moved', { kind: 'redirect', status: 301, location: '/p1.html' });
      // A redirect out of the allowed domains: the URL filter applies to a Location as to any link.
      put(h, '/away', { kind: 'redirect', status: 302, location: abs(OUTSIDE_HOST, '/x0.html') });
    }
    // An entity in an href: the link is its decoded text (/fish&chips.html), as a browser reads it.
    if (i === 1) rootLinks.push('copy-a.html', '/copy-b.html', '/data.json', '/notes.txt', '/fish&amp;chips.html');
    if (i === 2) {
      rootLinks.push('/copy-c.html');
      for (const [length, fill] of [
        [MAX_URL_LENGTH, 'a'],
        [MAX_URL_LENGTH + 1, 'b'],
      ] as const) {
        const path = longPath(h, length, fill);
        rootLinks.push(path);
        put(h, path, { kind: 'html', body: page(`${h} URL of ${length} characters`, []) });
      }
    }
    if (i === 3) rootLinks.push('/cal/2026-01.html');
    if (i === 4) rootLinks.push('/deep/');
    if (h === bytesHost)
      rootLinks.push(
        ...bytePages.map(([path]) => path),
        ...typedPages.map(([path]) => path),
        ...textPages.map(([path]) => path),
      );
    put(h, '/', { kind: 'html', body: page(`root of ${h}`, rootLinks) });
    for (let p = 0; p < P; p++) {
      // Forward links only: to directory pages here and elsewhere (a higher level), and back to a root.
      const links = [`dir/q${Math.floor(rand() * Q)}.html`, abs(pick(normal), `/dir/q${Math.floor(rand() * Q)}.html`)];
      if (rand() < 0.5) links.push(abs(pick(normal), '/'));
      // p0 is malformed HTML: unclosed and stray tags, upper case, unquoted and single-quoted attributes.
      const body =
        p === 0
          ? `<HTML><body><div><P>broken <b>markup<A HREF=${links[0]}>one</a><table><tr><td><a href='${links[1]}'>two</td></span>${
              links[2] ? `<a class=x href=${links[2]}>three` : ''
            }<p>unclosed ${h}`
          : page(`${h} p${p}`, links);
      // p2 answers 200 with a Location header: a page like any other, not a redirect.
      put(h, `/p${p}.html`, { kind: 'html', body, ...(p === 2 ? { location: '/moved-elsewhere.html' } : {}) });
    }
    for (let q = 0; q < Q; q++) {
      const links = [`../p${Math.floor(rand() * P)}.html`, '../'];
      if (q + 1 < Q) links.push(`q${q + 1}.html`);
      // q0 declares a <base> with no href (a target only), then <base href="/alt/">, then a second one: its relative
      // links resolve against the first base that has an href, not against /dir/ nor the last. q1 links a stylesheet
      // first: an href that is not a link, nor a base for the links.
      const extra =
        q === 0
          ? '<base target="_self"><base href="/alt/"><base href="/other/">'
          : q === 1
            ? '<link rel="stylesheet" href="../style/site.css">'
            : '';
      if (q === 0) links.splice(0, links.length, 'r.html', '/dir/q1.html');
      put(h, `/dir/q${q}.html`, { kind: 'html', body: page(`${h} q${q}`, links, extra) });
    }
    put(h, '/alt/r.html', { kind: 'html', body: page(`${h} alt`, ['../dir/q2.html']) });
    put(h, '/private/s.html', { kind: 'html', body: page(`${h} private`, ['/hidden.html']) });
    put(h, '/hidden.html', { kind: 'html', body: page(`${h} hidden`, []) });
    put(h, '/nocrawl.html', { kind: 'html', body: page(`${h} nocrawl`, []) });
  });
  put(normal[1]!, '/copy-a.html', { kind: 'html', body: DUPLICATE_BODY });
  put(normal[1]!, '/copy-b.html', { kind: 'html', body: DUPLICATE_BODY });
  put(normal[2]!, '/copy-c.html', { kind: 'html', body: DUPLICATE_BODY });
  put(normal[1]!, '/fish&chips.html', { kind: 'html', body: page(`${normal[1]} fish and chips`, []) });
  put(normal[1]!, '/data.json', { kind: 'other', type: 'application/json', body: '{"not":"html"}' });
  // Text, but not HTML: recorded and skipped like any other type (its markup-looking line is not a link).
  put(normal[1]!, '/notes.txt', {
    kind: 'other',
    type: 'text/plain; charset=utf-8',
    body: '<a href="/x.html">not a link</a>',
  });
  for (const [path, middle] of bytePages) {
    // The two pages in invalid UTF-8 link to one page, so that decoded as UTF-8 they are one text (a crawler whose
    // content seen reads the text takes the second for a duplicate); the NUL page links to a page of its own.
    const next = path.startsWith('/bytes/invalid-')
      ? '/bytes/invalid-next.html'
      : path.replace(/\.html$/, '-next.html');
    put(bytesHost, path, { kind: 'html', body: bytesPage(`${bytesHost} bytes`, [next], middle) });
    put(bytesHost, next, { kind: 'html', body: page(`${bytesHost} after ${path}`, []) });
  }
  for (const [path, body, type] of typedPages) put(bytesHost, path, { kind: 'html', body, type });
  for (const [path, body] of textPages) put(bytesHost, path, { kind: 'html', body });
  put(bytesHost, new URL('/bytes/café-été.html', 'http://x').pathname, {
    kind: 'html',
    body: page(`${bytesHost} café, été`, []),
  });
  // The hanging host: its root, the page that never answers, one beside it, and one level deeper (so after the hanging
  // page in a breadth-first crawl, one request at a time to the host) a copy of the root's bytes. A crawl killed while
  // the hanging page is in flight (WC-F1) has stored the root and meets its copy only after the restart: content seen
  // must span the restart.
  const hangRoot = page('hang', ['/slow.html', '/ok.html']);
  put(HANG_HOST, '/', { kind: 'html', body: hangRoot });
  put(HANG_HOST, '/slow.html', { kind: 'hang' });
  put(HANG_HOST, '/ok.html', { kind: 'html', body: page('ok beside a hanging page', ['/again.html']) });
  put(HANG_HOST, '/again.html', { kind: 'html', body: hangRoot });
  put(OUTSIDE_HOST, '/x0.html', { kind: 'html', body: page('outside', []) });
  put(ROBOTS_5XX_HOST, '/', { kind: 'html', body: page('robots.txt fails here', ['/inner.html']) });
  put(ROBOTS_5XX_HOST, '/inner.html', { kind: 'html', body: page('inner', []) });

  const respond = (host: string, path: string): Response => {
    if (host === FAIL_HOST)
      return path === '/robots.txt' ? { kind: 'status', status: 404 } : { kind: 'status', status: 503 };
    if (host === ROBOTS_5XX_HOST && path === '/robots.txt') return { kind: 'status', status: 503 };
    const cal = /^\/cal\/(\d{4})-(\d{2})\.html$/.exec(path);
    if (host === TRAPS[0].host && cal) {
      const m = Number(cal[1]) * 12 + Number(cal[2]); // next month, forever
      const next = `${Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`;
      return { kind: 'html', body: page(`calendar ${cal[1]}-${cal[2]}`, [`/cal/${next}.html`]) };
    }
    if (host === TRAPS[1].host && path.startsWith('/deep/') && path.endsWith('/'))
      return { kind: 'html', body: page(`deep ${path.length}`, ['d/']) };
    return pages.get(`${host}${path}`) ?? { kind: 'status', status: 404 };
  };
  return {
    hosts: [...normal, HANG_HOST, FAIL_HOST, ROBOTS_5XX_HOST, OUTSIDE_HOST],
    respond,
    robotsTxt: (host) => robots.get(host)?.text ?? null,
    disallowed: (host, path) =>
      host === ROBOTS_5XX_HOST || (robots.get(host)?.rules ?? []).some((r) => path.startsWith(r)),
  };
}

export class WebUnderTest {
  readonly hits: Hit[] = [];
  private constructor(
    readonly model: WebModel,
    private readonly server: Server,
    readonly port: number,
  ) {}

  /** keepBodies: record each HTML body served on its hit (off for the load web's thousands of pages). */
  static async start(model: WebModel, o: { keepBodies?: boolean } = {}): Promise<WebUnderTest> {
    const keepBodies = o.keepBodies ?? true;
    let web: WebUnderTest | undefined;
    const closes = new CloseBound();
    const server = createServer((req, res) => {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
      const path = (req.url ?? '/').split('?')[0]!;
      const hit: Hit = { host, path, start: performance.now(), end: null };
      web!.hits.push(hit);
      // A response's end is stamped just before it is handed to the socket: the crawler cannot have it sooner, and
      // a 'finish' event would be stamped late whenever this process's event loop is busy (a false short gap). A
      // hanging response ends when the crawler gives up on it (the connection closes): stamped no later than the
      // close (close-bound.ts), since the loop may notice it long after.
      const answered = closes.watch(req, res, hit);
      const send = () => {
        hit.end = performance.now();
        if (path === '/robots.txt') {
          answered();
          const txt = model.robotsTxt(host);
          const r = model.respond(host, path);
          if (txt !== null) res.writeHead(200, { 'content-type': 'text/plain' }).end(txt);
          else res.writeHead(r.kind === 'status' ? r.status : 404).end();
          return;
        }
        const r = model.respond(host, path);
        if (r.kind === 'hang') {
          hit.end = null; // never answers; the crawler's timeout must end it
          return;
        }
        answered();
        if (r.kind === 'html') {
          const bytes = Buffer.from(r.body);
          const type = r.type ?? HTML_TYPE;
          if (keepBodies) {
            hit.served = bytes;
            hit.servedType = type;
          }
          res.writeHead(200, { 'content-type': type, ...(r.location ? { location: r.location } : {}) }).end(bytes);
        } else if (r.kind === 'other') res.writeHead(200, { 'content-type': r.type }).end(r.body);
        else if (r.kind === 'redirect') res.writeHead(r.status, { location: r.location }).end();
        else res.writeHead(r.status, { 'content-type': 'text/plain' }).end(`status ${r.status}`);
      };
      setTimeout(send, RESPONSE_DELAY_MS);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    web = new WebUnderTest(model, server, (server.address() as AddressInfo).port);
    return web;
  }

  /** The job's `resolve` map: every host of the web to this server. */
  resolveMap(): Record<string, string> {
    return Object.fromEntries(this.model.hosts.map((h) => [h, `127.0.0.1:${this.port}`]));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
