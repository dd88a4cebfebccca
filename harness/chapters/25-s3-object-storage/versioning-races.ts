// SOS-I7: PUTs, DELETEs and multipart completes racing a bucket's first PutBucketVersioning lose nothing. Each write
// lands either before versioning was set (the key's object then becomes its `null` version) or after (Enabled: a new
// version on top of the `null` one the earlier object became; Suspended: it replaces that `null` version); whichever,
// every version listed reads back byte for byte, the key reads as its last write, and nothing answers an error.
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { complete, createUpload, multipartEtag, uploadPart } from './multipart-kit.ts';
import { seededBytes } from './read-races.ts';
import { freshBucket, s3Of, sdkError } from './s3-client.ts';
import { md5 } from './s3-expect.ts';
import { allVersions, getVersion, type ListedVersion, setVersioning } from './versioning-kit.ts';

type Op = 'put' | 'delete' | 'complete' | 'keep';

interface KeyRace {
  key: string;
  op: Op;
  before: Buffer;
  after?: Buffer;
  /** The version id the write answered (PUT, DELETE, complete), when it answered one. */
  answered?: string;
  marker?: boolean;
}

export async function versioningRacesWrites(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  let run = 0;
  const landed = { before: 0, after: 0 };
  await ctx.property(
    fc.record({
      status: fc.constantFrom<'Enabled' | 'Suspended'>('Enabled', 'Suspended'),
      ops: fc.array(fc.constantFrom<Op>('put', 'put', 'delete', 'complete', 'keep'), { minLength: 12, maxLength: 24 }),
      at: fc.nat(),
      seed: fc.integer(),
    }),
    async ({ status, ops, at, seed }) => {
      run++;
      const bucket = await freshBucket(ctx, s3, 'i7');
      const races: KeyRace[] = ops.map((op, i) => ({
        key: `k${String(i).padStart(2, '0')}-${run}`,
        op,
        before: seededBytes(3000 + ((seed + i * 7919) & 0x3fff), seed + i),
        ...(op === 'put' || op === 'complete' ? { after: seededBytes(2000 + i * 37, seed + 100 + i) } : {}),
      }));
      const uploads = new Map<string, { uploadId: string; etag: string }>();
      for (const r of races) {
        await c.send(new PutObjectCommand({ Bucket: bucket, Key: r.key, Body: r.before }));
        if (r.op === 'complete') {
          const uploadId = await createUpload(ctx, c, bucket, r.key);
          const etag = await uploadPart(ctx, c, { bucket, key: r.key, uploadId }, 1, r.after!);
          uploads.set(r.key, { uploadId, etag });
        }
      }
      // Every write at once, and the bucket's first PutBucketVersioning sent among them at a seeded place: where
      // requests interleave they race it; where each is handled whole, some land before it and some after.
      const cut = at % (races.length + 1);
      const write = async (r: KeyRace) => {
        const e = await sdkError(
          (async () => {
            if (r.op === 'put') {
              const a = await c.send(new PutObjectCommand({ Bucket: bucket, Key: r.key, Body: r.after }));
              ctx.expect(a.ETag === md5(r.after!), `PUT ${r.key}: ETag ${a.ETag}, not ${md5(r.after!)}`);
              r.answered = a.VersionId;
            } else if (r.op === 'delete') {
              const a = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: r.key }));
              r.answered = a.VersionId;
              r.marker = a.DeleteMarker === true;
            } else if (r.op === 'complete') {
              const u = uploads.get(r.key)!;
              r.answered = (await complete(c, bucket, r.key, u.uploadId, [{ PartNumber: 1, ETag: u.etag }])).VersionId;
            }
          })(),
        );
        ctx.expect(!e, `${r.op} ${r.key} racing the first PutBucketVersioning answered ${e?.status} ${e?.name}`);
      };
      const first = races.slice(0, cut).map(write);
      const versioning = (async () => {
        const e = await sdkError(setVersioning(c, bucket, status));
        ctx.expect(!e, `the first PutBucketVersioning (${status}) answered ${e?.status} ${e?.name}`);
      })();
      const writes = [...first, ...races.slice(cut).map(write)];
      await Promise.all([...writes, versioning]);
      const listed = await allVersions(s3, bucket);
      for (const r of races) await checkKey(ctx, c, bucket, status, r, listed, landed);
    },
    Math.max(3, Math.ceil(ctx.numRuns / 2)),
  );
  // How often the race was run through: writes that landed before versioning and after it.
  ctx.evidence['landed'] = landed;
}

/** The key's listing is one of the two outcomes its write allows, and every version in it reads back exactly. */
async function checkKey(
  ctx: CheckContext,
  c: ReturnType<typeof s3Of>['client'],
  bucket: string,
  status: 'Enabled' | 'Suspended',
  r: KeyRace,
  listed: ListedVersion[],
  landed: { before: number; after: number },
): Promise<void> {
  const got = listed.filter((v) => v.key === r.key);
  // A completed upload's ETag is S3's multipart one ("-1"), a PUT's the MD5.
  const etagOf = (b: Buffer) => (b === r.after && r.op === 'complete' ? multipartEtag([b]) : md5(b));
  const name = (e?: string) => (e === md5(r.before) ? 'old' : r.after && e === etagOf(r.after) ? 'new' : e);
  const shape = got.map(
    (v) => `${v.kind === 'marker' ? 'marker' : name(v.etag)} ${v.versionId}${v.isLatest ? '*' : ''}`,
  );
  const where = `${r.op} of ${r.key} racing the first PutBucketVersioning (${status}): listed [${shape.join(', ')}]`;
  const isObj = (v: ListedVersion | undefined, b: Buffer, id?: string) =>
    v?.kind === 'version' && v.etag === etagOf(b) && (id === undefined ? v.versionId !== 'null' : v.versionId === id);
  const isMarker = (v: ListedVersion | undefined, id?: string) =>
    v?.kind === 'marker' && (id === undefined ? v.versionId !== 'null' : v.versionId === id);
  let before: boolean;
  if (r.op === 'keep') {
    ctx.expect(got.length === 1 && isObj(got[0], r.before, 'null'), `${where}; expected its object as version null`);
    before = true;
  } else if (r.op === 'delete') {
    before = got.length === 0;
    const after =
      status === 'Suspended'
        ? got.length === 1 && isMarker(got[0], 'null')
        : got.length === 2 && isMarker(got[0]) && isObj(got[1], r.before, 'null');
    ctx.expect(before || after, `${where}; expected nothing (deleted first) or a delete marker over the null version`);
    if (after) ctx.expect(r.marker && r.answered === got[0]!.versionId, `${where}; the DELETE answered ${r.answered}`);
  } else {
    const after = r.after!;
    const alone = got.length === 1 && isObj(got[0], after, 'null');
    const onTop = status === 'Enabled' && got.length === 2 && isObj(got[0], after) && isObj(got[1], r.before, 'null');
    ctx.expect(alone || onTop, `${where}; expected the new object as version null, or (Enabled) over the old one`);
    before = alone && (status === 'Enabled' || r.answered === undefined);
    // A PUT's or complete's answer names the version it made (none before versioning, the new id or null after).
    if (onTop) ctx.expect(r.answered === got[0]!.versionId, `${where}; the ${r.op} answered ${r.answered}`);
    if (alone && status === 'Enabled')
      ctx.expect(r.answered === undefined || r.answered === 'null', `${where}; the ${r.op} answered ${r.answered}`);
  }
  landed[before ? 'before' : 'after']++;
  ctx.expect(got.length === 0 || got[0]!.isLatest, `${where}; its newest entry is not IsLatest`);
  for (const v of got) {
    const g = await getVersion(c, bucket, r.key, v.versionId);
    if (v.kind === 'marker') {
      ctx.expect('error' in g && g.status === 405, `${where}; GET of marker ${v.versionId} by id: not 405`);
      continue;
    }
    const want = v.etag === etagOf(r.before) ? r.before : r.after!;
    ctx.expect(
      'bytes' in g && g.bytes.equals(want),
      `${where}; GET of version ${v.versionId} by id: ${'bytes' in g ? `${g.bytes.length} other bytes` : `${g.status} ${g.error}`}, not its ${want.length} bytes`,
    );
  }
  const current = await getVersion(c, bucket, r.key);
  const want = r.op === 'delete' ? undefined : r.op === 'keep' ? r.before : r.after!;
  if (want)
    ctx.expect(
      'bytes' in current && current.bytes.equals(want),
      `${where}; GET: ${'bytes' in current ? `${current.bytes.length} other bytes` : `${current.status} ${current.error}`}, not the last write's ${want.length} bytes`,
    );
  else ctx.expect('error' in current && current.status === 404, `${where}; GET after the DELETE: not 404`);
}
