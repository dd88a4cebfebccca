import { beforeAll, describe, expect, it } from 'vitest';
import { ExchangeValidator } from './exchange-validator.ts';
import { loadOpenApi } from './openapi-document.ts';
import { specFile } from './paths.ts';

let v: ExchangeValidator;
beforeAll(async () => {
  v = new ExchangeValidator(await loadOpenApi(specFile('09-url-shortener')));
});

const json = { 'content-type': 'application/json' };
const link = { code: 'abc', shortUrl: 'http://h/api/v1/abc', longUrl: 'https://example.com/' };

describe('exchange validator', () => {
  it('passes a documented response that fits its schema', () => {
    expect(
      v.validate({
        method: 'POST',
        path: '/api/v1/data/shorten',
        status: 200,
        headers: json,
        bodyText: JSON.stringify(link),
      }),
    ).toEqual([]);
  });
  it('flags an undocumented status', () => {
    const r = v.validate({ method: 'POST', path: '/api/v1/data/shorten', status: 500, headers: json, bodyText: '{}' });
    expect(r.join()).toMatch(/status 500 is not documented for shortenUrl/);
  });
  it('flags a body that does not fit, an undocumented content type, and a missing required header', () => {
    const bad = v.validate({
      method: 'POST',
      path: '/api/v1/data/shorten',
      status: 200,
      headers: json,
      bodyText: JSON.stringify({ ...link, extra: 1 }),
    });
    expect(bad.join()).toMatch(/must NOT have additional properties/);
    const ctype = v.validate({
      method: 'POST',
      path: '/api/v1/data/shorten',
      status: 400,
      headers: json,
      bodyText: '{}',
    });
    expect(ctype.join()).toMatch(/content type "application\/json" is not documented/);
    const hdr = v.validate({ method: 'GET', path: '/api/v1/abc', status: 302, headers: {}, bodyText: '' });
    expect(hdr.join()).toMatch(/required header Location is missing/);
  });
  it('prefers the literal path over the template and validates shared $refs (the problem body)', () => {
    const p = v.validate({
      method: 'GET',
      path: '/api/v1/abc',
      status: 404,
      headers: { 'content-type': 'application/problem+json' },
      bodyText: JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404 }),
    });
    expect(p.join()).toMatch(/must have required property 'code'/);
  });
  it('checks a request the harness means to be valid', () => {
    const r = v.validate({
      method: 'POST',
      path: '/api/v1/data/shorten',
      requestBody: { longUrl: 1 },
      validRequest: true,
      status: 400,
      headers: { 'content-type': 'application/problem+json' },
      bodyText: JSON.stringify({ type: 'about:blank', title: 'x', status: 400, code: 'invalid_request' }),
    });
    expect(r.join()).toMatch(/harness sent an invalid request body/);
  });
});

describe('path matching', () => {
  it('a concrete path wins over a templated one even for a method it does not declare', async () => {
    const { matchOperation } = await import('./openapi-document.ts');
    const api = await loadOpenApi(specFile('09-url-shortener'));
    expect(matchOperation(api, 'POST', '/api/v1/data/shorten')?.operationId).toBe('shortenUrl');
    // GET /api/v1/data/shorten has two segments after v1, so only the literal path item can match it.
    expect(matchOperation(api, 'GET', '/api/v1/data/shorten')).toBeNull();
    expect(matchOperation(api, 'GET', '/api/v1/abc')?.operationId).toBe('followShortUrl');
  });
});
