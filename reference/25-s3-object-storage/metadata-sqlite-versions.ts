// Versions in SQLite, beside the metadata store's `object` table (see SqliteVersions).
import type Database from 'better-sqlite3';
import {
  newVersionId,
  type ObjectRow,
  type VersioningStatus,
  type VersionRow,
  type VersionWrite,
} from './metadata-store.ts';
import type { MutantName } from './mutants.ts';

interface VersionSqlRow {
  objectId: string;
  key: Buffer;
  size: number;
  etag: string;
  lastModified: number;
  versionId: string;
  seq: number;
  isMarker: number;
  isLatest: number;
}

const toVersion = (r: VersionSqlRow): VersionRow => ({ ...r, isMarker: r.isMarker === 1, isLatest: r.isLatest === 1 });

/**
 * Versions in SQLite: every version of a key in a bucket whose versioning was ever set, beside the `object` table,
 * which keeps naming each key's current object (so ListObjectsV2 and the unversioned paths are unchanged). Callers
 * run the writes inside one transaction.
 */
export class SqliteVersions {
  private readonly q: Record<string, Database.Statement>;

  constructor(
    private readonly db: Database.Database,
    private readonly mutant?: MutantName,
  ) {
    const cols =
      'object_id AS objectId, key, size, etag, last_modified AS lastModified, version_id AS versionId, seq, ' +
      'is_marker AS isMarker, is_latest AS isLatest';
    this.q = {
      status: db.prepare('SELECT status FROM bucket_versioning WHERE bucket = ?'),
      setStatus: db.prepare('INSERT OR REPLACE INTO bucket_versioning (bucket, status) VALUES (?, ?)'),
      forget: db.prepare('DELETE FROM bucket_versioning WHERE bucket = ?'),
      nullsFromObjects: db.prepare(
        'INSERT INTO object_version (bucket, key, seq, version_id, object_id, size, etag, last_modified, ' +
          "is_marker, is_latest) SELECT bucket, key, 1, 'null', object_id, size, etag, last_modified, 0, 1 " +
          'FROM object WHERE bucket = ?',
      ),
      newest: db.prepare(`SELECT ${cols} FROM object_version WHERE bucket = ? AND key = ? ORDER BY seq DESC LIMIT 1`),
      byId: db.prepare(`SELECT ${cols} FROM object_version WHERE bucket = ? AND key = ? AND version_id = ?`),
      unmarkLatest: db.prepare(
        'UPDATE object_version SET is_latest = 0 WHERE bucket = ? AND key = ? AND is_latest = 1',
      ),
      markLatest: db.prepare('UPDATE object_version SET is_latest = 1 WHERE bucket = ? AND key = ? AND seq = ?'),
      insert: db.prepare(
        'INSERT INTO object_version (bucket, key, seq, version_id, object_id, size, etag, last_modified, ' +
          'is_marker, is_latest) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1)',
      ),
      remove: db.prepare('DELETE FROM object_version WHERE bucket = ? AND key = ? AND seq = ?'),
      putCurrent: db.prepare(
        'INSERT OR REPLACE INTO object (bucket, key, object_id, size, etag, last_modified) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      dropCurrent: db.prepare('DELETE FROM object WHERE bucket = ? AND key = ?'),
      page: db.prepare(
        `SELECT ${cols} FROM object_version WHERE bucket = ? AND (key > ? OR (key = ? AND seq < ?)) ` +
          'ORDER BY key, seq DESC LIMIT ?',
      ),
      any: db.prepare('SELECT 1 FROM object_version WHERE bucket = ? LIMIT 1'),
      // MUTANT version-id-any-key: a version looked up by id whatever its key.
      byIdAnyKey: db.prepare(`SELECT ${cols} FROM object_version WHERE bucket = ? AND version_id = ?`),
      // MUTANT suspended-null-any-key: a suspended write removes the `null` version of every key of the bucket.
      nullsAnyKey: db.prepare("DELETE FROM object_version WHERE bucket = ? AND version_id = 'null'"),
    };
  }

  status(bucket: string): VersioningStatus | undefined {
    return (this.q['status']!.get(bucket) as { status: VersioningStatus } | undefined)?.status;
  }
  set(bucket: string, status: VersioningStatus): void {
    this.db.transaction(() => {
      const was = this.status(bucket);
      // MUTANT suspend-skips-nulls: only Enabled, set first, makes the objects before it their `null` versions.
      const first = !was && !(this.mutant === 'suspend-skips-nulls' && status === 'Suspended');
      // MUTANT reenable-recopies-nulls: Enabled after Suspended copies the objects again (a version 1 clash: 500).
      if (first || (this.mutant === 'reenable-recopies-nulls' && was === 'Suspended' && status === 'Enabled')) {
        this.q['nullsFromObjects']!.run(bucket);
      }
      this.q['setStatus']!.run(bucket, status);
    })();
  }
  forget(bucket: string): void {
    this.q['forget']!.run(bucket);
  }
  /** Adds a version (an object or a marker) on top of the key's versions; Suspended replaces the `null` one. */
  private add(bucket: string, row: ObjectRow, isMarker: boolean): VersionWrite {
    const garbage: string[] = [];
    const versionId = this.status(bucket) === 'Suspended' ? 'null' : newVersionId();
    if (versionId === 'null') {
      const old = this.q['byId']!.get(bucket, row.key, 'null') as VersionSqlRow | undefined;
      if (old) {
        if (this.mutant === 'suspended-null-any-key') this.q['nullsAnyKey']!.run(bucket);
        this.q['remove']!.run(bucket, row.key, old.seq);
        if (old.isMarker === 0) garbage.push(old.objectId);
        if (this.mutant === 'suspended-null-in-place') {
          // MUTANT suspended-null-in-place: the new `null` version takes the old one's place, under later versions.
          this.q['unmarkLatest']!.run(bucket, row.key);
          this.q['insert']!.run(
            bucket,
            row.key,
            old.seq,
            'null',
            row.objectId,
            row.size,
            row.etag,
            row.lastModified,
            isMarker ? 1 : 0,
          );
          return { versionId, garbage };
        }
      }
    }
    const newest = this.q['newest']!.get(bucket, row.key) as VersionSqlRow | undefined;
    this.q['unmarkLatest']!.run(bucket, row.key);
    const seq = (newest?.seq ?? 0) + 1;
    this.q['insert']!.run(
      bucket,
      row.key,
      seq,
      versionId,
      row.objectId,
      row.size,
      row.etag,
      row.lastModified,
      isMarker ? 1 : 0,
    );
    return { versionId, garbage };
  }
  record(bucket: string, row: ObjectRow): VersionWrite {
    const w = this.add(bucket, row, false);
    this.q['putCurrent']!.run(bucket, row.key, row.objectId, row.size, row.etag, row.lastModified);
    return w;
  }
  marker(bucket: string, key: Buffer, lastModified: number): VersionWrite {
    const w = this.add(bucket, { objectId: '', key, size: 0, etag: '', lastModified }, true);
    this.q['dropCurrent']!.run(bucket, key);
    return w;
  }
  remove(bucket: string, key: Buffer, versionId: string, promoteLatest: boolean): VersionRow | undefined {
    const old = this.q['byId']!.get(bucket, key, versionId) as VersionSqlRow | undefined;
    if (!old) return undefined;
    const newest = this.q['newest']!.get(bucket, key) as VersionSqlRow;
    this.q['remove']!.run(bucket, key, old.seq);
    if (newest.seq === old.seq) {
      const next = this.q['newest']!.get(bucket, key) as VersionSqlRow | undefined;
      if (next && promoteLatest) this.q['markLatest']!.run(bucket, key, next.seq);
      if (next && next.isMarker === 0) {
        this.q['putCurrent']!.run(bucket, key, next.objectId, next.size, next.etag, next.lastModified);
      } else this.q['dropCurrent']!.run(bucket, key);
    }
    return toVersion(old);
  }
  one(bucket: string, key: Buffer, versionId?: string): VersionRow | undefined {
    const r = (
      versionId === undefined
        ? this.q['newest']!.get(bucket, key)
        : this.mutant === 'version-id-any-key'
          ? this.q['byIdAnyKey']!.get(bucket, versionId)
          : this.q['byId']!.get(bucket, key, versionId)
    ) as VersionSqlRow | undefined;
    return r ? toVersion(r) : undefined;
  }
  page(bucket: string, after: { key: Buffer; seq: number }, limit: number): VersionRow[] {
    return (this.q['page']!.all(bucket, after.key, after.key, after.seq, limit) as VersionSqlRow[]).map(toVersion);
  }
  any(bucket: string): boolean {
    return this.q['any']!.get(bucket) !== undefined;
  }
}
