// What SOS-F4 keeps of what it did: every live object and version with its bytes and ETag, and what was deleted,
// so that after a compaction (or a kill in the middle of one) each is read back and compared.
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { bytesOf, type S3, sdkError } from './s3-client.ts';

/** One object or version to read back: `versionId` for a version of a versioned bucket. */
export interface Live {
  bucket: string;
  key: string;
  versionId?: string;
  bytes: Buffer;
  etag: string;
}

/** Something deleted: the key (404 NoSuchKey) or one version by id (404 NoSuchVersion). */
export interface Gone {
  bucket: string;
  key: string;
  versionId?: string;
}

export class Ledger {
  readonly live = new Map<string, Live>();
  readonly gone: Gone[] = [];
  /** Bytes the client made garbage: replaced, deleted, parts of ended uploads. */
  garbage = 0;

  static id(x: { bucket: string; key: string; versionId?: string }): string {
    return `${x.bucket}/${x.key}${x.versionId ? `?versionId=${x.versionId}` : ''}`;
  }

  keep(x: Live): void {
    this.live.set(Ledger.id(x), x);
  }

  /** Replaced or deleted: its bytes become garbage and it must not come back. */
  drop(x: Gone, bytes: number, stillListed = false): void {
    this.live.delete(Ledger.id(x));
    if (!stillListed) this.gone.push(x);
    this.garbage += bytes;
  }

  liveBytes(): number {
    let n = 0;
    for (const x of this.live.values()) n += x.bytes.length;
    return n;
  }
}

/** GET of one live object or version, whole: null when exact, else what was wrong. */
export async function readBackError(s3: S3, x: Live): Promise<string | null> {
  let got: { bytes: Buffer; etag: string | undefined } | undefined;
  const err = await sdkError(
    s3.client.send(new GetObjectCommand({ Bucket: x.bucket, Key: x.key, VersionId: x.versionId })).then(async (r) => {
      got = { bytes: await bytesOf(r.Body), etag: r.ETag };
    }),
  );
  if (!got) return `answers ${err?.status} ${err?.name}`;
  if (!got.bytes.equals(x.bytes)) return `came back as ${got.bytes.length} other bytes (of ${x.bytes.length})`;
  if (got.etag !== x.etag) return `has ETag ${got.etag}, not ${x.etag}`;
  return null;
}

/** Every live object whole and by a range, every deleted one still gone. */
export async function verifyLedger(ctx: CheckContext, s3: S3, ledger: Ledger, when: string): Promise<void> {
  for (const x of ledger.live.values()) {
    const whole = await readBackError(s3, x);
    ctx.expect(whole === null, `${when}: ${Ledger.id(x)} ${whole}`);
    if (x.bytes.length < 2) continue;
    const first = Math.floor(x.bytes.length / 3);
    const last = Math.min(x.bytes.length - 1, first + 4095);
    let slice: Buffer | undefined;
    const err = await sdkError(
      s3.client
        .send(
          new GetObjectCommand({
            Bucket: x.bucket,
            Key: x.key,
            VersionId: x.versionId,
            Range: `bytes=${first}-${last}`,
          }),
        )
        .then(async (r) => {
          slice = await bytesOf(r.Body);
        }),
    );
    ctx.expect(
      slice?.equals(x.bytes.subarray(first, last + 1)),
      `${when}: ${Ledger.id(x)} bytes=${first}-${last} ${slice ? 'is not that slice' : `answers ${err?.status} ${err?.name}`}`,
    );
  }
  for (const g of ledger.gone) {
    const r = await sdkError(
      s3.client.send(new HeadObjectCommand({ Bucket: g.bucket, Key: g.key, VersionId: g.versionId })),
    );
    ctx.expect(
      r?.status === 404,
      `${when}: deleted ${Ledger.id(g)} came back (HEAD ${r ? `${r.status} ${r.name}` : '200'})`,
    );
  }
}
