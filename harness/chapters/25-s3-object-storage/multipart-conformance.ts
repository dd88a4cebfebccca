// SOS-C6: multipart upload through the AWS SDK - create, upload parts out of order, ListParts, complete, the object
// joined and invisible until then; every exchange validated against the spec by the recording handler.
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { complete, createUpload, minPartBytes, multipartEtag, patterned, uploadPart } from './multipart-kit.ts';
import { listsParts } from './multipart-list-parts.ts';
import { sdkUpload } from './multipart-sdk-upload.ts';
import { bytesOf, freshBucket, s3Of } from './s3-client.ts';
import { expectError, md5 } from './s3-expect.ts';

export async function multipartConformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const min = minPartBytes(ctx);
  const bucket = await freshBucket(ctx, s3, 'c6');
  // The key already names an object: it must stay that object, untouched, until the upload completes.
  const key = 'big/ünï 😀+.bin';
  const old = Buffer.from('the object before the multipart upload');
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: old }));
  const uploadId = await createUpload(ctx, c, bucket, key);
  const u = { bucket, key, uploadId };
  const bodies = [patterned(min, 1), patterned(min + 1000, 2), patterned(777, 3)];
  const etags: string[] = [];
  // Uploaded out of part-number order (3, 1, 2): ListParts and complete go by number, not by arrival.
  for (const i of [2, 0, 1]) etags[i] = await uploadPart(ctx, c, u, i + 1, bodies[i]!);

  const before = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(
    (await bytesOf(before.Body)).equals(old) && before.ETag === md5(old),
    'before complete, GET of the key does not answer the object it named before the upload',
  );
  const listedBefore = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  ctx.expect(
    JSON.stringify((listedBefore.Contents ?? []).map((o) => [o.Key, o.Size])) === JSON.stringify([[key, old.length]]),
    `before complete, the bucket lists ${JSON.stringify((listedBefore.Contents ?? []).map((o) => [o.Key, o.Size]))}`,
  );
  await freshKeyInvisible(ctx, c, bucket);

  await listsParts(ctx, c, u, bodies, etags);

  const parts = etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
  const done = await complete(c, bucket, key, uploadId, parts);
  const whole = Buffer.concat(bodies);
  const want = multipartEtag(bodies);
  ctx.expect(done.ETag === want, `CompleteMultipartUpload answered ETag ${done.ETag}, not S3's ${want}`);
  const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(
    (await bytesOf(got.Body)).equals(whole),
    'GET after complete is not the three parts joined in part-number order',
  );
  ctx.expect(got.ETag === want, `GET's ETag ${got.ETag} is not ${want}`);
  const head = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(
    head.ETag === want && head.ContentLength === whole.length,
    `HEAD says ${head.ContentLength} bytes, ${head.ETag}; want ${whole.length}, ${want}`,
  );
  const first = min - 10;
  const range = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${first}-${min + 9}` }));
  ctx.expect(
    (await bytesOf(range.Body)).equals(whole.subarray(first, min + 10)),
    `a range across the first part boundary (bytes=${first}-${min + 9}) is not those bytes`,
  );
  const listed = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  const entry = listed.Contents?.find((o) => o.Key === key);
  ctx.expect(
    entry?.ETag === want && entry.Size === whole.length,
    `ListObjectsV2 shows ${entry?.Size} bytes, ${entry?.ETag}`,
  );
  await expectError(
    ctx,
    c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    'NoSuchUpload',
    404,
    'ListParts of a completed upload',
  );
  await sdkUpload(ctx, c, bucket, min);
}

/** A key no object had: while its upload is in progress, HEAD says 404 and the listing leaves it out. */
async function freshKeyInvisible(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  const key = 'fresh/in-progress';
  const uploadId = await createUpload(ctx, c, bucket, key);
  await uploadPart(ctx, c, { bucket, key, uploadId }, 1, patterned(1234, 9));
  await expectError(
    ctx,
    c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    'NotFound',
    404,
    'HEAD of a key whose upload is not completed',
  );
  const listed = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'fresh/' }));
  ctx.expect(
    (listed.KeyCount ?? 0) === 0,
    `the listing shows ${JSON.stringify((listed.Contents ?? []).map((o) => o.Key))} for an upload not completed`,
  );
  await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
}
