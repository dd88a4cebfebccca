// The HTTP surface: S3's REST subset (path-style) on Fastify. One catch-all route parses the request target itself
// (S3 addresses a bucket and a key with slashes in it), checks the method, then SigV4, then the body's SHA-256, and
// hands over to the operation. Errors are S3's XML Error documents (the shape every S3 client parses).
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { METHODS } from 'node:http';
import { crc32 } from 'node:zlib';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HTTPMethods } from 'fastify';
import { type Readiness, readinessHandler } from '../kit/health.ts';
import { problemBody, sendProblem } from '../kit/problem.ts';
import { ChecksumError, type DataStore } from './data-store.ts';
import { decodeToken, encodeToken, listPage } from './listing.ts';
import type { MetaStore, ObjectRow } from './metadata-store.ts';
import type { MutantName } from './mutants.ts';
import { type Credentials, payloadHash, verifySigV4 } from './sigv4.ts';
import { el, errorXml, XML_DECL } from './xml.ts';

/** Largest object one PUT may carry. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
const MAX_KEY_BYTES = 1024;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** The bucket name readiness lives under (GET /health/ready). */
const RESERVED_BUCKET = 'health';
/**
 * Every method Node's HTTP parser hands to a route (TRACE, PROPFIND, ... too; CONNECT never reaches one): an
 * undeclared one gets the documented 405 with Allow, not the router's 404.
 */
const ALL_METHODS = METHODS.filter((m) => m !== 'CONNECT') as HTTPMethods[];
const ALLOWED: Record<'service' | 'bucket' | 'object', readonly string[]> = {
  service: ['GET'],
  bucket: ['PUT', 'HEAD', 'DELETE', 'GET'],
  object: ['PUT', 'GET', 'HEAD', 'DELETE'],
};

export class S3Error extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface AppOptions {
  readiness: Readiness;
  meta: MetaStore;
  data: DataStore;
  credentials: Credentials;
  mutant: MutantName | undefined;
  logger: { level: string } | false;
  /** MUTANT ack-before-durable: how long the metadata write waits after the answer. */
  deferMetadataMs: number;
}

interface Target {
  kind: 'service' | 'bucket' | 'object';
  bucket: string;
  key: Buffer;
  query: URLSearchParams;
  resource: string;
}

export function buildApp(o: AppOptions): FastifyInstance {
  const app = Fastify({
    logger: o.logger === false ? false : { level: o.logger.level, stream: process.stderr },
    bodyLimit: MAX_OBJECT_BYTES,
    exposeHeadRoutes: false,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 8 * 1024 },
  });
  // Every body is bytes: an object's content whatever its media type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  // Fastify routes only some methods unless told of more; the others would reach its 404 handler.
  for (const method of ALL_METHODS) if (!app.supportedMethods.includes(method)) app.addHttpMethod(method);

  const health = readinessHandler(o.readiness);
  app.get('/health/ready', health);
  // Readiness keeps the shared components: any other method is 405 method_not_allowed as a problem body, as in every
  // chapter, not the catch-all's InvalidBucketName for the reserved bucket `health`.
  const readinessNotAllowed = async (request: FastifyRequest, reply: FastifyReply) =>
    sendProblem(reply, problemBody(405, 'method_not_allowed', `${request.method} is not allowed here; allowed: GET`), {
      allow: 'GET',
    });
  app.route({
    method: ALL_METHODS.filter((m) => m !== 'GET'),
    url: '/health/ready',
    onRequest: readinessNotAllowed,
    handler: readinessNotAllowed,
  });

  app.route({
    method: ALL_METHODS,
    url: '*',
    handler: async (request, reply) => {
      const requestId = randomBytes(8).toString('hex').toUpperCase();
      reply.header('x-amz-request-id', requestId);
      let target: Target | undefined;
      try {
        target = parseTarget(request.raw.url ?? '/', o.mutant);
        const allowed = ALLOWED[target.kind];
        if (!allowed.includes(request.method)) {
          throw new S3Error(405, 'MethodNotAllowed', `${request.method} is not allowed here`, {
            allow: allowed.join(', '),
          });
        }
        authenticate(request, o);
        return await dispatch(request, reply, target, o);
      } catch (error) {
        return sendError(request, reply, error, target?.resource ?? (request.raw.url ?? '/').split('?')[0]!, requestId);
      }
    },
  });
  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    reply.header('x-amz-request-id', requestId);
    const status = error.statusCode ?? 500;
    const s3 =
      status === 413
        ? new S3Error(413, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size.')
        : status >= 400 && status < 500
          ? new S3Error(400, 'InvalidRequest', error.message)
          : error;
    return sendError(request, reply, s3, (request.raw.url ?? '/').split('?')[0]!, requestId);
  });
  return app;
}

function parseTarget(rawUrl: string, mutant: MutantName | undefined): Target {
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

function authenticate(request: FastifyRequest, o: AppOptions): void {
  const failure = verifySigV4(
    { method: request.method, rawUrl: request.raw.url ?? '/', headers: request.headers },
    o.credentials,
    Date.now(),
    o.mutant !== 'signature-not-checked', // MUTANT signature-not-checked
    o.mutant === 'skew-one-sided', // MUTANT skew-one-sided
  );
  if (failure) throw new S3Error(failure.status, failure.code, `request refused: ${failure.code}`);
  const declared = String(request.headers['x-amz-content-sha256'] ?? '');
  if (declared.startsWith('STREAMING-')) {
    throw new S3Error(400, 'InvalidRequest', 'aws-chunked (streaming) uploads are not supported; send a length');
  }
  // MUTANT empty-body-unhashed: an empty body is not compared with the signed hash.
  if (declared !== 'UNSIGNED-PAYLOAD' && !(o.mutant === 'empty-body-unhashed' && bodyOf(request).length === 0)) {
    const body = bodyOf(request);
    if (declared !== payloadHash(body)) {
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', "The body's SHA-256 is not the one signed.");
    }
  }
}

function bodyOf(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

async function dispatch(request: FastifyRequest, reply: FastifyReply, t: Target, o: AppOptions): Promise<unknown> {
  if (t.kind === 'service') return listBuckets(reply, o);
  if (t.kind === 'bucket') {
    if (request.method === 'PUT') return createBucket(reply, t, o);
    const bucket = await o.meta.bucket(t.bucket);
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
    if (request.method === 'HEAD') return reply.code(200).send();
    if (request.method === 'DELETE') {
      // MUTANT empty-objects-dont-count: only objects with bytes keep a bucket from being deleted.
      const empty =
        o.mutant === 'empty-objects-dont-count'
          ? (await o.meta.all(t.bucket)).every((r) => r.size === 0)
          : await o.meta.isEmpty(t.bucket);
      if (!empty) throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty.');
      await o.meta.deleteBucket(t.bucket);
      return reply.code(204).send();
    }
    return listObjects(reply, t, o);
  }
  if (!(await o.meta.bucket(t.bucket))) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
  if (request.method === 'PUT') return putObject(request, reply, t, o);
  if (request.method === 'DELETE') {
    const old = await o.meta.delete(t.bucket, t.key);
    if (old) o.data.drop(old.objectId);
    return reply.code(204).send();
  }
  const row = await o.meta.get(t.bucket, t.key);
  if (!row) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
  if (request.method === 'HEAD') {
    // HEAD reads the bytes too: an object whose checksum fails is an error here as on GET.
    o.data.read(row.objectId);
    return objectHeaders(reply, row).code(200).send();
  }
  return getObject(request, reply, row, o);
}

async function listBuckets(reply: FastifyReply, o: AppOptions): Promise<FastifyReply> {
  const buckets = (await o.meta.buckets())
    .map((b) => `<Bucket>${el('Name', b.name)}${el('CreationDate', new Date(b.created).toISOString())}</Bucket>`)
    .join('');
  return sendXml(
    reply,
    200,
    `<ListAllMyBucketsResult><Owner>${el('ID', 'sdgrade')}</Owner><Buckets>${buckets}</Buckets></ListAllMyBucketsResult>`,
  );
}

async function createBucket(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
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

async function listObjects(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
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
  const enc = (s: string) => (encoding === 'url' ? encodeURIComponent(s).replace(/%2F/g, '/') : s);
  const contents = page.entries
    .map((e) =>
      e.kind === 'object'
        ? `<Contents>${el('Key', enc(e.row.key.toString('utf8')))}${el('LastModified', new Date(e.row.lastModified).toISOString())}` +
          `${el('ETag', `"${e.row.etag}"`)}${el('Size', e.row.size)}${el('StorageClass', 'STANDARD')}</Contents>`
        : '',
    )
    .join('');
  const prefixes = page.entries
    .map((e) =>
      e.kind === 'prefix' ? `<CommonPrefixes>${el('Prefix', enc(e.prefix.toString('utf8')))}</CommonPrefixes>` : '',
    )
    .join('');
  const body =
    `<ListBucketResult>${el('Name', t.bucket)}${el('Prefix', enc(prefix))}` +
    `${delimiter ? el('Delimiter', enc(delimiter)) : ''}${el('MaxKeys', maxKeysText === null ? 1000 : Number(maxKeysText))}` +
    `${encoding ? el('EncodingType', encoding) : ''}${el('KeyCount', page.entries.length)}` +
    `${el('IsTruncated', page.next !== undefined)}${token !== null ? el('ContinuationToken', token) : ''}` +
    `${page.next ? el('NextContinuationToken', encodeToken(page.next)) : ''}` +
    `${startAfter && token === null ? el('StartAfter', enc(startAfter)) : ''}${contents}${prefixes}</ListBucketResult>`;
  return sendXml(reply, 200, body);
}

async function putObject(request: FastifyRequest, reply: FastifyReply, t: Target, o: AppOptions): Promise<unknown> {
  let bytes = bodyOf(request);
  if (o.mutant === 'binary-as-utf8') bytes = Buffer.from(bytes.toString('utf8'), 'utf8'); // MUTANT binary-as-utf8
  const md5 = createHash('md5').update(bytes).digest();
  const contentMd5 = request.headers['content-md5'];
  if (typeof contentMd5 === 'string' && contentMd5 !== md5.toString('base64')) {
    throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  const crcHeader = request.headers['x-amz-checksum-crc32'];
  // MUTANT crc-skipped-with-md5: the CRC-32 is not compared when a Content-MD5 came too.
  if (typeof crcHeader === 'string' && !(o.mutant === 'crc-skipped-with-md5' && typeof contentMd5 === 'string')) {
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(bytes));
    if (crcHeader !== crc.toString('base64')) {
      throw new S3Error(400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    }
  }
  for (const name of Object.keys(request.headers)) {
    if (name.startsWith('x-amz-checksum-') && name !== 'x-amz-checksum-crc32' && name !== 'x-amz-checksum-mode') {
      throw new S3Error(400, 'InvalidRequest', `${name} is not supported; use x-amz-checksum-crc32 or Content-MD5`);
    }
  }
  const row: ObjectRow = {
    // MUTANT object-id-from-content: the same bytes under two keys share one id (and one mapping entry).
    objectId: o.mutant === 'object-id-from-content' ? md5.toString('hex') : randomUUID(),
    key: t.key,
    size: bytes.length,
    etag: md5.toString('hex'),
    // MUTANT last-modified-seconds: recorded in seconds, read as milliseconds.
    lastModified: o.mutant === 'last-modified-seconds' ? Math.floor(Date.now() / 1000) : Date.now(),
  };
  // Data first (appended and synced, its place in the mapping table), then the metadata that makes it visible.
  o.data.append(row.objectId, bytes);
  if (o.mutant === 'ack-before-durable') {
    // MUTANT ack-before-durable: the answer goes out before the metadata is written.
    setTimeout(() => void o.meta.put(t.bucket, row), o.deferMetadataMs).unref();
  } else if (o.mutant === 'torn-overwrite') {
    // MUTANT torn-overwrite: the object's place and its size/ETag are written in two steps with a wait between, so
    // concurrent overwrites can leave one writer's place with another's size.
    const old = await o.meta.put(t.bucket, { ...row, size: 0, etag: '0'.repeat(32) });
    if (old) o.data.drop(old.objectId);
    await new Promise((r) => setTimeout(r, Math.random() * 300));
    await o.meta.putSizeApart(t.bucket, row);
  } else {
    const old = await o.meta.put(t.bucket, row);
    if (old) o.data.drop(old.objectId);
  }
  return reply.code(200).header('etag', `"${row.etag}"`).send();
}

function objectHeaders(reply: FastifyReply, row: ObjectRow): FastifyReply {
  return reply
    .header('etag', `"${row.etag}"`)
    .header('last-modified', new Date(row.lastModified).toUTCString())
    .header('accept-ranges', 'bytes')
    .header('content-type', 'application/octet-stream')
    .header('content-length', String(row.size));
}

function getObject(request: FastifyRequest, reply: FastifyReply, row: ObjectRow, o: AppOptions): FastifyReply {
  const etag = `"${row.etag}"`;
  const ifMatch = request.headers['if-match'];
  if (typeof ifMatch === 'string' && !matchesEtag(ifMatch, etag)) {
    throw new S3Error(412, 'PreconditionFailed', 'At least one of the preconditions you specified did not hold.');
  }
  const ifNoneMatch = request.headers['if-none-match'];
  if (typeof ifNoneMatch === 'string' && matchesEtag(ifNoneMatch, etag)) {
    return reply.code(304).header('etag', etag).send();
  }
  const range = parseRange(request.headers.range, row.size, o.mutant === 'range-end-exclusive');
  if (range === 'unsatisfiable') {
    throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', {
      'content-range': `bytes */${row.size}`,
    });
  }
  const bytes = o.data.read(row.objectId, range);
  objectHeaders(reply, row).header('content-length', String(bytes.length));
  if (range) {
    return reply
      .code(206)
      .header('content-range', `bytes ${range.first}-${range.first + bytes.length - 1}/${row.size}`)
      .send(bytes);
  }
  return reply.code(200).send(bytes);
}

function matchesEtag(header: string, etag: string): boolean {
  return header
    .split(',')
    .map((s) => s.trim())
    .some((s) => s === '*' || s === etag || `"${s}"` === etag);
}

/**
 * One byte range (`bytes=a-b`, `bytes=a-`, `bytes=-n`); a header that is not one is ignored (S3 answers the whole
 * object), a range that starts past the end is unsatisfiable. `endExclusive` is MUTANT range-end-exclusive.
 */
export function parseRange(
  header: string | undefined,
  size: number,
  endExclusive = false,
): { first: number; last: number } | undefined | 'unsatisfiable' {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { first: Math.max(0, size - n), last: size - 1 };
  }
  const first = Number(m[1]);
  let last = m[2] === '' ? size - 1 : Number(m[2]);
  if (m[2] !== '' && last < first) return undefined;
  if (first >= size) return 'unsatisfiable';
  if (endExclusive && m[2] !== '') last -= 1;
  last = Math.min(last, size - 1);
  return { first, last };
}

function sendXml(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply
    .code(status)
    .header('content-type', 'application/xml')
    .send(XML_DECL + body);
}

function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  error: unknown,
  resource: string,
  requestId: string,
): FastifyReply {
  let e: S3Error;
  if (error instanceof S3Error) e = error;
  else if (error instanceof ChecksumError) {
    request.log.error({ err: error }, 'stored bytes failed their checksum; not served');
    e = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
  } else {
    request.log.error({ err: error }, 'request failed');
    e = new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
  }
  for (const [k, v] of Object.entries(e.headers)) reply.header(k, v);
  reply.code(e.status).header('content-type', 'application/xml');
  if (request.method === 'HEAD') return reply.send();
  return reply.send(errorXml(e.code, e.message, resource, requestId));
}
