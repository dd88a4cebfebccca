// SOS-C3: objects - put, get, ranges, conditional reads, head, digests, delete, key limits - through the AWS SDK,
// every exchange validated against the spec by the recording handler.
import { createHash } from 'node:crypto';
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { bytesOf, freshBucket, type S3, s3Of, sdkError, uniqueBucket } from './s3-client.ts';
import { expectError, md5 } from './s3-expect.ts';

async function getRange(c: S3Client, bucket: string, key: string, range: string) {
  const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return { bytes: await bytesOf(r.Body), contentRange: r.ContentRange, status: r.$metadata.httpStatusCode };
}

export async function objectConformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c3');
  const key = 'photos/2026/ünï 😀 +?&=.bin';
  const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) % 256));
  const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  ctx.expect(put.ETag === md5(bytes), `PutObject's ETag ${put.ETag} is not the MD5 ${md5(bytes)}`);
  const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect((await bytesOf(got.Body)).equals(bytes), 'GetObject did not return the bytes PUT');
  ctx.expect(
    got.ETag === md5(bytes) && got.ContentLength === 300,
    `GET's ETag/length ${got.ETag}/${got.ContentLength}`,
  );
  for (const [range, first, last] of [
    ['bytes=0-0', 0, 0],
    ['bytes=10-19', 10, 19],
    ['bytes=290-', 290, 299],
    ['bytes=-5', 295, 299],
    ['bytes=250-1000', 250, 299],
    ['bytes=0-299', 0, 299],
  ] as const) {
    const r = await getRange(c, bucket, key, range);
    ctx.expect(r.status === 206, `${range}: status ${r.status}, not 206`);
    ctx.expect(
      r.contentRange === `bytes ${first}-${last}/300`,
      `${range}: Content-Range ${r.contentRange}, not bytes ${first}-${last}/300`,
    );
    ctx.expect(r.bytes.equals(bytes.subarray(first, last + 1)), `${range}: not the bytes ${first}..${last}`);
  }
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=300-' })),
    'InvalidRange',
    416,
    'a range past the end',
  );
  const notModified = await sdkError(
    c.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: md5(bytes) })),
  );
  ctx.expect(
    notModified?.status === 304,
    `If-None-Match with the ETag answered ${notModified?.status ?? 200}, not 304`,
  );
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: '"00000000000000000000000000000000"' })),
    'PreconditionFailed',
    412,
    'If-Match with another ETag',
  );
  await conditionalReads(ctx, c, bucket, key, bytes);
  const head = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(
    head.ContentLength === 300 && head.ETag === md5(bytes),
    `HEAD says ${head.ContentLength} bytes, ${head.ETag}`,
  );
  // Last-Modified is the time of the PUT: SigV4 already holds the two clocks within 15 minutes of each other.
  const age = Date.now() - (head.LastModified?.getTime() ?? 0);
  ctx.expect(
    Math.abs(age) <= 16 * 60 * 1000,
    `HEAD's Last-Modified ${head.LastModified?.toISOString()} is not the time of the PUT (now ${new Date().toISOString()})`,
  );
  await sameBytesTwice(ctx, c, bucket);
  await sameKeyTwoBuckets(ctx, s3, bucket);

  // An empty object, and an overwrite (the whole object replaced).
  const empty = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
  ctx.expect(empty.ETag === '"d41d8cd98f00b204e9800998ecf8427e"', `the empty object's ETag is ${empty.ETag}`);
  ctx.expect(
    (await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty' }))).Body)).length === 0,
    'the empty object is not empty',
  );
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('short') }));
  const over = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect((await bytesOf(over.Body)).toString() === 'short', 'an overwrite did not replace the whole object');

  // A wrong checksum: 400 BadDigest and nothing stored (the key keeps its bytes).
  const forged = new PutObjectCommand({
    Bucket: bucket,
    Key: key,
    Body: Buffer.from('forged'),
    ChecksumCRC32: 'AAAAAA==',
  });
  await expectError(ctx, c.send(forged), 'BadDigest', 400, 'a PUT whose x-amz-checksum-crc32 is wrong');
  const md5Bad = new PutObjectCommand({
    Bucket: bucket,
    Key: 'md5',
    Body: Buffer.from('x'),
    ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==',
  });
  await expectError(ctx, c.send(md5Bad), 'BadDigest', 400, 'a PUT whose Content-MD5 is wrong');
  // Each digest given is checked, not just the first: a right Content-MD5 does not excuse a wrong CRC-32.
  const crcBadMd5Good = new PutObjectCommand({
    Bucket: bucket,
    Key: 'md5',
    Body: Buffer.from('x'),
    ContentMD5: createHash('md5').update('x').digest('base64'),
    ChecksumCRC32: 'AAAAAA==',
  });
  await expectError(ctx, c.send(crcBadMd5Good), 'BadDigest', 400, 'a right Content-MD5 with a wrong CRC-32');
  const still = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect((await bytesOf(still.Body)).toString() === 'short', 'a PUT refused with BadDigest changed the object');
  await expectError(
    ctx,
    c.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5' })),
    'NotFound',
    404,
    'the refused Content-MD5 PUT',
  );

  const del = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(del.$metadata.httpStatusCode === 204, `DeleteObject answered ${del.$metadata.httpStatusCode}`);
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    'NoSuchKey',
    404,
    'GET after DELETE',
  );
  const again = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(again.$metadata.httpStatusCode === 204, 'deleting a missing key is not 204');
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: uniqueBucket('c3-none'), Key: 'k' })),
    'NoSuchBucket',
    404,
    'GET in a missing bucket',
  );
  await expectError(
    ctx,
    c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })),
    'KeyTooLongError',
    400,
    'a 1,025-byte key',
  );
  // The limit is 1,024 bytes of UTF-8, not characters: 342 three-byte characters are 1,026 bytes.
  await expectError(
    ctx,
    c.send(new PutObjectCommand({ Bucket: bucket, Key: '€'.repeat(342), Body: 'x' })),
    'KeyTooLongError',
    400,
    'a key of 342 characters but 1,026 bytes',
  );
}

/** Two keys with the same bytes are two objects: overwriting one with its own bytes, or deleting the other, keeps it. */
async function sameBytesTwice(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  const twin = Buffer.from('the same bytes under two keys');
  for (const k of ['twin-a', 'twin-b', 'twin-a'])
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: twin }));
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'twin-b' }));
  const r = await sdkError(c.send(new GetObjectCommand({ Bucket: bucket, Key: 'twin-a' })));
  ctx.expect(r === null, `twin-a (overwritten with its own bytes, its twin deleted) answers ${r?.status} ${r?.name}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'twin-a' }))).Body);
  ctx.expect(got.equals(twin), 'twin-a does not read back its bytes');
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'twin-a' }));
}

/** An object is named by bucket and key: the same key in another bucket is another object. */
async function sameKeyTwoBuckets(ctx: CheckContext, s3: S3, bucket: string): Promise<void> {
  const c = s3.client;
  const other = await freshBucket(ctx, s3, 'c3-other');
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared', Body: Buffer.from('in the first bucket') }));
  await c.send(new PutObjectCommand({ Bucket: other, Key: 'shared', Body: Buffer.from('in the second') }));
  const second = await bytesOf((await c.send(new GetObjectCommand({ Bucket: other, Key: 'shared' }))).Body);
  ctx.expect(second.toString() === 'in the second', `${other}/shared answers "${second}"`);
  await c.send(new DeleteObjectCommand({ Bucket: other, Key: 'shared' }));
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: other, Key: 'shared' })),
    'NoSuchKey',
    404,
    'a key deleted in one bucket while another bucket has it',
  );
  const first = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'shared' }))).Body);
  ctx.expect(first.toString() === 'in the first bucket', `${bucket}/shared answers "${first}"`);
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'shared' }));
  await c.send(new DeleteBucketCommand({ Bucket: other }));
}

/**
 * The ETag in a condition as the spec takes it: quoted as answered or the bare MD5 hex, one of a comma-separated
 * list, or `*` (any object). If-Match with a match answers the bytes; If-None-Match with one answers 304.
 */
async function conditionalReads(ctx: CheckContext, c: S3Client, bucket: string, key: string, bytes: Buffer) {
  const quoted = md5(bytes);
  const bare = quoted.slice(1, -1);
  const other = '"00000000000000000000000000000000"';
  for (const ifMatch of [quoted, bare, `${other}, ${quoted}`, '*']) {
    const r = await sdkError(c.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: ifMatch })));
    ctx.expect(!r, `If-Match: ${ifMatch} (matching the object) answered ${r?.status} ${r?.name}, not 200`);
  }
  for (const ifNoneMatch of [bare, `${other}, ${quoted}`, '*']) {
    const r = await sdkError(c.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: ifNoneMatch })));
    ctx.expect(r?.status === 304, `If-None-Match: ${ifNoneMatch} answered ${r?.status ?? 200}, not 304`);
  }
}
