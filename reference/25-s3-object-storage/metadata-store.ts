// The book's metadata store: buckets and objects in SQLite (embedded). Keys are stored as BLOBs of their UTF-8
// bytes, so SQLite's memcmp order is S3's listing order (ascending UTF-8 bytes).
import { join } from 'node:path';
import Database from 'better-sqlite3';

export interface ObjectRow {
  objectId: string;
  key: Buffer;
  size: number;
  etag: string;
  lastModified: number;
}

export interface BucketRow {
  name: string;
  created: number;
}

export class MetadataStore {
  private readonly db: Database.Database;
  private readonly q: Record<string, Database.Statement>;

  constructor(dataDir: string) {
    this.db = new Database(join(dataDir, 'metadata.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS bucket (name TEXT PRIMARY KEY, created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS object (
        bucket TEXT NOT NULL, key BLOB NOT NULL, object_id TEXT NOT NULL, size INTEGER NOT NULL,
        etag TEXT NOT NULL, last_modified INTEGER NOT NULL, PRIMARY KEY (bucket, key)
      ) WITHOUT ROWID;`);
    const cols = 'object_id AS objectId, key, size, etag, last_modified AS lastModified';
    this.q = {
      bucket: this.db.prepare('SELECT name, created FROM bucket WHERE name = ?'),
      buckets: this.db.prepare('SELECT name, created FROM bucket ORDER BY name'),
      createBucket: this.db.prepare('INSERT INTO bucket (name, created) VALUES (?, ?)'),
      deleteBucket: this.db.prepare('DELETE FROM bucket WHERE name = ?'),
      anyObject: this.db.prepare('SELECT 1 FROM object WHERE bucket = ? LIMIT 1'),
      get: this.db.prepare(`SELECT ${cols} FROM object WHERE bucket = ? AND key = ?`),
      put: this.db.prepare(
        'INSERT OR REPLACE INTO object (bucket, key, object_id, size, etag, last_modified) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      setSize: this.db.prepare('UPDATE object SET size = ?, etag = ? WHERE bucket = ? AND key = ?'),
      delete: this.db.prepare('DELETE FROM object WHERE bucket = ? AND key = ?'),
      from: this.db.prepare(`SELECT ${cols} FROM object WHERE bucket = ? AND key >= ? ORDER BY key`),
      all: this.db.prepare(`SELECT ${cols} FROM object WHERE bucket = ?`),
    };
  }

  bucket(name: string): BucketRow | undefined {
    return this.q['bucket']!.get(name) as BucketRow | undefined;
  }
  buckets(): BucketRow[] {
    return this.q['buckets']!.all() as BucketRow[];
  }
  createBucket(name: string, created: number): void {
    this.q['createBucket']!.run(name, created);
  }
  deleteBucket(name: string): void {
    this.q['deleteBucket']!.run(name);
  }
  isEmpty(bucket: string): boolean {
    return this.q['anyObject']!.get(bucket) === undefined;
  }
  get(bucket: string, key: Buffer): ObjectRow | undefined {
    return this.q['get']!.get(bucket, key) as ObjectRow | undefined;
  }
  /** Records an object, replacing what the key named; returns the object it replaced (its bytes are garbage). */
  put(bucket: string, row: ObjectRow): ObjectRow | undefined {
    return this.db.transaction(() => {
      const old = this.get(bucket, row.key);
      this.q['put']!.run(bucket, row.key, row.objectId, row.size, row.etag, row.lastModified);
      return old;
    })();
  }
  /** MUTANT torn-overwrite only: the size and ETag written apart from the object's place. */
  putSizeApart(bucket: string, row: ObjectRow): void {
    this.q['setSize']!.run(row.size, row.etag, bucket, row.key);
  }
  delete(bucket: string, key: Buffer): ObjectRow | undefined {
    return this.db.transaction(() => {
      const old = this.get(bucket, key);
      if (old) this.q['delete']!.run(bucket, key);
      return old;
    })();
  }
  /** Objects of a bucket from `start` (inclusive) in key order, lazily: the caller stops when its page is full. */
  *from(bucket: string, start: Buffer): Generator<ObjectRow> {
    yield* this.q['from']!.iterate(bucket, start) as IterableIterator<ObjectRow>;
  }
  /** Every object of a bucket (for emptying it). */
  all(bucket: string): ObjectRow[] {
    return this.q['all']!.all(bucket) as ObjectRow[];
  }
  deleteAll(bucket: string): void {
    this.db.prepare('DELETE FROM object WHERE bucket = ?').run(bucket);
  }
  close(): void {
    this.db.close();
  }
}
