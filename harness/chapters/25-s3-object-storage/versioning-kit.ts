// What the versioning checks share: ListObjectVersions read in S3's order (versions and delete markers interleaved,
// which the SDK's output splits into two lists), and a GET by version reduced to its bytes or its error.
import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { S3 } from './s3-client.ts';
import { bytesOf, sdkError } from './s3-client.ts';

export interface ListedVersion {
  kind: 'version' | 'marker';
  key: string;
  versionId: string;
  isLatest: boolean;
  etag?: string;
  size?: number;
}

const UNESCAPE: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const text = (xml: string, name: string) => {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return m ? m[1]!.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => UNESCAPE[e]!) : undefined;
};

/** One ListObjectVersions page as answered: its entries in document order, and where the next page starts. */
export async function versionsPage(
  s3: S3,
  input: { Bucket: string; Prefix?: string; MaxKeys?: number; KeyMarker?: string; VersionIdMarker?: string },
): Promise<{ entries: ListedVersion[]; next?: { key: string; versionId: string } }> {
  const r = await s3.client.send(new ListObjectVersionsCommand(input));
  const body = s3.handler.exchanges.at(-1)!.bodyText;
  const entries: ListedVersion[] = [];
  for (const m of body.matchAll(/<(Version|DeleteMarker)>(.*?)<\/\1>/gs)) {
    const inner = m[2]!;
    const size = text(inner, 'Size');
    entries.push({
      kind: m[1] === 'Version' ? 'version' : 'marker',
      key: text(inner, 'Key') ?? '',
      versionId: text(inner, 'VersionId') ?? '',
      isLatest: text(inner, 'IsLatest') === 'true',
      ...(m[1] === 'Version' ? { etag: text(inner, 'ETag'), size: size === undefined ? undefined : Number(size) } : {}),
    });
  }
  // The SDK's own reading of the same answer must agree on how many there are.
  const sdkCount = (r.Versions?.length ?? 0) + (r.DeleteMarkers?.length ?? 0);
  if (sdkCount !== entries.length)
    throw new Error(`the SDK read ${sdkCount} entries where the XML has ${entries.length}`);
  return {
    entries,
    next: r.IsTruncated ? { key: r.NextKeyMarker ?? '', versionId: r.NextVersionIdMarker ?? '' } : undefined,
  };
}

/** Every version of a bucket (under a prefix), following NextKeyMarker / NextVersionIdMarker `pageSize` at a time. */
export async function allVersions(
  s3: S3,
  bucket: string,
  prefix?: string,
  pageSize?: number,
): Promise<ListedVersion[]> {
  const out: ListedVersion[] = [];
  let marker: { key: string; versionId: string } | undefined;
  for (let pages = 0; pages < 10_000; pages++) {
    const p = await versionsPage(s3, {
      Bucket: bucket,
      ...(prefix !== undefined ? { Prefix: prefix } : {}),
      ...(pageSize !== undefined ? { MaxKeys: pageSize } : {}),
      ...(marker ? { KeyMarker: marker.key, VersionIdMarker: marker.versionId } : {}),
    });
    out.push(...p.entries);
    if (!p.next) return out;
    if (p.entries.length === 0) throw new Error('a truncated ListObjectVersions page with no entries');
    marker = p.next;
  }
  throw new Error('ListObjectVersions never ended');
}

/** A GET (by version when given): its bytes and version id, or its error's name and status. */
export async function getVersion(
  c: S3Client,
  bucket: string,
  key: string,
  versionId?: string,
): Promise<{ bytes: Buffer; versionId?: string } | { error: string; status: number | undefined }> {
  let out: { bytes: Buffer; versionId?: string } | undefined;
  const e = await sdkError(
    (async () => {
      const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }));
      out = { bytes: await bytesOf(r.Body), versionId: r.VersionId };
    })(),
  );
  return e ? { error: e.name, status: e.status } : out!;
}

export async function setVersioning(c: S3Client, bucket: string, status: 'Enabled' | 'Suspended'): Promise<void> {
  await c.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }));
}

/** A short description of a listing, for failure messages. */
export function describeVersions(v: ListedVersion[], ids: Map<string, string>): string {
  return v
    .map(
      (e) =>
        `${e.key}:${e.kind === 'marker' ? 'marker ' : ''}${ids.get(e.versionId) ?? e.versionId}${e.isLatest ? '*' : ''}`,
    )
    .join(', ');
}
