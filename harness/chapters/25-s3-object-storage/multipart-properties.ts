// SOS-I4: a completed multipart upload is exactly its listed parts joined in part-number order, whatever the part
// numbers, sizes and upload order, with parts uploaded again (in another size) and parts left out of the list; before
// complete, ListParts answers the model of what was uploaded.
import { CompleteMultipartUploadCommand, GetObjectCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { createUpload, minPartBytes, multipartEtag, patterned, uploadPart } from './multipart-kit.ts';
import { bytesOf, freshBucket, s3Of } from './s3-client.ts';

export async function multipartJoinsInOrder(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const min = minPartBytes(ctx);
  const bucket = await freshBucket(ctx, s3, 'i4');
  let run = 0;
  await ctx.property(
    fc.record({
      numbers: fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 3 }),
      extras: fc.array(fc.nat({ max: 4096 }), { minLength: 3, maxLength: 3 }),
      lastSize: fc.integer({ min: 1, max: 70_000 }),
      // Sort keys for the order the first uploads go in.
      order: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 4, maxLength: 4 }),
      // Listed parts (by index) uploaded again with other bytes, after all the first uploads.
      again: fc.array(fc.nat({ max: 2 }), { maxLength: 2 }),
      // A part uploaded but left out of the complete list (dropped).
      unlisted: fc.boolean(),
    }),
    async ({ numbers, extras, lastSize, order, again, unlisted }) => {
      run++;
      const listed = [...numbers].sort((a, b) => a - b);
      const sizeOf = (i: number) => (i === listed.length - 1 ? lastSize : min + extras[i]!);
      const key = `joined-${run}-${Math.random().toString(36).slice(2, 8)}`;
      const uploadId = await createUpload(ctx, c, bucket, key);
      const u = { bucket, key, uploadId };
      let seed = run * 16;
      const uploads = listed.map((n, i) => ({ n, body: patterned(sizeOf(i), seed++) }));
      const spare = [1, 10_000, ...listed.map((n) => n + 1)].find((n) => n <= 10_000 && !listed.includes(n))!;
      if (unlisted) uploads.push({ n: spare, body: patterned(100, seed++) });
      const firstOrder = uploads
        .map((x, i) => ({ x, k: order[i]! }))
        .sort((a, b) => a.k - b.k)
        .map((y) => y.x);
      const latest = new Map<number, { body: Buffer; etag: string }>();
      const sent: string[] = [];
      for (const { n, body } of firstOrder) {
        latest.set(n, { body, etag: await uploadPart(ctx, c, u, n, body) });
        sent.push(`${n}:${body.length}`);
      }
      for (const [j, i] of again.entries()) {
        const n = listed[Math.min(i, listed.length - 1)]!;
        // Another size than the part it replaces (larger, so a part before the last stays at least the minimum).
        const body = patterned(latest.get(n)!.body.length + 1 + j, seed++);
        latest.set(n, { body, etag: await uploadPart(ctx, c, u, n, body) });
        sent.push(`${n}:${body.length} again`);
      }
      const story = `parts ${listed.join(', ')} listed; sent ${sent.join(', ')}`;
      await listsLatestParts(ctx, c, u, latest, story);
      const parts = listed.map((n) => latest.get(n)!);
      const done = await c.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: listed.map((n, i) => ({ PartNumber: n, ETag: parts[i]!.etag })) },
        }),
      );
      const want = Buffer.concat(parts.map((p) => p.body));
      const etag = multipartEtag(parts.map((p) => p.body));
      ctx.expect(done.ETag === etag, `${story}: complete answered ETag ${done.ETag}, not ${etag}`);
      const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const bytes = await bytesOf(got.Body);
      ctx.expect(
        bytes.equals(want),
        `${story}: the object is ${bytes.length} bytes that are not the listed parts' latest bytes in part-number order (${want.length} bytes)`,
      );
      ctx.expect(
        got.ETag === etag && got.ContentLength === want.length,
        `${story}: GET says ${got.ContentLength} bytes, ${got.ETag}`,
      );
    },
    // Each run moves up to four parts of 5 MiB each way: at most 12 runs keep the check well inside its time limit.
    Math.min(12, Math.max(3, Math.ceil(ctx.numRuns / 2))),
  );
}

/**
 * ListParts against the model of what was uploaded: every part number once, in ascending order, each with the size
 * and ETag of its latest upload - whole, and a page of two at a time following NextPartNumberMarker.
 */
async function listsLatestParts(
  ctx: CheckContext,
  c: S3Client,
  u: { bucket: string; key: string; uploadId: string },
  latest: Map<number, { body: Buffer; etag: string }>,
  story: string,
): Promise<void> {
  const want = JSON.stringify(
    [...latest.entries()].sort(([a], [b]) => a - b).map(([n, p]) => [n, p.body.length, p.etag]),
  );
  const show = (ps: { PartNumber?: number; Size?: number; ETag?: string }[]) =>
    JSON.stringify(ps.map((p) => [p.PartNumber, p.Size, p.ETag]));
  const base = { Bucket: u.bucket, Key: u.key, UploadId: u.uploadId };
  const whole = await c.send(new ListPartsCommand(base));
  ctx.expect(show(whole.Parts ?? []) === want, `${story}: ListParts says ${show(whole.Parts ?? [])}; want ${want}`);
  const paged: { PartNumber?: number; Size?: number; ETag?: string }[] = [];
  let marker: string | undefined;
  for (let page = 0; page <= latest.size; page++) {
    const r = await c.send(new ListPartsCommand({ ...base, MaxParts: 2, PartNumberMarker: marker }));
    paged.push(...(r.Parts ?? []));
    if (!r.IsTruncated) break;
    marker = r.NextPartNumberMarker;
  }
  ctx.expect(show(paged) === want, `${story}: ListParts two at a time says ${show(paged)}; want ${want}`);
}
