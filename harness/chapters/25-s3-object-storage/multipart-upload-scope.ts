// SOS-C7: an upload id belongs to its bucket and key.
import { HeadObjectCommand, ListPartsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { complete, type Parts, type UploadRef } from './multipart-kit.ts';
import { freshBucket, type S3 } from './s3-client.ts';
import { expectError } from './s3-expect.ts';

/** An upload id belongs to its bucket and key: through the same key in another bucket, or another key, it is unknown. */
export async function otherBucketOrKey(ctx: CheckContext, s3: S3, u: UploadRef, parts: Parts): Promise<void> {
  const c = s3.client;
  const other = await freshBucket(ctx, s3, 'c7-other');
  for (const [bucket, key, where] of [
    [other, u.key, 'the same key in another bucket'],
    [u.bucket, 'another-key', 'another key of the bucket'],
  ] as const) {
    const id = { Bucket: bucket, Key: key, UploadId: u.uploadId };
    await expectError(ctx, c.send(new ListPartsCommand(id)), 'NoSuchUpload', 404, `ListParts through ${where}`);
    await expectError(
      ctx,
      c.send(new UploadPartCommand({ ...id, PartNumber: 4, Body: Buffer.from('elsewhere') })),
      'NoSuchUpload',
      404,
      `UploadPart through ${where}`,
    );
    await expectError(
      ctx,
      complete(c, bucket, key, u.uploadId, parts),
      'NoSuchUpload',
      404,
      `complete through ${where}`,
    );
    await expectError(
      ctx,
      c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      'NotFound',
      404,
      `the object after complete through ${where} was refused`,
    );
  }
}
