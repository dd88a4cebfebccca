// The metadata store on PostgreSQL (DATABASE_URL): the book's bucket and object tables in a real relational
// database, which is what the book puts behind the metadata service. Keys are bytea (their UTF-8 bytes), whose
// order is S3's listing order, as in the SQLite store.
import pg from 'pg';
import { redact } from '../kit/config.ts';
import { pgUploads, pgUploadsInitiatedBefore } from './metadata-postgres-uploads.ts';
import {
  COLS,
  lockKey,
  lockVersioningState,
  pgAdd,
  pgRecord,
  pgReplace,
  pgStatus,
  pgVersion,
  putCurrent,
  type Row,
  toRow,
  toVersion,
  VERSION_COLS,
  type VersionSqlRow,
} from './metadata-postgres-versions.ts';
import type {
  BucketRow,
  EndedUpload,
  MetaStore,
  ObjectRow,
  PartRow,
  UploadRow,
  VersioningStatus,
  VersionRow,
  VersionWrite,
} from './metadata-store.ts';
import type { MutantName } from './mutants.ts';
import { postgresLedger, type ReplicaLedger } from './replica-ledger.ts';

const SCHEMA_LOCK = 0x5d9_0025; // pg_advisory_xact_lock key for creating the tables
const PART_COLS = 'part_number, object_id, size, etag, last_modified';

interface PartSqlRow {
  part_number: number;
  object_id: string;
  size: string;
  etag: string;
  last_modified: string;
}

const toPart = (r: PartSqlRow): PartRow => ({
  partNumber: Number(r.part_number),
  objectId: r.object_id,
  size: Number(r.size),
  etag: r.etag,
  lastModified: Number(r.last_modified),
});

export class PostgresMetadataStore implements MetaStore {
  readonly kind = 'postgres';
  private constructor(
    private readonly pool: pg.Pool,
    private readonly mutant?: MutantName,
  ) {}

  /** `mutant`: MUTANT versioning-read-outside-write (below). */
  static async connect(
    connectionString: string,
    log: (m: string, e?: unknown) => void,
    mutant?: MutantName,
  ): Promise<PostgresMetadataStore> {
    const pool = new pg.Pool({
      connectionString,
      max: 10,
      connectionTimeoutMillis: 3000,
      statement_timeout: 5000,
      application_name: 'sdgrade-reference/25-s3-object-storage',
    });
    pool.on('error', (error) => log('PostgreSQL connection lost (the pool reconnects)', error));
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot connect to PostgreSQL at ${redact(connectionString)}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await client.query('CREATE TABLE IF NOT EXISTS s3_bucket (name text PRIMARY KEY, created bigint NOT NULL)');
      await client.query(`
        CREATE TABLE IF NOT EXISTS s3_object (
          bucket text NOT NULL, key bytea NOT NULL, object_id text NOT NULL, size bigint NOT NULL,
          etag text NOT NULL, last_modified bigint NOT NULL, PRIMARY KEY (bucket, key))`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS s3_upload (
          upload_id text PRIMARY KEY, bucket text NOT NULL, key bytea NOT NULL, initiated bigint NOT NULL)`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS s3_part (
          upload_id text NOT NULL, part_number integer NOT NULL, object_id text NOT NULL, size bigint NOT NULL,
          etag text NOT NULL, last_modified bigint NOT NULL, PRIMARY KEY (upload_id, part_number))`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS s3_bucket_versioning (bucket text PRIMARY KEY, status text NOT NULL)',
      );
      await client.query(`
        CREATE TABLE IF NOT EXISTS s3_object_version (
          bucket text NOT NULL, key bytea NOT NULL, seq bigint NOT NULL, version_id text NOT NULL,
          object_id text NOT NULL, size bigint NOT NULL, etag text NOT NULL, last_modified bigint NOT NULL,
          is_marker boolean NOT NULL, is_latest boolean NOT NULL, PRIMARY KEY (bucket, key, seq),
          UNIQUE (bucket, key, version_id))`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
    return new PostgresMetadataStore(pool, mutant);
  }

  /** For readiness: whether PostgreSQL answers now. */
  async ping(): Promise<'up' | 'down'> {
    return this.pool.query('SELECT 1').then(
      () => 'up',
      () => 'down',
    );
  }

  async bucket(name: string): Promise<BucketRow | undefined> {
    const { rows } = await this.pool.query('SELECT name, created FROM s3_bucket WHERE name = $1', [name]);
    return rows[0] ? { name: rows[0].name, created: Number(rows[0].created) } : undefined;
  }
  async buckets(): Promise<BucketRow[]> {
    const { rows } = await this.pool.query('SELECT name, created FROM s3_bucket ORDER BY name');
    return rows.map((r) => ({ name: r.name, created: Number(r.created) }));
  }
  async createBucket(name: string, created: number): Promise<void> {
    await this.pool.query('INSERT INTO s3_bucket (name, created) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      name,
      created,
    ]);
    // A new bucket is never versioned, whatever an earlier bucket of its name was.
    await this.pool.query('DELETE FROM s3_bucket_versioning WHERE bucket = $1', [name]);
  }
  async deleteBucket(name: string): Promise<void> {
    await this.pool.query('DELETE FROM s3_bucket WHERE name = $1', [name]);
  }
  async isEmpty(bucket: string): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT 1 FROM s3_object WHERE bucket = $1 LIMIT 1', [bucket]);
    return rows.length === 0;
  }
  async get(bucket: string, key: Buffer): Promise<ObjectRow | undefined> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLS} FROM s3_object WHERE bucket = $1 AND key = $2`, [
      bucket,
      key,
    ]);
    return rows[0] ? toRow(rows[0]) : undefined;
  }
  async put(bucket: string, row: ObjectRow): Promise<ObjectRow | undefined> {
    return this.inTransaction((client) => pgReplace(client, bucket, row));
  }
  async putUnversioned(bucket: string, row: ObjectRow): Promise<ObjectRow | undefined | 'versioned'> {
    return this.inTransaction(async (client) =>
      (await this.versionedNow(client, bucket)) ? 'versioned' : pgReplace(client, bucket, row),
    );
  }
  async deleteUnversioned(bucket: string, key: Buffer): Promise<ObjectRow | undefined | 'versioned'> {
    return this.inTransaction(async (client) => {
      if (await this.versionedNow(client, bucket)) return 'versioned';
      const { rows } = await client.query<Row>(
        `DELETE FROM s3_object WHERE bucket = $1 AND key = $2 RETURNING ${COLS}`,
        [bucket, key],
      );
      return rows[0] ? toRow(rows[0]) : undefined;
    });
  }
  /** Whether the bucket's versioning was set, read under the state's shared lock (lockVersioningState). */
  private async versionedNow(client: pg.PoolClient, bucket: string): Promise<boolean> {
    // MUTANT versioning-read-outside-write: the caller's earlier read of the state is taken as still true.
    if (this.mutant === 'versioning-read-outside-write') return false;
    await lockVersioningState(client, bucket, false);
    return (await pgStatus(client, bucket)) !== undefined;
  }
  async putSizeApart(bucket: string, row: ObjectRow): Promise<void> {
    await this.pool.query('UPDATE s3_object SET size = $1, etag = $2 WHERE bucket = $3 AND key = $4', [
      row.size,
      row.etag,
      bucket,
      row.key,
    ]);
  }
  async delete(bucket: string, key: Buffer): Promise<ObjectRow | undefined> {
    const { rows } = await this.pool.query<Row>(
      `DELETE FROM s3_object WHERE bucket = $1 AND key = $2 RETURNING ${COLS}`,
      [bucket, key],
    );
    return rows[0] ? toRow(rows[0]) : undefined;
  }
  async page(bucket: string, start: Buffer, limit: number): Promise<ObjectRow[]> {
    const { rows } = await this.pool.query<Row>(
      `SELECT ${COLS} FROM s3_object WHERE bucket = $1 AND key >= $2 ORDER BY key LIMIT $3`,
      [bucket, start, limit],
    );
    return rows.map(toRow);
  }
  async all(bucket: string): Promise<ObjectRow[]> {
    const { rows } = await this.pool.query<Row>(`SELECT ${COLS} FROM s3_object WHERE bucket = $1`, [bucket]);
    return rows.map(toRow);
  }
  async deleteAll(bucket: string): Promise<void> {
    await this.pool.query('DELETE FROM s3_object WHERE bucket = $1', [bucket]);
  }
  async createUpload(u: UploadRow): Promise<void> {
    await this.pool.query('INSERT INTO s3_upload (upload_id, bucket, key, initiated) VALUES ($1, $2, $3, $4)', [
      u.uploadId,
      u.bucket,
      u.key,
      u.initiated,
    ]);
  }
  async upload(uploadId: string): Promise<UploadRow | undefined> {
    const { rows } = await this.pool.query('SELECT bucket, key, initiated FROM s3_upload WHERE upload_id = $1', [
      uploadId,
    ]);
    const r = rows[0];
    return r ? { uploadId, bucket: r.bucket, key: r.key, initiated: Number(r.initiated) } : undefined;
  }
  uploads(bucket: string, prefix: Buffer, after: { key: Buffer; uploadId: string }, limit: number) {
    return pgUploads(this.pool, bucket, prefix, after, limit);
  }
  uploadsInitiatedBefore(time: number): Promise<UploadRow[]> {
    return pgUploadsInitiatedBefore(this.pool, time);
  }
  async putPart(uploadId: string, p: PartRow): Promise<{ replaced: PartRow | undefined } | undefined> {
    return this.inTransaction(async (client) => {
      // The upload row locked: an abort or a complete cannot end it between this check and the insert.
      const up = await client.query('SELECT 1 FROM s3_upload WHERE upload_id = $1 FOR UPDATE', [uploadId]);
      if (up.rows.length === 0) return undefined;
      const old = await client.query<PartSqlRow>(
        `SELECT ${PART_COLS} FROM s3_part WHERE upload_id = $1 AND part_number = $2`,
        [uploadId, p.partNumber],
      );
      await client.query(
        `INSERT INTO s3_part (upload_id, part_number, object_id, size, etag, last_modified)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET object_id = EXCLUDED.object_id, size = EXCLUDED.size,
           etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified`,
        [uploadId, p.partNumber, p.objectId, p.size, p.etag, p.lastModified],
      );
      return { replaced: old.rows[0] ? toPart(old.rows[0]) : undefined };
    });
  }
  async parts(uploadId: string): Promise<PartRow[]> {
    const { rows } = await this.pool.query<PartSqlRow>(
      `SELECT ${PART_COLS} FROM s3_part WHERE upload_id = $1 ORDER BY part_number`,
      [uploadId],
    );
    return rows.map(toPart);
  }
  async endUpload(uploadId: string, complete?: { bucket: string; row: ObjectRow }): Promise<EndedUpload | undefined> {
    return this.inTransaction(async (client) => {
      // The versioning state's lock, then the key's, as every versioned write takes it before the object's row.
      if (complete && this.mutant !== 'versioning-read-outside-write') {
        await lockVersioningState(client, complete.bucket, false);
      }
      if (complete) await lockKey(client, complete.bucket, complete.row.key);
      const up = await client.query('DELETE FROM s3_upload WHERE upload_id = $1 RETURNING upload_id', [uploadId]);
      if (up.rows.length === 0) return undefined;
      const parts = await client.query<PartSqlRow>(`DELETE FROM s3_part WHERE upload_id = $1 RETURNING ${PART_COLS}`, [
        uploadId,
      ]);
      const inOrder = () => parts.rows.map(toPart).sort((a, b) => a.partNumber - b.partNumber);
      let replaced: ObjectRow | undefined;
      if (complete) {
        const { bucket, row } = complete;
        const old = await client.query<Row>(`SELECT ${COLS} FROM s3_object WHERE bucket = $1 AND key = $2 FOR UPDATE`, [
          bucket,
          row.key,
        ]);
        await client.query(
          `INSERT INTO s3_object (bucket, key, object_id, size, etag, last_modified) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (bucket, key) DO UPDATE SET object_id = EXCLUDED.object_id, size = EXCLUDED.size,
             etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified`,
          [bucket, row.key, row.objectId, row.size, row.etag, row.lastModified],
        );
        replaced = old.rows[0] ? toRow(old.rows[0]) : undefined;
        // In a versioned bucket the completed object is also the key's newest version: the one it follows is kept,
        // only a `null` version it replaces (versioning suspended) is garbage.
        if (await pgStatus(client, bucket)) {
          const { garbage, versionId } = await pgAdd(client, bucket, row, false);
          replaced = garbage[0] ? { ...row, objectId: garbage[0] } : undefined;
          return { parts: inOrder(), replaced, versionId };
        }
      }
      return { parts: inOrder(), replaced };
    });
  }
  private async inTransaction<T>(body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
  async versioning(bucket: string): Promise<VersioningStatus | undefined> {
    const { rows } = await this.pool.query('SELECT status FROM s3_bucket_versioning WHERE bucket = $1', [bucket]);
    return rows[0]?.status;
  }
  async setVersioning(bucket: string, status: VersioningStatus): Promise<void> {
    await this.inTransaction(async (client) => {
      // Exclusive: the unversioned writes in flight commit first, so the copy below sees their objects.
      await lockVersioningState(client, bucket, true);
      const was = await client.query('SELECT status FROM s3_bucket_versioning WHERE bucket = $1 FOR UPDATE', [bucket]);
      if (was.rows.length === 0) {
        await client.query(
          `INSERT INTO s3_object_version (bucket, key, seq, version_id, object_id, size, etag, last_modified,
             is_marker, is_latest)
           SELECT bucket, key, 1, 'null', object_id, size, etag, last_modified, false, true FROM s3_object
           WHERE bucket = $1`,
          [bucket],
        );
      }
      await client.query(
        `INSERT INTO s3_bucket_versioning (bucket, status) VALUES ($1, $2)
         ON CONFLICT (bucket) DO UPDATE SET status = EXCLUDED.status`,
        [bucket, status],
      );
    });
  }
  async putVersion(bucket: string, row: ObjectRow): Promise<VersionWrite> {
    return this.inTransaction((client) => pgRecord(client, bucket, row));
  }
  async addDeleteMarker(bucket: string, key: Buffer, lastModified: number): Promise<VersionWrite> {
    return this.inTransaction(async (client) => {
      const w = await pgAdd(client, bucket, { objectId: '', key, size: 0, etag: '', lastModified }, true);
      await client.query('DELETE FROM s3_object WHERE bucket = $1 AND key = $2', [bucket, key]);
      return w;
    });
  }
  async deleteVersion(
    bucket: string,
    key: Buffer,
    versionId: string,
    promoteLatest: boolean,
  ): Promise<VersionRow | undefined> {
    return this.inTransaction(async (client) => {
      await lockKey(client, bucket, key);
      const old = await pgVersion(client, bucket, key, versionId);
      if (!old) return undefined;
      const newest = (await pgVersion(client, bucket, key))!;
      await client.query('DELETE FROM s3_object_version WHERE bucket = $1 AND key = $2 AND seq = $3', [
        bucket,
        key,
        old.seq,
      ]);
      if (newest.seq === old.seq) {
        const next = await pgVersion(client, bucket, key);
        if (next && promoteLatest) {
          await client.query(
            'UPDATE s3_object_version SET is_latest = true WHERE bucket = $1 AND key = $2 AND seq = $3',
            [bucket, key, next.seq],
          );
        }
        if (next && !next.isMarker) await putCurrent(client, bucket, next);
        else await client.query('DELETE FROM s3_object WHERE bucket = $1 AND key = $2', [bucket, key]);
      }
      return old;
    });
  }
  async version(bucket: string, key: Buffer, versionId?: string): Promise<VersionRow | undefined> {
    return pgVersion(this.pool, bucket, key, versionId);
  }
  async versionPage(bucket: string, after: { key: Buffer; seq: number }, limit: number): Promise<VersionRow[]> {
    const { rows } = await this.pool.query<VersionSqlRow>(
      `SELECT ${VERSION_COLS} FROM s3_object_version WHERE bucket = $1 AND (key > $2 OR (key = $2 AND seq < $3))
       ORDER BY key, seq DESC LIMIT $4`,
      [bucket, after.key, after.seq, limit],
    );
    // MUTANT versions-newest-by-time: a key's versions by LastModified (taken before the write), then seq.
    if (this.mutant === 'versions-newest-by-time') return rows.map(toVersion).sort(byKeyThenTime);
    return rows.map(toVersion);
  }
  async hasVersions(bucket: string): Promise<boolean> {
    const { rows } = await this.pool.query('SELECT 1 FROM s3_object_version WHERE bucket = $1 LIMIT 1', [bucket]);
    return rows.length > 0;
  }
  async replicaLedger(): Promise<ReplicaLedger> {
    return postgresLedger(this.pool);
  }
  async namedObjectIds(): Promise<Set<string>> {
    const r = await this.pool.query<{ id: string }>(
      'SELECT object_id AS id FROM s3_object UNION SELECT object_id FROM s3_part UNION SELECT object_id FROM s3_object_version',
    );
    return new Set(r.rows.map((x) => x.id));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** MUTANT versions-newest-by-time's order: key, then the newest LastModified first, then seq. */
function byKeyThenTime(a: VersionRow, b: VersionRow): number {
  return Buffer.compare(a.key, b.key) || b.lastModified - a.lastModified || b.seq - a.seq;
}
