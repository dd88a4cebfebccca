// The content store keeps a page's bytes as served (issue 22; WC-I10 reads them over the wire through getContent), and
// a PostgreSQL schema of the version before (contents as text) is migrated at start, its rows kept: what no check of
// the harness can see (an implementation's schema is its own). SQLite always; PostgreSQL when TEST_DATABASE_URL is set.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PostgresDb, SqliteDb } from './db.ts';
import { CrawlStore, type PageRecord } from './store.ts';

const TEST_DATABASE_URL = process.env['TEST_DATABASE_URL'];

/** Bodies no text column holds as served: a NUL byte, and bytes that are not UTF-8. */
const BODIES = [Buffer.from('<p>a\u0000b</p>'), Buffer.from([0x3c, 0x70, 0x3e, 0xe9, 0xff, 0x3c, 0x2f, 0x70, 0x3e])];

const page = (url: string, hash: string): PageRecord => ({
  url,
  depth: 0,
  status: 200,
  contentType: 'text/html',
  outcome: 'stored',
  contentHash: hash,
  duplicateOf: null,
  links: [],
  fetchedAt: new Date().toISOString(),
});

async function storesBytes(store: CrawlStore): Promise<void> {
  for (const [i, body] of BODIES.entries()) {
    const hash = `${i}`.padStart(64, 'b');
    await store.recordFetch('j', page(`http://h/bytes-${i}`, hash), body, []);
    expect((await store.contentOwners('j', [hash])).get(hash)).toBe(`http://h/bytes-${i}`);
    const [row] = await store.db.all<{ html: Uint8Array }>('SELECT html FROM contents WHERE job = ? AND hash = ?', [
      'j',
      hash,
    ]);
    expect(Buffer.from(row!.html).equals(body), `content ${i} stored as its bytes`).toBe(true);
    // What getContent serves: the same bytes with the page's content type; another job's store does not have it.
    const served = await store.content('j', hash);
    expect(served?.bytes.equals(body), `content ${i} read back as its bytes`).toBe(true);
    expect(served?.contentType).toBe('text/html');
    expect(await store.content('other-job', hash)).toBeNull();
  }
}

describe('SQLite content store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdgrade-10-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a body with a NUL byte or invalid UTF-8 as its bytes', async () => {
    const store = new CrawlStore(new SqliteDb(join(dir, 'crawl.db')));
    try {
      await storesBytes(store);
    } finally {
      await store.close();
    }
  });
});

describe.skipIf(!TEST_DATABASE_URL)('PostgreSQL content store', () => {
  const url = TEST_DATABASE_URL!;
  const schema = `sdgrade_test_${randomBytes(4).toString('hex')}`;
  const admin = async <T>(fn: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  };
  afterAll(() => admin((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)));

  // What the version before stored: the body decoded as UTF-8, in a text column (markup with backslashes included).
  const OLD = [
    ['a'.repeat(64), 'http://h/old-a', '<p>café, été</p>'],
    ['c'.repeat(64), 'http://h/old-script', '<script>var re = /\\d+\\s/; var s = "\\x41\\n";</script>'],
  ] as const;

  it('migrates a schema of the version before (contents as text) in place, its rows kept as their UTF-8 bytes', async () => {
    await admin(async (c) => {
      await c.query(`CREATE SCHEMA ${schema}`);
      await c.query(
        `CREATE TABLE ${schema}.contents (job text NOT NULL, hash text NOT NULL, url text NOT NULL, html text NOT NULL, PRIMARY KEY (job, hash))`,
      );
      for (const [hash, pageUrl, html] of OLD)
        await c.query(`INSERT INTO ${schema}.contents (job, hash, url, html) VALUES ('j', $1, $2, $3)`, [
          hash,
          pageUrl,
          html,
        ]);
    });
    const store = new CrawlStore(await PostgresDb.connect(url, schema, () => undefined));
    try {
      const [col] = await store.db.all<{ data_type: string }>(
        "SELECT data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = 'contents' AND column_name = 'html'",
        [schema],
      );
      expect(col?.data_type).toBe('bytea');
      for (const [hash, pageUrl, html] of OLD) {
        // Content seen across the upgrade: a job resumed on the migrated schema still knows what it stored.
        expect((await store.contentOwners('j', [hash])).get(hash)).toBe(pageUrl);
        const [row] = await store.db.all<{ html: Uint8Array }>('SELECT html FROM contents WHERE job = ? AND hash = ?', [
          'j',
          hash,
        ]);
        expect(Buffer.from(row!.html).equals(Buffer.from(html, 'utf8')), `${pageUrl} kept as its UTF-8 bytes`).toBe(
          true,
        );
        // A migrated row has no page row in this hand-made schema: served as its bytes, with no recorded type.
        const served = await store.content('j', hash);
        expect(served?.bytes.equals(Buffer.from(html, 'utf8'))).toBe(true);
      }
      await storesBytes(store);
    } finally {
      await store.close();
    }
  });
});
