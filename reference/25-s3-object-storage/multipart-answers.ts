// S3's XML answers for multipart upload: InitiateMultipartUploadResult, CompleteMultipartUploadResult and
// ListPartsResult.
import type { PartRow } from './metadata-store.ts';
import { el } from './xml.ts';

export function initiateResultXml(bucket: string, key: string, uploadId: string): string {
  return `<InitiateMultipartUploadResult>${el('Bucket', bucket)}${el('Key', key)}${el('UploadId', uploadId)}</InitiateMultipartUploadResult>`;
}

export function completeResultXml(r: { location: string; bucket: string; key: string; etag: string }): string {
  return (
    `<CompleteMultipartUploadResult>${el('Location', r.location)}${el('Bucket', r.bucket)}${el('Key', r.key)}` +
    `${el('ETag', `"${r.etag}"`)}</CompleteMultipartUploadResult>`
  );
}

export function listPartsResultXml(r: {
  bucket: string;
  key: string;
  uploadId: string;
  marker: number;
  maxParts: number;
  parts: PartRow[];
  truncated: boolean;
}): string {
  const parts = r.parts
    .map(
      (p) =>
        `<Part>${el('PartNumber', p.partNumber)}${el('LastModified', new Date(p.lastModified).toISOString())}` +
        `${el('ETag', `"${p.etag}"`)}${el('Size', p.size)}</Part>`,
    )
    .join('');
  const next = r.parts.at(-1)?.partNumber ?? r.marker;
  return (
    `<ListPartsResult>${el('Bucket', r.bucket)}${el('Key', r.key)}${el('UploadId', r.uploadId)}` +
    `${el('PartNumberMarker', r.marker)}${el('NextPartNumberMarker', next)}${el('MaxParts', r.maxParts)}` +
    `${el('IsTruncated', r.truncated)}${el('StorageClass', 'STANDARD')}${parts}</ListPartsResult>`
  );
}
