// SOS-C8: versioning with delete markers through the AWS SDK, as S3 documents it - every PUT a version whose bytes
// stay readable by id, delete markers that hide a key without removing anything, permanent deletes by id,
// ListObjectVersions in S3's order, suspended versioning's `null` version, and bad input answered as S3 does.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { complete, createUpload, uploadPart } from './multipart-kit.ts';
import { freshBucket, type S3, s3Of, sdkError } from './s3-client.ts';
import { expectError, md5 } from './s3-expect.ts';
import { versionsDelimited, versionsEncoded, versionsNeverVersioned } from './versioning-delimiter.ts';
import { allVersions, describeVersions, getVersion, setVersioning, versionsPage } from './versioning-kit.ts';
import { nullUnderVersions } from './versioning-null-switch.ts';

const bytesOf = (label: string, n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (label.charCodeAt(0) + i * 13) % 256));

export async function versioningConformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  await unversionedUnchanged(ctx, s3);
  const bucket = await freshBucket(ctx, s3, 'c8');
  const state = await c.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  ctx.expect(state.Status === undefined, `a new bucket's versioning is ${state.Status}, not unset`);
  const pre = bytesOf('p', 40);
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'pre', Body: pre }));
  await expectError(
    ctx,
    c.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'On' as never } })),
    'MalformedXML',
    400,
    'PutBucketVersioning with Status "On"',
  );
  await setVersioning(c, bucket, 'Enabled');
  const enabled = await c.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  ctx.expect(enabled.Status === 'Enabled', `GetBucketVersioning answered ${enabled.Status} after Enabled`);

  // Three PUTs, three versions, each readable by its id.
  const bodies = [bytesOf('a', 100), bytesOf('b', 57), bytesOf('c', 0)];
  const ids: string[] = [];
  for (const body of bodies) {
    const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: body }));
    ctx.expect(put.VersionId && put.VersionId !== 'null', `PUT in an Enabled bucket answered version ${put.VersionId}`);
    ctx.expect(!ids.includes(put.VersionId), `PUT answered version ${put.VersionId} twice`);
    ids.push(put.VersionId);
  }
  const names = new Map(ids.map((id, i) => [id, `v${i + 1}`]));
  for (const [i, id] of ids.entries()) {
    const got = await getVersion(c, bucket, 'doc', id);
    ctx.expect('bytes' in got, `GET of v${i + 1} by id: ${'error' in got ? `${got.status} ${got.error}` : ''}`);
    ctx.expect(got.bytes.equals(bodies[i]!), `GET of v${i + 1} by id: ${got.bytes.length} other bytes`);
    ctx.expect(got.versionId === id, `GET of v${i + 1} answered x-amz-version-id ${got.versionId}`);
  }
  const current = await getVersion(c, bucket, 'doc');
  ctx.expect(
    'bytes' in current && current.bytes.equals(bodies[2]!),
    'GET without a versionId is not the newest version',
  );
  let listed = await allVersions(s3, bucket, 'doc');
  const expectListed = (want: string, when: string) => {
    const got = describeVersions(listed, names);
    ctx.expect(got === want, `ListObjectVersions ${when}: [${got}], not [${want}]`);
  };
  expectListed('doc:v3*, doc:v2, doc:v1', 'after three PUTs');
  await markerPaging(ctx, s3, bucket, ids);
  const sizes = listed.map((v) => v.size);
  ctx.expect(sizes.join() === '0,57,100', `ListObjectVersions sizes ${sizes.join()}, not 0,57,100`);
  ctx.expect(listed[1]?.etag === md5(bodies[1]!), `ListObjectVersions ETag of v2 ${listed[1]?.etag}`);

  // A DELETE without a versionId adds a delete marker; nothing is removed.
  const del = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc' }));
  ctx.expect(
    del.DeleteMarker === true && del.VersionId,
    `DELETE answered DeleteMarker ${del.DeleteMarker} ${del.VersionId}`,
  );
  names.set(del.VersionId, 'm1');
  const hidden = await getVersion(c, bucket, 'doc');
  ctx.expect(
    'error' in hidden && hidden.status === 404 && hidden.error === 'NoSuchKey',
    `GET after a delete marker: ${'error' in hidden ? `${hidden.status} ${hidden.error}` : `${hidden.bytes.length} bytes served`}`,
  );
  const markerHeader = s3.handler.exchanges.at(-1)?.headers['x-amz-delete-marker'];
  ctx.expect(markerHeader === 'true', `GET after a delete marker: x-amz-delete-marker ${markerHeader}, not true`);
  const head = await sdkError(c.send(new HeadObjectCommand({ Bucket: bucket, Key: 'doc' })));
  ctx.expect(head?.status === 404, `HEAD after a delete marker answered ${head?.status ?? 200}, not 404`);
  const keys = (await c.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key) ?? [];
  ctx.expect(!keys.includes('doc'), `ListObjectsV2 still lists a key whose newest version is a delete marker`);
  const old = await getVersion(c, bucket, 'doc', ids[0]);
  ctx.expect('bytes' in old && old.bytes.equals(bodies[0]!), 'v1 is not readable by id after the delete marker');
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: del.VersionId })),
    'MethodNotAllowed',
    405,
    'GET of a delete marker by its id',
  );
  listed = await allVersions(s3, bucket, 'doc');
  expectListed('doc:marker m1*, doc:v3, doc:v2, doc:v1', 'after the delete marker');

  // Deleting the marker by id makes v3 current again; deleting v3 for good makes v2 current.
  const unmark = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: del.VersionId }));
  ctx.expect(unmark.DeleteMarker === true, `DELETE of the marker by id answered DeleteMarker ${unmark.DeleteMarker}`);
  const back = await getVersion(c, bucket, 'doc');
  ctx.expect('bytes' in back && back.versionId === ids[2], 'removing the delete marker did not make v3 current again');
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: ids[2] }));
  const prev = await getVersion(c, bucket, 'doc');
  ctx.expect(
    'bytes' in prev && prev.bytes.equals(bodies[1]!) && prev.versionId === ids[1],
    'deleting the newest version by id did not make v2 current',
  );
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: ids[2] })),
    'NoSuchVersion',
    404,
    'GET of a version deleted for good',
  );
  listed = await allVersions(s3, bucket, 'doc');
  expectListed('doc:v2*, doc:v1', 'after deleting v3 by id');

  // The object stored before versioning is the version `null`.
  listed = await allVersions(s3, bucket, 'pre');
  ctx.expect(
    listed.length === 1 && listed[0]!.versionId === 'null' && listed[0]!.isLatest,
    `an object stored before versioning is listed as [${describeVersions(listed, names)}], not its null version`,
  );
  const nullGot = await getVersion(c, bucket, 'pre', 'null');
  ctx.expect(
    'bytes' in nullGot && nullGot.bytes.equals(pre),
    'GET ?versionId=null of an object stored before versioning',
  );

  await multipartVersion(ctx, s3, bucket);
  await badInput(ctx, s3, bucket);
  await suspended(ctx, s3, bucket, ids, bodies, pre);
  await enabledAgain(ctx, s3, bucket);
  await expectError(
    ctx,
    c.send(new DeleteBucketCommand({ Bucket: bucket })),
    'BucketNotEmpty',
    409,
    'deleting a bucket with versions',
  );
  await onlyVersionsKeepBucket(ctx, s3);
  await suspendedFirst(ctx, s3);
  await nullUnderVersions(ctx, s3);
  await versionsDelimited(ctx, s3);
  await versionsEncoded(ctx, s3);
  await versionsNeverVersioned(ctx, s3);
}

/**
 * Paging ListObjectVersions inside one key's versions (S3's rules): a page holding the last entries is not truncated;
 * a full page names the last entry it holds as NextKeyMarker / NextVersionIdMarker; key-marker alone starts after
 * every version of that key.
 */
async function markerPaging(ctx: CheckContext, s3: S3, bucket: string, ids: string[]): Promise<void> {
  const whole = await versionsPage(s3, { Bucket: bucket, Prefix: 'doc', MaxKeys: 3 });
  ctx.expect(
    whole.entries.length === 3 && whole.next === undefined,
    `ListObjectVersions prefix doc max-keys 3 (its 3 versions): ${whole.entries.length} entries, ` +
      `${whole.next ? 'truncated' : 'not truncated'}; the page holding the last entry is not truncated`,
  );
  const first = await versionsPage(s3, { Bucket: bucket, Prefix: 'doc', MaxKeys: 2 });
  ctx.expect(
    first.next?.key === 'doc' && first.next.versionId === ids[1],
    `ListObjectVersions max-keys 2: next marker ${JSON.stringify(first.next)}, not doc at v2`,
  );
  const rest = await versionsPage(s3, { Bucket: bucket, Prefix: 'doc', KeyMarker: 'doc', VersionIdMarker: ids[1] });
  ctx.expect(
    rest.entries.length === 1 && rest.entries[0]!.versionId === ids[0] && rest.next === undefined,
    `ListObjectVersions after doc at v2: [${rest.entries.map((e) => e.versionId).join()}], not [v1] untruncated`,
  );
  const after = await versionsPage(s3, { Bucket: bucket, KeyMarker: 'doc' });
  const repeated = after.entries.filter((e) => e.key <= 'doc').map((e) => `${e.key}:${e.versionId}`);
  ctx.expect(
    repeated.length === 0 && after.entries.some((e) => e.key === 'pre'),
    `ListObjectVersions key-marker doc (no version-id-marker) answered [${repeated.join()}]: it starts after every ` +
      'version of doc',
  );
}

/** Versioning set again to Enabled after Suspended: 200, and PUTs make new versions above the `null` one. */
async function enabledAgain(ctx: CheckContext, s3: S3, bucket: string): Promise<void> {
  const c = s3.client;
  const set = await sdkError(setVersioning(c, bucket, 'Enabled'));
  ctx.expect(set === null, `PutBucketVersioning Enabled after Suspended answered ${set?.status} ${set?.name}`);
  const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: bytesOf('f', 12) }));
  ctx.expect(put.VersionId && put.VersionId !== 'null', `PUT after Enabled again answered version ${put.VersionId}`);
  const listed = await allVersions(s3, bucket, 'doc');
  ctx.expect(
    listed[0]?.versionId === put.VersionId && listed[0].isLatest && listed[1]?.versionId === 'null',
    `ListObjectVersions after Enabled again: [${describeVersions(listed, new Map())}], not the new version over null`,
  );
  const pre = await allVersions(s3, bucket, 'pre');
  ctx.expect(
    pre.length === 1 && pre[0]!.versionId === 'null',
    `an object from before versioning after Enabled again: [${describeVersions(pre, new Map())}], not [pre:null*]`,
  );
}

/**
 * Noncurrent versions and delete markers alone keep a bucket (409 BucketNotEmpty); with every version deleted by id
 * it is deleted, and a bucket created again under its name is never versioned.
 */
async function onlyVersionsKeepBucket(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c8d');
  await setVersioning(c, bucket, 'Enabled');
  const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'gone', Body: bytesOf('g', 9) }));
  const del = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone' }));
  await expectError(
    ctx,
    c.send(new DeleteBucketCommand({ Bucket: bucket })),
    'BucketNotEmpty',
    409,
    'deleting a bucket holding only a noncurrent version and a delete marker',
  );
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone', VersionId: put.VersionId }));
  await expectError(
    ctx,
    c.send(new DeleteBucketCommand({ Bucket: bucket })),
    'BucketNotEmpty',
    409,
    'deleting a bucket holding only a delete marker',
  );
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'gone', VersionId: del.VersionId }));
  await c.send(new DeleteBucketCommand({ Bucket: bucket }));
  await c.send(new CreateBucketCommand({ Bucket: bucket }));
  const state = await c.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  ctx.expect(state.Status === undefined, `a bucket created again after a versioned one is ${state.Status}, not unset`);
  const again = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: bytesOf('h', 3) }));
  ctx.expect(again.VersionId === undefined, `PUT in a bucket created again answered version ${again.VersionId}`);
}

/** Suspended set first on a bucket never versioned: its objects are their keys' `null` versions, still readable. */
async function suspendedFirst(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c8s');
  const body = bytesOf('s', 25);
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'old', Body: body }));
  await setVersioning(c, bucket, 'Suspended');
  const got = await getVersion(c, bucket, 'old');
  ctx.expect(
    'bytes' in got && got.bytes.equals(body),
    `GET of an object stored before Suspended was first set: ${'error' in got ? `${got.status} ${got.error}` : 'other bytes'}`,
  );
  const listed = await allVersions(s3, bucket);
  ctx.expect(
    describeVersions(listed, new Map()) === 'old:null*',
    `ListObjectVersions after Suspended was first set: [${describeVersions(listed, new Map())}], not [old:null*]`,
  );
}

/** A multipart upload completed in a versioned bucket is the key's newest version; the one before it stays. */
async function multipartVersion(ctx: CheckContext, s3: S3, bucket: string): Promise<void> {
  const c = s3.client;
  const first = bytesOf('x', 70);
  const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'mp', Body: first }));
  const joined = bytesOf('y', 90);
  const uploadId = await createUpload(ctx, c, bucket, 'mp');
  const etag = await uploadPart(ctx, c, { bucket, key: 'mp', uploadId }, 1, joined);
  const done = await complete(c, bucket, 'mp', uploadId, [{ PartNumber: 1, ETag: etag }]);
  // S3 answers the version a complete made (x-amz-version-id, the SDK's VersionId), as a PUT's answer does.
  ctx.expect(
    done.VersionId !== undefined && done.VersionId !== 'null' && done.VersionId !== put.VersionId,
    `CompleteMultipartUpload in an Enabled bucket answered x-amz-version-id ${done.VersionId}, not the new version's id`,
  );
  const now = await getVersion(c, bucket, 'mp');
  ctx.expect('bytes' in now && now.bytes.equals(joined), 'a completed multipart upload is not the current version');
  ctx.expect(
    'bytes' in now && now.versionId === done.VersionId,
    `GET after the complete answered version ${'bytes' in now ? now.versionId : '-'}, the complete ${done.VersionId}`,
  );
  const before = await getVersion(c, bucket, 'mp', put.VersionId);
  ctx.expect(
    'bytes' in before && before.bytes.equals(first),
    'the version before a completed multipart upload is not readable by its id',
  );
  const listed = await allVersions(s3, bucket, 'mp');
  ctx.expect(
    listed.length === 2 && listed[0]!.isLatest && listed[0]!.size === 90 && listed[1]!.versionId === put.VersionId,
    `ListObjectVersions after a multipart upload over a version: [${describeVersions(listed, new Map())}]`,
  );
}

async function badInput(ctx: CheckContext, s3: S3, bucket: string): Promise<void> {
  const c = s3.client;
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: 'not a version!' })),
    'InvalidArgument',
    400,
    'GET with a versionId not of the form issued',
  );
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: '0'.repeat(32) })),
    'NoSuchVersion',
    404,
    'GET with a versionId never issued',
  );
  const other = (await allVersions(s3, bucket, 'doc')).find((v) => v.versionId !== 'null');
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp', VersionId: other?.versionId })),
    'NoSuchVersion',
    404,
    "GET with another key's versionId",
  );
  const gone = await sdkError(
    c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'doc', VersionId: '0'.repeat(32) })),
  );
  ctx.expect(gone === null, `DELETE of a version never issued answered ${gone?.status} ${gone?.name}, not 204`);
  await expectError(
    ctx,
    c.send(new ListObjectVersionsCommand({ Bucket: bucket, VersionIdMarker: 'null' })),
    'InvalidArgument',
    400,
    'ListObjectVersions with a version-id-marker and no key-marker',
  );
}

/** Suspended: a PUT writes the version `null`, replacing the earlier `null` one; the versions before stay. */
async function suspended(
  ctx: CheckContext,
  s3: S3,
  bucket: string,
  ids: string[],
  bodies: Buffer[],
  pre: Buffer,
): Promise<void> {
  const c = s3.client;
  await setVersioning(c, bucket, 'Suspended');
  const state = await c.send(new GetBucketVersioningCommand({ Bucket: bucket }));
  ctx.expect(state.Status === 'Suspended', `GetBucketVersioning answered ${state.Status} after Suspended`);
  const d = bytesOf('d', 30);
  const e = bytesOf('e', 31);
  for (const body of [d, e]) {
    const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: body }));
    ctx.expect(put.VersionId === 'null', `PUT with versioning suspended answered version ${put.VersionId}, not null`);
  }
  const nullGot = await getVersion(c, bucket, 'doc', 'null');
  ctx.expect('bytes' in nullGot && nullGot.bytes.equals(e), 'the null version is not the last PUT while suspended');
  const listed = await allVersions(s3, bucket, 'doc');
  const names = new Map([
    [ids[0]!, 'v1'],
    [ids[1]!, 'v2'],
  ]);
  const got = describeVersions(listed, names);
  ctx.expect(
    got === 'doc:null*, doc:v2, doc:v1',
    `ListObjectVersions while suspended: [${got}], not [doc:null*, doc:v2, doc:v1]`,
  );
  const v1 = await getVersion(c, bucket, 'doc', ids[0]);
  ctx.expect('bytes' in v1 && v1.bytes.equals(bodies[0]!), 'v1 is not readable by id while suspended');
  // Another key's `null` version (pre, from before versioning) is not the one a suspended PUT of doc replaces.
  const preNull = await getVersion(c, bucket, 'pre', 'null');
  ctx.expect(
    'bytes' in preNull && preNull.bytes.equals(pre),
    `pre's null version after suspended PUTs of doc: ${'error' in preNull ? `${preNull.status} ${preNull.error}` : 'other bytes'}`,
  );
}

/** A bucket never versioned keeps S3's plain behaviour: no version ids, a DELETE removes, its objects are `null`. */
async function unversionedUnchanged(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c8u');
  const body = bytesOf('u', 20);
  const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: body }));
  ctx.expect(put.VersionId === undefined, `PUT in a bucket never versioned answered version ${put.VersionId}`);
  const listed = await allVersions(s3, bucket);
  ctx.expect(
    listed.length === 1 && listed[0]!.versionId === 'null' && listed[0]!.isLatest && listed[0]!.kind === 'version',
    `ListObjectVersions of a bucket never versioned: [${describeVersions(listed, new Map())}], not [k:null*]`,
  );
  const byNull = await getVersion(c, bucket, 'k', 'null');
  ctx.expect(
    'bytes' in byNull && byNull.bytes.equals(body),
    `GET ?versionId=null in a bucket never versioned: ${'error' in byNull ? `${byNull.status} ${byNull.error}` : 'other bytes'}`,
  );
  const del = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  ctx.expect(del.DeleteMarker === undefined, 'DELETE in a bucket never versioned answered a delete marker');
  ctx.expect((await allVersions(s3, bucket)).length === 0, 'a DELETE in a bucket never versioned left a version');
  await c.send(new DeleteBucketCommand({ Bucket: bucket }));
}
