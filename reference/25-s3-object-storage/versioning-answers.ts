// S3's XML answers for versioning: GetBucketVersioning's VersioningConfiguration and ListObjectVersions'
// ListVersionsResult (versions and delete markers interleaved: keys in byte order, each key's newest first).
import type { VersioningStatus } from './metadata-store.ts';
import type { MutantName } from './mutants.ts';
import type { VersionsPage } from './versions-listing.ts';
import { el, urlEncoded } from './xml.ts';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

export function versioningConfigurationXml(status: VersioningStatus | undefined): string {
  // A bucket never versioned answers the element without a Status, as S3 does.
  return `<VersioningConfiguration xmlns="${S3_NS}">${el('Status', status)}</VersioningConfiguration>`;
}

export function listVersionsResultXml(l: {
  bucket: string;
  prefix: string;
  delimiter: string;
  keyMarker: string;
  versionIdMarker: string;
  maxKeys: number;
  encoding: string | null;
  page: VersionsPage;
  mutant?: MutantName | undefined;
}): string {
  const enc = (s: string) => (l.encoding === 'url' ? urlEncoded(s) : s);
  const entries = l.page.entries
    .map((e) => {
      if (e.kind === 'prefix') return '';
      const v = e.row;
      const common =
        `${el('Key', enc(v.key.toString('utf8')))}${el('VersionId', v.versionId)}${el('IsLatest', v.isLatest)}` +
        `${el('LastModified', new Date(v.lastModified).toISOString())}`;
      return v.isMarker
        ? `<DeleteMarker>${common}</DeleteMarker>`
        : `<Version>${common}${el('ETag', `"${v.etag}"`)}${el('Size', v.size)}${el('StorageClass', 'STANDARD')}</Version>`;
    })
    .join('');
  // MUTANT versions-prefix-unencoded: CommonPrefixes' Prefix answered as it is under encoding-type=url.
  const encPrefix = l.mutant === 'versions-prefix-unencoded' ? (s: string) => s : enc;
  const prefixes = l.page.entries
    .map((e) =>
      e.kind === 'prefix'
        ? `<CommonPrefixes>${el('Prefix', encPrefix(e.prefix.toString('utf8')))}</CommonPrefixes>`
        : '',
    )
    .join('');
  const n = l.page.next;
  // A page that ends on a common prefix resumes after it: NextKeyMarker is the prefix, with no version id.
  // MUTANT versions-prefix-marker-key: a page ending on a common prefix names its first version as the marker.
  const markerRow = n?.kind === 'prefix' && l.mutant === 'versions-prefix-marker-key' ? n.first : undefined;
  // MUTANT versions-next-marker-unencoded: NextKeyMarker answered as it is under encoding-type=url.
  const encNext = l.mutant === 'versions-next-marker-unencoded' ? (s: string) => s : enc;
  const row = n?.kind === 'version' ? n.row : markerRow;
  let next = '';
  if (row)
    next = `${el('NextKeyMarker', encNext(row.key.toString('utf8')))}${el('NextVersionIdMarker', row.versionId)}`;
  else if (n?.kind === 'prefix') next = el('NextKeyMarker', encNext(n.prefix.toString('utf8')));
  return (
    `<ListVersionsResult>${el('Name', l.bucket)}${el('Prefix', enc(l.prefix))}${el('KeyMarker', enc(l.keyMarker))}` +
    `${el('VersionIdMarker', l.versionIdMarker)}${l.delimiter ? el('Delimiter', enc(l.delimiter)) : ''}` +
    `${el('MaxKeys', l.maxKeys)}${l.encoding ? el('EncodingType', l.encoding) : ''}` +
    `${el('IsTruncated', n !== undefined)}${next}${entries}${prefixes}</ListVersionsResult>`
  );
}
