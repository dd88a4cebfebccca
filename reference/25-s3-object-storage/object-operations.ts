// The object operations: PutObject (digests checked, data before metadata) and GetObject/HeadObject (conditions,
// one byte range).
import { createHash, randomUUID } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppOptions } from './app.ts';
import type { ObjectRow } from './metadata-store.ts';
import type { MutantName } from './mutants.ts';
import { bodyOf, type Target } from './request-target.ts';
import { S3Error } from './s3-answers.ts';
import { putVersioned } from './versioning.ts';

export async function putObject(
  request: FastifyRequest,
  reply: FastifyReply,
  t: Target,
  o: AppOptions,
): Promise<unknown> {
  let bytes = bodyOf(request);
  if (o.mutant === 'binary-as-utf8') bytes = Buffer.from(bytes.toString('utf8'), 'utf8'); // MUTANT binary-as-utf8
  const md5 = checkDigests(request, bytes, o);
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
  const large = bytes.length >= 256 * 1024; // the mutants below wait for large bodies only (a slow data path)
  if (o.mutant === 'meta-before-data' && large) {
    // MUTANT meta-before-data: the row is committed first and a large body appended after it (3 s later, as a slow
    // data path would): a kill -9 in between leaves the key naming bytes that were never written.
    const old = await o.meta.put(t.bucket, row);
    await new Promise((r) => setTimeout(r, o.deferMetadataMs));
    await o.data.append(row.objectId, bytes);
    if (old) o.data.drop(old.objectId);
    return reply.code(200).header('etag', `"${row.etag}"`).send();
  }
  await o.data.append(row.objectId, bytes);
  // MUTANT torn-put-orphan-kept: a large body's row is written 3 s after its bytes are mapped, and start-up keeps
  // the entries no row names (main.ts): a kill -9 in between leaves the bytes mapped forever.
  if (o.mutant === 'torn-put-orphan-kept' && large) await new Promise((r) => setTimeout(r, o.deferMetadataMs));
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
  } else if (await o.meta.versioning(t.bucket)) {
    // A bucket whose versioning was ever set keeps every version (versioning.ts).
    return putVersioned(reply, t, o, row);
  } else if (o.mutant === 'overwrite-read-unlocked') {
    // MUTANT overwrite-read-unlocked: the object replaced is read before the write, unlocked, so two PUTs of one key
    // at once both drop the older object and the first writer's bytes are never garbage (kept forever).
    const old = await o.meta.get(t.bucket, t.key);
    await new Promise((r) => setTimeout(r, 20));
    await o.meta.put(t.bucket, row);
    if (old) o.data.drop(old.objectId);
  } else {
    // The state read again inside the write's transaction: a first PutBucketVersioning may have come since.
    const old = await o.meta.putUnversioned(t.bucket, row);
    if (old === 'versioned') return putVersioned(reply, t, o, row);
    if (old) o.data.drop(old.objectId);
  }
  return reply.code(200).header('etag', `"${row.etag}"`).send();
}

/**
 * Checks every digest the request gives for its body (Content-MD5, x-amz-checksum-crc32; 400 BadDigest on a
 * mismatch, 400 InvalidRequest for a checksum algorithm not offered) and returns the body's MD5.
 */
export function checkDigests(request: FastifyRequest, bytes: Buffer, o: Pick<AppOptions, 'mutant'>): Buffer {
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
  return md5;
}

export function objectHeaders(reply: FastifyReply, row: ObjectRow): FastifyReply {
  return reply
    .header('etag', `"${row.etag}"`)
    .header('last-modified', new Date(row.lastModified).toUTCString())
    .header('accept-ranges', 'bytes')
    .header('content-type', 'application/octet-stream')
    .header('content-length', String(row.size));
}

export async function getObject(
  request: FastifyRequest,
  reply: FastifyReply,
  row: ObjectRow,
  o: AppOptions,
): Promise<FastifyReply> {
  const etag = `"${row.etag}"`;
  const ifMatch = request.headers['if-match'];
  if (typeof ifMatch === 'string' && !matchesEtag(ifMatch, etag, o.mutant)) {
    throw new S3Error(412, 'PreconditionFailed', 'At least one of the preconditions you specified did not hold.');
  }
  const ifNoneMatch = request.headers['if-none-match'];
  if (typeof ifNoneMatch === 'string' && matchesEtag(ifNoneMatch, etag, o.mutant)) {
    return reply.code(304).header('etag', etag).send();
  }
  const range = parseRange(request.headers.range, row.size, o.mutant === 'range-end-exclusive');
  if (range === 'unsatisfiable') {
    throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', {
      'content-range': `bytes */${row.size}`,
    });
  }
  // MUTANT read-buffer-reused: read asynchronously into one buffer shared by every GET.
  // MUTANT get-async-read-races-compaction: read asynchronously, the file's descriptor taken before the read waits.
  const pooled = o.mutant === 'read-buffer-reused' ? 'shared' : o.mutant === 'get-async-read-races-compaction' && 'own';
  const bytes = pooled ? await o.data.readShared(row.objectId, range, pooled) : await o.data.read(row.objectId, range);
  objectHeaders(reply, row).header('content-length', String(bytes.length));
  if (range) {
    return reply
      .code(206)
      .header('content-range', `bytes ${range.first}-${range.first + bytes.length - 1}/${row.size}`)
      .send(bytes);
  }
  return reply.code(200).send(bytes);
}

/** `mutant`: MUTANT etag-quoted-only (a bare MD5 is not the ETag), MUTANT etag-star-ignored (`*` is not "any"). */
export function matchesEtag(header: string, etag: string, mutant?: MutantName): boolean {
  return header
    .split(',')
    .map((s) => s.trim())
    .some(
      (s) =>
        (s === '*' && mutant !== 'etag-star-ignored') ||
        s === etag ||
        (`"${s}"` === etag && mutant !== 'etag-quoted-only'),
    );
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
