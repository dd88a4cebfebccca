// The bucket operations: ListBuckets, CreateBucket and ListObjectsV2 (its query read and checked here, its answer
// rendered by s3-answers.ts).
import type { FastifyReply } from 'fastify';
import type { AppOptions } from './app.ts';
import { decodeToken, listPage } from './listing.ts';
import type { Target } from './request-target.ts';
import { listAllMyBucketsXml, listBucketResultXml, S3Error, sendXml } from './s3-answers.ts';

export async function listBuckets(reply: FastifyReply, o: AppOptions): Promise<FastifyReply> {
  return sendXml(reply, 200, listAllMyBucketsXml(await o.meta.buckets()));
}

export async function createBucket(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
  if (await o.meta.bucket(t.bucket)) {
    if (o.mutant === 'bucket-recreated') {
      // MUTANT bucket-recreated: creating a bucket that exists starts it again, empty.
      for (const row of await o.meta.all(t.bucket)) o.data.drop(row.objectId);
      await o.meta.deleteAll(t.bucket);
      return reply.code(200).header('location', `/${t.bucket}`).send();
    }
    throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded.');
  }
  await o.meta.createBucket(t.bucket, Date.now());
  return reply.code(200).header('location', `/${t.bucket}`).send();
}

export async function listObjects(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
  const q = t.query;
  if (q.get('list-type') !== '2') {
    throw new S3Error(400, 'InvalidArgument', 'only ListObjectsV2 (list-type=2) is offered');
  }
  const maxKeysText = q.get('max-keys');
  if (maxKeysText !== null && !/^[0-9]{1,9}$/.test(maxKeysText)) {
    throw new S3Error(400, 'InvalidArgument', 'max-keys must be a non-negative integer');
  }
  const encoding = q.get('encoding-type');
  if (encoding !== null && encoding !== 'url') throw new S3Error(400, 'InvalidArgument', 'encoding-type must be url');
  let maxKeys = Math.min(maxKeysText === null ? 1000 : Number(maxKeysText), 1000);
  if (o.mutant === 'max-keys-ignored') maxKeys = 1000; // MUTANT max-keys-ignored
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const token = q.get('continuation-token');
  const startAfter = q.get('start-after') ?? '';
  let after: { key: Buffer; isPrefix: boolean } | undefined;
  if (token !== null) {
    after = decodeToken(token);
    if (!after) throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect');
  } else if (startAfter !== '') after = { key: Buffer.from(startAfter, 'utf8'), isPrefix: false };

  const page = await listPage((start, limit) => o.meta.page(t.bucket, start, limit), {
    prefix: Buffer.from(prefix, 'utf8'),
    delimiter: delimiter === '' ? undefined : Buffer.from(delimiter, 'utf8'),
    maxKeys,
    after,
    skipAtBoundary: o.mutant === 'page-boundary-skip', // MUTANT page-boundary-skip
    fullPageTruncated: o.mutant === 'full-page-truncated', // MUTANT full-page-truncated
    batchRepeatsLast: o.mutant === 'batch-repeats-last', // MUTANT batch-repeats-last
    scanStartExclusive: o.mutant === 'scan-start-exclusive', // MUTANT scan-start-exclusive
  });
  const body = listBucketResultXml({
    bucket: t.bucket,
    prefix,
    delimiter,
    maxKeysText,
    encoding,
    token,
    startAfter,
    page,
    mutant: o.mutant,
  });
  return sendXml(reply, 200, body);
}
