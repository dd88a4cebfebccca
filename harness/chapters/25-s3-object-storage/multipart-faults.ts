// SOS-F3: the service killed (kill -9) in the middle of a multipart upload - the upload and every part acknowledged
// before the kill are still there after the restart, and the upload can be finished.
import {
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { createUpload, minPartBytes, multipartEtag, patterned, uploadPart } from './multipart-kit.ts';
import { bytesOf, freshBucket, s3Of } from './s3-client.ts';
import { md5 } from './s3-expect.ts';

export async function killMidUpload(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const s3 = s3Of(ctx);
  const c = s3.client;
  const min = minPartBytes(ctx);
  const bucket = await freshBucket(ctx, s3, 'f3');
  const key = 'killed-mid-upload';
  const uploadId = await createUpload(ctx, c, bucket, key);
  const u = { bucket, key, uploadId };
  const acked = [patterned(min, 41), patterned(min + 17, 42)];
  const etags: string[] = [];
  for (const [i, body] of acked.entries()) etags.push(await uploadPart(ctx, c, u, i + 1, body));
  // Part 3 is on its way when the service dies: it may or may not have arrived, and was never acknowledged.
  const inFlight = patterned(min, 43);
  const sending = c
    .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 3, Body: inFlight }))
    .catch(() => undefined);
  await ctx.target.kill();
  ctx.changed('killed (kill -9) during a multipart upload and restarted the service');
  await sending;
  await ctx.target.start();

  const listed = await c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  const parts = listed.Parts ?? [];
  for (const [i, body] of acked.entries()) {
    const p = parts.find((x) => x.PartNumber === i + 1);
    ctx.expect(
      p !== undefined && p.ETag === etags[i] && p.Size === body.length,
      `after the restart, acknowledged part ${i + 1} is listed as ${p ? `${p.Size} bytes, ${p.ETag}` : 'missing'}`,
    );
  }
  const third = parts.find((x) => x.PartNumber === 3);
  ctx.expect(
    !third || (third.ETag === md5(inFlight) && third.Size === inFlight.length),
    `the part in flight at the kill is listed as ${third?.Size} bytes, ${third?.ETag}: neither absent nor whole`,
  );
  // The upload goes on: the last part sent (again), then complete; the object is the acknowledged parts joined.
  const last = patterned(999, 44);
  etags.push(await uploadPart(ctx, c, u, 3, last));
  const bodies = [...acked, last];
  const done = await c.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
  ctx.expect(done.ETag === multipartEtag(bodies), `complete after the restart answered ${done.ETag}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
  ctx.expect(got.equals(Buffer.concat(bodies)), 'the object completed after the restart is not its parts joined');
  ctx.evidence['acknowledgedParts'] = acked.length;
  ctx.evidence['inFlightPartKept'] = third !== undefined;
}
