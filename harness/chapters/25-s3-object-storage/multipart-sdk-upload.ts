// SOS-C6's last step: the SDK's own multipart uploader (lib-storage's Upload) against the target.
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { CheckContext } from '../../core/check-context.ts';
import { multipartEtag, patterned, S3_MIN_PART_BYTES } from './multipart-kit.ts';
import { bytesOf } from './s3-client.ts';

/** The SDK's own multipart uploader (lib-storage's Upload), three parts, against the target. */
export async function sdkUpload(ctx: CheckContext, c: S3Client, bucket: string, min: number): Promise<void> {
  // lib-storage refuses parts under S3's 5 MiB whatever the target allows.
  const partSize = Math.max(min, S3_MIN_PART_BYTES);
  const body = patterned(2 * partSize + 4321, 77);
  const upload = new Upload({
    client: c,
    params: { Bucket: bucket, Key: 'sdk-upload', Body: body },
    partSize,
    queueSize: 2,
  });
  const r = await upload.done();
  const want = multipartEtag([
    body.subarray(0, partSize),
    body.subarray(partSize, 2 * partSize),
    body.subarray(2 * partSize),
  ]);
  ctx.expect(r.ETag === want, `lib-storage's Upload ended with ETag ${r.ETag}, not ${want}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'sdk-upload' }))).Body);
  ctx.expect(got.equals(body), `the object lib-storage uploaded reads back as ${got.length} other bytes`);
}
