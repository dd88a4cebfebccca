// SOS-C6, C7: multipart upload through the AWS SDK (its commands, and its own lib-storage Upload), every exchange
// validated against the spec by the recording handler.
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { CheckContext } from '../../core/check-context.ts';
import {
  createUpload,
  minPartBytes,
  multipartEtag,
  patterned,
  S3_MIN_PART_BYTES,
  uploadPart,
} from './multipart-kit.ts';
import { bytesOf, freshBucket, type S3, s3Of, sdkError } from './s3-client.ts';
import { expectError, md5 } from './s3-expect.ts';

type Parts = { PartNumber: number; ETag: string }[];

const complete = (c: S3Client, bucket: string, key: string, uploadId: string, parts: Parts) =>
  c.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts },
    }),
  );

export async function multipartConformance(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const min = minPartBytes(ctx);
  const bucket = await freshBucket(ctx, s3, 'c6');
  // The key already names an object: it must stay that object, untouched, until the upload completes.
  const key = 'big/ünï 😀+.bin';
  const old = Buffer.from('the object before the multipart upload');
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: old }));
  const uploadId = await createUpload(ctx, c, bucket, key);
  const u = { bucket, key, uploadId };
  const bodies = [patterned(min, 1), patterned(min + 1000, 2), patterned(777, 3)];
  const etags: string[] = [];
  // Uploaded out of part-number order (3, 1, 2): ListParts and complete go by number, not by arrival.
  for (const i of [2, 0, 1]) etags[i] = await uploadPart(ctx, c, u, i + 1, bodies[i]!);

  const before = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(
    (await bytesOf(before.Body)).equals(old) && before.ETag === md5(old),
    'before complete, GET of the key does not answer the object it named before the upload',
  );
  const listedBefore = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  ctx.expect(
    JSON.stringify((listedBefore.Contents ?? []).map((o) => [o.Key, o.Size])) === JSON.stringify([[key, old.length]]),
    `before complete, the bucket lists ${JSON.stringify((listedBefore.Contents ?? []).map((o) => [o.Key, o.Size]))}`,
  );
  await freshKeyInvisible(ctx, c, bucket);

  await listsParts(ctx, c, u, bodies, etags);

  const parts = etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 }));
  const done = await complete(c, bucket, key, uploadId, parts);
  const whole = Buffer.concat(bodies);
  const want = multipartEtag(bodies);
  ctx.expect(done.ETag === want, `CompleteMultipartUpload answered ETag ${done.ETag}, not S3's ${want}`);
  const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(
    (await bytesOf(got.Body)).equals(whole),
    'GET after complete is not the three parts joined in part-number order',
  );
  ctx.expect(got.ETag === want, `GET's ETag ${got.ETag} is not ${want}`);
  const head = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  ctx.expect(
    head.ETag === want && head.ContentLength === whole.length,
    `HEAD says ${head.ContentLength} bytes, ${head.ETag}; want ${whole.length}, ${want}`,
  );
  const first = min - 10;
  const range = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${first}-${min + 9}` }));
  ctx.expect(
    (await bytesOf(range.Body)).equals(whole.subarray(first, min + 10)),
    `a range across the first part boundary (bytes=${first}-${min + 9}) is not those bytes`,
  );
  const listed = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  const entry = listed.Contents?.find((o) => o.Key === key);
  ctx.expect(
    entry?.ETag === want && entry.Size === whole.length,
    `ListObjectsV2 shows ${entry?.Size} bytes, ${entry?.ETag}`,
  );
  await expectError(
    ctx,
    c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    'NoSuchUpload',
    404,
    'ListParts of a completed upload',
  );
  await sdkUpload(ctx, c, bucket, min);
}

/** A key no object had: while its upload is in progress, HEAD says 404 and the listing leaves it out. */
async function freshKeyInvisible(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  const key = 'fresh/in-progress';
  const uploadId = await createUpload(ctx, c, bucket, key);
  await uploadPart(ctx, c, { bucket, key, uploadId }, 1, patterned(1234, 9));
  await expectError(
    ctx,
    c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    'NotFound',
    404,
    'HEAD of a key whose upload is not completed',
  );
  const listed = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'fresh/' }));
  ctx.expect(
    (listed.KeyCount ?? 0) === 0,
    `the listing shows ${JSON.stringify((listed.Contents ?? []).map((o) => o.Key))} for an upload not completed`,
  );
  await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
}

/** ListParts reports every part uploaded (number, size, MD5 ETag), whole and a page at a time. */
async function listsParts(
  ctx: CheckContext,
  c: S3Client,
  u: { bucket: string; key: string; uploadId: string },
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

/** The SDK's own multipart uploader (lib-storage's Upload), three parts, against the target. */
async function sdkUpload(ctx: CheckContext, c: S3Client, bucket: string, min: number): Promise<void> {
  // lib-storage refuses parts under S3's 5 MiB whatever the target allows.
  const partSize = Math.max(min, S3_MIN_PART_BYTES);
  const body = patterned(2 * partSize + 4321, 77);
  const upload = new Upload({
    client: c,
    params: { Bucket: bucket, Key: 'sdk-upload', Body: body },
    partSize,
    queueSize: 2,
  });
  const r = await upload.done();
  const want = multipartEtag([
    body.subarray(0, partSize),
    body.subarray(partSize, 2 * partSize),
    body.subarray(2 * partSize),
  ]);
  ctx.expect(r.ETag === want, `lib-storage's Upload ended with ETag ${r.ETag}, not ${want}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: 'sdk-upload' }))).Body);
  ctx.expect(got.equals(body), `the object lib-storage uploaded reads back as ${got.length} other bytes`);
}

export async function multipartErrors(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const min = minPartBytes(ctx);
  const bucket = await freshBucket(ctx, s3, 'c7');
  const key = 'errors.bin';
  const uploadId = await createUpload(ctx, c, bucket, key);
  const u = { bucket, key, uploadId };
  const bodies = [patterned(min, 11), patterned(min, 12), patterned(10, 13)];
  const parts: Parts = [];
  for (const [i, body] of bodies.entries())
    parts.push({ PartNumber: i + 1, ETag: await uploadPart(ctx, c, u, i + 1, body) });
  for (const n of [0, 10_001]) {
    await expectError(
      ctx,
      c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: 'x' })),
      'InvalidArgument',
      400,
      `UploadPart with part number ${n}`,
    );
  }
  await partDigestsChecked(ctx, c, u, parts);

  const refused: [string, Parts, string][] = [
    [
      'a wrong ETag for part 2',
      [parts[0]!, { PartNumber: 2, ETag: md5(Buffer.from('not part 2')) }, parts[2]!],
      'InvalidPart',
    ],
    ['a part never uploaded (4)', [...parts, { PartNumber: 4, ETag: parts[2]!.ETag }], 'InvalidPart'],
    ['parts out of order (2, 1, 3)', [parts[1]!, parts[0]!, parts[2]!], 'InvalidPartOrder'],
    // Ascending means strictly: a part listed twice would put its bytes in the object twice.
    ['part 1 listed twice (1, 1, 3)', [parts[0]!, parts[0]!, parts[2]!], 'InvalidPartOrder'],
  ];
  for (const [what, list, code] of refused) {
    await expectError(ctx, complete(c, bucket, key, uploadId, list), code, 400, `complete with ${what}`);
    await expectError(
      ctx,
      c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      'NotFound',
      404,
      `the object after complete with ${what} was refused`,
    );
  }
  const still = await c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  const stillShown = JSON.stringify((still.Parts ?? []).map((p) => [p.PartNumber, p.ETag]));
  ctx.expect(
    stillShown === JSON.stringify(parts.map((p) => [p.PartNumber, p.ETag])),
    `after refused completes and parts refused with BadDigest the upload lists ${stillShown}, not its 3 parts as uploaded`,
  );
  await tooSmall(ctx, c, bucket, min);
  await lastPartNumber(ctx, c, bucket);
  await otherBucketOrKey(ctx, s3, u, parts);
  await endsOnce(ctx, c, bucket);
  await expectError(
    ctx,
    c.send(new ListPartsCommand({ Bucket: bucket, Key: 'another-key', UploadId: uploadId })),
    'NoSuchUpload',
    404,
    "ListParts of an upload under another key's name",
  );
  await expectError(
    ctx,
    c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: 'no-such-upload' })),
    'NoSuchUpload',
    404,
    'ListParts of an upload id never created',
  );

  const aborted = await c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  ctx.expect(
    aborted.$metadata.httpStatusCode === 204,
    `AbortMultipartUpload answered ${aborted.$metadata.httpStatusCode}`,
  );
  await expectError(
    ctx,
    c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    'NoSuchUpload',
    404,
    'ListParts after abort',
  );
  await expectError(
    ctx,
    c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: 4, Body: 'late' })),
    'NoSuchUpload',
    404,
    'UploadPart after abort',
  );
  await expectError(ctx, complete(c, bucket, key, uploadId, parts), 'NoSuchUpload', 404, 'complete after abort');
  await expectError(
    ctx,
    c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    'NoSuchUpload',
    404,
    'abort again',
  );
  await expectError(
    ctx,
    c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    'NotFound',
    404,
    'the key of the aborted upload',
  );
}

/** A part before the last under the minimum size: refused at complete, not at upload; a small last part is fine. */
async function tooSmall(ctx: CheckContext, c: S3Client, bucket: string, min: number): Promise<void> {
  const key = 'small.bin';
  const uploadId = await createUpload(ctx, c, bucket, key);
  const u = { bucket, key, uploadId };
  // One byte under the minimum: the edge a minimum in the wrong unit (5 MB for 5 MiB) lets through.
  const small = patterned(min - 1, 21);
  const parts = [
    { PartNumber: 1, ETag: await uploadPart(ctx, c, u, 1, small) },
    { PartNumber: 2, ETag: await uploadPart(ctx, c, u, 2, patterned(10, 22)) },
  ];
  await expectError(
    ctx,
    complete(c, bucket, key, uploadId, parts),
    'EntityTooSmall',
    400,
    `complete with a first part of ${small.length} bytes`,
  );
  await expectError(
    ctx,
    c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
    'NotFound',
    404,
    'the object after EntityTooSmall',
  );
  // The last part may be as small as it likes: the same small part alone completes.
  const done = await complete(c, bucket, key, uploadId, [parts[0]!]);
  ctx.expect(done.ETag === multipartEtag([small]), `a one-part upload completed with ETag ${done.ETag}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
  ctx.expect(got.equals(small), 'the one-part upload does not read back as its part');
}

/** UploadPart checks the digests it is given like PutObject: 400 BadDigest, and the part it would replace kept. */
async function partDigestsChecked(
  ctx: CheckContext,
  c: S3Client,
  u: { bucket: string; key: string; uploadId: string },
  parts: Parts,
): Promise<void> {
  const base = { Bucket: u.bucket, Key: u.key, UploadId: u.uploadId, PartNumber: 2, Body: Buffer.from('damaged') };
  await expectError(
    ctx,
    c.send(new UploadPartCommand({ ...base, ContentMD5: 'AAAAAAAAAAAAAAAAAAAAAA==' })),
    'BadDigest',
    400,
    'UploadPart whose Content-MD5 is wrong',
  );
  await expectError(
    ctx,
    c.send(new UploadPartCommand({ ...base, ChecksumCRC32: 'AAAAAA==' })),
    'BadDigest',
    400,
    'UploadPart whose x-amz-checksum-crc32 is wrong',
  );
  const listed = await c.send(new ListPartsCommand({ Bucket: u.bucket, Key: u.key, UploadId: u.uploadId }));
  const two = listed.Parts?.find((p) => p.PartNumber === 2);
  ctx.expect(
    two?.ETag === parts[1]!.ETag,
    `after UploadPart of part 2 was refused with BadDigest, ListParts shows part 2 as ${two?.Size} bytes, ${two?.ETag}`,
  );
}

/** Part 10,000 is the last part number S3 allows: it is taken, listed and completes. */
async function lastPartNumber(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  const key = 'part-10000.bin';
  const uploadId = await createUpload(ctx, c, bucket, key);
  const body = patterned(321, 31);
  const etag = await uploadPart(ctx, c, { bucket, key, uploadId }, 10_000, body).catch((e: unknown) => {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; exchange?: unknown };
    if (err.exchange) throw e;
    ctx.expect(false, `UploadPart of part 10,000, the last S3 allows: ${err.$metadata?.httpStatusCode} ${err.name}`);
  });
  const listed = await c.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
  const shown = JSON.stringify((listed.Parts ?? []).map((p) => [p.PartNumber, p.Size]));
  ctx.expect(shown === JSON.stringify([[10_000, body.length]]), `ListParts after uploading part 10,000: ${shown}`);
  const done = await complete(c, bucket, key, uploadId, [{ PartNumber: 10_000, ETag: etag }]);
  ctx.expect(done.ETag === multipartEtag([body]), `complete of part 10,000 answered ETag ${done.ETag}`);
  const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
  ctx.expect(got.equals(body), 'the upload of part 10,000 does not read back as that part');
}

/** An upload id belongs to its bucket and key: through the same key in another bucket, or another key, it is unknown. */
async function otherBucketOrKey(
  ctx: CheckContext,
  s3: S3,
  u: { bucket: string; key: string; uploadId: string },
  parts: Parts,
): Promise<void> {
  const c = s3.client;
  const other = await freshBucket(ctx, s3, 'c7-other');
  for (const [bucket, key, where] of [
    [other, u.key, 'the same key in another bucket'],
    [u.bucket, 'another-key', 'another key of the bucket'],
  ] as const) {
    const id = { Bucket: bucket, Key: key, UploadId: u.uploadId };
    await expectError(ctx, c.send(new ListPartsCommand(id)), 'NoSuchUpload', 404, `ListParts through ${where}`);
    await expectError(
      ctx,
      c.send(new UploadPartCommand({ ...id, PartNumber: 4, Body: Buffer.from('elsewhere') })),
      'NoSuchUpload',
      404,
      `UploadPart through ${where}`,
    );
    await expectError(
      ctx,
      complete(c, bucket, key, u.uploadId, parts),
      'NoSuchUpload',
      404,
      `complete through ${where}`,
    );
    await expectError(
      ctx,
      c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      'NotFound',
      404,
      `the object after complete through ${where} was refused`,
    );
  }
}

/**
 * An upload ends once: a complete racing an abort, or another complete with another part list, on the same upload -
 * exactly one succeeds and the other is 404 NoSuchUpload, and the key holds what the winner said (the object, or
 * nothing after an abort). Several rounds, the two requests sent together in both orders.
 */
async function endsOnce(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  for (let round = 0; round < 6; round++) {
    const key = `race-${round}`;
    const uploadId = await createUpload(ctx, c, bucket, key);
    const u = { bucket, key, uploadId };
    // Two small parts: either alone is a valid one-part list (a last part may be any size).
    const bodies = [patterned(100 + round, 60 + round), patterned(200 + round, 70 + round)];
    const parts: Parts = [];
    for (const [i, body] of bodies.entries())
      parts.push({ PartNumber: i + 1, ETag: await uploadPart(ctx, c, u, i + 1, body) });
    const racers: { what: string; go: () => Promise<unknown>; body: Buffer | null }[] =
      round < 4
        ? [
            { what: 'complete', go: () => complete(c, bucket, key, uploadId, [parts[0]!]), body: bodies[0]! },
            {
              what: 'abort',
              go: () => c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
              body: null,
            },
          ]
        : [
            { what: 'complete of part 1', go: () => complete(c, bucket, key, uploadId, [parts[0]!]), body: bodies[0]! },
            { what: 'complete of part 2', go: () => complete(c, bucket, key, uploadId, [parts[1]!]), body: bodies[1]! },
          ];
    if (round % 2 === 1) racers.reverse();
    const settled = await Promise.all(
      racers.map((r) =>
        r.go().then(
          () => null,
          (e: unknown) => {
            // The harness's own findings (an answer off the spec) are not an S3 error to judge here.
            if ((e as { exchange?: unknown }).exchange) throw e;
            return e;
          },
        ),
      ),
    );
    const winners = racers.filter((_, i) => settled[i] === null);
    const story = `round ${round}: ${racers.map((r, i) => `${r.what} ${settled[i] === null ? 'succeeded' : 'failed'}`).join(', ')}`;
    ctx.expect(winners.length === 1, `${story}; an upload ends once, so exactly one of them must succeed`);
    // The loser is told the upload is gone; a complete whose parts the winner had already taken may say so as 400
    // InvalidPart. Never a success, never a 5xx.
    const li = settled.findIndex((x) => x !== null);
    const loser = settled[li] as { name?: string; $metadata?: { httpStatusCode?: number } };
    const lost = `${loser.$metadata?.httpStatusCode} ${loser.name}`;
    const allowed = racers[li]!.what === 'abort' ? ['404 NoSuchUpload'] : ['404 NoSuchUpload', '400 InvalidPart'];
    ctx.expect(
      allowed.includes(lost),
      `${story}; the ${racers[li]!.what} that lost answered ${lost}, not 404 NoSuchUpload`,
    );
    const body = winners[0]!.body;
    const got = await sdkError(c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    if (body === null)
      ctx.expect(got?.status === 404, `${story}; after the abort won, the key answers HEAD ${got?.status ?? 200}`);
    else {
      const bytes = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
      ctx.expect(bytes.equals(body), `${story}; the object is not the winning complete's part`);
    }
  }
}
