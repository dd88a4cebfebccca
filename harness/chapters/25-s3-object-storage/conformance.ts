// SOS-C1..C5: every operation and every documented status, errors included, driven through the AWS SDK (every
// exchange validated against the spec by the recording handler) and raw HTTP where the SDK cannot say it.
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import {
  bytesOf,
  credentialsOf,
  type S3,
  type SdkRequest,
  s3Of,
  sdkError,
  type Tamper,
  uniqueBucket,
} from './s3-client.ts';

const md5 = (b: Buffer) => `"${createHash('md5').update(b).digest('hex')}"`;

async function expectError(ctx: CheckContext, call: Promise<unknown>, name: string, status: number, what: string) {
  const e = await sdkError(call);
  ctx.expect(e, `${what}: succeeded; expected ${status} ${name}`);
  ctx.expect(e.status === status && e.name === name, `${what}: got ${e.status} ${e.name}; expected ${status} ${name}`);
}

/** A fresh bucket, created through the SDK. */
export async function freshBucket(_ctx: CheckContext, s3: S3, prefix: string): Promise<string> {
  const bucket = uniqueBucket(prefix);
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

export async function readinessConformance(ctx: CheckContext): Promise<void> {
  const r = await ctx.http.send({ method: 'GET', path: '/health/ready' });
  ctx.expectStatus(r, 200);
  ctx.expect(
    (r.body as { status?: string } | undefined)?.status === 'ready',
    'readiness body is not {status: ready}',
    r,
  );
  // Undeclared methods: 405 MethodNotAllowed with Allow, before authentication (the spec's rule on every path).
  for (const probe of [
    { method: 'PATCH', path: '/', allow: ['GET'] },
    { method: 'POST', path: '/some-bucket', allow: ['PUT', 'HEAD', 'DELETE', 'GET'] },
    { method: 'PATCH', path: '/some-bucket/a/b.txt', allow: ['PUT', 'GET', 'HEAD', 'DELETE'] },
  ]) {
    const x = await ctx.http.send({ method: probe.method, path: probe.path, validRequest: false });
    ctx.expect(x.status === 405, `${probe.method} ${probe.path} got ${x.status ?? x.error}, not 405`, x);
    const allow = (x.headers.allow ?? '').split(',').map((s) => s.trim());
    ctx.expect(
      probe.allow.every((m) => allow.includes(m)),
      `the 405 for ${probe.method} ${probe.path} has Allow "${x.headers.allow}", not ${probe.allow.join(', ')}`,
      x,
    );
    ctx.expect(/<Code>MethodNotAllowed<\/Code>/.test(x.bodyText), 'the 405 body is not an S3 MethodNotAllowed', x);
  }
  // A listing without list-type=2 (version 1, which the spec does not offer): 400, signed, not a 5xx.
  const s3 = s3Of(ctx);
  const bucket = await freshBucket(ctx, s3, 'c1');
  const list = new ListObjectsV2Command({ Bucket: bucket });
  list.middlewareStack.add(
    (next) => async (args) => {
      delete (args.request as SdkRequest).query['list-type'];
      return next(args);
    },
    { step: 'build', name: 'dropListType' },
  );
  await expectError(ctx, s3.client.send(list), 'InvalidArgument', 400, 'listing without list-type=2');
}

export async function bucketConformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const bucket = uniqueBucket('c2');
  const created = await c.send(new CreateBucketCommand({ Bucket: bucket }));
  ctx.expect(created.$metadata.httpStatusCode === 200, `CreateBucket answered ${created.$metadata.httpStatusCode}`);
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'kept', Body: Buffer.from('kept') }));
  await expectError(
    ctx,
    c.send(new CreateBucketCommand({ Bucket: bucket })),
    'BucketAlreadyOwnedByYou',
    409,
    'creating it again',
  );
  const kept = await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'kept' }));
  ctx.expect((await bytesOf(kept.Body)).toString() === 'kept', 'the 409 lost the bucket object "kept"');
  const head = await c.send(new HeadBucketCommand({ Bucket: bucket }));
  ctx.expect(head.$metadata.httpStatusCode === 200, 'HeadBucket of an existing bucket is not 200');
  await expectError(
    ctx,
    c.send(new HeadBucketCommand({ Bucket: uniqueBucket('c2-none') })),
    'NotFound',
    404,
    'HEAD of a missing bucket',
  );
  const all = await c.send(new ListBucketsCommand({}));
  ctx.expect(
    all.Buckets?.some((b) => b.Name === bucket),
    `ListBuckets does not list ${bucket}`,
  );
  for (const bad of ['ab', 'UPPER-case', 'has_underscore', `${'x'.repeat(64)}`, '-starts-with-dash']) {
    await expectError(
      ctx,
      c.send(new CreateBucketCommand({ Bucket: bad })),
      'InvalidBucketName',
      400,
      `bucket name "${bad}"`,
    );
  }
  await expectError(
    ctx,
    c.send(new DeleteBucketCommand({ Bucket: bucket })),
    'BucketNotEmpty',
    409,
    'deleting a non-empty bucket',
  );
  // A zero-byte object (a "folder" marker) is an object: the bucket that holds only it is not empty.
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'kept' }));
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'folder/', Body: Buffer.alloc(0) }));
  await expectError(
    ctx,
    c.send(new DeleteBucketCommand({ Bucket: bucket })),
    'BucketNotEmpty',
    409,
    'deleting a bucket that holds only a zero-byte object',
  );
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'folder/' }));
  const del = await c.send(new DeleteBucketCommand({ Bucket: bucket }));
  ctx.expect(del.$metadata.httpStatusCode === 204, `deleting an empty bucket answered ${del.$metadata.httpStatusCode}`);
  await expectError(ctx, c.send(new DeleteBucketCommand({ Bucket: bucket })), 'NoSuchBucket', 404, 'deleting it again');
  const after = await c.send(new ListBucketsCommand({}));
  ctx.expect(!after.Buckets?.some((b) => b.Name === bucket), `ListBuckets still lists the deleted ${bucket}`);
}

async function getRange(c: S3Client, bucket: string, key: string, range: string) {
  const r = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: range }));
  return { bytes: await bytesOf(r.Body), contentRange: r.ContentRange, status: r.$metadata.httpStatusCode };
}

export async function objectConformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c3');
  const key = 'photos/2026/ünï 😀 +?&=.bin';
  const bytes = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) % 256));
  const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes }));
  ctx.expect(put.ETag === md5(bytes), `PutObject's ETag ${put.ETag} is not the MD5 ${md5(bytes)}`);
  const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect((await bytesOf(got.Body)).equals(bytes), 'GetObject did not return the bytes PUT');
  ctx.expect(
    got.ETag === md5(bytes) && got.ContentLength === 300,
    `GET's ETag/length ${got.ETag}/${got.ContentLength}`,
  );
  for (const [range, first, last] of [
    ['bytes=0-0', 0, 0],
    ['bytes=10-19', 10, 19],
    ['bytes=290-', 290, 299],
    ['bytes=-5', 295, 299],
    ['bytes=250-1000', 250, 299],
    ['bytes=0-299', 0, 299],
  ] as const) {
    const r = await getRange(c, bucket, key, range);
    ctx.expect(r.status === 206, `${range}: status ${r.status}, not 206`);
    ctx.expect(
      r.contentRange === `bytes ${first}-${last}/300`,
      `${range}: Content-Range ${r.contentRange}, not bytes ${first}-${last}/300`,
    );
    ctx.expect(r.bytes.equals(bytes.subarray(first, last + 1)), `${range}: not the bytes ${first}..${last}`);
  }
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: 'bytes=300-' })),
    'InvalidRange',
    416,
    'a range past the end',
  );
  const notModified = await sdkError(
    c.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfNoneMatch: md5(bytes) })),
  );
  ctx.expect(
    notModified?.status === 304,
    `If-None-Match with the ETag answered ${notModified?.status ?? 200}, not 304`,
  );
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: '"00000000000000000000000000000000"' })),
    'PreconditionFailed',
    412,
    'If-Match with another ETag',
  );
  const head = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(
    head.ContentLength === 300 && head.ETag === md5(bytes),
    `HEAD says ${head.ContentLength} bytes, ${head.ETag}`,
  );
  // Last-Modified is the time of the PUT: SigV4 already holds the two clocks within 15 minutes of each other.
  const age = Date.now() - (head.LastModified?.getTime() ?? 0);
  ctx.expect(
    Math.abs(age) <= 16 * 60 * 1000,
    `HEAD's Last-Modified ${head.LastModified?.toISOString()} is not the time of the PUT (now ${new Date().toISOString()})`,
  );
  await sameBytesTwice(ctx, c, bucket);
  await sameKeyTwoBuckets(ctx, s3, bucket);

  // An empty object, and an overwrite (the whole object replaced).
  const empty = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'empty', Body: Buffer.alloc(0) }));
  ctx.expect(empty.ETag === '"d41d8cd98f00b204e9800998ecf8427e"', `the empty object's ETag is ${empty.ETag}`);
  ctx.expect(
    (await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'empty' }))).Body)).length === 0,
    'the empty object is not empty',
  );
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('short') }));
  const over = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect((await bytesOf(over.Body)).toString() === 'short', 'an overwrite did not replace the whole object');

  // A wrong checksum: 400 BadDigest and nothing stored (the key keeps its bytes).
  const forged = new PutObjectCommand({
    Bucket: bucket,
    Key: key,
    Body: Buffer.from('forged'),
    ChecksumCRC32: 'AAAAAA==',
  });
  await expectError(ctx, c.send(forged), 'BadDigest', 400, 'a PUT whose x-amz-checksum-crc32 is wrong');
  const md5Bad = new PutObjectCommand({
    Bucket: bucket,
    Key: 'md5',
    Body: Buffer.from('x'),
    ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==',
  });
  await expectError(ctx, c.send(md5Bad), 'BadDigest', 400, 'a PUT whose Content-MD5 is wrong');
  // Each digest given is checked, not just the first: a right Content-MD5 does not excuse a wrong CRC-32.
  const crcBadMd5Good = new PutObjectCommand({
    Bucket: bucket,
    Key: 'md5',
    Body: Buffer.from('x'),
    ContentMD5: createHash('md5').update('x').digest('base64'),
    ChecksumCRC32: 'AAAAAA==',
  });
  await expectError(ctx, c.send(crcBadMd5Good), 'BadDigest', 400, 'a right Content-MD5 with a wrong CRC-32');
  const still = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect((await bytesOf(still.Body)).toString() === 'short', 'a PUT refused with BadDigest changed the object');
  await expectError(
    ctx,
    c.send(new HeadObjectCommand({ Bucket: bucket, Key: 'md5' })),
    'NotFound',
    404,
    'the refused Content-MD5 PUT',
  );

  const del = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(del.$metadata.httpStatusCode === 204, `DeleteObject answered ${del.$metadata.httpStatusCode}`);
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: bucket, Key: key })),
    'NoSuchKey',
    404,
    'GET after DELETE',
  );
  const again = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(again.$metadata.httpStatusCode === 204, 'deleting a missing key is not 204');
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: uniqueBucket('c3-none'), Key: 'k' })),
    'NoSuchBucket',
    404,
    'GET in a missing bucket',
  );
  await expectError(
    ctx,
    c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k'.repeat(1025), Body: 'x' })),
    'KeyTooLongError',
    400,
    'a 1,025-byte key',
  );
  // The limit is 1,024 bytes of UTF-8, not characters: 342 three-byte characters are 1,026 bytes.
  await expectError(
    ctx,
    c.send(new PutObjectCommand({ Bucket: bucket, Key: '€'.repeat(342), Body: 'x' })),
    'KeyTooLongError',
    400,
    'a key of 342 characters but 1,026 bytes',
  );
}

/** Two keys with the same bytes are two objects: overwriting one with its own bytes, or deleting the other, keeps it. */
async function sameBytesTwice(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  const twin = Buffer.from('the same bytes under two keys');
  for (const k of ['twin-a', 'twin-b', 'twin-a'])
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: twin }));
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'twin-b' }));
  const r = await sdkError(c.send(new GetObjectCommand({ Bucket: bucket, Key: 'twin-a' })));
  ctx.expect(r === null, `twin-a (overwritten with its own bytes, its twin deleted) answers ${r?.status} ${r?.name}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'twin-a' }))).Body);
  ctx.expect(got.equals(twin), 'twin-a does not read back its bytes');
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'twin-a' }));
}

/** An object is named by bucket and key: the same key in another bucket is another object. */
async function sameKeyTwoBuckets(ctx: CheckContext, s3: S3, bucket: string): Promise<void> {
  const c = s3.client;
  const other = await freshBucket(ctx, s3, 'c3-other');
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared', Body: Buffer.from('in the first bucket') }));
  await c.send(new PutObjectCommand({ Bucket: other, Key: 'shared', Body: Buffer.from('in the second') }));
  const second = await bytesOf((await c.send(new GetObjectCommand({ Bucket: other, Key: 'shared' }))).Body);
  ctx.expect(second.toString() === 'in the second', `${other}/shared answers "${second}"`);
  await c.send(new DeleteObjectCommand({ Bucket: other, Key: 'shared' }));
  await expectError(
    ctx,
    c.send(new GetObjectCommand({ Bucket: other, Key: 'shared' })),
    'NoSuchKey',
    404,
    'a key deleted in one bucket while another bucket has it',
  );
  const first = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'shared' }))).Body);
  ctx.expect(first.toString() === 'in the first bucket', `${bucket}/shared answers "${first}"`);
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'shared' }));
  await c.send(new DeleteBucketCommand({ Bucket: other }));
}

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

export async function sigv4Conformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const bucket = await freshBucket(ctx, s3, 'c5');
  const creds = credentialsOf(ctx);
  const other = (accessKeyId: string, secretAccessKey: string) =>
    s3Of(ctx, { credentials: { accessKeyId, secretAccessKey } });
  const nextSecond = (d: string) => String((Number(d) + 1) % 10);
  const tries: { what: string; code: string; status: number; key: string; via?: S3; forge?: Tamper }[] = [
    {
      what: 'no Authorization header',
      code: 'AccessDenied',
      status: 403,
      key: 'unsigned',
      forge: (r) => {
        delete r.headers['authorization'];
      },
    },
    {
      what: 'an unknown access key',
      code: 'InvalidAccessKeyId',
      status: 403,
      key: 'unknown-key',
      via: other('AKIDUNKNOWN000000000', creds.secretAccessKey),
    },
    {
      what: 'a wrong secret',
      code: 'SignatureDoesNotMatch',
      status: 403,
      key: 'wrong-secret',
      via: other(creds.accessKeyId, `${creds.secretAccessKey}x`),
    },
    {
      what: 'a request signed 20 minutes in the past (S3 allows 15)',
      code: 'RequestTimeTooSkewed',
      status: 403,
      key: 'skewed',
      via: s3Of(ctx, { clockOffsetMs: -20 * 60 * 1000 }),
    },
    {
      what: 'a request signed 20 minutes in the future',
      code: 'RequestTimeTooSkewed',
      status: 403,
      key: 'skewed-future',
      via: s3Of(ctx, { clockOffsetMs: 20 * 60 * 1000 }),
    },
    {
      what: 'the key changed after signing',
      code: 'SignatureDoesNotMatch',
      status: 403,
      key: 'changed-path',
      forge: (r) => {
        r.path = r.path.replace('changed-path', 'changed-pbth');
      },
    },
    {
      what: 'a signed header changed after signing',
      code: 'SignatureDoesNotMatch',
      status: 403,
      key: 'changed-header',
      forge: (r) => {
        r.headers['x-amz-date'] = (r.headers['x-amz-date'] ?? '').replace(/\d(?=Z$)/, nextSecond);
      },
    },
    {
      what: 'a body other than the one signed',
      code: 'XAmzContentSHA256Mismatch',
      status: 400,
      key: 'changed-body',
      forge: (r) => {
        // As long as the signed one (Content-Length is signed too): only the bytes differ.
        r.body = Buffer.from('SIGNED BODY');
      },
    },
  ];
  function put(key: string) {
    // Content-MD5 and the CRC would also catch a changed body; only the signed SHA-256 is under test here.
    return new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from('signed body') });
  }
  for (const t of tries) {
    const via = t.via ?? s3;
    via.handler.afterSigning = t.forge;
    try {
      const e = await sdkError(via.client.send(put(t.key)));
      ctx.expect(e, `${t.what}: the PUT succeeded; expected ${t.status} ${t.code}`);
      ctx.expect(
        e.status === t.status && e.name === t.code,
        `${t.what}: got ${e.status} ${e.name}; expected ${t.status} ${t.code}`,
      );
    } finally {
      via.handler.afterSigning = undefined;
    }
  }
  // A body that went missing: the signed x-amz-content-sha256 names bytes, none arrived (Content-Length 0, signed).
  const emptied = new PutObjectCommand({ Bucket: bucket, Key: 'emptied-body', Body: Buffer.alloc(0) });
  emptied.middlewareStack.add(
    (next) => async (args) => {
      const r = args.request as SdkRequest;
      r.headers['x-amz-content-sha256'] = createHash('sha256').update('signed body').digest('hex');
      return next(args);
    },
    { step: 'build', name: 'declareOtherBody' },
  );
  const e = await sdkError(s3.client.send(emptied));
  ctx.expect(
    e?.status === 400 && e.name === 'XAmzContentSHA256Mismatch',
    `an empty body signed as other bytes: got ${e ? `${e.status} ${e.name}` : '200'}; expected 400 XAmzContentSHA256Mismatch`,
  );
  // Nothing refused was stored.
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket }));
  ctx.expect(
    (listed.Contents ?? []).length === 0,
    `refused PUTs stored ${JSON.stringify(listed.Contents?.map((o) => o.Key))}`,
  );
}
