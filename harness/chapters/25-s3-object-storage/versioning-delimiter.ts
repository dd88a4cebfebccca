// SOS-C8's part for ListObjectVersions with a delimiter and with encoding-type=url, through the AWS SDK: keys with
// the delimiter after the prefix roll up into CommonPrefixes (each counted once toward max-keys), a key equal to the
// prefix is a key, pages of every small max-keys walk the listing once (a page that ends on a common prefix resumes
// at NextKeyMarker = that prefix), and under encoding-type=url every key-like field is URL-encoded.
import { DeleteObjectCommand, ListObjectVersionsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { freshBucket, type S3 } from './s3-client.ts';
import { expectError } from './s3-expect.ts';
import { ENCODED_KEYS, ENCODED_PREFIX, expectEncoded, formDecoded } from './url-encoding.ts';
import { setVersioning } from './versioning-kit.ts';

/** PUTs per key (a trailing `-` adds a delete marker on top): delimiters at several depths, a key equal to dir/. */
const LAYOUT: [string, number, boolean][] = [
  ['dir/', 2, false],
  ['dir/a/1', 2, false],
  ['dir/a/2', 1, true],
  ['dir/a/b/deep', 1, false],
  ['dir/b/x', 3, false],
  ['dir/c', 1, true],
  ['dir/d/y', 1, false],
  ['dir/e', 1, false],
  ['other/z', 1, false],
  ['top', 1, false],
];

interface Page {
  /** Counted entries in key order: `key:vN` / `key:mN` (marker), `[prefix]` for a common prefix. */
  entries: string[];
  next?: { key: string; versionId?: string };
}

export async function versionsDelimited(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c8p');
  await setVersioning(c, bucket, 'Enabled');
  const names = new Map<string, string>();
  for (const [key, puts, marker] of LAYOUT) {
    for (let i = 1; i <= puts; i++) {
      const r = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(`${key}${i}`) }));
      names.set(r.VersionId!, `v${i}`);
    }
    if (marker) names.set((await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))).VersionId!, 'm');
  }
  const page = (input: { Prefix?: string; MaxKeys?: number; KeyMarker?: string; VersionIdMarker?: string }) =>
    delimitedPage(s3, bucket, { Delimiter: '/', ...input }, names);
  const cases: [string | undefined, string[]][] = [
    ['dir/', ['dir/:v2', 'dir/:v1', '[dir/a/]', '[dir/b/]', 'dir/c:m', 'dir/c:v1', '[dir/d/]', 'dir/e:v1']],
    ['dir/a/', ['dir/a/1:v2', 'dir/a/1:v1', 'dir/a/2:m', 'dir/a/2:v1', '[dir/a/b/]']],
    [undefined, ['[dir/]', '[other/]', 'top:v1']],
  ];
  for (const [prefix, want] of cases) {
    const at = prefix === undefined ? 'no prefix' : `prefix ${prefix}`;
    const whole = await page(prefix === undefined ? {} : { Prefix: prefix });
    ctx.expect(
      whole.entries.join(', ') === want.join(', ') && !whole.next,
      `ListObjectVersions delimiter / ${at}: [${whole.entries.join(', ')}]${whole.next ? ' truncated' : ''}, ` +
        `not [${want.join(', ')}]`,
    );
    for (const maxKeys of [1, 2, 3]) {
      const walked: string[] = [];
      let marker: Page['next'];
      for (let n = 0; n < 20; n++) {
        const p = await page({
          ...(prefix === undefined ? {} : { Prefix: prefix }),
          MaxKeys: maxKeys,
          ...(marker ? { KeyMarker: marker.key, VersionIdMarker: marker.versionId } : {}),
        });
        walked.push(...p.entries);
        const last = p.entries.at(-1);
        if (p.next) {
          ctx.expect(
            p.entries.length === maxKeys,
            `ListObjectVersions delimiter / ${at} max-keys ${maxKeys}: a truncated page counts ` +
              `${p.entries.length} entries [${p.entries.join(', ')}], not ${maxKeys} (a common prefix counts once)`,
          );
          // A page that ends on a common prefix resumes after it: NextKeyMarker is the prefix itself.
          if (last?.startsWith('['))
            ctx.expect(
              p.next.key === last.slice(1, -1) && !p.next.versionId,
              `ListObjectVersions ${at} max-keys ${maxKeys}: a page ending on ${last} answered NextKeyMarker ` +
                `${p.next.key} / NextVersionIdMarker ${p.next.versionId}, not the prefix without a version id`,
            );
        }
        marker = p.next;
        if (!marker || p.entries.length === 0) break;
      }
      ctx.expect(
        walked.join(', ') === want.join(', '),
        `ListObjectVersions delimiter / ${at} in pages of ${maxKeys}: [${walked.join(', ')}], not [${want.join(', ')}]`,
      );
    }
  }
}

/** One page read through the SDK: versions, delete markers and common prefixes merged in key order. */
async function delimitedPage(
  s3: S3,
  bucket: string,
  input: { Delimiter: string; Prefix?: string; MaxKeys?: number; KeyMarker?: string; VersionIdMarker?: string },
  names: Map<string, string>,
): Promise<Page> {
  const r = await s3.client.send(new ListObjectVersionsCommand({ Bucket: bucket, ...input }));
  const rows: [string, number, string][] = [];
  // Versions and delete markers come in two lists; the raw answer's document order keeps each key's newest first.
  const order = [...s3.handler.exchanges.at(-1)!.bodyText.matchAll(/<VersionId>([^<]*)<\/VersionId>/g)].map(
    (m) => m[1],
  );
  for (const v of [...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])])
    rows.push([v.Key ?? '', order.indexOf(v.VersionId), `${v.Key}:${names.get(v.VersionId ?? '') ?? v.VersionId}`]);
  for (const p of r.CommonPrefixes ?? []) rows.push([p.Prefix ?? '', -1, `[${p.Prefix}]`]);
  rows.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])) || a[1] - b[1]);
  return {
    entries: rows.map((x) => x[2]),
    next: r.IsTruncated ? { key: r.NextKeyMarker ?? '', versionId: r.NextVersionIdMarker || undefined } : undefined,
  };
}

/** ListObjectVersions with encoding-type=url and delimiter `|`, walked one entry a page: every field encoded. */
export async function versionsEncoded(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c8e');
  await setVersioning(c, bucket, 'Enabled');
  for (const k of ENCODED_KEYS) await c.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: Buffer.from('e') }));
  const want = [ENCODED_KEYS[0]!, ENCODED_KEYS[1]!, `${ENCODED_PREFIX}x|`, ENCODED_KEYS[3]!, `${ENCODED_PREFIX}ü|`];
  for (const maxKeys of [1, 1000]) {
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let n = 0; n < 10; n++) {
      const r = await c.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: ENCODED_PREFIX,
          Delimiter: '|',
          EncodingType: 'url',
          MaxKeys: maxKeys,
          ...(keyMarker !== undefined ? { KeyMarker: keyMarker, VersionIdMarker: versionIdMarker } : {}),
        }),
      );
      const at = `(page ${n + 1} of max-keys ${maxKeys})`;
      ctx.expect(r.EncodingType === 'url', `ListObjectVersions EncodingType ${r.EncodingType} ${at}`);
      expectEncoded(ctx, `ListObjectVersions Prefix ${at}`, r.Prefix, ENCODED_PREFIX);
      expectEncoded(ctx, `ListObjectVersions Delimiter ${at}`, r.Delimiter, '|');
      if (keyMarker !== undefined) expectEncoded(ctx, `ListObjectVersions KeyMarker ${at}`, r.KeyMarker, keyMarker);
      const got = [
        ...[...(r.Versions ?? []), ...(r.DeleteMarkers ?? [])].map((v) => ['Key', v.Key ?? '']),
        ...(r.CommonPrefixes ?? []).map((p) => ['CommonPrefixes Prefix', p.Prefix ?? '']),
      ];
      for (const [field, value] of got) {
        const decoded = formDecoded(value!) ?? value!;
        const i = want.indexOf(decoded);
        expectEncoded(ctx, `ListObjectVersions ${field} ${at}`, value, i >= 0 ? want[i]! : `one of ${want.join()}`);
        seen.push(decoded);
      }
      if (!r.IsTruncated) break;
      // A client decodes NextKeyMarker before it sends it back as key-marker.
      const last = seen.at(-1) ?? '';
      expectEncoded(ctx, `ListObjectVersions NextKeyMarker ${at}`, r.NextKeyMarker, last);
      keyMarker = formDecoded(r.NextKeyMarker ?? '') ?? r.NextKeyMarker ?? '';
      versionIdMarker = r.NextVersionIdMarker;
    }
    seen.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    ctx.expect(
      seen.join('\n') === want.join('\n'),
      `ListObjectVersions encoded, delimiter |, max-keys ${maxKeys}: ${JSON.stringify(seen)}, not ${JSON.stringify(want)}`,
    );
  }
}

/**
 * ListObjectVersions on a bucket never versioned (each object its `null` version) over 501 keys, more than one batch
 * of a store read in batches: with delimiter `/` the 498 keys under `f/` roll up into one common prefix answered
 * once, key-marker starts after that key (its `null` version is not answered again), and an encoding-type other
 * than url is 400 InvalidArgument.
 */
export async function versionsNeverVersioned(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c8n');
  const put = (k: string) => c.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: Buffer.alloc(0) }));
  const keys = ['d/', 'd/x', 'e', ...Array.from({ length: 498 }, (_, i) => `f/${String(i).padStart(3, '0')}`)];
  for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map(put));
  const list = async (input: { Delimiter?: string; KeyMarker?: string; MaxKeys?: number }) => {
    const r = await c.send(new ListObjectVersionsCommand({ Bucket: bucket, ...input }));
    const versions = (r.Versions ?? []).map((v) => `${v.Key}:${v.VersionId}`);
    const prefixes = (r.CommonPrefixes ?? []).map((p) => `[${p.Prefix}]`);
    return `${[...versions, ...prefixes].join(', ')}${r.IsTruncated ? ' truncated' : ''}`;
  };
  const cases: [{ Delimiter?: string; KeyMarker?: string; MaxKeys?: number }, string][] = [
    [{ Delimiter: '/' }, 'e:null, [d/], [f/]'],
    [{ Delimiter: '/', KeyMarker: 'e' }, '[f/]'],
    [{ KeyMarker: 'e', MaxKeys: 2 }, 'f/000:null, f/001:null truncated'],
    [{ KeyMarker: 'f/496' }, 'f/497:null'],
  ];
  for (const [input, want] of cases) {
    const got = await list(input);
    ctx.expect(
      got === want,
      `ListObjectVersions on a bucket never versioned (501 keys), ${JSON.stringify(input)}: [${got}], not [${want}]`,
    );
  }
  await expectError(
    ctx,
    c.send(new ListObjectVersionsCommand({ Bucket: bucket, EncodingType: 'xml' as 'url' })),
    'InvalidArgument',
    400,
    'ListObjectVersions with encoding-type=xml',
  );
}
