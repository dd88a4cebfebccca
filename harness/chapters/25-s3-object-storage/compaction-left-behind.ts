// SOS-F4, the garbage a store is likeliest to leave behind because no request names it when it is made: a part
// uploaded but left out of the list a complete joins, and the `null` version a delete marker replaces in a Suspended
// bucket. Each is more than an eighth of the garbage this step makes, so a kind never collected fails its measure.
import { DeleteObjectCommand, PutBucketVersioningCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { diskBytes } from '../../core/dir-bytes.ts';
import { compact } from './compaction-control.ts';
import type { Ledger } from './compaction-kit.ts';
import { complete, createUpload, minPartBytes, multipartEtag, patterned, uploadPart } from './multipart-kit.ts';
import { freshBucket, type S3 } from './s3-client.ts';
import { md5 } from './s3-expect.ts';

const MiB = 1024 * 1024;

export async function garbageLeftBehind(
  ctx: CheckContext,
  s3: S3,
  ledger: Ledger,
  path: string,
  dataDir: string,
): Promise<void> {
  const c = s3.client;
  const before = diskBytes(dataDir);
  const garbageBefore = ledger.garbage;
  const liveBefore = ledger.liveBytes();
  const bucket = await freshBucket(ctx, s3, 'f4l');
  // Parts 1 and 3 listed and joined; part 2 (4 MiB) uploaded and left out: the spec drops it with the upload.
  const min = minPartBytes(ctx);
  const parts = [patterned(min, 1700), patterned(4 * MiB, 1701), patterned(MiB, 1702)];
  const u = { bucket, key: 'joined', uploadId: await createUpload(ctx, c, bucket, 'joined') };
  const etags: string[] = [];
  for (const [i, p] of parts.entries()) etags.push(await uploadPart(ctx, c, u, i + 1, p));
  await complete(c, bucket, 'joined', u.uploadId, [
    { PartNumber: 1, ETag: etags[0]! },
    { PartNumber: 3, ETag: etags[2]! },
  ]);
  const joined = [parts[0]!, parts[2]!];
  ledger.keep({ bucket, key: 'joined', bytes: Buffer.concat(joined), etag: multipartEtag(joined) });
  ledger.garbage += min + 4 * MiB + MiB;
  // Stored before versioning, so the key's `null` version once Suspended is set; a DELETE then puts a `null`
  // delete marker in its place, and its bytes (4 MiB) are garbage.
  const nul = patterned(4 * MiB, 1703);
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'null', Body: nul }));
  ledger.keep({ bucket, key: 'null', bytes: nul, etag: md5(nul) });
  await c.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Suspended' } }));
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'null' }));
  ledger.drop({ bucket, key: 'null' }, nul.length);
  const made = diskBytes(dataDir);
  const answer = await compact(ctx, path);
  const after = diskBytes(dataDir);
  const garbage = ledger.garbage - garbageBefore;
  const live = ledger.liveBytes() - liveBefore;
  const reclaimed = Math.max(made - after, before + live + garbage - after);
  ctx.evidence['leftBehind'] = { answer, before, withGarbage: made, after, liveBytes: live, garbageBytes: garbage };
  ctx.expect(
    reclaimed >= (garbage * 7) / 8,
    `${reclaimed} bytes reclaimed of the ${garbage} bytes of garbage made by a part left out of a complete's list, ` +
      'and a Suspended delete marker over a `null` version, less than seven eighths ' +
      `(the data directory: ${before} bytes before, ${made} with the garbage, ${after} after)`,
  );
}
