// main.ts as a child process, started the way the harness starts it: READY line, kill -9 and restart, graceful stop.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { timeLimit } from '../../harness/core/time-scale.ts';
import { dropSchema, schemaName, TEST_DATABASE_URL, TEST_REDIS_URL, tempDir, withSearchPath } from './testing.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Server {
  url: string;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<number | null>;
}
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) child.kill('SIGKILL');
});

function launch(env: Record<string, string>) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(PORT|HOST|DATA_DIR|DATABASE_URL|REDIS_URL|MUTANT|CACHE)$/.test(k)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...clean, PORT: '0', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d;
  });
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exit };
}

async function start(env: Record<string, string>): Promise<Server> {
  const p = launch(env);
  const deadline = Date.now() + timeLimit(30_000);
  while (!/^READY (\S+)\n/.test(p.stdout())) {
    if (Date.now() > deadline || p.child.exitCode !== null) {
      throw new Error(`no READY line; stdout=${p.stdout()} stderr=${p.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { ...p, url: /^READY (\S+)/.exec(p.stdout())![1]! };
}

async function shorten(server: Server, longUrl: string) {
  const response = await fetch(`${server.url}/api/v1/data/shorten`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ longUrl }),
  });
  return { status: response.status, body: (await response.json()) as { code: string; shortUrl: string } };
}
const follow = (server: Server, code: string) => fetch(`${server.url}/api/v1/${code}`, { redirect: 'manual' });
const stats = async (server: Server, code: string) =>
  (await (await fetch(`${server.url}/api/v1/data/links/${code}`)).json()) as { clicks?: number };
const health = async (server: Server) => (await (await fetch(`${server.url}/health/ready`)).json()) as object;

describe('main.ts as a process', () => {
  it('prints READY, serves, survives kill -9 with every acknowledged code, and keeps codes stable', async () => {
    const dir = tempDir();
    const first = await start({ DATA_DIR: dir.path });
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const created = [];
    for (let i = 0; i < 20; i++) created.push(await shorten(first, `https://example.com/crash/${i}`));
    expect(created.every((c) => c.status === 201)).toBe(true);
    expect(created[0]!.body.shortUrl).toBe(`${first.url}/api/v1/${created[0]!.body.code}`);
    const redirect = await follow(first, created[0]!.body.code);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get('location')).toBe('https://example.com/crash/0');
    first.child.kill('SIGKILL');
    await first.exit;

    const second = await start({ DATA_DIR: dir.path });
    for (const [i, c] of created.entries()) {
      const r = await follow(second, c.body.code);
      expect(r.headers.get('location')).toBe(`https://example.com/crash/${i}`);
    }
    expect(await shorten(second, 'https://example.com/crash/7')).toMatchObject({
      status: 200,
      body: { code: created[7]!.body.code },
    });
    second.child.kill('SIGKILL');
    await second.exit;
    dir.remove();
  });

  it('stops on SIGTERM with exit 0, one line of stdout, and pending clicks written', async () => {
    const dir = tempDir();
    const first = await start({ DATA_DIR: dir.path });
    const { body } = await shorten(first, 'https://example.com/graceful');
    for (let i = 0; i < 3; i++) await follow(first, body.code);
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(first.stdout()).toBe(`READY ${first.url}\n`);
    const second = await start({ DATA_DIR: dir.path });
    expect(await stats(second, body.code)).toMatchObject({ clicks: 3 });
    expect(await health(second)).toEqual({
      status: 'ready',
      implementation: 'sdgrade-reference/09-url-shortener',
      dependencies: { database: 'embedded', cache: 'embedded' },
    });
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    dir.remove();
  });

  it('finishes a request in flight when SIGTERM arrives', async () => {
    const dir = tempDir();
    // racy-dedup holds each new shorten for 25 ms between its check and its insert: a request surely in flight.
    const server = await start({ DATA_DIR: dir.path, MUTANT: 'racy-dedup' });
    const pending = shorten(server, 'https://example.com/in-flight');
    await new Promise((r) => setTimeout(r, 8));
    server.child.kill('SIGTERM');
    expect((await pending).status).toBe(201);
    expect(await server.exit).toBe(0);
    dir.remove();
  });

  it('exits 2 with a clear message for a bad configuration', async () => {
    const bogus = launch({ MUTANT: 'bogus' });
    expect(await bogus.exit).toBe(2);
    expect(bogus.stderr()).toMatch(/unknown MUTANT 'bogus'; known mutants: normalised-location, no-dedup, /);
    expect(bogus.stdout()).toBe('');
    const port = launch({ PORT: 'eighty' });
    expect(await port.exit).toBe(2);
    expect(port.stderr()).toMatch(/PORT must be an integer/);
    const sqliteOnly = launch({ MUTANT: 'no-dedup', DATABASE_URL: 'postgres://127.0.0.1:1/x' });
    expect(await sqliteOnly.exit).toBe(2);
  });

  it('exits 1 naming the database when PostgreSQL cannot be reached', async () => {
    const p = launch({ DATABASE_URL: 'postgres://me:secret@127.0.0.1:1/none' });
    expect(await p.exit).toBe(1);
    expect(p.stderr()).toMatch(/cannot connect to PostgreSQL at postgres:\/\/me:\*\*\*@127\.0\.0\.1:1\/none/);
    expect(p.stderr()).not.toContain('secret');
  });

  it('MUTANTS ack-before-write and memory-only-store lose acknowledged links (URL-F1, URL-F4)', async () => {
    const dir = tempDir();
    const ack = await start({ DATA_DIR: dir.path, MUTANT: 'ack-before-write' });
    const { body } = await shorten(ack, 'https://example.com/ack');
    expect((await follow(ack, body.code)).status).toBe(302);
    ack.child.kill('SIGKILL');
    await ack.exit;
    const after = await start({ DATA_DIR: dir.path });
    expect((await follow(after, body.code)).status).toBe(404);
    after.child.kill('SIGKILL');
    await after.exit;

    const memory = await start({ DATA_DIR: dir.path, MUTANT: 'memory-only-store' });
    const m = await shorten(memory, 'https://example.com/memory');
    memory.child.kill('SIGTERM');
    expect(await memory.exit).toBe(0);
    const again = await start({ DATA_DIR: dir.path, MUTANT: 'memory-only-store' });
    expect((await follow(again, m.body.code)).status).toBe(404);
    again.child.kill('SIGTERM');
    await again.exit;
    dir.remove();
  });
});

describe.skipIf(!TEST_DATABASE_URL)('main.ts on PostgreSQL (set TEST_DATABASE_URL=postgres://... to run)', () => {
  const schema = schemaName();
  afterAll(() => dropSchema(TEST_DATABASE_URL!, schema));

  it('creates its tables, reports the database up, and survives kill -9', async () => {
    const env = { DATABASE_URL: withSearchPath(TEST_DATABASE_URL!, schema), CACHE: 'none' };
    const admin = await import('pg');
    const client = new admin.default.Client({ connectionString: TEST_DATABASE_URL! });
    await client.connect();
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    await client.end();
    const first = await start(env);
    expect(await health(first)).toMatchObject({ status: 'ready', dependencies: { database: 'up' } });
    const { status, body } = await shorten(first, 'https://example.com/pg');
    expect(status).toBe(201);
    first.child.kill('SIGKILL');
    await first.exit;
    const second = await start(env);
    expect((await follow(second, body.code)).headers.get('location')).toBe('https://example.com/pg');
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
  });
});

describe.skipIf(!TEST_REDIS_URL)('main.ts with Redis (set TEST_REDIS_URL=redis://... to run)', () => {
  it('reports the cache up and redirects through it', async () => {
    const dir = tempDir();
    const server = await start({ DATA_DIR: dir.path, REDIS_URL: TEST_REDIS_URL! });
    expect(await health(server)).toMatchObject({ dependencies: { database: 'embedded', cache: 'up' } });
    const { body } = await shorten(server, 'https://example.com/redis');
    expect((await follow(server, body.code)).status).toBe(302);
    server.child.kill('SIGTERM');
    expect(await server.exit).toBe(0);
    dir.remove();
  });
});
