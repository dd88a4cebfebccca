// Versioning (the book's "object versioning"): PutBucketVersioning / GetBucketVersioning, ListObjectVersions, and
// PUT, GET, HEAD and DELETE on a key of a bucket whose versioning was ever set, or with a versionId. A bucket never
// versioned takes the paths of object-operations.ts unchanged; its objects are the `null` version.
import { XMLParser } from 'fast-xml-parser';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppOptions } from './app.ts';
import { VERSION_ID, type VersioningStatus, type VersionRow } from './metadata-store.ts';
import { getObject, objectHeaders } from './object-operations.ts';
import { bodyOf, type Target } from './request-target.ts';
import { S3Error, sendXml } from './s3-answers.ts';
import { listVersionsResultXml, versioningConfigurationXml } from './versioning-answers.ts';
import { type VersionEntry, versionsPageOf } from './versions-listing.ts';

const configParser = new XMLParser({ ignoreAttributes: true, parseTagValue: false, ignoreDeclaration: true });
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

const malformed = () =>
  new S3Error(
    400,
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema.',
  );
const noSuchVersion = () => new S3Error(404, 'NoSuchVersion', 'The specified version does not exist.');

export async function putBucketVersioning(request: FastifyRequest, reply: FastifyReply, t: Target, o: AppOptions) {
  let doc: { VersioningConfiguration?: { Status?: unknown; MfaDelete?: unknown } | string };
  try {
    doc = configParser.parse(bodyOf(request).toString('utf8'));
  } catch {
    throw malformed();
  }
  const config = doc.VersioningConfiguration;
  const status = typeof config === 'object' ? config.Status : undefined;
  if (status !== 'Enabled' && status !== 'Suspended') throw malformed();
  if (typeof config === 'object' && config.MfaDelete !== undefined && config.MfaDelete !== 'Disabled') {
    throw new S3Error(400, 'InvalidArgument', 'MFA delete is not offered.');
  }
  await o.meta.setVersioning(t.bucket, status);
  return reply.code(200).send();
}

export async function getBucketVersioning(reply: FastifyReply, t: Target, o: AppOptions) {
  return sendXml(reply, 200, versioningConfigurationXml(await o.meta.versioning(t.bucket)));
}

/** The query's versionId: undefined when absent, 400 InvalidArgument when it is not one this service issues. */
export function versionIdOf(t: Target): string | undefined {
  const id = t.query.get('versionId');
  if (id === null) return undefined;
  if (!VERSION_ID.test(id)) throw new S3Error(400, 'InvalidArgument', 'Invalid version id specified');
  return id;
}

/** Whether an object request takes the versioned paths: a versionId given, or a bucket whose versioning was set. */
export async function versionedStatus(t: Target, o: AppOptions): Promise<VersioningStatus | 'unversioned'> {
  return (await o.meta.versioning(t.bucket)) ?? 'unversioned';
}

export async function putVersioned(
  reply: FastifyReply,
  t: Target,
  o: AppOptions,
  row: import('./metadata-store.ts').ObjectRow,
) {
  // MUTANT version-overwrites-bytes: the bytes of the version this one follows are dropped as if replaced.
  const before = o.mutant === 'version-overwrites-bytes' ? await o.meta.version(t.bucket, t.key) : undefined;
  const w = await o.meta.putVersion(t.bucket, row);
  for (const id of w.garbage) o.data.drop(id);
  if (before && !before.isMarker && before.objectId !== row.objectId) o.data.drop(before.objectId);
  return reply.code(200).header('etag', `"${row.etag}"`).header('x-amz-version-id', w.versionId).send();
}

/** GET or HEAD of a key (with or without a versionId) in a bucket whose versioning was set, or with a versionId. */
export async function readVersioned(
  request: FastifyRequest,
  reply: FastifyReply,
  t: Target,
  o: AppOptions,
  status: VersioningStatus | 'unversioned',
  /** Told the bytes the version names, before they are read (read-again.ts reads again if they are gone). */
  seen?: (objectId: string, etag: string) => void,
): Promise<FastifyReply> {
  const versionId = versionIdOf(t);
  let v: VersionRow | undefined;
  if (status === 'unversioned') {
    // A bucket never versioned holds only `null` versions: its objects.
    // MUTANT null-version-unversioned-404: ?versionId=null is not taken as a bucket never versioned's object.
    const isNull = versionId === 'null' && o.mutant !== 'null-version-unversioned-404';
    const row = isNull ? await o.meta.get(t.bucket, t.key) : undefined;
    if (!row) throw noSuchVersion();
    v = { ...row, versionId: 'null', seq: 1, isMarker: false, isLatest: true };
  } else {
    v = await o.meta.version(t.bucket, t.key, versionId);
    if (versionId === undefined && o.mutant === 'get-version-id-read-apart' && v && !v.isMarker) {
      // MUTANT get-version-id-read-apart: bytes, ETag and size from the object table's current row, read apart from
      // the newest version's id, so a PUT committing between the two is answered under the previous version's id.
      const current = await o.meta.get(t.bucket, t.key);
      if (current) v = { ...v, ...current };
    }
    if (v?.isMarker && versionId === undefined && o.mutant === 'get-skips-marker') {
      // MUTANT get-skips-marker: a delete marker on top is stepped over to the newest object version under it.
      const under = await o.meta.versionPage(t.bucket, { key: t.key, seq: v.seq }, 1000);
      v = under.find((u) => u.key.equals(t.key) && !u.isMarker) ?? v;
    }
    if (!v)
      throw versionId === undefined
        ? new S3Error(404, 'NoSuchKey', 'The specified key does not exist.')
        : noSuchVersion();
  }
  seen?.(v.objectId, v.etag);
  if (v.isMarker) {
    const headers = {
      'x-amz-delete-marker': 'true',
      'x-amz-version-id': v.versionId,
      'last-modified': new Date(v.lastModified).toUTCString(),
    };
    // S3: the current version a delete marker is 404 NoSuchKey; a delete marker asked for by id is 405.
    if (versionId === undefined) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', headers);
    throw new S3Error(405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.', {
      ...headers,
      allow: 'DELETE',
    });
  }
  reply.header('x-amz-version-id', v.versionId);
  if (request.method === 'HEAD') {
    await o.data.read(v.objectId);
    return objectHeaders(reply, v).code(200).send();
  }
  return getObject(request, reply, v, o);
}

/** DELETE of a key in a bucket whose versioning was set, or with a versionId. */
export async function deleteVersioned(
  reply: FastifyReply,
  t: Target,
  o: AppOptions,
  status: VersioningStatus | 'unversioned',
): Promise<FastifyReply> {
  const versionId = versionIdOf(t);
  if (versionId !== undefined) {
    reply.header('x-amz-version-id', versionId);
    if (status === 'unversioned') {
      // The `null` version of a bucket never versioned is its object; any other id names nothing (204, as S3).
      const old = versionId === 'null' ? await o.meta.deleteUnversioned(t.bucket, t.key) : undefined;
      // Versioning set since the caller read the state: its `null` version is the object, deleted as a version.
      if (old === 'versioned') return deleteVersioned(reply, t, o, await versionedStatus(t, o));
      if (old) o.data.drop(old.objectId);
      return reply.code(204).send();
    }
    const removed = await o.meta.deleteVersion(t.bucket, t.key, versionId, o.mutant !== 'latest-not-promoted'); // MUTANT latest-not-promoted
    if (removed && !removed.isMarker) o.data.drop(removed.objectId);
    if (removed?.isMarker) reply.header('x-amz-delete-marker', 'true');
    return reply.code(204).send();
  }
  if (o.mutant === 'delete-marker-deletes') {
    // MUTANT delete-marker-deletes: a DELETE without a versionId removes the current version for good.
    const newest = await o.meta.version(t.bucket, t.key);
    const removed = newest ? await o.meta.deleteVersion(t.bucket, t.key, newest.versionId, true) : undefined;
    if (removed && !removed.isMarker) o.data.drop(removed.objectId);
    return reply.code(204).send();
  }
  const w = await o.meta.addDeleteMarker(t.bucket, t.key, Date.now());
  // MUTANT marker-garbage-kept: the `null` version a Suspended marker replaces keeps its bytes mapped forever.
  if (o.mutant !== 'marker-garbage-kept') for (const id of w.garbage) o.data.drop(id);
  return reply.code(204).header('x-amz-delete-marker', 'true').header('x-amz-version-id', w.versionId).send();
}

/**
 * ListObjectVersions (`?versions`): prefix, delimiter, key-marker / version-id-marker, max-keys, encoding-type;
 * keys in byte order, each key's newest first, keys with the delimiter after the prefix rolled up.
 */
export async function listObjectVersions(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
  const q = t.query;
  const maxKeysText = q.get('max-keys');
  if (maxKeysText !== null && !/^[0-9]{1,9}$/.test(maxKeysText)) {
    throw new S3Error(400, 'InvalidArgument', 'max-keys must be a non-negative integer');
  }
  const encoding = q.get('encoding-type');
  // MUTANT versions-encoding-unchecked: ListObjectVersions takes any encoding-type (answered unencoded).
  if (encoding !== null && encoding !== 'url' && o.mutant !== 'versions-encoding-unchecked') {
    throw new S3Error(400, 'InvalidArgument', 'encoding-type must be url');
  }
  const maxKeys = Math.min(maxKeysText === null ? 1000 : Number(maxKeysText), 1000);
  const prefix = Buffer.from(q.get('prefix') ?? '', 'utf8');
  const delimiter = q.get('delimiter') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const versionIdMarker = q.get('version-id-marker') ?? '';
  if (versionIdMarker !== '' && keyMarker === '') {
    throw new S3Error(400, 'InvalidArgument', 'A version-id marker cannot be specified without a key marker.');
  }
  if (versionIdMarker !== '' && !VERSION_ID.test(versionIdMarker)) {
    throw new S3Error(400, 'InvalidArgument', 'Invalid version id marker specified');
  }
  const status = await o.meta.versioning(t.bucket);
  // Where to resume: after every version of key-marker, or after its version version-id-marker.
  let after = { key: prefix, seq: MAX_SEQ };
  const marker = Buffer.from(keyMarker, 'utf8');
  if (keyMarker !== '' && Buffer.compare(marker, prefix) >= 0) {
    let seq = o.mutant === 'key-marker-inclusive' ? MAX_SEQ : 0; // MUTANT key-marker-inclusive
    // MUTANT null-id-marker-skips-key: version-id-marker=null taken as none (after every version of key-marker).
    const nullSkips = o.mutant === 'null-id-marker-skips-key' && versionIdMarker === 'null';
    if (versionIdMarker !== '' && status && !nullSkips) {
      const v = await o.meta.version(t.bucket, marker, versionIdMarker);
      if (!v) throw new S3Error(400, 'InvalidArgument', 'Invalid version id marker specified');
      seq = v.seq;
    }
    after = { key: marker, seq };
  }
  const page = await versionsPageOf((from, limit) => versionsFrom(t.bucket, from, limit, status !== undefined, o), {
    prefix,
    delimiter: delimiter === '' ? undefined : Buffer.from(delimiter, 'utf8'),
    maxKeys,
    after,
    keyMarker: keyMarker === '' ? undefined : marker,
    fullPageTruncated: o.mutant === 'versions-truncated-when-full', // MUTANT versions-truncated-when-full
    prefixPerVersion: o.mutant === 'versions-prefix-per-version', // MUTANT versions-prefix-per-version
    prefixRelisted: o.mutant === 'versions-prefix-relisted', // MUTANT versions-prefix-relisted
    prefixPerBatch: o.mutant === 'versions-prefix-per-batch', // MUTANT versions-prefix-per-batch
  });
  if (o.mutant === 'versions-oldest-first') oldestFirst(page.entries); // MUTANT versions-oldest-first
  const body = listVersionsResultXml({
    bucket: t.bucket,
    prefix: prefix.toString('utf8'),
    delimiter,
    keyMarker,
    versionIdMarker,
    maxKeys: maxKeysText === null ? 1000 : Number(maxKeysText),
    encoding,
    page,
    mutant: o.mutant,
  });
  return sendXml(reply, 200, body);
}

/** Versions after `after`: from the versions table, or a bucket never versioned's objects as `null` versions. */
async function versionsFrom(
  bucket: string,
  after: { key: Buffer; seq: number },
  limit: number,
  versioned: boolean,
  o: AppOptions,
): Promise<VersionRow[]> {
  if (versioned) return o.meta.versionPage(bucket, after, limit);
  // The store's page starts at a key (inclusive): past key-marker is its bytes + 0x00.
  // MUTANT null-versions-key-marker-inclusive: a bucket never versioned lists key-marker's own `null` version again.
  const inclusive = after.seq === MAX_SEQ || o.mutant === 'null-versions-key-marker-inclusive';
  const start = inclusive ? after.key : Buffer.concat([after.key, Buffer.from([0])]);
  const rows = await o.meta.page(bucket, start, limit);
  return rows.map((r) => ({ ...r, versionId: 'null', seq: 1, isMarker: false, isLatest: true }));
}

/** MUTANT versions-oldest-first: each key's run of versions reversed. */
function oldestFirst(entries: VersionEntry[]): void {
  const keyOf = (e: VersionEntry) => (e.kind === 'version' ? e.row.key : e.prefix);
  let i = 0;
  while (i < entries.length) {
    let j = i;
    while (j < entries.length && keyOf(entries[j]!).equals(keyOf(entries[i]!))) j++;
    entries.splice(i, j - i, ...entries.slice(i, j).reverse());
    i = j;
  }
}
