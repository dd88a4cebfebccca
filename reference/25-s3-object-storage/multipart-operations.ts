// Multipart upload (the book's "optimizing uploads of large files"): an upload id, parts uploaded independently
// (each its own data-store entry with its MD5 ETag), then complete - the parts listed, in ascending part-number
// order, joined into one object that becomes visible at once - or abort, which forgets the upload and its parts.
import { createHash, randomUUID } from 'node:crypto';
import { XMLParser } from 'fast-xml-parser';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppOptions } from './app.ts';
import type { ObjectRow, PartRow, UploadRow } from './metadata-store.ts';
import { completeResultXml, initiateResultXml, listPartsResultXml } from './multipart-answers.ts';
import { checkDigests } from './object-operations.ts';
import { bodyOf, type Target } from './request-target.ts';
import { S3Error, sendXml } from './s3-answers.ts';

/** S3's part numbers. */
const MAX_PART_NUMBER = 10_000;
const MAX_PARTS_LISTED = 1000;

const noSuchUpload = () =>
  new S3Error(
    404,
    'NoSuchUpload',
    'The specified multipart upload does not exist. The upload ID might be invalid, or the upload might have been aborted or completed.',
  );

/** The upload the request's uploadId names, for this bucket and key; NoSuchUpload otherwise. */
async function uploadOf(t: Target, o: AppOptions): Promise<UploadRow> {
  const id = t.query.get('uploadId') ?? '';
  const u = id === '' ? undefined : await o.meta.upload(id);
  // MUTANT upload-bucket-unchecked: an upload id works through its key in any bucket.
  const otherBucket = u !== undefined && u.bucket !== t.bucket && o.mutant !== 'upload-bucket-unchecked';
  if (!u || otherBucket || !u.key.equals(t.key)) throw noSuchUpload();
  // Past its expiry an upload is gone, whether or not the sweep has ended it yet (upload-expiry.ts).
  if (await o.uploadExpiry.expired(u)) throw noSuchUpload();
  return u;
}

export async function createMultipartUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  t: Target,
  o: AppOptions,
): Promise<FastifyReply> {
  const algorithm = request.headers['x-amz-checksum-algorithm'];
  if (algorithm !== undefined && String(algorithm).toUpperCase() !== 'CRC32') {
    throw new S3Error(400, 'InvalidRequest', `checksum algorithm ${algorithm} is not supported; use CRC32`);
  }
  const upload: UploadRow = { uploadId: randomUUID(), bucket: t.bucket, key: t.key, initiated: Date.now() };
  await o.meta.createUpload(upload);
  if (o.mutant === 'visible-before-complete') {
    // MUTANT visible-before-complete: an empty object is recorded under the key as the upload begins.
    const row: ObjectRow = {
      objectId: randomUUID(),
      key: t.key,
      size: 0,
      etag: md5Hex(Buffer.alloc(0)),
      lastModified: Date.now(),
    };
    await o.data.append(row.objectId, Buffer.alloc(0));
    const old = await o.meta.put(t.bucket, row);
    if (old) o.data.drop(old.objectId);
  }
  return sendXml(reply, 200, initiateResultXml(t.bucket, t.key.toString('utf8'), upload.uploadId));
}

export async function uploadPart(
  request: FastifyRequest,
  reply: FastifyReply,
  t: Target,
  o: AppOptions,
): Promise<FastifyReply> {
  // MUTANT part-number-prefix: only the leading digits of partNumber are read ("2x" is part 2).
  if (o.mutant === 'part-number-prefix') {
    const prefix = /^[0-9]{1,5}(?=[^0-9])/.exec(t.query.get('partNumber') ?? '');
    if (prefix) t.query.set('partNumber', prefix[0]);
  }
  const partNumber = partNumberOf(t.query.get('partNumber'), o.mutant === 'part-number-max-exclusive');
  const upload = await uploadOf(t, o);
  let bytes = bodyOf(request);
  // MUTANT part-digest-unchecked: the part's MD5 is computed, the request's digests never compared.
  const md5 =
    o.mutant === 'part-digest-unchecked' ? createHash('md5').update(bytes).digest() : checkDigests(request, bytes, o);
  if (o.mutant === 'reupload-appended') {
    // MUTANT reupload-appended: a part sent again is added after the bytes it should replace.
    const earlier = (await o.meta.parts(upload.uploadId)).find((p) => p.partNumber === partNumber);
    if (earlier) bytes = Buffer.concat([await o.data.read(earlier.objectId), bytes]);
  }
  // MUTANT part-size-not-replaced: a part uploaded again keeps the size recorded for the earlier one.
  const earlierSize =
    o.mutant === 'part-size-not-replaced'
      ? (await o.meta.parts(upload.uploadId)).find((p) => p.partNumber === partNumber)?.size
      : undefined;
  const part: PartRow = {
    partNumber,
    objectId: randomUUID(),
    size: earlierSize ?? bytes.length,
    etag: md5.toString('hex'),
    lastModified: Date.now(),
  };
  // Bytes first (appended and synced), then the part's row: a part acknowledged is a part kept.
  await o.data.append(part.objectId, bytes);
  if (o.mutant === 'part-ack-before-durable') {
    // MUTANT part-ack-before-durable: the answer goes out before the part's row is written.
    setTimeout(() => void o.meta.putPart(upload.uploadId, part), o.deferMetadataMs).unref();
    return reply.code(200).header('etag', `"${part.etag}"`).send();
  }
  const put = await o.meta.putPart(upload.uploadId, part);
  if (!put) {
    o.data.drop(part.objectId);
    throw noSuchUpload();
  }
  if (put.replaced) o.data.drop(put.replaced.objectId);
  return reply.code(200).header('etag', `"${part.etag}"`).send();
}

/** `maxExclusive` is MUTANT part-number-max-exclusive: part 10,000 refused. */
function partNumberOf(text: string | null, maxExclusive = false): number {
  const max = maxExclusive ? MAX_PART_NUMBER - 1 : MAX_PART_NUMBER;
  if (text === null || !/^[0-9]{1,5}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new S3Error(
      400,
      'InvalidArgument',
      `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
    );
  }
  return Number(text);
}

const completeParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  ignoreDeclaration: true,
  isArray: (name) => name === 'Part',
});

/** The part list of a CompleteMultipartUpload body; 400 MalformedXML when it is not one. */
function listedParts(body: Buffer): { partNumber: number; etag: string }[] {
  let doc: { CompleteMultipartUpload?: { Part?: { PartNumber?: unknown; ETag?: unknown }[] } };
  try {
    doc = completeParser.parse(body.toString('utf8'));
  } catch {
    doc = {};
  }
  const parts = doc.CompleteMultipartUpload?.Part;
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new S3Error(
      400,
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema.',
    );
  }
  return parts.map((p) => {
    const n = typeof p.PartNumber === 'string' ? p.PartNumber.trim() : '';
    if (typeof p.ETag !== 'string' || !/^[0-9]{1,5}$/.test(n)) {
      throw new S3Error(400, 'MalformedXML', 'Each Part needs a PartNumber and an ETag.');
    }
    return { partNumber: Number(n), etag: p.ETag.trim().replace(/^"|"$/g, '') };
  });
}

export async function completeMultipartUpload(
  request: FastifyRequest,
  reply: FastifyReply,
  t: Target,
  o: AppOptions,
): Promise<FastifyReply> {
  const upload = await uploadOf(t, o);
  let listed = listedParts(bodyOf(request));
  if (o.mutant === 'part-order-unchecked') listed = [...listed].sort((a, b) => a.partNumber - b.partNumber);
  for (let i = 1; i < listed.length; i++) {
    // MUTANT duplicate-part-listed: a part number listed twice in a row passes as ascending.
    const dup = o.mutant === 'duplicate-part-listed' && listed[i]!.partNumber === listed[i - 1]!.partNumber;
    if (listed[i]!.partNumber <= listed[i - 1]!.partNumber && !dup) {
      throw new S3Error(
        400,
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      );
    }
  }
  const stored = new Map((await o.meta.parts(upload.uploadId)).map((p) => [p.partNumber, p]));
  const parts = listed.map((l) => {
    const p = stored.get(l.partNumber);
    // MUTANT part-etag-unchecked: a part is found by its number alone.
    if (!p || (p.etag !== l.etag && o.mutant !== 'part-etag-unchecked')) {
      throw new S3Error(400, 'InvalidPart', `Part ${l.partNumber} was not uploaded or its ETag is not ${l.etag}.`);
    }
    return p;
  });
  // Every part but the last must be at least the minimum part size (S3's 5 MiB unless configured).
  const small = parts.slice(0, -1).find((p) => p.size < o.minPartBytes);
  if (small && o.mutant !== 'small-part-accepted') {
    throw new S3Error(
      400,
      'EntityTooSmall',
      `Part ${small.partNumber} is ${small.size} bytes, smaller than the minimum allowed size ${o.minPartBytes}.`,
    );
  }
  if (o.mutant === 'complete-row-before-join') {
    // MUTANT complete-row-before-join: the object's row is committed (the upload ended) before the parts are joined
    // into its bytes (3 s later): a kill -9 in between leaves the key naming bytes never written.
    const row: ObjectRow = {
      objectId: randomUUID(),
      key: t.key,
      size: parts.reduce((sum, p) => sum + p.size, 0),
      etag: multipartEtag(parts.map((p) => p.etag)),
      lastModified: Date.now(),
    };
    const ended = await o.meta.endUpload(upload.uploadId, { bucket: t.bucket, row });
    if (!ended) throw noSuchUpload();
    await new Promise((r) => setTimeout(r, o.deferMetadataMs));
    o.data.appendJoined(
      row.objectId,
      parts.map((p) => p.objectId),
    );
    for (const p of ended.parts) o.data.drop(p.objectId);
    const body = { location: t.resource, bucket: t.bucket, key: t.key.toString('utf8'), etag: row.etag };
    return sendXml(reply, 200, completeResultXml(body));
  }
  // MUTANT parts-in-upload-order: the parts joined in the order they arrived.
  const joinOrder =
    o.mutant === 'parts-in-upload-order' ? [...parts].sort((a, b) => a.lastModified - b.lastModified) : parts;
  const objectId = randomUUID();
  let size: number;
  try {
    size = await o.data.appendJoined(
      objectId,
      joinOrder.map((p) => p.objectId),
    );
  } catch (error) {
    // An abort (or another complete) that ended the upload after its parts were read dropped their data: this
    // complete lost the race and answers NoSuchUpload, as it would have a moment later. Any other error stands.
    // MUTANT complete-join-race-500: the upload looked up at the start (always there) is trusted: the error (500).
    if (o.mutant !== 'complete-join-race-500') await uploadOf(t, o);
    throw error;
  }
  const etag =
    o.mutant === 'multipart-etag-whole-body'
      ? md5Hex(await o.data.read(objectId)) // MUTANT multipart-etag-whole-body
      : multipartEtag(parts.map((p) => p.etag));
  const row: ObjectRow = { objectId, key: t.key, size, etag, lastModified: Date.now() };
  if (o.mutant === 'complete-not-atomic') {
    // MUTANT complete-not-atomic: the object is recorded, then (after a wait) the upload ended whether or not an
    // abort or another complete ended it first.
    const old = await o.meta.put(t.bucket, row);
    if (old) o.data.drop(old.objectId);
    await new Promise((r) => setTimeout(r, 300));
    for (const p of (await o.meta.endUpload(upload.uploadId))?.parts ?? []) o.data.drop(p.objectId);
    return sendXml(
      reply,
      200,
      completeResultXml({ location: t.resource, bucket: t.bucket, key: t.key.toString('utf8'), etag }),
    );
  }
  const ended = await o.meta.endUpload(upload.uploadId, { bucket: t.bucket, row });
  if (!ended) {
    // MUTANT complete-loser-keeps-copy: a complete that lost after joining the parts keeps its joined copy mapped.
    if (o.mutant !== 'complete-loser-keeps-copy') o.data.drop(objectId);
    throw noSuchUpload();
  }
  // MUTANT complete-keeps-parts: a completed upload's parts are never dropped (their bytes never garbage).
  // MUTANT complete-drops-listed-only: only the parts joined are dropped, the ones left out of the list kept forever.
  const dropped = o.mutant === 'complete-drops-listed-only' ? parts : ended.parts;
  if (o.mutant !== 'complete-keeps-parts') for (const p of dropped) o.data.drop(p.objectId);
  if (ended.replaced) o.data.drop(ended.replaced.objectId);
  return sendXml(
    reply,
    200,
    completeResultXml({ location: t.resource, bucket: t.bucket, key: t.key.toString('utf8'), etag }),
    versionHeader(ended, o),
  );
}

/** S3's ETag of a multipart object: the MD5 of the parts' binary MD5s, then "-" and the number of parts. */
export function multipartEtag(partEtags: readonly string[]): string {
  const digests = Buffer.concat(partEtags.map((e) => Buffer.from(e, 'hex')));
  return `${md5Hex(digests)}-${partEtags.length}`;
}

function md5Hex(bytes: Buffer): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** S3's x-amz-version-id on a complete in a bucket whose versioning was set: the version the object is. */
function versionHeader(ended: { versionId?: string }, o: AppOptions): Record<string, string> {
  // MUTANT complete-version-id-unsent: the version is made and listed, its id never answered.
  if (ended.versionId === undefined || o.mutant === 'complete-version-id-unsent') return {};
  return { 'x-amz-version-id': ended.versionId };
}

/**
 * MUTANT abort-ends-after-answer: the upload was found, so the client is answered at once and the upload ended
 * (parts deleted, their bytes dropped) in the background: a request sent after the 204 can still find it.
 */
async function abortEndedAfterAnswer(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
  const upload = await uploadOf(t, o);
  void o.meta
    .endUpload(upload.uploadId)
    .then((ended) => {
      for (const p of ended?.parts ?? []) o.data.drop(p.objectId);
    })
    .catch(() => undefined);
  return reply.code(204).send();
}

export async function abortMultipartUpload(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
  if (o.mutant === 'abort-ends-after-answer') return abortEndedAfterAnswer(reply, t, o);
  const upload = await uploadOf(t, o);
  // MUTANT abort-keeps-parts: the answer says aborted, the upload and its parts stay.
  if (o.mutant !== 'abort-keeps-parts') {
    const ended = await o.meta.endUpload(upload.uploadId);
    if (!ended) throw noSuchUpload();
    for (const p of ended.parts) o.data.drop(p.objectId);
  }
  return reply.code(204).send();
}

export async function listParts(reply: FastifyReply, t: Target, o: AppOptions): Promise<FastifyReply> {
  const upload = await uploadOf(t, o);
  const maxText = t.query.get('max-parts');
  const markerText = t.query.get('part-number-marker');
  if (
    (maxText !== null && !/^[0-9]{1,9}$/.test(maxText)) ||
    (markerText !== null && !/^[0-9]{1,9}$/.test(markerText))
  ) {
    throw new S3Error(400, 'InvalidArgument', 'max-parts and part-number-marker must be non-negative integers');
  }
  const maxParts = Math.min(maxText === null ? MAX_PARTS_LISTED : Number(maxText), MAX_PARTS_LISTED);
  const marker = markerText === null ? 0 : Number(markerText);
  let all = await o.meta.parts(upload.uploadId);
  // MUTANT parts-listed-unordered: the parts in the order they were uploaded (a store read without ORDER BY).
  if (o.mutant === 'parts-listed-unordered') all = [...all].sort((a, b) => a.lastModified - b.lastModified);
  const after = all.filter((p) => p.partNumber > marker);
  const page = after.slice(0, maxParts);
  return sendXml(
    reply,
    200,
    listPartsResultXml({
      bucket: t.bucket,
      key: t.key.toString('utf8'),
      uploadId: upload.uploadId,
      marker,
      maxParts,
      parts: page,
      // MUTANT parts-page-full-truncated: a page exactly full says truncated even when nothing follows.
      truncated: o.mutant === 'parts-page-full-truncated' ? page.length === maxParts : after.length > page.length,
    }),
  );
}
