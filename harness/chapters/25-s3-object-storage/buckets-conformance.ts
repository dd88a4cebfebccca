// SOS-C2: buckets - create, create again, head, list, invalid names, delete (empty, not empty, missing) - through the
// AWS SDK, every exchange validated against the spec by the recording handler.
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { bytesOf, s3Of, uniqueBucket } from './s3-client.ts';
import { expectError } from './s3-expect.ts';

export async function bucketConformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const bucket = uniqueBucket('c2');
  const created = await c.send(new CreateBucketCommand({ Bucket: bucket }));
  ctx.expect(created.$metadata.httpStatusCode === 200, `CreateBucket answered ${created.$metadata.httpStatusCode}`);
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept', Body: Buffer.from('kept') }));
  await expectError(
    ctx,
    c.send(new CreateBucketCommand({ Bucket: bucket })),
    'BucketAlreadyOwnedByYou',
    409,
    'creating it again',
  );
  const kept = await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept' }));
  ctx.expect((await bytesOf(kept.Body)).toString() === 'kept', 'the 409 lost the bucket object "kept"');
  const head = await c.send(new HeadBucketCommand({ Bucket: bucket }));
  ctx.expect(head.$metadata.httpStatusCode === 200, 'HeadBucket of an existing bucket is not 200');
  await expectError(
    ctx,
    c.send(new HeadBucketCommand({ Bucket: uniqueBucket('c2-none') })),
    'NotFound',
    404,
    'HEAD of a missing bucket',
  );
  const all = await c.send(new ListBucketsCommand({}));
  ctx.expect(
    all.Buckets?.some((b) => b.Name === bucket),
    `ListBuckets does not list ${bucket}`,
  );
  for (const bad of ['ab', 'UPPER-case', 'has_underscore', `${'x'.repeat(64)}`, '-starts-with-dash']) {
    await expectError(
      ctx,
      c.send(new CreateBucketCommand({ Bucket: bad })),
      'InvalidBucketName',
      400,
      `bucket name "${bad}"`,
    );
  }
  await expectError(
    ctx,
    c.send(new DeleteBucketCommand({ Bucket: bucket })),
    'BucketNotEmpty',
    409,
    'deleting a non-empty bucket',
  );
  // A zero-byte object (a "folder" marker) is an object: the bucket that holds only it is not empty.
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'kept' }));
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'folder/', Body: Buffer.alloc(0) }));
  await expectError(
    ctx,
    c.send(new DeleteBucketCommand({ Bucket: bucket })),
    'BucketNotEmpty',
    409,
    'deleting a bucket that holds only a zero-byte object',
  );
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'folder/' }));
  const del = await c.send(new DeleteBucketCommand({ Bucket: bucket }));
  ctx.expect(del.$metadata.httpStatusCode === 204, `deleting an empty bucket answered ${del.$metadata.httpStatusCode}`);
  await expectError(ctx, c.send(new DeleteBucketCommand({ Bucket: bucket })), 'NoSuchBucket', 404, 'deleting it again');
  const after = await c.send(new ListBucketsCommand({}));
  ctx.expect(!after.Buckets?.some((b) => b.Name === bucket), `ListBuckets still lists the deleted ${bucket}`);
}
