// ListMultipartUploads (GET /{Bucket}?uploads): the uploads in progress in a bucket, in key byte order then upload
// id, paged by key-marker and upload-id-marker. An upload past its expiry (upload-expiry.ts) is not listed, swept
// or not. No delimiter roll-up (400 InvalidArgument).
import type { FastifyReply } from 'fastify';
import type { AppOptions } from './app.ts';
import type { UploadRow } from './metadata-store.ts';
import type { Target } from './request-target.ts';
import { S3Error, sendXml } from './s3-answers.ts';
import { el, urlEncoded } from './xml.ts';

const MAX_UPLOADS = 1000;
/** Sorts after every upload id (byte-wise): a key-marker alone resumes after every upload of that key. */
const AFTER_EVERY_ID = '\u{10FFFF}';

export async function listMultipartUploads(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
  const q = t.query;
  const maxText = q.get('max-uploads');
  if (maxText !== null && !/^[0-9]{1,9}$/.test(maxText)) {
    throw new S3Error(400, 'InvalidArgument', 'max-uploads must be a non-negative integer');
  }
  if (q.has('delimiter')) throw new S3Error(400, 'InvalidArgument', 'ListMultipartUploads takes no delimiter here');
  const encoding = q.get('encoding-type');
  if (encoding !== null && encoding !== 'url') throw new S3Error(400, 'InvalidArgument', 'encoding-type must be url');
  const maxUploads = Math.min(maxText === null ? MAX_UPLOADS : Number(maxText), MAX_UPLOADS);
  const prefix = q.get('prefix') ?? '';
  const keyMarker = q.get('key-marker');
  const idMarker = keyMarker === null ? null : q.get('upload-id-marker');
  // MUTANT upload-id-marker-ignored: a page ending inside one key's uploads skips the rest of them.
  const resumeId = o.mutant === 'upload-id-marker-ignored' ? null : idMarker;
  const after =
    keyMarker === null
      ? { key: Buffer.from(prefix), uploadId: '' }
      : { key: Buffer.from(keyMarker), uploadId: resumeId || AFTER_EVERY_ID };
  // Expired uploads are skipped: read past them until the page is full or the bucket ends.
  const page: UploadRow[] = [];
  let truncated = false;
  for (let from: { key: Buffer; uploadId: string } = after; maxUploads > 0; ) {
    const rows = await o.meta.uploads(t.bucket, Buffer.from(prefix), from, maxUploads + 1);
    const now = Date.now();
    for (const r of rows) {
      if (await o.uploadExpiry.expired(r, now)) continue;
      if (page.length === maxUploads) {
        truncated = true;
        break;
      }
      page.push(r);
    }
    if (truncated || rows.length <= maxUploads) break;
    from = { key: rows.at(-1)!.key, uploadId: rows.at(-1)!.uploadId };
  }
  const text = (s: string) => (encoding === 'url' ? urlEncoded(s) : s);
  const last = page.at(-1);
  const uploads = page
    .map(
      (u) =>
        `<Upload>${el('Key', text(u.key.toString('utf8')))}${el('UploadId', u.uploadId)}` +
        `${el('Initiated', new Date(u.initiated).toISOString())}${el('StorageClass', 'STANDARD')}</Upload>`,
    )
    .join('');
  return sendXml(
    reply,
    200,
    `<ListMultipartUploadsResult>${el('Bucket', t.bucket)}${el('KeyMarker', text(keyMarker ?? ''))}` +
      `${el('UploadIdMarker', idMarker ?? '')}` +
      `${truncated && last ? el('NextKeyMarker', text(last.key.toString('utf8'))) + el('NextUploadIdMarker', last.uploadId) : ''}` +
      `${el('Prefix', text(prefix))}${el('MaxUploads', maxUploads)}${el('IsTruncated', truncated)}` +
      `${encoding === 'url' ? el('EncodingType', 'url') : ''}${uploads}</ListMultipartUploadsResult>`,
  );
}
