// SOS-C7: multipart errors through the AWS SDK - part numbers, refused completes leaving the upload usable, then
// abort and everything after it NoSuchUpload. The narrower rules are in the modules imported below.
import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { endsOnce } from './multipart-ends-once.ts';
import { complete, createUpload, minPartBytes, type Parts, patterned, uploadPart } from './multipart-kit.ts';
import { lastPartNumber, partDigestsChecked, tooSmall } from './multipart-part-rules.ts';
import { otherBucketOrKey, siblingUploadsIndependent } from './multipart-upload-scope.ts';
import { freshBucket, s3Of } from './s3-client.ts';
import { expectError, md5 } from './s3-expect.ts';

export async function multipartErrors(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const min = minPartBytes(ctx);
  const bucket = await freshBucket(ctx, s3, 'c7');
  const key = 'errors.bin';
  const uploadId = await createUpload(ctx, c, bucket, key);
  const u = { bucket, key, uploadId };
  const bodies = [patterned(min, 11), patterned(min, 12), patterned(10, 13)];
  const parts: Parts = [];
  for (const [i, body] of bodies.entries())
    parts.push({ PartNumber: i + 1, ETag: await uploadPart(ctx, c, u, i + 1, body) });
  for (const n of [0, 10_001]) {
    await expectError(
      ctx,
      c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: 'x' })),
      'InvalidArgument',
      400,
      `UploadPart with part number ${n}`,
    );
  }
  // Not a number at all, though it starts like one (the spec's pattern is ^[0-9]{1,5}$).
  for (const n of ['2x', '1.5']) {
    await expectError(
      ctx,
      c.send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: n as unknown as number,
          Body: 'x',
        }),
      ),
      'InvalidArgument',
      400,
      `UploadPart with part number ${n}`,
    );
  }
  await partDigestsChecked(ctx, c, u, parts);

  const refused: [string, Parts, string][] = [
    [
      'a wrong ETag for part 2',
      [parts[0]!, { PartNumber: 2, ETag: md5(Buffer.from('not part 2')) }, parts[2]!],
      'InvalidPart',
    ],
    ['a part never uploaded (4)', [...parts, { PartNumber: 4, ETag: parts[2]!.ETag }], 'InvalidPart'],
    ['parts out of order (2, 1, 3)', [parts[1]!, parts[0]!, parts[2]!], 'InvalidPartOrder'],
    // Ascending means strictly: a part listed twice would put its bytes in the object twice.
    ['part 1 listed twice (1, 1, 3)', [parts[0]!, parts[0]!, parts[2]!], 'InvalidPartOrder'],
  ];
  for (const [what, list, code] of refused) {
    await expectError(ctx, complete(c, bucket, key, uploadId, list), code, 400, `complete with ${what}`);
    await expectError(
      ctx,
      c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      'NotFound',
      404,
      `the object after complete with ${what} was refused`,
    );
  }
  const still = await c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  const stillShown = JSON.stringify((still.Parts ?? []).map((p) => [p.PartNumber, p.ETag]));
  ctx.expect(
    stillShown === JSON.stringify(parts.map((p) => [p.PartNumber, p.ETag])),
    `after refused completes and parts refused with BadDigest the upload lists ${stillShown}, not its 3 parts as uploaded`,
  );
  await tooSmall(ctx, c, bucket, min);
  await lastPartNumber(ctx, c, bucket);
  await otherBucketOrKey(ctx, s3, u, parts);
  await siblingUploadsIndependent(ctx, s3);
  await endsOnce(ctx, c, bucket);
  await expectError(
    ctx,
    c.send(new ListPartsCommand({ Bucket: bucket, Key: 'another-key', UploadId: uploadId })),
    'NoSuchUpload',
    404,
    "ListParts of an upload under another key's name",
  );
  await expectError(
    ctx,
    c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: 'no-such-upload' })),
    'NoSuchUpload',
    404,
    'ListParts of an upload id never created',
  );

  const aborted = await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  ctx.expect(
    aborted.$metadata.httpStatusCode === 204,
    `AbortMultipartUpload answered ${aborted.$metadata.httpStatusCode}`,
  );
  await expectError(
    ctx,
    c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    'NoSuchUpload',
    404,
    'ListParts after abort',
  );
  await expectError(
    ctx,
    c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 4, Body: 'late' })),
    'NoSuchUpload',
    404,
    'UploadPart after abort',
  );
  await expectError(ctx, complete(c, bucket, key, uploadId, parts), 'NoSuchUpload', 404, 'complete after abort');
  await expectError(
    ctx,
    c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    'NoSuchUpload',
    404,
    'abort again',
  );
  await expectError(
    ctx,
    c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    'NotFound',
    404,
    'the key of the aborted upload',
  );
}
