// What the multipart checks share: the minimum part size graded (S3's 5 MiB unless the target declares another),
// bodies that differ from one upload to the next, S3's ETag of a multipart object, uploading parts and completing.
import { createHash } from 'node:crypto';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { md5 } from './s3-expect.ts';

/** S3's minimum size of every part but the last. */
export const S3_MIN_PART_BYTES = 5 * 1024 * 1024;

export function minPartBytes(ctx: CheckContext): number {
  const n = ctx.setting('minPartBytes', S3_MIN_PART_BYTES);
  if (!Number.isInteger(n) || n < 1) throw new Error(`setting minPartBytes must be a positive integer, got ${n}`);
  return n;
}

/** `size` bytes of a pattern that depends on `seed` (a 251-byte period, so parts never line up by accident). */
export function patterned(size: number, seed: number): Buffer {
  const period = Buffer.from(Array.from({ length: 251 }, (_, j) => (seed * 53 + j * 7 + (seed >> 8)) % 256));
  return Buffer.alloc(size, period);
}

/** S3's ETag of an object made of these parts: the MD5 of their binary MD5s, "-", their number; quoted. */
export function multipartEtag(parts: readonly Buffer[]): string {
  const digests = Buffer.concat(parts.map((p) => createHash('md5').update(p).digest()));
  return `"${createHash('md5').update(digests).digest('hex')}-${parts.length}"`;
}

export async function createUpload(ctx: CheckContext, c: S3Client, bucket: string, key: string): Promise<string> {
  const r = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  ctx.expect(r.UploadId, `CreateMultipartUpload of ${key} answered no UploadId`);
  return r.UploadId;
}

/** Uploads one part and checks that its ETag is its MD5; returns the ETag. */
export async function uploadPart(
  ctx: CheckContext,
  c: S3Client,
  u: { bucket: string; key: string; uploadId: string },
  partNumber: number,
  body: Buffer,
): Promise<string> {
  const r = await c.send(
    new UploadPartCommand({ Bucket: u.bucket, Key: u.key, UploadId: u.uploadId, PartNumber: partNumber, Body: body }),
  );
  ctx.expect(r.ETag === md5(body), `UploadPart ${partNumber}: ETag ${r.ETag}, not the part's MD5 ${md5(body)}`);
  return r.ETag;
}

/** The parts a complete lists: number and the ETag UploadPart answered. */
export type Parts = { PartNumber: number; ETag: string }[];

/** An upload in progress: its bucket, key and id. */
export type UploadRef = { bucket: string; key: string; uploadId: string };

export const complete = (c: S3Client, bucket: string, key: string, uploadId: string, parts: Parts) =>
  c.send(
    new CompleteMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      UploadId: uploadId,
      MultipartUpload: { Parts: parts },
    }),
  );
