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

/** The metadata store the API service talks to: SQLite (embedded) or PostgreSQL (DATABASE_URL). */
export interface MetaStore {
  readonly kind: 'sqlite' | 'postgres';
  bucket(name: string): Promise<BucketRow | undefined>;
  buckets(): Promise<BucketRow[]>;
  createBucket(name: string, created: number): Promise<void>;
  deleteBucket(name: string): Promise<void>;
  isEmpty(bucket: string): Promise<boolean>;
  get(bucket: string, key: Buffer): Promise<ObjectRow | undefined>;
  /** Records an object, replacing what the key named; returns the object it replaced (its bytes are garbage). */
  put(bucket: string, row: ObjectRow): Promise<ObjectRow | undefined>;
  /** MUTANT torn-overwrite only: the size and ETag written apart from the object's place. */
  putSizeApart(bucket: string, row: ObjectRow): Promise<void>;
  delete(bucket: string, key: Buffer): Promise<ObjectRow | undefined>;
  /** Up to `limit` objects of a bucket from `start` (inclusive), in key order. */
  page(bucket: string, start: Buffer, limit: number): Promise<ObjectRow[]>;
  all(bucket: string): Promise<ObjectRow[]>;
  deleteAll(bucket: string): Promise<void>;
  close(): Promise<void>;
}

export class MetadataStore implements MetaStore {
  readonly kind = 'sqlite';
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
      from: this.db.prepare(`SELECT ${cols} FROM object WHERE bucket = ? AND key >= ? ORDER BY key LIMIT ?`),
      all: this.db.prepare(`SELECT ${cols} FROM object WHERE bucket = ?`),
    };
  }

  async bucket(name: string): Promise<BucketRow | undefined> {
    return this.q['bucket']!.get(name) as BucketRow | undefined;
  }
  async buckets(): Promise<BucketRow[]> {
    return this.q['buckets']!.all() as BucketRow[];
  }
  async createBucket(name: string, created: number): Promise<void> {
    this.q['createBucket']!.run(name, created);
  }
  async deleteBucket(name: string): Promise<void> {
    this.q['deleteBucket']!.run(name);
  }
  async isEmpty(bucket: string): Promise<boolean> {
    return this.q['anyObject']!.get(bucket) === undefined;
  }
  async get(bucket: string, key: Buffer): Promise<ObjectRow | undefined> {
    return this.q['get']!.get(bucket, key) as ObjectRow | undefined;
  }
  async put(bucket: string, row: ObjectRow): Promise<ObjectRow | undefined> {
    return this.db.transaction(() => {
      const old = this.q['get']!.get(bucket, row.key) as ObjectRow | undefined;
      this.q['put']!.run(bucket, row.key, row.objectId, row.size, row.etag, row.lastModified);
      return old;
    })();
  }
  async putSizeApart(bucket: string, row: ObjectRow): Promise<void> {
    this.q['setSize']!.run(row.size, row.etag, bucket, row.key);
  }
  async delete(bucket: string, key: Buffer): Promise<ObjectRow | undefined> {
    return this.db.transaction(() => {
      const old = this.q['get']!.get(bucket, key) as ObjectRow | undefined;
      if (old) this.q['delete']!.run(bucket, key);
      return old;
    })();
  }
  async page(bucket: string, start: Buffer, limit: number): Promise<ObjectRow[]> {
    return this.q['from']!.all(bucket, start, limit) as ObjectRow[];
  }
  /** Every object of a bucket (for emptying it). */
  async all(bucket: string): Promise<ObjectRow[]> {
    return this.q['all']!.all(bucket) as ObjectRow[];
  }
  async deleteAll(bucket: string): Promise<void> {
    this.db.prepare('DELETE FROM object WHERE bucket = ?').run(bucket);
  }
  async close(): Promise<void> {
    this.db.close();
  }
}
