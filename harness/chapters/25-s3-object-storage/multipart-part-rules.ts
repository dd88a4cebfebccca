// SOS-C7's rules about single parts: the minimum size (checked at complete), digests checked on UploadPart, and
// part 10,000 taken.
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import {
  complete,
  createUpload,
  multipartEtag,
  type Parts,
  patterned,
  type UploadRef,
  uploadPart,
} from './multipart-kit.ts';
import { bytesOf } from './s3-client.ts';
import { expectError } from './s3-expect.ts';

/** A part before the last under the minimum size: refused at complete, not at upload; a small last part is fine. */
export async function tooSmall(ctx: CheckContext, c: S3Client, bucket: string, min: number): Promise<void> {
  const key = 'small.bin';
  const uploadId = await createUpload(ctx, c, bucket, key);
  const u = { bucket, key, uploadId };
  // One byte under the minimum: the edge a minimum in the wrong unit (5 MB for 5 MiB) lets through.
  const small = patterned(min - 1, 21);
  const parts = [
    { PartNumber: 1, ETag: await uploadPart(ctx, c, u, 1, small) },
    { PartNumber: 2, ETag: await uploadPart(ctx, c, u, 2, patterned(10, 22)) },
  ];
  await expectError(
    ctx,
    complete(c, bucket, key, uploadId, parts),
    'EntityTooSmall',
    400,
    `complete with a first part of ${small.length} bytes`,
  );
  await expectError(
    ctx,
    c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    'NotFound',
    404,
    'the object after EntityTooSmall',
  );
  // The last part may be as small as it likes: the same small part alone completes.
  const done = await complete(c, bucket, key, uploadId, [parts[0]!]);
  ctx.expect(done.ETag === multipartEtag([small]), `a one-part upload completed with ETag ${done.ETag}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
  ctx.expect(got.equals(small), 'the one-part upload does not read back as its part');
}

/** UploadPart checks the digests it is given like PutObject: 400 BadDigest, and the part it would replace kept. */
export async function partDigestsChecked(ctx: CheckContext, c: S3Client, u: UploadRef, parts: Parts): Promise<void> {
  const base = { Bucket: u.bucket, Key: u.key, UploadId: u.uploadId, PartNumber: 2, Body: Buffer.from('damaged') };
  await expectError(
    ctx,
    c.send(new UploadPartCommand({ ...base, ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==' })),
    'BadDigest',
    400,
    'UploadPart whose Content-MD5 is wrong',
  );
  await expectError(
    ctx,
    c.send(new UploadPartCommand({ ...base, ChecksumCRC32: 'AAAAAA==' })),
    'BadDigest',
    400,
    'UploadPart whose x-amz-checksum-crc32 is wrong',
  );
  const listed = await c.send(new ListPartsCommand({ Bucket: u.bucket, Key: u.key, UploadId: u.uploadId }));
  const two = listed.Parts?.find((p) => p.PartNumber === 2);
  ctx.expect(
    two?.ETag === parts[1]!.ETag,
    `after UploadPart of part 2 was refused with BadDigest, ListParts shows part 2 as ${two?.Size} bytes, ${two?.ETag}`,
  );
}

/** Part 10,000 is the last part number S3 allows: it is taken, listed and completes. */
export async function lastPartNumber(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  const key = 'part-10000.bin';
  const uploadId = await createUpload(ctx, c, bucket, key);
  const body = patterned(321, 31);
  const etag = await uploadPart(ctx, c, { bucket, key, uploadId }, 10_000, body).catch((e: unknown) => {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; exchange?: unknown };
    if (err.exchange) throw e;
    ctx.expect(false, `UploadPart of part 10,000, the last S3 allows: ${err.$metadata?.httpStatusCode} ${err.name}`);
  });
  const listed = await c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  const shown = JSON.stringify((listed.Parts ?? []).map((p) => [p.PartNumber, p.Size]));
  ctx.expect(shown === JSON.stringify([[10_000, body.length]]), `ListParts after uploading part 10,000: ${shown}`);
  const done = await complete(c, bucket, key, uploadId, [{ PartNumber: 10_000, ETag: etag }]);
  ctx.expect(done.ETag === multipartEtag([body]), `complete of part 10,000 answered ETag ${done.ETag}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
  ctx.expect(got.equals(body), 'the upload of part 10,000 does not read back as that part');
}
