// Where a path-style S3 request goes: the service, a bucket or an object, from the raw request target (S3 puts slashes
// in keys, so the path is parsed here, not by the router), and the bytes it carries.
import type { FastifyRequest } from 'fastify';
import type { MutantName } from './mutants.ts';
import { S3Error } from './s3-answers.ts';

const MAX_KEY_BYTES = 1024;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** The bucket name readiness lives under (GET /health/ready). */
const RESERVED_BUCKET = 'health';

export interface Target {
  kind: 'service' | 'bucket' | 'object';
  bucket: string;
  key: Buffer;
  query: URLSearchParams;
  resource: string;
}

export function parseTarget(rawUrl: string, mutant: MutantName | undefined): Target {
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  if (path === '/' || path === '') return { kind: 'service', bucket: '', key: Buffer.alloc(0), query, resource: '/' };
  const rest = path.slice(1);
  const slash = rest.indexOf('/');
  const bucketPart = slash < 0 ? rest : rest.slice(0, slash);
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(bucketPart);
    key = slash < 0 ? '' : decodeURIComponent(rest.slice(slash + 1));
  } catch {
    throw new S3Error(400, 'InvalidArgument', 'the path is not valid percent-encoded UTF-8');
  }
  const resource = path;
  if (!BUCKET_NAME.test(bucket) || bucket === RESERVED_BUCKET || bucket.includes('..')) {
    throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.');
  }
  const keyBytes = Buffer.from(key, 'utf8');
  // MUTANT key-limit-in-characters: the limit counts UTF-16 code units.
  if ((mutant === 'key-limit-in-characters' ? key.length : keyBytes.length) > MAX_KEY_BYTES)
    throw new S3Error(400, 'KeyTooLongError', 'Your key is too long.');
  if (slash < 0 || key === '') return { kind: 'bucket', bucket, key: keyBytes, query, resource };
  return { kind: 'object', bucket, key: keyBytes, query, resource };
}

export function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}
