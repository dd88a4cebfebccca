// SOS-F3: the service killed (kill -9) in the middle of a multipart upload - the upload and every part acknowledged
// before the kill are still there after the restart, and the upload can be finished. A second upload's Complete is
// in flight at the kill too: afterwards it has happened entirely (the object is its parts joined, the upload gone) or
// not at all (no object, the upload and its parts as they were, completing it again works), never a 500. First the
// uploads in progress are listed in pages (multipart-uploads-paging.ts), then an upload is abandoned past its expiry.
import {
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { abandonedUploadExpires } from './multipart-expiry.ts';
import { createUpload, minPartBytes, multipartEtag, patterned, uploadPart } from './multipart-kit.ts';
import { uploadsListedInPages } from './multipart-uploads-paging.ts';
import { bytesOf, freshBucket, s3Of, sdkError } from './s3-client.ts';
import { md5 } from './s3-expect.ts';

export async function killMidUpload(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const s3 = s3Of(ctx);
  const c = s3.client;
  const min = minPartBytes(ctx);
  // Before the restarts below (the expiry step's short expiry would end these uploads): a few seconds at most.
  await uploadsListedInPages(ctx, c, await freshBucket(ctx, s3, 'f3p'));
  // An abandoned upload first: its step restarts the service (a short expiry) and leaves it as the manifest starts it.
  await abandonedUploadExpires(ctx, s3);
  const bucket = await freshBucket(ctx, s3, 'f3');
  const key = 'killed-mid-upload';
  const uploadId = await createUpload(ctx, c, bucket, key);
  const u = { bucket, key, uploadId };
  const acked = [patterned(min, 41), patterned(min + 17, 42)];
  let partMs = Number.POSITIVE_INFINITY;
  const etags: string[] = [];
  for (const [i, body] of acked.entries()) {
    const since = performance.now();
    etags.push(await uploadPart(ctx, c, u, i + 1, body));
    partMs = Math.min(partMs, performance.now() - since);
  }
  const completing = await completeInFlight(ctx, c, bucket);
  // The Complete is given the time a part took to be stored in this run: under way, or just done, at the kill.
  await ctx.sleep(partMs);
  // Part 3 is on its way when the service dies: it may or may not have arrived, and was never acknowledged.
  const inFlight = patterned(min, 43);
  const sending = c
    .send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 3, Body: inFlight }))
    .catch(() => undefined);
  await ctx.target.kill();
  ctx.changed('killed (kill -9) during a multipart upload and restarted the service');
  await sending;
  await completing.sent;
  await ctx.target.start();
  await completing.judge();

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

/**
 * A second upload (one part acknowledged) whose Complete is sent now and left in flight; `judge`, after the restart,
 * holds it to all or nothing.
 */
async function completeInFlight(
  ctx: CheckContext,
  c: S3Client,
  bucket: string,
): Promise<{ sent: Promise<unknown>; judge: () => Promise<void> }> {
  const key = 'completed-at-the-kill';
  const u = { bucket, key, uploadId: await createUpload(ctx, c, bucket, key) };
  // One part (the last may be any size): the Complete is what is under way at the kill.
  const bodies = [patterned(1024 * 1024, 51)];
  const parts: { ETag: string; PartNumber: number }[] = [];
  for (const [i, b] of bodies.entries()) parts.push({ ETag: await uploadPart(ctx, c, u, i + 1, b), PartNumber: i + 1 });
  const ask = () =>
    c.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: u.uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  const joined = Buffer.concat(bodies);
  const judge = async () => {
    let got: Buffer | undefined;
    const err = await sdkError(
      c.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then(async (g) => {
        got = await bytesOf(g.Body);
        ctx.expect(g.ETag === multipartEtag(bodies), `the object completed at the kill has ETag ${g.ETag}`);
      }),
    );
    const listed = await sdkError(c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: u.uploadId })));
    if (got) {
      ctx.expect(
        got.equals(joined),
        `the Complete in flight at the kill left ${got.length} bytes, not its parts joined`,
      );
      ctx.expect(
        listed?.name === 'NoSuchUpload',
        `the Complete in flight at the kill made the object, yet ListParts of its upload answered ${listed ? `${listed.status} ${listed.name}` : '200'}`,
      );
      ctx.evidence['completeAtKill'] = 'done';
      return;
    }
    ctx.expect(
      err?.name === 'NoSuchKey' && listed === null,
      `after a kill during a Complete, GET answered ${err?.status} ${err?.name} and ListParts ${listed ? `${listed.status} ${listed.name}` : '200'}: neither the object whole nor the upload still open`,
    );
    if (listed !== null) return;
    ctx.evidence['completeAtKill'] = 'not done';
    // A refusal here (InvalidPart) is a part acknowledged before the kill and lost by it: a failure, not an error.
    let againEtag: string | undefined;
    const refused = await sdkError(
      ask().then((r) => {
        againEtag = r.ETag;
      }),
    );
    ctx.expect(
      refused === null,
      `completing again after the kill answered ${refused?.status} ${refused?.name}: the part acknowledged before the kill is gone`,
    );
    ctx.expect(againEtag === multipartEtag(bodies), `completing again after the kill answered ${againEtag}`);
    const after = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
    ctx.expect(after.equals(joined), 'the upload completed again after the kill is not its parts joined');
  };
  return { sent: ask().catch(() => undefined), judge };
}
