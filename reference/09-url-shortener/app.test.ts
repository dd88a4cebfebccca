// The HTTP surface through app.inject: every operation and status of the spec, and each app-level mutant's break.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Readiness } from '../kit/health.ts';
import { type LoadedSpec, loadSpec } from '../kit/load-spec.ts';
import { buildApp, SPEC_URL } from './app.ts';
import { MemoryCache } from './cache-memory.ts';
import { MUTANTS, type MutantName } from './mutants.ts';
import { Shortener } from './shortener.ts';
import { SqliteStore } from './store-sqlite.ts';
import { tempDir } from './testing.ts';

const BASE = 'http://sho.rt';
let spec: LoadedSpec;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  spec = await loadSpec(SPEC_URL);
});
afterAll(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function makeApp(mutant?: MutantName) {
  const dir = tempDir();
  const store = new SqliteStore({ file: join(dir.path, 'links.sqlite'), mutant });
  const shortener = new Shortener({ store, cache: new MemoryCache(), mutant, log: { error: () => undefined } });
  const readiness = new Readiness({
    implementation: 'test',
    mutant,
    dependencies: async () => ({ database: await store.health() }),
  });
  readiness.state = 'ready';
  const app = buildApp({ spec, readiness, shortener, mutant, baseUrl: () => BASE, logger: false });
  await app.ready();
  cleanups.push(async () => {
    await app.close();
    await shortener.close();
    dir.remove();
  });
  const call = async (options: InjectOptions) => {
    const response = await app.inject(options);
    const type = String(response.headers['content-type'] ?? '');
    const body = type.includes('json') ? response.json() : response.body;
    return { status: response.statusCode, headers: response.headers, type, body };
  };
  const shorten = (longUrl: unknown) => call({ method: 'POST', url: '/api/v1/data/shorten', payload: { longUrl } });
  const follow = (code: string) => call({ method: 'GET', url: `/api/v1/${code}` });
  const stats = (code: string) => call({ method: 'GET', url: `/api/v1/data/links/${code}` });
  return { app, call, shorten, follow, stats, shortener, readiness };
}

describe('the reference', () => {
  let t: Awaited<ReturnType<typeof makeApp>>;
  beforeAll(async () => {
    t = await makeApp();
  });

  it('shortens: 201 with Location for a new URL, 200 with the same link for a known one', async () => {
    const url = 'https://www.systeminterview.com/q=chatsystem&c=loggedin&v=v3&l=long';
    const created = await t.shorten(url);
    expect(created.status).toBe(201);
    expect(created.type).toMatch(/^application\/json/);
    expect(created.body).toEqual({ code: '1', shortUrl: `${BASE}/api/v1/1`, longUrl: url });
    expect(created.headers['location']).toBe(`${BASE}/api/v1/data/links/1`);
    const known = await t.shorten(url);
    expect(known.status).toBe(200);
    expect(known.body).toEqual(created.body);
    expect(known.headers['location']).toBeUndefined();
  });

  it('redirects 302 to exactly the submitted URL, with Cache-Control: private, no-store', async () => {
    const urls = [
      'HTTPS://Example.COM:443/A/./b/../%7e?Q=a%20b&q=2#Frag',
      'http://example.com',
      'https://user:pw@example.com/ü'.replace('ü', '%C3%BC'),
      'http://[::1]:8080/x?y=z',
      'https://example.com/a//b?c',
    ];
    for (const url of urls) {
      const { body } = await t.shorten(url);
      const redirect = await t.follow((body as { code: string }).code);
      expect(redirect.status).toBe(302);
      expect(redirect.headers['location']).toBe(url);
      expect(redirect.headers['cache-control']).toBe('private, no-store');
    }
  });

  it('answers 404 for a code never issued and 400 for a malformed one', async () => {
    for (const code of ['zzzzzzz', 'ZZZZZZZZZZZ']) {
      expect(await t.follow(code)).toMatchObject({ status: 404, body: { code: 'not_found', status: 404 } });
      expect(await t.stats(code)).toMatchObject({ status: 404, body: { code: 'not_found' } });
    }
    for (const code of ['abc_d', 'a'.repeat(12), 'a%20b', '%E2%82%AC', 'x'.repeat(300)]) {
      for (const r of [await t.follow(code), await t.stats(code)]) {
        expect(r.status, code).toBe(400);
        expect(r.type).toMatch(/^application\/problem\+json/);
        expect(r.body).toMatchObject({ code: 'invalid_request', errors: [{ location: '/params/code' }] });
      }
    }
  });

  it('counts clicks exactly: stored + pending', async () => {
    const { body } = await t.shorten('https://example.com/counted');
    const { code } = body as { code: string };
    for (let i = 0; i < 5; i++) await t.follow(code);
    const before = await t.stats(code);
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ code, shortUrl: `${BASE}/api/v1/${code}`, clicks: 5 });
    expect(new Date((before.body as { createdAt: string }).createdAt).toISOString()).toBe(
      (before.body as { createdAt: string }).createdAt,
    );
    await (t.shortener as unknown as { clicks: { flush: () => Promise<void> } }).clicks.flush();
    for (let i = 0; i < 2; i++) await t.follow(code);
    expect((await t.stats(code)).body).toMatchObject({ clicks: 7 });
  });

  it('refuses bad input with the documented 4xx and problem code', async () => {
    const bad: Array<[unknown, number, string]> = [
      ['ftp://example.com/x', 400, 'invalid_request'], // the schema's pattern
      ['http://', 400, 'invalid_request'],
      ['http://exa mple.com', 400, 'invalid_request'],
      ['https://example.com/€', 400, 'invalid_request'],
      [`https://example.com/${'a'.repeat(2049)}`, 400, 'invalid_request'],
      // The pattern also says where the host is, which characters it may have and the port's range.
      ['http://[', 400, 'invalid_request'],
      ['http://a:99999/', 400, 'invalid_request'],
      ['http://%zz/', 400, 'invalid_request'],
      ['http:///', 400, 'invalid_request'],
      // Hosts whose characters fit but that no URL parser accepts: the check beyond the schema.
      ['https://[1:2]/', 400, 'invalid_url'],
      ['http://example.999/', 400, 'invalid_url'],
      [42, 400, 'invalid_request'],
      [null, 400, 'invalid_request'],
    ];
    for (const [longUrl, status, code] of bad) {
      const r = await t.shorten(longUrl);
      expect(r.status, String(longUrl)).toBe(status);
      expect(r.type).toMatch(/^application\/problem\+json/);
      expect(r.body, String(longUrl)).toMatchObject({ code, status });
    }
    const ok2048 = `https://example.com/${'a'.repeat(2048 - 20)}`;
    expect(ok2048).toHaveLength(2048);
    expect((await t.shorten(ok2048)).status).toBe(201);
    const extra = await t.call({
      method: 'POST',
      url: '/api/v1/data/shorten',
      payload: { longUrl: 'https://example.com', alias: 'x' },
    });
    expect(extra.body).toMatchObject({ code: 'invalid_request', errors: [{ location: '/body/alias' }] });
    const text = await t.call({
      method: 'POST',
      url: '/api/v1/data/shorten',
      payload: 'https://example.com',
      headers: { 'content-type': 'text/plain' },
    });
    expect(text).toMatchObject({ status: 415, body: { code: 'unsupported_media_type' } });
    const big = await t.call({
      method: 'POST',
      url: '/api/v1/data/shorten',
      payload: JSON.stringify({ longUrl: `https://example.com/${'a'.repeat(100_000)}` }),
      headers: { 'content-type': 'application/json' },
    });
    expect(big).toMatchObject({ status: 413, body: { code: 'payload_too_large' } });
  });

  it('answers readiness, unknown paths and undeclared methods with the documented bodies', async () => {
    expect(await t.call({ method: 'GET', url: '/health/ready' })).toMatchObject({
      status: 200,
      body: { status: 'ready', implementation: 'test', dependencies: { database: 'embedded' } },
    });
    expect(await t.call({ method: 'GET', url: '/nope/x/y' })).toMatchObject({
      status: 404,
      body: { code: 'not_found' },
    });
    const r = await t.call({ method: 'DELETE', url: '/api/v1/1' });
    expect(r).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
    expect(r.headers['allow']).toBe('GET');
    expect((await t.call({ method: 'GET', url: '/api/v1/data/shorten' })).status).toBe(405);
  });
});

describe('mutants', () => {
  it('each names a check of the catalog, and every catalog check but none other is broken by some mutant', () => {
    const catalog = parse(readFileSync(new URL('../../specs/09-url-shortener/catalog.yaml', import.meta.url), 'utf8'));
    const ids = new Set((catalog.checks as Array<{ id: string }>).map((c) => c.id));
    for (const m of MUTANTS) expect(ids, m.name).toContain(m.breaks);
    expect(new Set(MUTANTS.map((m) => m.breaks))).toEqual(ids);
  });

  it('normalised-location changes the Location of a URL that new URL() rewrites', async () => {
    const t = await makeApp('normalised-location');
    const { body } = await t.shorten('HTTP://Example.com');
    expect((await t.follow((body as { code: string }).code)).headers['location']).toBe('http://example.com/');
  });

  it('no-dedup and snowflake-codes', async () => {
    const t = await makeApp('no-dedup');
    expect((await t.shorten('https://example.com')).status).toBe(201);
    expect((await t.shorten('https://example.com')).status).toBe(201);
    const s = await makeApp('snowflake-codes');
    expect(((await s.shorten('https://example.com')).body as { code: string }).code).toHaveLength(11);
  });

  it('unknown-redirects-home, unvalidated-url, clicks-not-counted', async () => {
    const home = await makeApp('unknown-redirects-home');
    expect(await home.follow('zzzzzzz')).toMatchObject({ status: 302, headers: { location: `${BASE}/` } });
    const unvalidated = await makeApp('unvalidated-url');
    expect(await unvalidated.shorten('https://[1:2]/')).toMatchObject({ status: 500, body: { code: 'internal' } });
    const uncounted = await makeApp('clicks-not-counted');
    const { body } = await uncounted.shorten('https://example.com');
    const { code } = body as { code: string };
    expect((await uncounted.follow(code)).status).toBe(302);
    expect((await uncounted.stats(code)).body).toMatchObject({ clicks: 0 });
  });

  it('status-200-on-create, redirect-301, stats-without-clicks, health-plain-text', async () => {
    expect((await (await makeApp('status-200-on-create')).shorten('https://example.com')).status).toBe(200);
    const r301 = await makeApp('redirect-301');
    await r301.shorten('https://example.com');
    expect((await r301.follow('1')).status).toBe(301);
    const noClicks = await makeApp('stats-without-clicks');
    await noClicks.shorten('https://example.com');
    expect((await noClicks.stats('1')).body).not.toHaveProperty('clicks');
    const plain = await makeApp('health-plain-text');
    expect(await plain.call({ method: 'GET', url: '/health/ready' })).toMatchObject({
      status: 200,
      type: expect.stringMatching(/^text\/plain/),
      body: 'ok',
    });
  });
});
