// SOS-C4: ListObjectsV2 - order, prefix, delimiter, start-after, pages and their tokens, a long listing - through the
// AWS SDK, every exchange validated against the spec by the recording handler.
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { freshBucket, type S3, s3Of, uniqueBucket } from './s3-client.ts';
import { expectError, md5 } from './s3-expect.ts';
import { listObjectsEncoded } from './url-encoding.ts';

export async function listConformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c4');
  const keys = ['a.txt', 'b/1', 'b/2', 'b/c/3', 'c', 'ü/x', '😀'];
  for (const k of keys) await c.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: Buffer.from(k) }));
  const list = (input: Omit<ConstructorParameters<typeof ListObjectsV2Command>[0], 'Bucket'>) =>
    c.send(new ListObjectsV2Command({ Bucket: bucket, ...input }));
  const names = (r: ListObjectsV2CommandOutput) => (r.Contents ?? []).map((o) => o.Key ?? '');
  const prefixes = (r: ListObjectsV2CommandOutput) => (r.CommonPrefixes ?? []).map((p) => p.Prefix ?? '');

  const all = await list({});
  ctx.expect(JSON.stringify(names(all)) === JSON.stringify(keys), `the whole listing is ${JSON.stringify(names(all))}`);
  ctx.expect(
    all.KeyCount === 7 && all.IsTruncated === false && all.MaxKeys === 1000,
    `KeyCount/IsTruncated/MaxKeys ${all.KeyCount}/${all.IsTruncated}/${all.MaxKeys}`,
  );
  for (const o of all.Contents ?? []) {
    ctx.expect(
      o.Size === Buffer.byteLength(o.Key!) && o.ETag === md5(Buffer.from(o.Key!)),
      `${o.Key}: Size ${o.Size}, ETag ${o.ETag}`,
    );
  }
  const delimited = await list({ Delimiter: '/' });
  ctx.expect(
    JSON.stringify(names(delimited)) === '["a.txt","c","😀"]' && JSON.stringify(prefixes(delimited)) === '["b/","ü/"]',
    `delimiter "/": keys ${JSON.stringify(names(delimited))}, prefixes ${JSON.stringify(prefixes(delimited))}`,
  );
  ctx.expect(delimited.KeyCount === 5, `KeyCount counts keys and prefixes: ${delimited.KeyCount}, not 5`);
  const inB = await list({ Prefix: 'b/', Delimiter: '/' });
  ctx.expect(
    JSON.stringify(names(inB)) === '["b/1","b/2"]' && JSON.stringify(prefixes(inB)) === '["b/c/"]',
    `prefix b/: keys ${JSON.stringify(names(inB))}, prefixes ${JSON.stringify(prefixes(inB))}`,
  );
  const after = await list({ StartAfter: 'b/2' });
  ctx.expect(
    JSON.stringify(names(after)) === '["b/c/3","c","ü/x","😀"]',
    `start-after b/2: ${JSON.stringify(names(after))}`,
  );

  // Pages of two: truncated pages carry a token, the tokens walk the listing once.
  const seen: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page = await list({ MaxKeys: 2, ...(token ? { ContinuationToken: token } : {}) });
    pages++;
    ctx.expect(page.MaxKeys === 2 && (page.KeyCount ?? 0) <= 2, `a max-keys=2 page has ${page.KeyCount} keys`);
    ctx.expect(
      page.IsTruncated === (page.NextContinuationToken !== undefined),
      'IsTruncated and NextContinuationToken disagree',
    );
    ctx.expect(!token || page.ContinuationToken === token, 'a page does not echo its ContinuationToken');
    seen.push(...names(page));
    token = page.NextContinuationToken;
    ctx.expect(pages <= 5, 'the pages of two do not end after 4 pages');
  } while (token);
  ctx.expect(JSON.stringify(seen) === JSON.stringify(keys), `the pages of two gave ${JSON.stringify(seen)}`);
  ctx.expect(pages === 4, `7 keys in pages of two took ${pages} pages, not 4`);
  // A page exactly as long as what is left is the last one: not truncated, no token.
  const full = await list({ MaxKeys: 7 });
  ctx.expect(
    full.KeyCount === 7 && full.IsTruncated === false && full.NextContinuationToken === undefined,
    `max-keys=7 over 7 keys: KeyCount ${full.KeyCount}, IsTruncated ${full.IsTruncated}, token ${full.NextContinuationToken !== undefined}`,
  );
  const zero = await list({ Prefix: 'zz' });
  ctx.expect(zero.KeyCount === 0 && (zero.Contents ?? []).length === 0, 'a prefix matching nothing lists something');
  await expectError(
    ctx,
    c.send(new ListObjectsV2Command({ Bucket: uniqueBucket('c4-none') })),
    'NoSuchBucket',
    404,
    'listing a missing bucket',
  );
  await expectError(
    ctx,
    list({ ContinuationToken: '!!not a token!!' }),
    'InvalidArgument',
    400,
    'a malformed continuation token',
  );
  await longListing(ctx, s3);
  await listObjectsEncoded(ctx, s3);
}

/**
 * A key equal to the prefix (a "folder" marker) is listed under it; and 501 keys in one listing come back once each
 * (an implementation that reads its store in batches must not repeat or drop a key at a batch's edge).
 */
async function longListing(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c4-long');
  const put = (k: string) => c.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: Buffer.alloc(0) }));
  for (const k of ['d/', 'd/x', 'e']) await put(k);
  const marker = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'd/' }));
  const under = (marker.Contents ?? []).map((o) => o.Key ?? '');
  ctx.expect(JSON.stringify(under) === '["d/","d/x"]', `prefix d/ lists ${JSON.stringify(under)}, not d/ and d/x`);
  const keys = ['d/', 'd/x', 'e', ...Array.from({ length: 498 }, (_, i) => `f/${String(i).padStart(3, '0')}`)];
  for (let i = 3; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map(put));
  const all = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  const got = (all.Contents ?? []).map((o) => o.Key ?? '');
  const dup = got.find((k, i) => got.indexOf(k) !== i);
  const missing = keys.filter((k) => !got.includes(k));
  ctx.expect(
    all.KeyCount === 501 && all.IsTruncated === false && JSON.stringify(got) === JSON.stringify(keys),
    `501 keys listed as ${got.length} (KeyCount ${all.KeyCount}, truncated ${all.IsTruncated}): duplicate ${dup ?? 'none'}, missing ${missing.slice(0, 3).join(', ') || 'none'}`,
  );
}
