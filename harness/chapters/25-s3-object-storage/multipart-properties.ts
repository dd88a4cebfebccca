// SOS-I4: a completed multipart upload is exactly its listed parts joined in part-number order, whatever the part
// numbers, sizes and upload order, with parts uploaded again and parts left out of the list.
import { CompleteMultipartUploadCommand, GetObjectCommand } from '@aws-sdk/client-s3';
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
      for (const i of again) {
        const n = listed[Math.min(i, listed.length - 1)]!;
        const body = patterned(latest.get(n)!.body.length, seed++);
        latest.set(n, { body, etag: await uploadPart(ctx, c, u, n, body) });
        sent.push(`${n}:${body.length} again`);
      }
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
      const story = `parts ${listed.join(', ')} listed; sent ${sent.join(', ')}`;
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
