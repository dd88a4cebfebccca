// S3's XML answers for versioning: GetBucketVersioning's VersioningConfiguration and ListObjectVersions'
// ListVersionsResult (versions and delete markers interleaved: keys in byte order, each key's newest first).
import type { VersioningStatus, VersionRow } from './metadata-store.ts';
import { el } from './xml.ts';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function versioningConfigurationXml(status: VersioningStatus | undefined): string {
  // A bucket never versioned answers the element without a Status, as S3 does.
  return `<VersioningConfiguration xmlns="${S3_NS}">${el('Status', status)}</VersioningConfiguration>`;
}

export function listVersionsResultXml(l: {
  bucket: string;
  prefix: string;
  keyMarker: string;
  versionIdMarker: string;
  maxKeys: number;
  encoding: string | null;
  entries: VersionRow[];
  next: VersionRow | undefined;
}): string {
  const enc = (s: string) => (l.encoding === 'url' ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const entries = l.entries
    .map((v) => {
      const common =
        `${el('Key', enc(v.key.toString('utf8')))}${el('VersionId', v.versionId)}${el('IsLatest', v.isLatest)}` +
        `${el('LastModified', new Date(v.lastModified).toISOString())}`;
      return v.isMarker
        ? `<DeleteMarker>${common}</DeleteMarker>`
        : `<Version>${common}${el('ETag', `"${v.etag}"`)}${el('Size', v.size)}${el('StorageClass', 'STANDARD')}</Version>`;
    })
    .join('');
  const next = l.next
    ? `${el('NextKeyMarker', enc(l.next.key.toString('utf8')))}${el('NextVersionIdMarker', l.next.versionId)}`
    : '';
  return (
    `<ListVersionsResult>${el('Name', l.bucket)}${el('Prefix', enc(l.prefix))}${el('KeyMarker', enc(l.keyMarker))}` +
    `${el('VersionIdMarker', l.versionIdMarker)}${el('MaxKeys', l.maxKeys)}` +
    `${l.encoding ? el('EncodingType', l.encoding) : ''}${el('IsTruncated', l.next !== undefined)}${next}${entries}` +
    '</ListVersionsResult>'
  );
}
