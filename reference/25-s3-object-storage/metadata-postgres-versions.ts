// The object rows of the PostgreSQL metadata store, and its versions (the SQLite store's SqliteVersions, on
// PostgreSQL): the statements run inside the store's transactions.
import type pg from 'pg';
import {
  newVersionId,
  type ObjectRow,
  type VersioningStatus,
  type VersionRow,
  type VersionWrite,
} from './metadata-store.ts';

export const COLS = 'object_id, key, size, etag, last_modified';

export interface Row {
  object_id: string;
  key: Buffer;
  size: string;
  etag: string;
  last_modified: string;
}

export const toRow = (r: Row): ObjectRow => ({
  objectId: r.object_id,
  key: r.key,
  size: Number(r.size),
  etag: r.etag,
  lastModified: Number(r.last_modified),
});

// Versions in PostgreSQL, as in the SQLite store: every version of a key in a bucket whose versioning was ever set,
// beside s3_object, which keeps naming each key's current object. Writes to one key are serialized by an advisory
// lock on it, so a key's seqs (newest highest) follow the order its writes commit in.
export const VERSION_COLS = `${COLS}, version_id, seq, is_marker, is_latest`;

export interface VersionSqlRow extends Row {
  version_id: string;
  seq: string;
  is_marker: boolean;
  is_latest: boolean;
}

export const toVersion = (r: VersionSqlRow): VersionRow => ({
  ...toRow(r),
  versionId: r.version_id,
  seq: Number(r.seq),
  isMarker: r.is_marker,
  isLatest: r.is_latest,
});

type Queryable = Pick<pg.PoolClient, 'query'>;

export async function lockKey(client: Queryable, bucket: string, key: Buffer): Promise<void> {
  await client.query("SELECT pg_advisory_xact_lock(hashtext($1 || '/' || encode($2, 'hex')))", [bucket, key]);
}

export async function pgStatus(client: Queryable, bucket: string): Promise<VersioningStatus | undefined> {
  const { rows } = await client.query('SELECT status FROM s3_bucket_versioning WHERE bucket = $1 FOR SHARE', [bucket]);
  return rows[0]?.status;
}

export async function pgVersion(
  client: Queryable,
  bucket: string,
  key: Buffer,
  versionId?: string,
): Promise<VersionRow | undefined> {
  const { rows } =
    versionId === undefined
      ? await client.query<VersionSqlRow>(
          `SELECT ${VERSION_COLS} FROM s3_object_version WHERE bucket = $1 AND key = $2 ORDER BY seq DESC LIMIT 1`,
          [bucket, key],
        )
      : await client.query<VersionSqlRow>(
          `SELECT ${VERSION_COLS} FROM s3_object_version WHERE bucket = $1 AND key = $2 AND version_id = $3`,
          [bucket, key, versionId],
        );
  return rows[0] ? toVersion(rows[0]) : undefined;
}

export async function putCurrent(client: Queryable, bucket: string, row: ObjectRow): Promise<void> {
  await client.query(
    `INSERT INTO s3_object (bucket, key, object_id, size, etag, last_modified) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (bucket, key) DO UPDATE SET object_id = EXCLUDED.object_id, size = EXCLUDED.size,
       etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified`,
    [bucket, row.key, row.objectId, row.size, row.etag, row.lastModified],
  );
}

/** Adds a version (an object or a marker) on top of the key's versions; Suspended replaces the `null` one. */
export async function pgAdd(
  client: Queryable,
  bucket: string,
  row: ObjectRow,
  isMarker: boolean,
): Promise<VersionWrite> {
  const status = await pgStatus(client, bucket);
  await lockKey(client, bucket, row.key);
  const garbage: string[] = [];
  const versionId = status === 'Suspended' ? 'null' : newVersionId();
  if (versionId === 'null') {
    const { rows } = await client.query<{ object_id: string; is_marker: boolean }>(
      `DELETE FROM s3_object_version WHERE bucket = $1 AND key = $2 AND version_id = 'null'
       RETURNING object_id, is_marker`,
      [bucket, row.key],
    );
    if (rows[0] && !rows[0].is_marker) garbage.push(rows[0].object_id);
  }
  const newest = await pgVersion(client, bucket, row.key);
  await client.query('UPDATE s3_object_version SET is_latest = false WHERE bucket = $1 AND key = $2 AND is_latest', [
    bucket,
    row.key,
  ]);
  await client.query(
    `INSERT INTO s3_object_version (bucket, key, seq, version_id, object_id, size, etag, last_modified, is_marker,
       is_latest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, true)`,
    [bucket, row.key, (newest?.seq ?? 0) + 1, versionId, row.objectId, row.size, row.etag, row.lastModified, isMarker],
  );
  return { versionId, garbage };
}

export async function pgRecord(client: Queryable, bucket: string, row: ObjectRow): Promise<VersionWrite> {
  const w = await pgAdd(client, bucket, row, false);
  await putCurrent(client, bucket, row);
  return w;
}

/**
 * A bucket's versioning state against its writes that take the unversioned path: a first PutBucketVersioning takes
 * this lock exclusive before it copies the bucket's objects into `null` versions, an unversioned write takes it
 * shared before it reads the state, so the write lands wholly before the copy (its object is copied) or sees the
 * state set. (The two-key form: another lock space than lockKey's.)
 */
export async function lockVersioningState(client: Queryable, bucket: string, exclusive: boolean): Promise<void> {
  const fn = exclusive ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared';
  await client.query(`SELECT ${fn}(25, hashtext($1))`, [bucket]);
}

/** Records the key's object, its row locked first; returns the object it replaced. */
export async function pgReplace(client: Queryable, bucket: string, row: ObjectRow): Promise<ObjectRow | undefined> {
  const old = await client.query<Row>(`SELECT ${COLS} FROM s3_object WHERE bucket = $1 AND key = $2 FOR UPDATE`, [
    bucket,
    row.key,
  ]);
  await putCurrent(client, bucket, row);
  return old.rows[0] ? toRow(old.rows[0]) : undefined;
}
