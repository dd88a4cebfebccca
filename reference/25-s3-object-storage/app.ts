// The HTTP surface: S3's REST subset (path-style) on Fastify, and its routing. One catch-all route parses the request
// target itself (request-target.ts), checks the method, then SigV4, then the body's SHA-256, and hands over to the
// operation (bucket-operations.ts, object-operations.ts). Errors are S3's XML Error documents (s3-answers.ts).
import { randomBytes } from 'node:crypto';
import { METHODS } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type HTTPMethods } from 'fastify';
import { type Readiness, readinessHandler } from '../kit/health.ts';
import { problemBody, sendProblem } from '../kit/problem.ts';
import { createBucket, listBuckets, listObjects } from './bucket-operations.ts';
import type { CompactionControl, DataPlane } from './data-plane.ts';
import type { MetaStore } from './metadata-store.ts';
import { listMultipartUploads } from './multipart-listing.ts';
import {
  abortMultipartUpload,
  completeMultipartUpload,
  createMultipartUpload,
  listParts,
  uploadPart,
} from './multipart-operations.ts';
import type { MutantName } from './mutants.ts';
import { getObject, objectHeaders, putObject } from './object-operations.ts';
import { readAgainIfReplaced } from './read-again.ts';
import { bodyOf, parseTarget, type Target } from './request-target.ts';
import { S3Error, sendError } from './s3-answers.ts';
import { type Credentials, payloadHash, verifySigV4 } from './sigv4.ts';
import type { UploadExpiry } from './upload-expiry.ts';
import {
  deleteVersioned,
  getBucketVersioning,
  listObjectVersions,
  putBucketVersioning,
  readVersioned,
  versionedStatus,
} from './versioning.ts';

/** Largest object one PUT may carry. */
export const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
/**
 * Every method Node's HTTP parser hands to a route (TRACE, PROPFIND, ... too; CONNECT never reaches one): an
 * undeclared one gets the documented 405 with Allow, not the router's 404.
 */
const ALL_METHODS = METHODS.filter((m) => m !== 'CONNECT') as HTTPMethods[];
const ALLOWED: Record<'service' | 'bucket' | 'object', readonly string[]> = {
  service: ['GET'],
  bucket: ['PUT', 'HEAD', 'DELETE', 'GET'],
  object: ['PUT', 'GET', 'HEAD', 'DELETE', 'POST'],
};

export interface AppOptions {
  readiness: Readiness;
  meta: MetaStore;
  /** The embedded DataStore, or the cluster variant's replicated one (replicated-data.ts). */
  data: DataPlane;
  /** Garbage collection by compaction: on its timer, and on demand at POST /_ops/compact. */
  compactor: CompactionControl;
  /** Abandoned multipart uploads ended after MULTIPART_EXPIRY_SECONDS from initiation (upload-expiry.ts). */
  uploadExpiry: UploadExpiry;
  credentials: Credentials;
  mutant: MutantName | undefined;
  logger: { level: string } | false;
  /** The smallest part a multipart upload may have before its last (S3's 5 MiB by default; MIN_PART_BYTES). */
  minPartBytes: number;
  /** MUTANT ack-before-durable: how long the metadata write waits after the answer. */
  deferMetadataMs: number;
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

  let controlsRunning = 0; // MUTANT compaction-busy-answers
  // The ops control of compaction (the harness's, declared as the `compactPath` setting), outside S3's namespace
  // (`_ops` is no valid bucket name); signed like every S3 request; problem bodies like readiness.
  app.post('/_ops/compact', async (request, reply) => {
    try {
      authenticate(request, o);
    } catch (e) {
      const status = e instanceof S3Error ? e.status : 403;
      return sendProblem(reply, problemBody(status, 'unauthorized', 'the compaction control takes a SigV4 signature'));
    }
    // MUTANT compaction-busy-answers: a compaction asked for while another runs answers at once, empty, instead of
    // running its own pass after that one.
    if (o.mutant === 'compaction-busy-answers') {
      if (controlsRunning > 0)
        return reply.code(200).send({ files: [], moved: 0, batches: 0, reclaimedBytes: 0, done: true });
      controlsRunning += 1;
      reply.raw.once('close', () => {
        controlsRunning -= 1;
      });
    }
    const raw = (request.query as Record<string, string | undefined>)['batches'];
    if (raw !== undefined && !/^[1-9][0-9]{0,8}$/.test(raw)) {
      return sendProblem(
        reply,
        problemBody(400, 'invalid_batches', `batches must be a positive integer, got '${raw}'`),
      );
    }
    // On demand every file holding garbage is rewritten, whatever its ratio (the timer keeps to COMPACT_GARBAGE_RATIO).
    // MUTANT compaction-control-keeps-ratio: the control compacts only files past the timer's garbage ratio.
    const minRatio = o.mutant === 'compaction-control-keeps-ratio' ? o.compactor.garbageRatio : 0;
    // Uploads past their expiry are ended first, so this pass reclaims their parts' bytes.
    await o.uploadExpiry.sweep();
    const report = await o.compactor.run({ minRatio, ...(raw ? { maxBatches: Number(raw) } : {}) });
    return reply.code(200).send(report);
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

function authenticate(request: FastifyRequest, o: AppOptions): void {
  const failure = verifySigV4(
    { method: request.method, rawUrl: request.raw.url ?? '/', headers: request.headers },
    o.credentials,
    Date.now(),
    o.mutant !== 'signature-not-checked', // MUTANT signature-not-checked
    o.mutant === 'skew-one-sided', // MUTANT skew-one-sided
  );
  if (failure) throw new S3Error(failure.status, failure.code, `request refused: ${failure.code}`);
  // MUTANT auth-comma-space-required: only ", " separates the Authorization header's parameters.
  if (o.mutant === 'auth-comma-space-required' && /,(?! )/.test(String(request.headers.authorization))) {
    throw new S3Error(400, 'InvalidArgument', 'request refused: InvalidArgument');
  }
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

async function dispatch(request: FastifyRequest, reply: FastifyReply, t: Target, o: AppOptions): Promise<unknown> {
  if (t.kind === 'service') return listBuckets(reply, o);
  if (t.kind === 'bucket') {
    if (request.method === 'PUT' && !t.query.has('versioning')) return createBucket(reply, t, o);
    const bucket = await o.meta.bucket(t.bucket);
    if (!bucket) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
    if (request.method === 'PUT') return putBucketVersioning(request, reply, t, o);
    if (request.method === 'GET' && t.query.has('versioning')) return getBucketVersioning(reply, t, o);
    if (request.method === 'GET' && t.query.has('versions')) return listObjectVersions(reply, t, o);
    if (request.method === 'GET' && t.query.has('uploads')) return listMultipartUploads(reply, t, o);
    if (request.method === 'HEAD') return reply.code(200).send();
    if (request.method === 'DELETE') {
      // MUTANT empty-objects-dont-count: only objects with bytes keep a bucket from being deleted.
      const empty =
        o.mutant === 'empty-objects-dont-count'
          ? (await o.meta.all(t.bucket)).every((r) => r.size === 0)
          : await o.meta.isEmpty(t.bucket);
      if (!empty) throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty.');
      // Noncurrent versions and delete markers keep a bucket too, as in S3.
      // MUTANT bucket-delete-current-only: only current objects keep a bucket.
      if (o.mutant !== 'bucket-delete-current-only' && (await o.meta.hasVersions(t.bucket))) {
        throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty.');
      }
      await o.meta.deleteBucket(t.bucket);
      return reply.code(204).send();
    }
    return listObjects(reply, t, o);
  }
  if (!(await o.meta.bucket(t.bucket))) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist.');
  if (await dispatchMultipart(request, reply, t, o)) return reply;
  // A bucket whose versioning was ever set, or a versionId asked for, takes the versioned paths (versioning.ts).
  const status = await versionedStatus(t, o);
  if (request.method !== 'PUT' && (status !== 'unversioned' || t.query.has('versionId'))) {
    if (request.method === 'DELETE') return deleteVersioned(reply, t, o, status);
    // Read again when an overwrite or a delete by id dropped the bytes between the row and them (read-again.ts).
    return readAgainIfReplaced(o, (seen) => readVersioned(request, reply, t, o, status, seen));
  }
  if (request.method === 'PUT') return putObject(request, reply, t, o);
  if (request.method === 'DELETE') {
    // The state read again inside the delete's transaction: a first PutBucketVersioning may have come since.
    const old = await o.meta.deleteUnversioned(t.bucket, t.key);
    if (old === 'versioned') return deleteVersioned(reply, t, o, await versionedStatus(t, o));
    if (old) o.data.drop(old.objectId);
    return reply.code(204).send();
  }
  return readAgainIfReplaced(o, async (seen) => {
    const row = await o.meta.get(t.bucket, t.key);
    if (!row) throw new S3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    seen(row.objectId, row.etag);
    if (request.method === 'HEAD') {
      // HEAD reads the bytes too: an object whose checksum fails is an error here as on GET.
      await o.data.read(row.objectId);
      return objectHeaders(reply, row).code(200).send();
    }
    return getObject(request, reply, row, o);
  });
}

/**
 * The multipart operations S3 puts on an object's path, told apart by their query: true once one has answered, false
 * for the other operations. (A boolean, not the reply: a reply is a thenable, so awaiting it yields undefined.)
 */
async function dispatchMultipart(
  request: FastifyRequest,
  reply: FastifyReply,
  t: Target,
  o: AppOptions,
): Promise<boolean> {
  const q = t.query;
  if (request.method === 'POST') {
    if (q.has('uploads')) await createMultipartUpload(request, reply, t, o);
    else if (q.has('uploadId')) await completeMultipartUpload(request, reply, t, o);
    else throw new S3Error(400, 'InvalidRequest', 'POST on an object needs ?uploads (create) or ?uploadId= (complete)');
    return true;
  }
  if (!q.has('uploadId') && !(request.method === 'PUT' && q.has('partNumber'))) return false;
  if (request.method === 'PUT') {
    if (!q.has('uploadId')) throw new S3Error(400, 'InvalidArgument', 'partNumber needs an uploadId');
    await uploadPart(request, reply, t, o);
  } else if (request.method === 'GET') await listParts(reply, t, o);
  else if (request.method === 'DELETE') await abortMultipartUpload(reply, t, o);
  else return false;
  return true;
}
