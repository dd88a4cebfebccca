// The book's metadata store: buckets and objects in SQLite (embedded). Keys are stored as BLOBs of their UTF-8
// bytes, so SQLite's memcmp order is S3's listing order (ascending UTF-8 bytes).
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteVersions } from './metadata-sqlite-versions.ts';
import type { MutantName } from './mutants.ts';
import { type ReplicaLedger, sqliteLedger } from './replica-ledger.ts';

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

/** A multipart upload in progress: its parts are kept apart from objects until it is completed or aborted. */
export interface UploadRow {
  uploadId: string;
  bucket: string;
  key: Buffer;
  initiated: number;
}

/** One uploaded part: its bytes are a data-store entry of their own until the upload ends. */
export interface PartRow {
  partNumber: number;
  objectId: string;
  size: number;
  etag: string;
  lastModified: number;
}

/** What ending an upload removed: its parts (their bytes now garbage) and, on complete, the object it replaced. */
export interface EndedUpload {
  parts: PartRow[];
  replaced: ObjectRow | undefined;
  /** On complete in a bucket whose versioning was set: the version the object is (`null` when Suspended). */
  versionId?: string;
}

/** A bucket's versioning state once set (a bucket never versioned has none; it can never return to none). */
export type VersioningStatus = 'Enabled' | 'Suspended';

/**
 * One version of a key in a bucket whose versioning was ever set: an object's bytes or a delete marker (no bytes,
 * objectId ''). `seq` orders a key's versions (higher is newer); the version with the highest is the current one.
 */
export interface VersionRow extends ObjectRow {
  versionId: string;
  seq: number;
  isMarker: boolean;
  /** Kept with the row for listing: set on the newest version, moved to the next one when it is deleted. */
  isLatest: boolean;
}

/** What a versioned write did: the version it made and the bytes it made garbage (a replaced `null` version's). */
export interface VersionWrite {
  versionId: string;
  garbage: string[];
}

/** A new version id: 32 hex digits (S3's ids are opaque; `null` names the version written without versioning). */
export const newVersionId = (): string => randomBytes(16).toString('hex');
export const VERSION_ID = /^(null|[0-9a-f]{32})$/;

/** The versioning part of the metadata store (versioning.ts drives it). */
export interface VersionStore {
  versioning(bucket: string): Promise<VersioningStatus | undefined>;
  /** Sets a bucket's state; the first time, every object it holds becomes its key's `null` version. */
  setVersioning(bucket: string, status: VersioningStatus): Promise<void>;
  /**
   * Records an object as its key's newest version (Enabled: a new id; Suspended: `null`, replacing the earlier
   * `null` version), and as the key's current object.
   */
  putVersion(bucket: string, row: ObjectRow): Promise<VersionWrite>;
  /** Adds a delete marker as the key's newest version (Suspended: the `null` one); the key names no object now. */
  addDeleteMarker(bucket: string, key: Buffer, lastModified: number): Promise<VersionWrite>;
  /**
   * Removes one version for good and returns it; when it was the newest, the next one becomes current (its
   * isLatest set unless `promoteLatest` is false: MUTANT latest-not-promoted).
   */
  deleteVersion(
    bucket: string,
    key: Buffer,
    versionId: string,
    promoteLatest: boolean,
  ): Promise<VersionRow | undefined>;
  /** One version by id, or without an id the key's newest (a delete marker included). */
  version(bucket: string, key: Buffer, versionId?: string): Promise<VersionRow | undefined>;
  /** Up to `limit` versions after (key, seq) - later keys, or lower seqs of that key - by key, then newest first. */
  versionPage(bucket: string, after: { key: Buffer; seq: number }, limit: number): Promise<VersionRow[]>;
  /** Whether a bucket holds any version or delete marker. */
  hasVersions(bucket: string): Promise<boolean>;
}

/** The metadata store the API service talks to: SQLite (embedded) or PostgreSQL (DATABASE_URL). */
export interface MetaStore extends VersionStore {
  readonly kind: 'sqlite' | 'postgres';
  bucket(name: string): Promise<BucketRow | undefined>;
  buckets(): Promise<BucketRow[]>;
  createBucket(name: string, created: number): Promise<void>;
  deleteBucket(name: string): Promise<void>;
  isEmpty(bucket: string): Promise<boolean>;
  get(bucket: string, key: Buffer): Promise<ObjectRow | undefined>;
  /** Records an object, replacing what the key named; returns the object it replaced (its bytes are garbage). */
  put(bucket: string, row: ObjectRow): Promise<ObjectRow | undefined>;
  /**
   * A PUT's write in a bucket whose versioning was never set: the state read in the write's transaction (a first
   * PutBucketVersioning that came meanwhile made the key's object its `null` version), then as put. 'versioned'
   * when it was set: nothing written, the caller writes a version.
   */
  putUnversioned(bucket: string, row: ObjectRow): Promise<ObjectRow | undefined | 'versioned'>;
  /** A DELETE's in a bucket whose versioning was never set, as putUnversioned: the object removed, or 'versioned'. */
  deleteUnversioned(bucket: string, key: Buffer): Promise<ObjectRow | undefined | 'versioned'>;
  /** MUTANT torn-overwrite only: the size and ETag written apart from the object's place. */
  putSizeApart(bucket: string, row: ObjectRow): Promise<void>;
  delete(bucket: string, key: Buffer): Promise<ObjectRow | undefined>;
  /** Up to `limit` objects of a bucket from `start` (inclusive), in key order. */
  page(bucket: string, start: Buffer, limit: number): Promise<ObjectRow[]>;
  all(bucket: string): Promise<ObjectRow[]>;
  deleteAll(bucket: string): Promise<void>;
  createUpload(u: UploadRow): Promise<void>;
  upload(uploadId: string): Promise<UploadRow | undefined>;
  /**
   * Up to `limit` uploads of a bucket whose keys begin with `prefix`, in key byte order then upload id, after
   * (`after.key`, `after.uploadId`) in that order (ListMultipartUploads).
   */
  uploads(
    bucket: string,
    prefix: Buffer,
    after: { key: Buffer; uploadId: string },
    limit: number,
  ): Promise<UploadRow[]>;
  /** Every upload initiated before `time` (ms since the epoch), in any bucket (upload-expiry.ts). */
  uploadsInitiatedBefore(time: number): Promise<UploadRow[]>;
  /** Records a part, replacing the one with its number; undefined when the upload no longer exists. */
  putPart(uploadId: string, part: PartRow): Promise<{ replaced: PartRow | undefined } | undefined>;
  /** An upload's parts in part-number order. */
  parts(uploadId: string): Promise<PartRow[]>;
  /**
   * Ends an upload in one transaction: its parts and itself deleted and, to complete it, the object recorded under
   * its key. Undefined when the upload no longer exists (another complete or an abort came first).
   */
  endUpload(uploadId: string, complete?: { bucket: string; row: ObjectRow }): Promise<EndedUpload | undefined>;
  /** The cluster variant's record of copies and deletes owed to data nodes, in this store (replica-ledger.ts). */
  replicaLedger(): Promise<ReplicaLedger>;
  /** Every object id a row names (objects, versions, parts): data mapped under any other id is garbage. */
  namedObjectIds(): Promise<Set<string>>;
  close(): Promise<void>;
}

export class MetadataStore implements MetaStore {
  readonly kind = 'sqlite';
  private readonly db: Database.Database;
  private readonly q: Record<string, Database.Statement>;

  /** `mutant`: the versioning and multipart mutants that live in the store (MUTANT names below). */
  constructor(
    dataDir: string,
    private readonly mutant?: MutantName,
  ) {
    this.db = new Database(join(dataDir, 'metadata.sqlite'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS bucket (name TEXT PRIMARY KEY, created INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS object (
        bucket TEXT NOT NULL, key BLOB NOT NULL, object_id TEXT NOT NULL, size INTEGER NOT NULL,
        etag TEXT NOT NULL, last_modified INTEGER NOT NULL, PRIMARY KEY (bucket, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS upload (
        upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key BLOB NOT NULL, initiated INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS part (
        upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, object_id TEXT NOT NULL, size INTEGER NOT NULL,
        etag TEXT NOT NULL, last_modified INTEGER NOT NULL, PRIMARY KEY (upload_id, part_number)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS bucket_versioning (bucket TEXT PRIMARY KEY, status TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS object_version (
        bucket TEXT NOT NULL, key BLOB NOT NULL, seq INTEGER NOT NULL, version_id TEXT NOT NULL,
        object_id TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL, last_modified INTEGER NOT NULL,
        is_marker INTEGER NOT NULL, is_latest INTEGER NOT NULL, PRIMARY KEY (bucket, key, seq)
      ) WITHOUT ROWID;
      CREATE UNIQUE INDEX IF NOT EXISTS object_version_id ON object_version (bucket, key, version_id);`);
    this.versions = new SqliteVersions(this.db, mutant);
    const partCols = 'part_number AS partNumber, object_id AS objectId, size, etag, last_modified AS lastModified';
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
      createUpload: this.db.prepare('INSERT INTO upload (upload_id, bucket, key, initiated) VALUES (?, ?, ?, ?)'),
      upload: this.db.prepare('SELECT upload_id AS uploadId, bucket, key, initiated FROM upload WHERE upload_id = ?'),
      uploads: this.db.prepare(
        'SELECT upload_id AS uploadId, bucket, key, initiated FROM upload WHERE bucket = ? AND key >= ? ' +
          'AND (key > ? OR (key = ? AND upload_id > ?)) ORDER BY key, upload_id LIMIT ?',
      ),
      uploadsBefore: this.db.prepare(
        'SELECT upload_id AS uploadId, bucket, key, initiated FROM upload WHERE initiated < ? ORDER BY initiated',
      ),
      part: this.db.prepare(`SELECT ${partCols} FROM part WHERE upload_id = ? AND part_number = ?`),
      partAnyUpload: this.db.prepare(`SELECT ${partCols} FROM part WHERE part_number = ?`),
      putPart: this.db.prepare(
        'INSERT OR REPLACE INTO part (upload_id, part_number, object_id, size, etag, last_modified) ' +
          'VALUES (?, ?, ?, ?, ?, ?)',
      ),
      parts: this.db.prepare(`SELECT ${partCols} FROM part WHERE upload_id = ? ORDER BY part_number`),
      deleteParts: this.db.prepare('DELETE FROM part WHERE upload_id = ?'),
      deleteUpload: this.db.prepare('DELETE FROM upload WHERE upload_id = ?'),
    };
  }

  private readonly versions: SqliteVersions;

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
    // MUTANT versioning-outlives-bucket: a bucket created again under a deleted one's name keeps its versioning.
    if (this.mutant !== 'versioning-outlives-bucket') this.versions.forget(name);
  }
  async isEmpty(bucket: string): Promise<boolean> {
    return this.q['anyObject']!.get(bucket) === undefined;
  }
  async get(bucket: string, key: Buffer): Promise<ObjectRow | undefined> {
    return this.q['get']!.get(bucket, key) as ObjectRow | undefined;
  }
  async put(bucket: string, row: ObjectRow): Promise<ObjectRow | undefined> {
    return this.db.transaction(() => this.replace(bucket, row))();
  }
  private replace(bucket: string, row: ObjectRow): ObjectRow | undefined {
    const old = this.q['get']!.get(bucket, row.key) as ObjectRow | undefined;
    this.q['put']!.run(bucket, row.key, row.objectId, row.size, row.etag, row.lastModified);
    return old;
  }
  async putUnversioned(bucket: string, row: ObjectRow): Promise<ObjectRow | undefined | 'versioned'> {
    return this.db.transaction(() => (this.versionedNow(bucket) ? 'versioned' : this.replace(bucket, row)))();
  }
  async deleteUnversioned(bucket: string, key: Buffer): Promise<ObjectRow | undefined | 'versioned'> {
    return this.db.transaction(() => (this.versionedNow(bucket) ? 'versioned' : this.remove(bucket, key)))();
  }
  /** MUTANT versioning-read-outside-write: the caller's earlier read of the state is taken as still true. */
  private versionedNow(bucket: string): boolean {
    return this.mutant !== 'versioning-read-outside-write' && this.versions.status(bucket) !== undefined;
  }
  async putSizeApart(bucket: string, row: ObjectRow): Promise<void> {
    this.q['setSize']!.run(row.size, row.etag, bucket, row.key);
  }
  async delete(bucket: string, key: Buffer): Promise<ObjectRow | undefined> {
    return this.db.transaction(() => this.remove(bucket, key))();
  }
  private remove(bucket: string, key: Buffer): ObjectRow | undefined {
    const old = this.q['get']!.get(bucket, key) as ObjectRow | undefined;
    if (old) this.q['delete']!.run(bucket, key);
    return old;
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
  async createUpload(u: UploadRow): Promise<void> {
    this.q['createUpload']!.run(u.uploadId, u.bucket, u.key, u.initiated);
  }
  async upload(uploadId: string): Promise<UploadRow | undefined> {
    return this.q['upload']!.get(uploadId) as UploadRow | undefined;
  }
  async uploads(
    bucket: string,
    prefix: Buffer,
    after: { key: Buffer; uploadId: string },
    limit: number,
  ): Promise<UploadRow[]> {
    const rows = this.q['uploads']!.all(bucket, prefix, after.key, after.key, after.uploadId, limit) as UploadRow[];
    // In key order the keys under the prefix come first: the first that is not ends them.
    const end = rows.findIndex((r) => !r.key.subarray(0, prefix.length).equals(prefix));
    return end < 0 ? rows : rows.slice(0, end);
  }
  async uploadsInitiatedBefore(time: number): Promise<UploadRow[]> {
    return this.q['uploadsBefore']!.all(time) as UploadRow[];
  }
  async putPart(uploadId: string, p: PartRow): Promise<{ replaced: PartRow | undefined } | undefined> {
    return this.db.transaction(() => {
      if (!this.q['upload']!.get(uploadId)) return undefined;
      // MUTANT part-replaced-any-upload: the part a new one replaces is found by its number alone, in any upload.
      const replaced = (
        this.mutant === 'part-replaced-any-upload'
          ? this.q['partAnyUpload']!.get(p.partNumber)
          : this.q['part']!.get(uploadId, p.partNumber)
      ) as PartRow | undefined;
      this.q['putPart']!.run(uploadId, p.partNumber, p.objectId, p.size, p.etag, p.lastModified);
      return { replaced };
    })();
  }
  async parts(uploadId: string): Promise<PartRow[]> {
    return this.q['parts']!.all(uploadId) as PartRow[];
  }
  async endUpload(uploadId: string, complete?: { bucket: string; row: ObjectRow }): Promise<EndedUpload | undefined> {
    return this.db.transaction(() => {
      if (!this.q['upload']!.get(uploadId)) return undefined;
      const parts = this.q['parts']!.all(uploadId) as PartRow[];
      this.q['deleteParts']!.run(uploadId);
      this.q['deleteUpload']!.run(uploadId);
      let replaced: ObjectRow | undefined;
      if (complete) {
        const { bucket, row } = complete;
        replaced = this.q['get']!.get(bucket, row.key) as ObjectRow | undefined;
        this.q['put']!.run(bucket, row.key, row.objectId, row.size, row.etag, row.lastModified);
        // In a versioned bucket the completed object is also the key's newest version: the one it follows is kept,
        // only a `null` version it replaces (versioning suspended) is garbage.
        if (this.versions.status(bucket)) {
          const { garbage, versionId } = this.versions.record(bucket, row);
          replaced = garbage[0] ? { ...row, objectId: garbage[0] } : undefined;
          return { parts, replaced, versionId };
        }
      }
      return { parts, replaced };
    })();
  }
  async versioning(bucket: string): Promise<VersioningStatus | undefined> {
    return this.versions.status(bucket);
  }
  async setVersioning(bucket: string, status: VersioningStatus): Promise<void> {
    this.versions.set(bucket, status);
  }
  async putVersion(bucket: string, row: ObjectRow): Promise<VersionWrite> {
    return this.db.transaction(() => this.versions.record(bucket, row))();
  }
  async addDeleteMarker(bucket: string, key: Buffer, lastModified: number): Promise<VersionWrite> {
    return this.db.transaction(() => this.versions.marker(bucket, key, lastModified))();
  }
  async deleteVersion(
    bucket: string,
    key: Buffer,
    versionId: string,
    promoteLatest: boolean,
  ): Promise<VersionRow | undefined> {
    return this.db.transaction(() => this.versions.remove(bucket, key, versionId, promoteLatest))();
  }
  async version(bucket: string, key: Buffer, versionId?: string): Promise<VersionRow | undefined> {
    return this.versions.one(bucket, key, versionId);
  }
  async versionPage(bucket: string, after: { key: Buffer; seq: number }, limit: number): Promise<VersionRow[]> {
    return this.versions.page(bucket, after, limit);
  }
  async hasVersions(bucket: string): Promise<boolean> {
    return this.versions.any(bucket);
  }
  async replicaLedger(): Promise<ReplicaLedger> {
    return sqliteLedger(this.db);
  }
  async namedObjectIds(): Promise<Set<string>> {
    const rows = this.db
      .prepare(
        'SELECT object_id AS id FROM object UNION SELECT object_id FROM part UNION SELECT object_id FROM object_version',
      )
      .all() as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
