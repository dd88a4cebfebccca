// SOS-F3's abandoned upload (the book's GC of "abandoned multipart uploads"; S3's AbortIncompleteMultipartUpload,
// counted from initiation). The service is restarted with a short expiry (setting multipartExpiryVariable names the
// environment variable, in seconds), chosen from this run's own request times. Upload A is initiated, sent a part,
// and sent another half an expiry later; upload B is initiated then. Once A's expiry (from its initiation) has
// passed, A must be unknown (ListParts, UploadPart, Complete NoSuchUpload; not in ListMultipartUploads) while B, still
// within its expiry, is listed and completes to its part; after a compaction none of A's parts' bytes may be in the
// data directory. A request answered too late to judge (the machine slower than planned) makes the step run again
// with a doubled expiry. The service is then restarted as the manifest starts it.
import { randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { declaredDataNodes, foundUnder } from './cluster-kit.ts';
import { compact } from './compaction-control.ts';
import { complete, createUpload, multipartEtag, uploadPart } from './multipart-kit.ts';
import { bytesOf, freshBucket, type S3, sdkError } from './s3-client.ts';

const PART_BYTES = 64 * 1024;
/** The expiry is this many times the slowest of the run's multipart requests (at least MIN_EXPIRY_MS). */
const EXPIRY_PER_REQUEST = 12;
const MIN_EXPIRY_MS = 1500;
const TRIES = 3;

/** A unique 32-byte marker repeated: its first 64 bytes are looked for on disk. */
const markedPart = () => Buffer.alloc(PART_BYTES, randomBytes(32));

export async function abandonedUploadExpires(ctx: CheckContext, s3: S3): Promise<void> {
  const variable = ctx.setting('multipartExpiryVariable', '');
  if (typeof variable !== 'string' || variable === '') {
    ctx.log(
      'the expiry of abandoned uploads is not judged: the target declares no multipartExpiryVariable (the environment variable setting the expiry, in seconds since initiation)',
    );
    ctx.evidence['abandonedUpload'] = 'not judged: no setting multipartExpiryVariable';
    return;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable))
    throw new Error(`setting multipartExpiryVariable must name an environment variable, got ${variable}`);
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'f3x');
  let expiryMs = Math.round(Math.max(MIN_EXPIRY_MS, EXPIRY_PER_REQUEST * (await slowestRequestMs(ctx, c, bucket))));
  try {
    for (let attempt = 1; ; attempt++) {
      await restartWith(ctx, { [variable]: String(expiryMs / 1000) });
      ctx.changed(`restarted the service with ${variable}=${expiryMs / 1000}`);
      const judged = await oneRound(ctx, c, bucket, expiryMs, attempt);
      if (judged) break;
      ctx.expect(attempt < TRIES, `the abandoned upload could not be judged in ${TRIES} tries: the machine too slow`);
      expiryMs *= 2;
    }
    ctx.evidence['abandonedUploadExpiryMs'] = expiryMs;
  } finally {
    await restartWith(ctx, {});
  }
}

/** The slowest of CreateMultipartUpload, UploadPart and AbortMultipartUpload here, in ms. */
async function slowestRequestMs(ctx: CheckContext, c: S3Client, bucket: string): Promise<number> {
  let slowest = 0;
  const timed = async <T>(p: () => Promise<T>): Promise<T> => {
    const since = performance.now();
    const r = await p();
    slowest = Math.max(slowest, performance.now() - since);
    return r;
  };
  const u = { bucket, key: 'measure', uploadId: await timed(() => createUpload(ctx, c, bucket, 'measure')) };
  await timed(() => uploadPart(ctx, c, u, 1, markedPart()));
  await timed(() => c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.key, UploadId: u.uploadId })));
  return slowest;
}

async function restartWith(ctx: CheckContext, env: Record<string, string>): Promise<void> {
  await ctx.target.kill();
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    await ctx.target.start();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/**
 * One try at `expiryMs`: false when a request that would decide it was answered too late to be judged (a refusal
 * then may be the expiry's due). Every judgement rests on times the harness saw: an upload is past its expiry once
 * `expiryMs` has gone by since its CreateMultipartUpload was answered, and within it until `expiryMs` after it was sent.
 */
async function oneRound(
  ctx: CheckContext,
  c: S3Client,
  bucket: string,
  expiryMs: number,
  attempt: number,
): Promise<boolean> {
  const a = { bucket, key: `abandoned-${attempt}`, uploadId: '' };
  const b = { bucket, key: `kept-${attempt}`, uploadId: '' };
  const aParts = [markedPart(), markedPart()];
  const bPart = markedPart();
  const aSent = performance.now();
  a.uploadId = await createUpload(ctx, c, bucket, a.key);
  const aInitiated = performance.now(); // A's initiation is no later than this
  await uploadPart(ctx, c, a, 1, aParts[0]!);
  await ctx.sleep(aInitiated + expiryMs / 2 - performance.now());
  // Half an expiry on: A's last part, and B initiated. (Counted from A's last part, A would outlive its expiry.)
  const bSent = performance.now();
  b.uploadId = await createUpload(ctx, c, bucket, b.key);
  const bEtag = await uploadPart(ctx, c, b, 1, bPart);
  const lateSent = performance.now();
  const late = await sdkError(uploadPart(ctx, c, a, 2, aParts[1]!));
  if (late !== null) {
    if (performance.now() >= aSent + expiryMs) return tooLate(ctx, 'the upload of the late part');
    ctx.expect(false, `UploadPart to an upload within its expiry answered ${late.status} ${late.name}`);
  }
  // Past A's expiry from its initiation, well before it from its last part.
  await ctx.sleep(aInitiated + expiryMs * 1.05 - performance.now());
  const probeSent = performance.now();
  const listed = await sdkError(c.send(new ListPartsCommand({ Bucket: bucket, Key: a.key, UploadId: a.uploadId })));
  ctx.expect(
    listed?.name === 'NoSuchUpload',
    `ListParts of an upload ${Math.round(probeSent - aInitiated)} ms after its initiation (expiry ${expiryMs} ms; its last part ${Math.round(probeSent - lateSent)} ms ago) answered ${listed ? `${listed.status} ${listed.name}` : '200'}, not NoSuchUpload`,
  );
  // Answered an expiry after the late part, it cannot tell initiation from last part: not decisive.
  if (performance.now() >= lateSent + expiryMs) return tooLate(ctx, 'ListParts of the expired upload');
  const part = await sdkError(uploadPart(ctx, c, a, 3, markedPart()));
  ctx.expect(part?.name === 'NoSuchUpload', `UploadPart to an expired upload answered ${part?.status} ${part?.name}`);
  const done = await sdkError(complete(c, bucket, a.key, a.uploadId, [{ PartNumber: 1, ETag: 'x' }]));
  ctx.expect(done?.name === 'NoSuchUpload', `Complete of an expired upload answered ${done?.status} ${done?.name}`);
  const uploads = await c.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  const ids = (uploads.Uploads ?? []).map((u) => u.UploadId);
  ctx.expect(!ids.includes(a.uploadId), 'ListMultipartUploads lists an upload past its expiry');
  // B is within its expiry while answers come before it ends; a refusal after that is not judged.
  const withinB = () => performance.now() < bSent + expiryMs;
  if (!ids.includes(b.uploadId) && !withinB()) return tooLate(ctx, 'ListMultipartUploads');
  ctx.expect(ids.includes(b.uploadId), 'ListMultipartUploads leaves out an upload still within its expiry');
  const bDone = await sdkError(complete(c, bucket, b.key, b.uploadId, [{ PartNumber: 1, ETag: bEtag }]));
  if (bDone !== null && !withinB()) return tooLate(ctx, 'the Complete of the upload within its expiry');
  ctx.expect(bDone === null, `Complete of an upload within its expiry answered ${bDone?.status} ${bDone?.name}`);
  const got = await c.send(new GetObjectCommand({ Bucket: bucket, Key: b.key }));
  ctx.expect(
    (await bytesOf(got.Body)).equals(bPart) && got.ETag === multipartEtag([bPart]),
    `the upload completed within its expiry is not its part (ETag ${got.ETag})`,
  );
  await judgeReclaimed(ctx, aParts);
  ctx.evidence['abandonedUpload'] = 'expired: unknown, not listed; the upload within its expiry completed';
  return true;
}

function tooLate(ctx: CheckContext, what: string): false {
  ctx.log(`${what} was answered too late to be judged: the step runs again with a longer expiry`);
  return false;
}

/** With a compaction control, none of the expired upload's parts may be left in any data directory. */
async function judgeReclaimed(ctx: CheckContext, parts: readonly Buffer[]): Promise<void> {
  const compactPath = ctx.setting('compactPath', '');
  const nodes = declaredDataNodes(ctx);
  const dirs = (nodes.length > 0 ? nodes : [undefined]).map((n) => ctx.target.dataDir?.(n));
  if (typeof compactPath !== 'string' || compactPath === '' || dirs.some((d) => !d)) {
    ctx.log("the expired upload's parts are not looked for on disk: no compaction control or data directory");
    return;
  }
  ctx.evidence['abandonedUploadCompaction'] = await compact(ctx, compactPath);
  const left = dirs
    .flatMap((d) =>
      foundUnder(
        d!,
        parts.map((p) => p.subarray(0, 64)),
      ),
    )
    .filter(Boolean).length;
  ctx.expect(
    left === 0,
    `after the expiry and a compaction, ${left} copies of the expired upload's ${parts.length} parts are still in the data directory: never reclaimed`,
  );
}
