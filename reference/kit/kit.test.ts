import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseUrlOf, ConfigError, loadConfig, redact } from './config.ts';
import { createApp } from './create-app.ts';
import { Readiness } from './health.ts';
import { type LoadedSpec, loadSpec } from './load-spec.ts';
import { ProblemError } from './problem.ts';

let spec: LoadedSpec;
let app: FastifyInstance;
const readiness = new Readiness({ implementation: 'kit-test', dependencies: () => ({ database: 'embedded' }) });

beforeAll(async () => {
  spec = await loadSpec(new URL('./fixtures/kit-test.yaml', import.meta.url));
  app = createApp({
    spec,
    readiness,
    logger: false,
    bodyLimit: 1024,
    handlers: {
      createThing: async (request, reply) => reply.code(201).send(request.body),
      getThing: async (request) => ({ params: request.params, query: request.query }),
      putThing: async (request) => ({ body: request.body ?? 'absent' }),
      boom: async (request) => {
        if ((request.query as Record<string, string>)['problem']) throw new ProblemError(409, 'conflict', 'taken');
        throw new Error('secret internals');
      },
    },
  });
  await app.ready();
});
afterAll(() => app.close());

async function call(options: InjectOptions) {
  const response = await app.inject(options);
  const type = String(response.headers['content-type'] ?? '');
  return { status: response.statusCode, type, headers: response.headers, body: type ? response.json() : undefined };
}
const post = (payload: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  call({ method: 'POST', url: '/things', payload: payload as string, headers });

describe('load-spec', () => {
  it('lists every operation with Fastify urls and $ref schemas into the bundled document', () => {
    expect([...spec.operations.keys()].sort()).toEqual(['boom', 'createThing', 'getReadiness', 'getThing', 'putThing']);
    const get = spec.operations.get('getThing')!;
    expect(get.url).toBe('/things/:id');
    expect(JSON.stringify(get.schema.params)).toContain(`${spec.id}#/components/parameters/Id/schema`);
    expect(spec.paths.get('/things/:id')).toEqual(['GET', 'PUT']);
    expect(JSON.stringify(spec.document)).not.toContain('common.yaml'); // external refs bundled in
  });
  it('loads the chapter 09 spec', async () => {
    const url = await loadSpec(new URL('../../specs/09-url-shortener/openapi.yaml', import.meta.url));
    expect([...url.operations.keys()].sort()).toEqual(['followShortUrl', 'getLink', 'getReadiness', 'shortenUrl']);
  });
});

describe('validation and error mapping', () => {
  it('accepts a valid body unchanged', async () => {
    const r = await post(JSON.stringify({ name: 'a', size: 3, at: '2026-01-01T00:00:00Z' }));
    expect(r).toMatchObject({ status: 201, body: { name: 'a', size: 3 } });
  });
  it('does not coerce body types ({name: 42} is not "42")', async () => {
    const r = await post(JSON.stringify({ name: 42 }));
    expect(r.status).toBe(400);
    expect(r.type).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      code: 'invalid_request',
      errors: [{ location: '/body/name', message: 'must be string' }],
    });
  });
  it('rejects an extra property instead of dropping it', async () => {
    const r = await post(JSON.stringify({ name: 'a', extra: 1 }));
    expect(r.body).toMatchObject({ code: 'invalid_request', errors: [{ location: '/body/extra' }] });
  });
  it('names a missing required property', async () => {
    const r = await post('{}');
    expect(r.body).toMatchObject({
      code: 'invalid_request',
      errors: [{ location: '/body/name', message: 'is required' }],
    });
  });
  it('checks formats and 2020-12 keywords', async () => {
    expect((await post(JSON.stringify({ name: 'a', at: 'yesterday' }))).body).toMatchObject({
      errors: [{ location: '/body/at' }],
    });
    expect((await post(JSON.stringify({ name: 'a', tags: [1] }))).body).toMatchObject({
      errors: [{ location: '/body/tags/0' }],
    });
  });
  it('maps a body that is not an object, malformed or empty JSON to 400 invalid_request', async () => {
    for (const payload of ['[1]', 'null', '"x"', '{"name":', '', '{"name":"a","__proto__":{"x":1}}']) {
      const r = await post(payload);
      expect(r.status, payload).toBe(400);
      expect(r.body, payload).toMatchObject({ code: 'invalid_request', status: 400 });
    }
  });
  it('maps a missing body to 400 and a non-JSON content type to 415', async () => {
    expect((await call({ method: 'POST', url: '/things' })).body).toMatchObject({ code: 'invalid_request' });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await post('name=a', { 'content-type': type });
      expect(r.status, type).toBe(415);
      expect(r.body).toMatchObject({ code: 'unsupported_media_type', status: 415 });
    }
    expect((await post('{"name":"a"}', { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201);
  });
  it('maps an oversize body to 413 payload_too_large', async () => {
    const r = await post(JSON.stringify({ name: 'x'.repeat(2000) }));
    expect(r).toMatchObject({ status: 413, body: { code: 'payload_too_large', status: 413 } });
  });
  it('coerces and checks path and query values', async () => {
    expect((await call({ method: 'GET', url: '/things/abc?limit=3' })).body).toEqual({
      params: { id: 'abc' },
      query: { limit: 3 },
    });
    expect((await call({ method: 'GET', url: '/things/abc' })).body).toMatchObject({ query: { limit: 5 } });
    expect((await call({ method: 'GET', url: '/things/abc?limit=x' })).body).toMatchObject({
      code: 'invalid_request',
      errors: [{ location: '/query/limit' }],
    });
    // Ajv alone would coerce a blank, padded or unfinished value to a number (" " == 0, "0." == 0): refused.
    for (const v of ['%20', '%205', '5%20', '0.', '.5', '05'])
      expect((await call({ method: 'GET', url: `/things/abc?limit=${v}` })).body).toMatchObject({
        code: 'invalid_request',
        errors: [{ location: '/query/limit' }],
      });
    const long = await call({ method: 'GET', url: `/things/${'a'.repeat(500)}` });
    expect(long.body).toMatchObject({ status: 400, errors: [{ location: '/params/id' }] });
    expect((await call({ method: 'GET', url: '/things/%E0%A4%A' })).body).toMatchObject({ code: 'invalid_request' });
  });
  it('validates an optional body only when one is sent', async () => {
    expect((await call({ method: 'PUT', url: '/things/abc' })).body).toEqual({ body: 'absent' });
    const bad = await call({ method: 'PUT', url: '/things/abc', payload: { name: 1 } });
    expect(bad.body).toMatchObject({ code: 'invalid_request', errors: [{ location: '/body/name' }] });
  });
  it('answers unknown routes 404 and undeclared methods 405 with Allow', async () => {
    expect((await call({ method: 'GET', url: '/nope' })).body).toMatchObject({ status: 404, code: 'not_found' });
    const r = await call({ method: 'DELETE', url: '/things/abc' });
    expect(r).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
    expect(r.headers['allow']).toBe('GET, PUT');
    // Not only Fastify's seven methods: every method Node parses, with or without a body.
    for (const method of ['TRACE', 'PROPFIND', 'LOCK', 'QUERY', 'SEARCH', 'PURGE']) {
      const other = await call({ method: method as 'GET', url: '/things/abc' });
      expect(other, method).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
      expect(other.headers['allow'], method).toBe('GET, PUT');
    }
    const query = await call({
      method: 'QUERY' as 'GET',
      url: '/things/abc',
      headers: { 'content-type': 'application/json' },
    });
    expect(query.status).toBe(405);
  });
  it('turns a ProblemError into its problem and anything else into a 500 that leaks nothing', async () => {
    expect((await call({ method: 'GET', url: '/boom?problem=1' })).body).toMatchObject({
      status: 409,
      code: 'conflict',
      detail: 'taken',
    });
    const r = await call({ method: 'GET', url: '/boom' });
    expect(r).toMatchObject({ status: 500, body: { code: 'internal', status: 500 } });
    expect(JSON.stringify(r.body)).not.toMatch(/secret|at .*\.ts/);
  });
});

describe('readiness', () => {
  it('is 503 while starting and stopping, 200 with the Health body when ready', async () => {
    readiness.state = 'starting';
    expect(await call({ method: 'GET', url: '/health/ready' })).toMatchObject({
      status: 503,
      body: { status: 'starting' },
    });
    readiness.state = 'ready';
    const ready = await call({ method: 'GET', url: '/health/ready' });
    expect(ready).toMatchObject({ status: 200, type: expect.stringMatching(/^application\/json/) });
    expect(ready.body).toEqual({ status: 'ready', implementation: 'kit-test', dependencies: { database: 'embedded' } });
    readiness.state = 'stopping';
    expect((await call({ method: 'GET', url: '/health/ready' })).status).toBe(503);
  });
});

describe('config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-kit-'));
  writeFileSync(join(dir, 'a-file'), '');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const options = { chapter: '99-test', defaultPort: 8099, mutants: ['a-mutant', 'b-mutant'] };
  const load = (env: Record<string, string>) => loadConfig({ ...options, env: { DATA_DIR: dir, ...env } });

  it('has defaults', () => {
    const config = loadConfig({ ...options, env: {} });
    expect(config).toMatchObject({ host: '127.0.0.1', port: 8099, cache: 'memory', mutant: undefined });
    expect(config.dataDir).toBe(join(tmpdir(), 'sdgrade', '99-test'));
    expect(load({ REDIS_URL: 'redis://127.0.0.1:6379' }).cache).toBe('redis');
    expect(load({ PORT: '0' }).port).toBe(0);
    expect(load({ PUBLIC_BASE_URL: 'https://sho.rt/' }).publicBaseUrl).toBe('https://sho.rt');
  });
  it('refuses bad values with a message naming the variable', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: 'abc' }, /PORT/],
      [{ PORT: '70000' }, /PORT/],
      [{ PORT: '-1' }, /PORT/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL must start with postgres/],
      [{ REDIS_URL: 'nope' }, /REDIS_URL/],
      [{ CACHE: 'disk' }, /CACHE/],
      [{ CACHE: 'redis' }, /needs REDIS_URL/],
      [{ PUBLIC_BASE_URL: 'ftp://x' }, /PUBLIC_BASE_URL/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
      [{ DATA_DIR: join(dir, 'a-file', 'sub') }, /DATA_DIR/],
      [{ MUTANT: 'c-mutant' }, /unknown MUTANT 'c-mutant'; known mutants: a-mutant, b-mutant/],
    ];
    for (const [env, message] of bad) {
      expect(() => load(env), JSON.stringify(env)).toThrow(message);
      expect(() => load(env)).toThrow(ConfigError);
    }
    expect(load({ MUTANT: 'b-mutant' }).mutant).toBe('b-mutant');
  });
  it('formats base URLs and redacts passwords', () => {
    expect(baseUrlOf('::1', 80)).toBe('http://[::1]:80');
    expect(baseUrlOf('127.0.0.1', 8090)).toBe('http://127.0.0.1:8090');
    expect(redact('postgres://me:secret@db:5432/x')).toBe('postgres://me:***@db:5432/x');
  });
});
