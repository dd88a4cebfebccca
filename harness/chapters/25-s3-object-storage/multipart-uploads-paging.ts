// SOS-F3's listing of uploads in progress (ListMultipartUploads), paged: several uploads of one key, uploads of keys
// whose UTF-8 byte order differs from UTF-16's, and an aborted upload, walked with max-uploads 1, 2 and 3 through
// NextKeyMarker / NextUploadIdMarker, every page compared with a model (key bytes, then upload id bytes). A run of
// four uploads of one key is longer than every page, so a page boundary always falls inside it: a marker that skips
// or repeats the rest of that key's uploads is seen. A key-marker alone must resume after every upload of its key.
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { createUpload } from './multipart-kit.ts';

interface Upload {
  key: string;
  uploadId: string;
}

const PREFIX = 'paged/';
/** Uploads per key; one of the five of `b` is aborted (the run of four left is longer than every page). */
const UPLOADS: ReadonlyArray<[string, number]> = [
  [`${PREFIX}a`, 1],
  [`${PREFIX}b`, 5],
  [`${PREFIX}\uFF21`, 2], // U+FF21: before U+1F600 in UTF-8 bytes, after it in UTF-16 code units
  [`${PREFIX}\u{1F600}`, 2],
];
const PAGE_SIZES = [1, 2, 3];

const byteOrder = (x: Upload, y: Upload) =>
  Buffer.compare(Buffer.from(x.key), Buffer.from(y.key)) ||
  Buffer.compare(Buffer.from(x.uploadId), Buffer.from(y.uploadId));
const show = (u: readonly Upload[]) => `[${u.map((x) => `${JSON.stringify(x.key)} ${x.uploadId}`).join(', ')}]`;

/** Makes the uploads in `bucket` (a bucket of their own) and judges every page of the listing against the model. */
export async function uploadsListedInPages(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  const made = (
    await Promise.all(
      UPLOADS.map(([key, n]) =>
        Promise.all(
          Array.from({ length: n }, async () => ({ key, uploadId: await createUpload(ctx, c, bucket, key) })),
        ),
      ),
    )
  ).flat();
  const aborted = made.find((u) => u.key === `${PREFIX}b`)!;
  await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: aborted.key, UploadId: aborted.uploadId }));
  const model = made.filter((u) => u !== aborted).sort(byteOrder);

  for (const size of PAGE_SIZES) {
    const seen: Upload[] = [];
    let marker: { key?: string; id?: string } = {};
    for (let page = 1; ; page++) {
      const r = await c.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: PREFIX,
          MaxUploads: size,
          KeyMarker: marker.key,
          UploadIdMarker: marker.id,
        }),
      );
      const got = (r.Uploads ?? []).map((u) => ({ key: u.Key ?? '', uploadId: u.UploadId ?? '' }));
      const want = model.slice(seen.length, seen.length + size);
      const where = `ListMultipartUploads max-uploads=${size}, page ${page} (key-marker ${JSON.stringify(marker.key ?? null)}, upload-id-marker ${marker.id ?? null})`;
      ctx.expect(show(got) === show(want), `${where} answered ${show(got)}, not ${show(want)}`);
      seen.push(...got);
      const more = seen.length < model.length;
      ctx.expect(
        r.IsTruncated === more,
        `${where}: IsTruncated ${r.IsTruncated} with ${model.length - seen.length} left`,
      );
      if (!more) break;
      const last = got.at(-1)!;
      ctx.expect(
        r.NextKeyMarker === last.key && r.NextUploadIdMarker === last.uploadId,
        `${where}: NextKeyMarker ${JSON.stringify(r.NextKeyMarker)} and NextUploadIdMarker ${r.NextUploadIdMarker}, not the page's last upload`,
      );
      marker = { key: r.NextKeyMarker, id: r.NextUploadIdMarker };
    }
  }
  // key-marker alone: the uploads of later keys only, whatever upload ids the marker's key has.
  const afterKey = model.filter((u) => Buffer.compare(Buffer.from(u.key), Buffer.from(`${PREFIX}b`)) > 0);
  const r = await c.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: PREFIX, KeyMarker: `${PREFIX}b` }));
  const got = (r.Uploads ?? []).map((u) => ({ key: u.Key ?? '', uploadId: u.UploadId ?? '' }));
  ctx.expect(
    show(got) === show(afterKey),
    `ListMultipartUploads with key-marker ${PREFIX}b alone answered ${show(got)}, not ${show(afterKey)}`,
  );
  ctx.evidence['uploadsPaged'] = { uploads: model.length, pageSizes: PAGE_SIZES, aborted: 1 };
}
