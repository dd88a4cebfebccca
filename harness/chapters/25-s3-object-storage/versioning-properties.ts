// SOS-I5: against a model of what the client did, every version stays retrievable and delete markers behave as
// S3's do - any sequence of PUTs, DELETEs (a marker) and permanent deletes by id on a few keys of a versioned bucket.
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { freshBucket, s3Of } from './s3-client.ts';
import { md5 } from './s3-expect.ts';
import { allVersions, describeVersions, getVersion, setVersioning } from './versioning-kit.ts';

type Op =
  | { kind: 'put'; key: number; bytes: Uint8Array }
  | { kind: 'delete'; key: number }
  | { kind: 'deleteVersion'; key: number; pick: number };

interface ModelVersion {
  id: string;
  name: string;
  bytes: Buffer | null; // null: a delete marker
}

const KEYS = ['a', 'a/b', 'b'];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('put' as const),
      key: fc.nat({ max: 2 }),
      bytes: fc.uint8Array({ maxLength: 48 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), key: fc.nat({ max: 2 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('deleteVersion' as const),
      key: fc.nat({ max: 2 }), // The newest version (0) most often: deleting it must make the next one current.
      pick: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(1), fc.nat()),
    }),
  },
);

export async function versionsMatchModel(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  await ctx.property(
    fc.record({ ops: fc.array(opArb, { minLength: 3, maxLength: 14 }), pageSize: fc.integer({ min: 1, max: 4 }) }),
    async ({ ops, pageSize }) => {
      const bucket = await freshBucket(ctx, s3, 'i5');
      await setVersioning(c, bucket, 'Enabled');
      // Per key, its versions newest first.
      const model = new Map<string, ModelVersion[]>(KEYS.map((k) => [k, []]));
      const names = new Map<string, string>();
      let n = 0;
      for (const op of ops) {
        const key = KEYS[op.key]!;
        const versions = model.get(key)!;
        if (op.kind === 'put') {
          const body = Buffer.from(op.bytes);
          const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
          ctx.expect(put.VersionId, `PUT ${key} answered no version id`);
          versions.unshift({ id: put.VersionId, name: `v${++n}`, bytes: body });
          names.set(put.VersionId, `v${n}`);
        } else if (op.kind === 'delete') {
          const del = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          ctx.expect(del.DeleteMarker === true && del.VersionId, `DELETE ${key} answered no delete marker`);
          versions.unshift({ id: del.VersionId, name: `m${++n}`, bytes: null });
          names.set(del.VersionId, `m${n}`);
        } else if (versions.length > 0) {
          const [gone] = versions.splice(op.pick % versions.length, 1);
          await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: gone!.id }));
        }
      }
      // The listing: keys in byte order, each key's versions newest first, the newest IsLatest, whole or paged.
      const want = KEYS.flatMap((k) =>
        model.get(k)!.map((v, i) => `${k}:${v.bytes === null ? 'marker ' : ''}${v.name}${i === 0 ? '*' : ''}`),
      ).join(', ');
      const whole = await allVersions(s3, bucket);
      const got = describeVersions(whole, names);
      ctx.expect(got === want, `ListObjectVersions: [${got}], not [${want}]`);
      const paged = describeVersions(await allVersions(s3, bucket, undefined, pageSize), names);
      ctx.expect(paged === want, `ListObjectVersions ${pageSize} at a time: [${paged}], not [${want}]`);
      for (const v of whole) {
        const m = model.get(v.key)?.find((x) => x.id === v.versionId);
        if (m?.bytes) {
          ctx.expect(
            v.etag === md5(m.bytes) && v.size === m.bytes.length,
            `${v.key} ${m.name}: listed ETag/size wrong`,
          );
        }
      }
      // Every version readable by id, exactly its bytes; the key itself reads as its newest version, or is gone.
      const current: string[] = [];
      for (const key of KEYS) {
        for (const v of model.get(key)!) {
          const got = await getVersion(c, bucket, key, v.id);
          if (v.bytes === null) {
            ctx.expect('error' in got && got.status === 405, `GET ${key} ${v.name} (a delete marker) by id is not 405`);
          } else {
            ctx.expect('bytes' in got && got.bytes.equals(v.bytes), `GET ${key} ${v.name} by id is not its bytes`);
          }
        }
        const newest = model.get(key)![0];
        const got = await getVersion(c, bucket, key);
        if (newest?.bytes) {
          current.push(key);
          ctx.expect(
            'bytes' in got && got.bytes.equals(newest.bytes),
            `GET ${key} is not its newest version ${newest.name}`,
          );
        } else {
          ctx.expect(
            'error' in got && got.status === 404 && got.error === 'NoSuchKey',
            `GET ${key} (newest ${newest ? `the delete marker ${newest.name}` : 'none'}) answered ${'error' in got ? `${got.status} ${got.error}` : 'bytes'}, not 404 NoSuchKey`,
          );
        }
      }
      const listedKeys = (await c.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key) ?? [];
      ctx.expect(
        listedKeys.join() === current.join(),
        `ListObjectsV2 lists [${listedKeys.join()}], not [${current.join()}]`,
      );
    },
    Math.min(ctx.numRuns, 25),
  );
}
