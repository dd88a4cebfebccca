// The LinkStore contract, run against SQLite (always) and PostgreSQL (when TEST_DATABASE_URL is set).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBase62 } from './base62.ts';
import type { ClickBatch, LinkStore } from './store.ts';
import { PostgresStore } from './store-postgres.ts';
import { SqliteStore } from './store-sqlite.ts';
import { dropSchema, schemaName, TEST_DATABASE_URL, tempDir } from './testing.ts';

function batch(counts: ReadonlyMap<string, number>): ClickBatch {
  return { id: randomUUID(), counts };
}

interface Harness {
  /** A store on the same data as every other store this harness opens. */
  open: () => Promise<LinkStore>;
  cleanup: () => Promise<void>;
}

function contract(name: string, makeHarness: () => Harness) {
  describe(name, () => {
    const harness = makeHarness();
    const opened: LinkStore[] = [];
    const open = async () => {
      const store = await harness.open();
      opened.push(store);
      return store;
    };
    afterAll(async () => {
      for (const store of opened) await store.close().catch(() => undefined);
      await harness.cleanup();
    });

    it('creates a link with code = base62(id), then returns the same link for the same URL', async () => {
      const store = await open();
      const first = await store.shorten('https://example.com/a');
      expect(first.created).toBe(true);
      expect(first.link.code).toBe(encodeBase62(first.link.id));
      expect(first.link).toMatchObject({ longUrl: 'https://example.com/a', clicks: 0 });
      expect(Math.abs(first.link.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
      const again = await store.shorten('https://example.com/a');
      expect(again).toEqual({ link: first.link, created: false });
    });

    it('gives different URLs different codes, growing one at a time', async () => {
      const store = await open();
      const links = [];
      for (let i = 0; i < 100; i++) links.push((await store.shorten(`https://example.com/many/${i}`)).link);
      expect(new Set(links.map((l) => l.code)).size).toBe(100);
      for (const link of links) expect(link.code.length).toBeLessThanOrEqual(7);
      expect(links.at(-1)!.id - links[0]!.id).toBe(99n);
    });

    it('stores long URLs byte for byte (case, escapes, 2048 characters)', async () => {
      const store = await open();
      const urls = [
        'HTTPS://Example.COM:443/A/../b/%7e?Q=1&q=2#Frag',
        'http://example.com',
        `https://example.com/${'%F0%9F%98%80'.repeat(170)}`.slice(0, 2048),
        'https://example.com/a', // from the first test: still the same link
      ];
      for (const url of urls) {
        const { link } = await store.shorten(url);
        expect((await store.findByCode(link.code))?.longUrl).toBe(url);
      }
      // The same URL differing only in case is a different link.
      const a = await store.shorten('https://example.com/Case');
      const b = await store.shorten('https://example.com/case');
      expect(a.link.code).not.toBe(b.link.code);
    });

    it('finds by code (case-sensitive) and not an unknown code', async () => {
      const store = await open();
      const { link } = await store.shorten('https://example.com/find');
      expect(await store.findByCode(link.code)).toEqual(link);
      expect(await store.findByCode('zzzzzzzzzzz')).toBeUndefined();
      const upper = link.code.toUpperCase() === link.code ? link.code.toLowerCase() : link.code.toUpperCase();
      if (upper !== link.code) expect((await store.findByCode(upper))?.longUrl).not.toBe('https://example.com/find');
    });

    it('creates one link when one URL is shortened concurrently, through two store instances', async () => {
      const [s1, s2] = [await open(), await open()];
      const url = `https://example.com/concurrent/${Date.now()}`;
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? s1 : s2).shorten(url)));
      expect(new Set(results.map((r) => r.link.code)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
    });

    it('adds clicks in batches', async () => {
      const store = await open();
      const a = (await store.shorten('https://example.com/clicks/a')).link;
      const b = (await store.shorten('https://example.com/clicks/b')).link;
      await store.addClicks(
        batch(
          new Map([
            [a.code, 3],
            [b.code, 1],
          ]),
        ),
      );
      await store.addClicks(batch(new Map([[a.code, 2]])));
      await store.addClicks(batch(new Map()));
      expect((await store.findByCode(a.code))?.clicks).toBe(5);
      expect((await store.findByCode(b.code))?.clicks).toBe(1);
    });

    it('applies a click batch once: its retry (a write that landed, its answer lost) adds nothing', async () => {
      const [s1, s2] = [await open(), await open()];
      const a = (await s1.shorten('https://example.com/clicks/once')).link;
      const first = batch(new Map([[a.code, 4]]));
      await s1.addClicks(first);
      await s1.addClicks(first);
      await s2.addClicks(first); // whichever connection or instance the retry takes
      expect((await s1.findByCode(a.code))?.clicks).toBe(4);
      // The next batch (which deletes the first one's id: its store heard it land, so no retry of it will come).
      await s1.addClicks(batch(new Map([[a.code, 1]])));
      expect((await s1.findByCode(a.code))?.clicks).toBe(5);
    });

    it('keeps links and its instance ID across close and reopen', async () => {
      const store = await open();
      const { link } = await store.shorten('https://example.com/durable');
      const id = store.instanceId;
      await store.close();
      const reopened = await open();
      expect(reopened.instanceId).toBe(id);
      expect(await reopened.findByCode(link.code)).toMatchObject({ longUrl: 'https://example.com/durable' });
      expect((await reopened.shorten('https://example.com/durable')).created).toBe(false);
    });
  });
}

contract('SQLite store', () => {
  const dir = tempDir();
  return {
    open: async () => new SqliteStore({ file: join(dir.path, 'links.sqlite') }),
    cleanup: async () => dir.remove(),
  };
});

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL store (set TEST_DATABASE_URL=postgres://... to run)', () => {
  const url = TEST_DATABASE_URL!;
  const schema = schemaName();
  afterAll(() => dropSchema(url, schema));
  contract('contract', () => ({
    open: () => PostgresStore.connect({ connectionString: url, schema }),
    cleanup: async () => undefined,
  }));

  it('fails clearly when PostgreSQL cannot be reached', async () => {
    await expect(
      PostgresStore.connect({ connectionString: 'postgres://nobody:secret@127.0.0.1:1/none' }),
    ).rejects.toThrow(/cannot connect to PostgreSQL at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none/);
  });

  it('reports health and turns a lost database into 503 unavailable', async () => {
    const store = await PostgresStore.connect({ connectionString: url, schema, max: 2 });
    expect(await store.health()).toBe('up');
    const { link } = await store.shorten('https://example.com/pg-health');
    // Kill our own backends: the pool's clients break; the next query must be a StoreUnavailableError or succeed
    // on a fresh connection, never an unclassified error.
    const admin = await PostgresStore.connect({ connectionString: url, schema });
    await (admin as unknown as { pool: import('pg').Pool }).pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'sdgrade-reference/09-url-shortener' AND pid <> pg_backend_pid()`,
    );
    await admin.close();
    for (let i = 0; i < 3; i++) {
      try {
        const found = await store.findByCode(link.code);
        expect(found?.longUrl).toBe('https://example.com/pg-health');
      } catch (error) {
        expect(error).toMatchObject({ status: 503, code: 'unavailable' });
      }
    }
    expect((await store.findByCode(link.code))?.longUrl).toBe('https://example.com/pg-health');
    await store.close();
  });
});

describe('SQLite store mutants', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('ack-before-write: a second connection does not see acknowledged links until the 2 s commit', async () => {
    const file = join(dir.path, 'ack.sqlite');
    const mutant = new SqliteStore({ file, mutant: 'ack-before-write' });
    const { link } = await mutant.shorten('https://example.com/ack');
    expect((await mutant.findByCode(link.code))?.longUrl).toBe('https://example.com/ack'); // reads its own writes
    const Database = (await import('better-sqlite3')).default;
    const reader = new Database(file, { readonly: true });
    const count = () => reader.prepare('SELECT count(*) AS n FROM url_links').get() as { n: number };
    expect(count().n).toBe(0);
    await mutant.close(); // graceful close commits
    expect(count().n).toBe(1);
    reader.close();
  });

  it('racy-dedup creates two links for one URL shortened concurrently; no-dedup even sequentially', async () => {
    const racy = new SqliteStore({ file: join(dir.path, 'racy.sqlite'), mutant: 'racy-dedup' });
    const both = await Promise.all([racy.shorten('https://example.com/r'), racy.shorten('https://example.com/r')]);
    expect(both[0].link.code).not.toBe(both[1].link.code);
    expect((await racy.shorten('https://example.com/r')).created).toBe(false); // sequentially it looks right
    await racy.close();
    const none = new SqliteStore({ file: join(dir.path, 'none.sqlite'), mutant: 'no-dedup' });
    const a = await none.shorten('https://example.com/n');
    const b = await none.shorten('https://example.com/n');
    expect(a.link.code).not.toBe(b.link.code);
    await none.close();
  });

  it('truncated-hash gives two URLs the same code, the later one overwriting', async () => {
    const store = new SqliteStore({ file: join(dir.path, 'hash.sqlite'), mutant: 'truncated-hash' });
    const seen = new Map<string, string>();
    let collision: [string, string, string] | undefined;
    for (let i = 0; i < 500 && !collision; i++) {
      const url = `https://example.com/h/${i}`;
      const { link } = await store.shorten(url);
      const earlier = seen.get(link.code);
      if (earlier) collision = [earlier, url, link.code];
      seen.set(link.code, url);
    }
    expect(collision).toBeDefined();
    const [, later, code] = collision!;
    expect((await store.findByCode(code))?.longUrl).toBe(later);
    await store.close();
  });
});
