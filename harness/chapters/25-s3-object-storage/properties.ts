// SOS-I1..I3: the invariants as fast-check properties over the wire, through the AWS SDK.
import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { bytesOf, freshBucket, s3Of } from './s3-client.ts';

const md5 = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;

/** Key characters: ASCII (with S3's awkward ones), Latin, non-BMP, and the delimiter. */
const keyChar = fc.constantFrom('a', 'b', 'z', '0', '/', '-', '.', ' ', '+', '%', '?', '#', 'é', 'ü', '中', '😀', '~');
const keyArb = fc.array(keyChar, { minLength: 1, maxLength: 12 }).map((cs) => cs.join(''));

export async function bytesRoundTrip(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const bucket = await freshBucket(ctx, s3, 'i1');
  const c = s3.client;
  await ctx.property(
    fc.record({
      key: keyArb,
      bytes: fc.oneof(
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.uint8Array({ minLength: 1000, maxLength: 200_000 }),
      ),
      ranges: fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }),
    }),
    async ({ key, bytes, ranges }) => {
      const body = Buffer.from(bytes);
      const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      ctx.expect(put.ETag === md5(body), `PUT ${JSON.stringify(key)}: ETag ${put.ETag}, not ${md5(body)}`);
      const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
      ctx.expect(
        got.equals(body),
        `GET ${JSON.stringify(key)}: ${got.length} bytes differ from the ${body.length} PUT`,
      );
      if (body.length === 0) return;
      for (const [a, b] of ranges) {
        const first = a % body.length;
        const last = first + (b % (body.length - first));
        const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${first}-${last}` }));
        const slice = await bytesOf(r.Body);
        ctx.expect(
          slice.equals(body.subarray(first, last + 1)),
          `bytes=${first}-${last} of ${body.length}: ${slice.length} bytes, not that slice`,
        );
      }
    },
  );
}

/** The listing the spec defines, computed from the keys alone (byte order, prefix, delimiter roll-up). */
export function modelListing(keys: string[], prefix: string, delimiter: string): string[] {
  const sorted = [...new Set(keys)].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  const out: string[] = [];
  for (const k of sorted) {
    if (!k.startsWith(prefix)) continue;
    const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
    const entry = at >= 0 ? `P:${k.slice(0, at + delimiter.length)}` : `K:${k}`;
    if (out.at(-1) !== entry) out.push(entry);
  }
  return out;
}

export async function listingMatchesModel(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  await ctx.property(
    fc.record({
      keys: fc.uniqueArray(keyArb, { minLength: 1, maxLength: 25 }),
      queries: fc.array(
        fc.record({
          prefix: fc.oneof(
            fc.constant(''),
            // By code points: a prefix never ends in half a surrogate pair (not a string S3 can carry).
            keyArb.map((k) => [...k].slice(0, 2).join('')),
          ),
          delimiter: fc.constantFrom('', '/', 'a', '😀'),
          maxKeys: fc.integer({ min: 1, max: 6 }),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    async ({ keys, queries }) => {
      const bucket = await freshBucket(ctx, s3, 'i2');
      for (const k of keys) await c.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: Buffer.from(k) }));
      for (const q of queries) {
        const want = modelListing(keys, q.prefix, q.delimiter);
        const got: string[] = [];
        let token: string | undefined;
        let pages = 0;
        do {
          const page = await c.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              MaxKeys: q.maxKeys,
              ...(q.prefix ? { Prefix: q.prefix } : {}),
              ...(q.delimiter ? { Delimiter: q.delimiter } : {}),
              ...(token ? { ContinuationToken: token } : {}),
            }),
          );
          const entries = [
            ...(page.Contents ?? []).map((o) => `K:${o.Key}`),
            ...(page.CommonPrefixes ?? []).map((p) => `P:${p.Prefix}`),
          ].sort((x, y) => Buffer.compare(Buffer.from(x.slice(2)), Buffer.from(y.slice(2))));
          ctx.expect(entries.length <= q.maxKeys, `a page of max-keys ${q.maxKeys} has ${entries.length} entries`);
          ctx.expect(page.KeyCount === entries.length, `KeyCount ${page.KeyCount} but ${entries.length} entries`);
          got.push(...entries);
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
          ctx.expect(!page.IsTruncated || token, 'a truncated page has no NextContinuationToken');
          pages++;
          ctx.expect(pages <= want.length + 2, `more pages than entries: ${JSON.stringify(got)}`);
        } while (token);
        ctx.expect(
          JSON.stringify(got) === JSON.stringify(want),
          `prefix ${JSON.stringify(q.prefix)} delimiter ${JSON.stringify(q.delimiter)} max-keys ${q.maxKeys}: ` +
            `listed ${JSON.stringify(got)}, the model says ${JSON.stringify(want)}`,
        );
      }
    },
    Math.max(3, Math.ceil(ctx.numRuns / 2)),
  );
}

export async function overwritesAreWhole(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'i3');
  await ctx.property(
    fc.record({
      writers: fc.integer({ min: 2, max: 6 }),
      sizes: fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 6, maxLength: 6 }),
    }),
    async ({ writers, sizes }) => {
      const key = `contended-${Math.random().toString(36).slice(2)}`;
      const bodies = Array.from({ length: writers }, (_, i) => Buffer.alloc(sizes[i]! + i, 65 + i));
      const results = await Promise.allSettled(
        bodies.map((b) => c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: b }))),
      );
      ctx.expect(
        results.every((r) => r.status === 'fulfilled'),
        'a concurrent PUT failed',
      );
      for (let i = 0; i < 3; i++) {
        const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const got = await bytesOf(r.Body);
        const winner = bodies.find((b) => b.equals(got));
        ctx.expect(winner, `after ${writers} concurrent PUTs the object (${got.length} bytes) is no writer's bytes`);
        ctx.expect(r.ETag === md5(winner) && r.ContentLength === winner.length, `the ETag/length are not the winner's`);
      }
    },
  );
}
