// The PostgreSQL store's listing of multipart uploads (ListMultipartUploads, and the uploads past their expiry:
// upload-expiry.ts). Keys are bytea (byte order, S3's); upload ids compared byte-wise too (COLLATE "C").
import type pg from 'pg';
import type { UploadRow } from './metadata-store.ts';

interface UploadSqlRow {
  upload_id: string;
  bucket: string;
  key: Buffer;
  initiated: string;
}

const toUpload = (r: UploadSqlRow): UploadRow => ({
  uploadId: r.upload_id,
  bucket: r.bucket,
  key: r.key,
  initiated: Number(r.initiated),
});

/** Up to `limit` uploads of a bucket under `prefix`, in key order then upload id, after `after`. */
export async function pgUploads(
  pool: pg.Pool,
  bucket: string,
  prefix: Buffer,
  after: { key: Buffer; uploadId: string },
  limit: number,
): Promise<UploadRow[]> {
  const { rows } = await pool.query<UploadSqlRow>(
    `SELECT upload_id, bucket, key, initiated FROM s3_upload
     WHERE bucket = $1 AND key >= $2 AND (key > $3 OR (key = $3 AND upload_id COLLATE "C" > $4))
       AND substring(key FROM 1 FOR $5) = $2
     ORDER BY key, upload_id COLLATE "C" LIMIT $6`,
    [bucket, prefix, after.key, after.uploadId, prefix.length, limit],
  );
  return rows.map(toUpload);
}

/** Every upload initiated before `time` (ms since the epoch). */
export async function pgUploadsInitiatedBefore(pool: pg.Pool, time: number): Promise<UploadRow[]> {
  const { rows } = await pool.query<UploadSqlRow>(
    'SELECT upload_id, bucket, key, initiated FROM s3_upload WHERE initiated < $1 ORDER BY initiated',
    [time],
  );
  return rows.map(toUpload);
}
