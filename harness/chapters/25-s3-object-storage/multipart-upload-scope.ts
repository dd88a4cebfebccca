// SOS-C7: an upload id belongs to its bucket and key, and its parts belong to it alone.
import { randomInt } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, ListPartsCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { complete, createUpload, type Parts, patterned, type UploadRef, uploadPart } from './multipart-kit.ts';
import { bytesOf, freshBucket, type S3, sdkError } from './s3-client.ts';
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

/**
 * Uploads in progress at once are independent: a part uploaded (or uploaded again) in one upload never replaces or
 * drops a part of the same number in another. Three uploads (two of one key, one of another key) each get part `n`,
 * then the second gets it again; each is completed and read back as its own latest part.
 *
 * `n` is drawn afresh for every run (not from the run's seed): a store that matched parts by number alone would
 * otherwise find a part of that number left by an earlier run's upload in progress, not one of these three.
 */
export async function siblingUploadsIndependent(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c7-siblings');
  const n = randomInt(2, 10_000);
  ctx.evidence.siblingPartNumber = n; // not from the seed: recorded, so a failure says which number it used
  const ups = [
    { name: 'A (key one)', key: 'sibling/one' },
    { name: 'B (key one, a second upload)', key: 'sibling/one' },
    { name: 'C (key two)', key: 'sibling/two' },
  ];
  const refs: (UploadRef & { name: string; body: Buffer; etag: string })[] = [];
  for (const [i, x] of ups.entries()) {
    const uploadId = await createUpload(ctx, c, bucket, x.key);
    const body = patterned(600 + i * 37, 40 + i);
    const ref = { bucket, key: x.key, uploadId, name: x.name, body, etag: '' };
    ref.etag = await uploadPart(ctx, c, ref, n, body);
    refs.push(ref);
  }
  const b = refs[1]!;
  b.body = patterned(901, 49);
  b.etag = await uploadPart(ctx, c, b, n, b.body);
  const story = `part ${n} uploaded to A, B and C in turn (three uploads in progress at once), then to B again`;
  for (const r of refs) {
    const listed = await c.send(new ListPartsCommand({ Bucket: bucket, Key: r.key, UploadId: r.uploadId }));
    const shown = JSON.stringify((listed.Parts ?? []).map((p) => [p.PartNumber, p.Size, p.ETag]));
    ctx.expect(
      shown === JSON.stringify([[n, r.body.length, r.etag]]),
      `${story}: ListParts of ${r.name} says ${shown}; want its own part ${JSON.stringify([n, r.body.length, r.etag])}`,
    );
  }
  for (const r of refs) {
    const done = complete(c, bucket, r.key, r.uploadId, [{ PartNumber: n, ETag: r.etag }]);
    const e = await sdkError(done);
    ctx.expect(!e, `${story}: completing ${r.name} failed with ${e?.status} ${e?.name}`);
    const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: r.key }));
    const bytes = await bytesOf(got.Body);
    ctx.expect(
      bytes.equals(r.body),
      `${story}: after completing ${r.name} its key holds ${bytes.length} bytes that are not its part ${n} (${r.body.length} bytes)`,
    );
  }
}
