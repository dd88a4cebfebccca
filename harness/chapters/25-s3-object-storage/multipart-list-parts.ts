// SOS-C6's ListParts: every part uploaded (number, size, MD5 ETag) in part-number order, whole and a page at a time.
import { ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import type { UploadRef } from './multipart-kit.ts';

/** ListParts reports every part uploaded (number, size, MD5 ETag), whole and a page at a time. */
export async function listsParts(
  ctx: CheckContext,
  c: S3Client,
  u: UploadRef,
  bodies: Buffer[],
  etags: string[],
): Promise<void> {
  const base = { Bucket: u.bucket, Key: u.key, UploadId: u.uploadId };
  const show = (ps: { PartNumber?: number; Size?: number; ETag?: string }[] | undefined) =>
    JSON.stringify((ps ?? []).map((p) => [p.PartNumber, p.Size, p.ETag]));
  const want = bodies.map((b, i) => [i + 1, b.length, etags[i]]);
  const all = await c.send(new ListPartsCommand(base));
  ctx.expect(
    show(all.Parts) === JSON.stringify(want),
    `ListParts says ${show(all.Parts)}; uploaded ${JSON.stringify(want)}`,
  );
  ctx.expect(!all.IsTruncated, 'ListParts of every part says it is truncated');
  // A page exactly as long as what is left is the last one: nothing follows it.
  const exact = await c.send(new ListPartsCommand({ ...base, MaxParts: bodies.length }));
  ctx.expect(
    show(exact.Parts) === JSON.stringify(want) && exact.IsTruncated !== true,
    `ListParts max-parts ${bodies.length} of ${bodies.length} parts: ${show(exact.Parts)}, truncated ${exact.IsTruncated}`,
  );
  const page1 = await c.send(new ListPartsCommand({ ...base, MaxParts: 2 }));
  ctx.expect(
    show(page1.Parts) === JSON.stringify(want.slice(0, 2)) && page1.IsTruncated === true,
    `ListParts max-parts 2: ${show(page1.Parts)}, truncated ${page1.IsTruncated}`,
  );
  const page2 = await c.send(
    new ListPartsCommand({ ...base, MaxParts: 2, PartNumberMarker: page1.NextPartNumberMarker }),
  );
  ctx.expect(
    show(page2.Parts) === JSON.stringify(want.slice(2)) && page2.IsTruncated !== true,
    `ListParts after marker ${page1.NextPartNumberMarker}: ${show(page2.Parts)}, truncated ${page2.IsTruncated}`,
  );
}
