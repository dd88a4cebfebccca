// URL-C1..C4: every operation and every documented status, errors included. Each response is also validated
// against the spec by the client, so a wrong header, content type or body shape fails here too.
import { domainToASCII } from 'node:url';
import { request } from 'undici';
import { timeoutOr } from '../../core/abort-signals.ts';
import type { CheckContext } from '../../core/check-context.ts';
import { readinessAndUnknownRoutes } from '../../core/common-checks.ts';
import type { Exchange } from '../../core/http-client.ts';
import { type Link, runNonce, urlApi } from './api.ts';

const codeShape = /^[0-9A-Za-z]{1,11}$/;

export async function shortenConformance(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const longUrl = `https://www.systeminterview.com/q=chatsystem&c=loggedin&v=v3&l=long&n=${runNonce()}`;
  const first = await api.shorten(longUrl);
  ctx.expectStatus(first.x, 201);
  ctx.expect(first.link && codeShape.test(first.link.code), 'the new link has no base62 code', first.x);
  ctx.expect(first.link.longUrl === longUrl, 'the new link does not echo the long URL', first.x);
  ctx.expect(
    first.link.shortUrl.endsWith(`/api/v1/${first.link.code}`),
    'shortUrl does not end with /api/v1/{code}',
    first.x,
  );
  await createdLocationIsMetadata(ctx, first.x, first.link.code);
  const again = await api.shorten(longUrl);
  ctx.expectStatus(again.x, 200);
  ctx.expect(again.link?.code === first.link.code, 'shortening a known URL again gave another code', again.x);
  await shortUrlIgnoresClientHost(ctx, longUrl, first.link);

  const bad = [
    { json: { longUrl: 'ftp://example.com/file' }, code: 'invalid_request', why: 'non-http scheme' },
    { json: { longUrl: 'http://' }, code: 'invalid_request', why: 'nothing after the scheme' },
    { json: { longUrl: 'http://:80/x' }, code: 'invalid_request', why: 'an empty host (the pattern)' },
    { json: { longUrl: 'https://[zz]/' }, code: 'invalid_request', why: 'a non-hex IPv6 host (the pattern)' },
    // Hosts whose characters fit the pattern but that no URL parser accepts: the check beyond the schema.
    { json: { longUrl: 'https://[1:2]/' }, code: 'invalid_url', why: 'a malformed IPv6 host' },
    { json: { longUrl: 'http://example.999/' }, code: 'invalid_url', why: 'a numeric last label that is no IPv4' },
    { json: { longUrl: 'https://exa mple.com/' }, code: 'invalid_request', why: 'a space' },
    { json: { longUrl: `https://example.com/${'a'.repeat(2048)}` }, code: 'invalid_request', why: 'over 2048' },
    { json: { longUrl: 42 }, code: 'invalid_request', why: 'a number' },
    { json: {}, code: 'invalid_request', why: 'missing longUrl' },
  ];
  for (const b of bad) {
    const x = await ctx.http.send({ method: 'POST', path: '/api/v1/data/shorten', json: b.json, validRequest: false });
    ctx.expectStatus(x, 400, b.code);
  }
  await limitsAndRejections(ctx);
  // The spec's limit is 64 KiB of body: one byte over is 413, exactly the limit is not (it is parsed, and its URL is
  // too long: 400). At the limit, not megabytes over it: a server may answer 413 before reading the body and close,
  // and a body far larger than the socket's buffers then meets a closed connection (EPIPE) instead of the answer.
  const bodyOf = (bytes: number) => {
    const pad = bytes - JSON.stringify({ longUrl: 'https://example.com/?' }).length;
    return JSON.stringify({ longUrl: `https://example.com/?${'a'.repeat(pad)}` });
  };
  const atLimit = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/data/shorten',
    rawBody: bodyOf(64 * 1024),
    contentType: 'application/json',
    validRequest: false,
  });
  ctx.expect(
    atLimit.status === 400,
    `a body of exactly 64 KiB (its URL too long) got ${atLimit.status ?? atLimit.error}, not 400: the limit is 64 KiB, and only a larger body is 413`,
    atLimit,
  );
  const huge = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/data/shorten',
    rawBody: bodyOf(64 * 1024 + 1),
    contentType: 'application/json',
    validRequest: false,
  });
  ctx.expectStatus(huge, 413, 'payload_too_large');
}

/** The 201's Location (optional in the spec) names the new link's metadata resource (getLink) when it is sent, and
 * reading that resource gives the link. */
async function createdLocationIsMetadata(ctx: CheckContext, created: Exchange, code: string): Promise<void> {
  const location = created.headers.location;
  ctx.evidence.createdLocation = location ?? null;
  if (location === undefined) return;
  const path = new URL(location, ctx.http.baseUrl).pathname;
  ctx.expect(
    path.endsWith(`/api/v1/data/links/${code}`),
    `the 201's Location is ${JSON.stringify(location)}, not the link's metadata resource /api/v1/data/links/${code}`,
    created,
  );
  const read = await ctx.http.send({ method: 'GET', path: `/api/v1/data/links/${code}` });
  ctx.expectStatus(read, 200);
  ctx.expect((read.body as { code?: unknown }).code === code, `the metadata resource does not describe ${code}`, read);
}

/**
 * shortUrl is the service's public base, not the Host or X-Forwarded-Host a client sends: a forged host would put
 * someone else's domain in the short URL handed out (and cached, and shared). A known URL shortened again with a
 * forged host must answer the same shortUrl as before. (Node's fetch drops a Host header, so that request goes out
 * through undici directly.)
 */
async function shortUrlIgnoresClientHost(ctx: CheckContext, longUrl: string, link: Link): Promise<void> {
  const forged = 'sdgrade-forged-host.invalid';
  const viaForwarded = await ctx.http.send({
    method: 'POST',
    path: '/api/v1/data/shorten',
    json: { longUrl },
    headers: { 'x-forwarded-host': forged, 'x-forwarded-proto': 'https' },
  });
  ctx.expectStatus(viaForwarded, 200);
  const forwardedUrl = (viaForwarded.body as Link).shortUrl;
  ctx.expect(
    forwardedUrl === link.shortUrl,
    `with X-Forwarded-Host ${forged}, shortUrl is ${forwardedUrl}, not ${link.shortUrl}: it trusts the client's header`,
    viaForwarded,
  );
  const res = await request(`${ctx.http.baseUrl.replace(/\/$/, '')}/api/v1/data/shorten`, {
    method: 'POST',
    headers: { host: forged, 'content-type': 'application/json' },
    body: JSON.stringify({ longUrl }),
    signal: timeoutOr(10_000, ctx.signal),
  });
  const text = await res.body.text();
  const body = (() => {
    try {
      return JSON.parse(text) as Partial<Link>;
    } catch {
      return {};
    }
  })();
  ctx.evidence.forgedHost = { status: res.statusCode, shortUrl: body.shortUrl };
  ctx.expect(
    res.statusCode >= 400 || body.shortUrl === link.shortUrl,
    `with Host: ${forged}, shortUrl is ${body.shortUrl}, not ${link.shortUrl}: it is built from the client's Host header`,
  );
}

/** `prefix` padded with letters to exactly `length` characters. */
function padTo(prefix: string, length: number): string {
  return prefix + 'x'.repeat(length - prefix.length);
}

/**
 * The spec's limits in its own unit (2048 characters of printable ASCII, so characters are bytes too), and rejected
 * requests that must create nothing: each carries a URL never shortened, or the near-valid twin of one (the
 * percent-encoded path, the punycode host, the first 2048 characters), and that URL must still be new afterwards
 * (201, then a redirect to it byte for byte).
 */
async function limitsAndRejections(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const n = runNonce();
  const atLimit = padTo(`https://example.com/limit/${n}/`, 2048);
  const limit = await api.shorten(atLimit);
  ctx.expectStatus(limit.x, 201);
  const followed = await api.follow(limit.link!.code);
  ctx.expect(followed.headers.location === atLimit, 'a 2048-character URL does not come back byte for byte', followed);
  const overLimit = padTo(`https://example.com/over/${n}/`, 2049);
  const idn = `bücher-${n}.example`;
  const rejected: {
    why: string;
    send: { json: unknown } | { rawBody: string; contentType: string };
    status: number;
    code: string;
    stillNew: string;
  }[] = [
    {
      why: 'an unknown property beside a valid longUrl',
      send: { json: { longUrl: `https://example.com/extra/${n}`, note: 'x' } },
      status: 400,
      code: 'invalid_request',
      stillNew: `https://example.com/extra/${n}`,
    },
    {
      why: 'a text/plain body',
      send: { rawBody: JSON.stringify({ longUrl: `https://example.com/text/${n}` }), contentType: 'text/plain' },
      status: 415,
      code: 'unsupported_media_type',
      stillNew: `https://example.com/text/${n}`,
    },
    {
      why: 'a 2049-character URL (one over the limit)',
      send: { json: { longUrl: overLimit } },
      status: 400,
      code: 'invalid_request',
      stillNew: overLimit.slice(0, 2048),
    },
    {
      why: 'a raw IDN host (not punycode)',
      send: { json: { longUrl: `https://${idn}/` } },
      status: 400,
      code: 'invalid_request',
      stillNew: `https://${domainToASCII(idn)}/`,
    },
    {
      why: 'a raw character outside the BMP in the path (not percent-encoded)',
      send: { json: { longUrl: `https://example.com/${n}/\u{1F600}?q=\u{10400}` } },
      status: 400,
      code: 'invalid_request',
      stillNew: `https://example.com/${n}/${encodeURIComponent('\u{1F600}')}?q=${encodeURIComponent('\u{10400}')}`,
    },
  ];
  for (const r of rejected) {
    const x = await ctx.http.send({
      method: 'POST',
      path: '/api/v1/data/shorten',
      ...('json' in r.send ? { json: r.send.json } : r.send),
      validRequest: false,
    });
    ctx.expect(x.status === r.status, `a shorten with ${r.why} answered ${x.status ?? x.error}, not ${r.status}`, x);
    ctx.expectStatus(x, r.status, r.code);
    const after = await api.shorten(r.stillNew);
    ctx.expect(
      after.x.status === 201,
      `after a rejected shorten with ${r.why}, shortening ${r.stillNew.slice(0, 80)} answered ${after.x.status ?? after.x.error}, ` +
        'not 201: the rejected request created a link',
      after.x,
    );
    const back = await api.follow(after.link!.code);
    ctx.expect(
      back.headers.location === r.stillNew,
      `${r.stillNew.slice(0, 80)} does not come back byte for byte`,
      back,
    );
  }
}

export async function redirectConformance(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const longUrl = `https://example.com/redirect?n=${runNonce()}`;
  const { x, link } = await api.shorten(longUrl);
  ctx.expect(link, 'could not create a link to follow', x);
  const r = await api.follow(link.code);
  ctx.expectStatus(r, 302);
  ctx.expect(r.headers.location === longUrl, `Location is ${r.headers.location}, not the long URL`, r);
  ctx.expect(r.headers['cache-control'] === 'private, no-store', 'Cache-Control is not "private, no-store"', r);
  ctx.expectStatus(await api.follow('0000000000z'), 404, 'not_found');
  for (const malformed of ['a-b', 'abc_def', '0123456789ab', '%C3%A9t%C3%A9']) {
    const m = await ctx.http.send({ method: 'GET', path: `/api/v1/${malformed}`, validRequest: false });
    ctx.expectStatus(m, 400, 'invalid_request');
  }
}

export async function linkConformance(ctx: CheckContext): Promise<void> {
  const api = urlApi(ctx);
  const longUrl = `https://example.com/stats?n=${runNonce()}`;
  const before = Date.now();
  const { x, link } = await api.shorten(longUrl);
  ctx.expect(link, 'could not create a link', x);
  const s = await api.stats(link.code);
  ctx.expectStatus(s.x, 200);
  ctx.expect(s.stats?.longUrl === longUrl && s.stats.code === link.code, 'metadata does not match the link', s.x);
  const created = Date.parse(s.stats.createdAt);
  ctx.expect(
    created >= before - 60_000 && created <= Date.now() + 60_000,
    `createdAt ${s.stats.createdAt} is not the time of creation (allowing a minute of clock skew)`,
    s.x,
  );
  ctx.expect(s.stats.clicks === 0, `a link never followed has ${s.stats.clicks} clicks`, s.x);
  ctx.expectStatus((await api.stats('0000000000z')).x, 404, 'not_found');
  const m = await ctx.http.send({ method: 'GET', path: '/api/v1/data/links/a-b', validRequest: false });
  ctx.expectStatus(m, 400, 'invalid_request');
}

export function readinessConformance(ctx: CheckContext): Promise<void> {
  return readinessAndUnknownRoutes(ctx, [
    { method: 'DELETE', path: '/api/v1/data/shorten' },
    { method: 'PUT', path: '/api/v1/abc' },
  ]);
}
