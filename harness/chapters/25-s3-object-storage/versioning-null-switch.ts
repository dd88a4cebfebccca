// SOS-C8, across the switch: a key whose `null` version (from before versioning) lies under versions Enabled added,
// then written while Suspended. S3: the PUT's `null` version replaces the old one and is the newest (listed first,
// IsLatest, read without versionId); a DELETE's `null` delete marker likewise; the Enabled versions stay under it,
// listed whole and a version a page (a page ending on the `null` version resumes under it at version-id-marker=null).
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { freshBucket, type S3 } from './s3-client.ts';
import { allVersions, describeVersions, getVersion, setVersioning } from './versioning-kit.ts';

const bodyOf = (label: string, n: number) =>
  Buffer.from(Array.from({ length: n }, (_, i) => (label.charCodeAt(0) * 7 + i * 31) % 256));

export async function nullUnderVersions(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c8n');
  const old = bodyOf('o', 21);
  const v1Body = bodyOf('v', 22);
  const suspendedBody = bodyOf('s', 23);
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: old }));
  await setVersioning(c, bucket, 'Enabled');
  const v1 = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: v1Body }));
  await setVersioning(c, bucket, 'Suspended');
  const put = await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: suspendedBody }));
  ctx.expect(put.VersionId === 'null', `a Suspended PUT over [v1, null] answered version ${put.VersionId}, not null`);
  const names = new Map([[v1.VersionId ?? '', 'v1']]);
  let listed = describeVersions(await allVersions(s3, bucket), names);
  ctx.expect(
    listed === 'k:null*, k:v1',
    `ListObjectVersions after a Suspended PUT over [v1, the null version from before versioning]: [${listed}], ` +
      'not [k:null*, k:v1] (the new null version is the newest)',
  );
  // A page of one ends on the `null` version with v1 under it: NextVersionIdMarker `null` resumes at v1.
  listed = describeVersions(await allVersions(s3, bucket, undefined, 1), names);
  ctx.expect(
    listed === 'k:null*, k:v1',
    `ListObjectVersions a version a page after a Suspended PUT over [v1, null]: [${listed}], not [k:null*, k:v1] ` +
      '(the second page resumes under the null version, at version-id-marker=null)',
  );
  const got = await getVersion(c, bucket, 'k');
  ctx.expect(
    'bytes' in got && got.bytes.equals(suspendedBody) && got.versionId === 'null',
    `GET after a Suspended PUT over [v1, null]: ${'error' in got ? `${got.status} ${got.error}` : `version ${got.versionId}, ${got.bytes.equals(v1Body) ? "v1's bytes" : got.bytes.equals(suspendedBody) ? 'its bytes' : 'other bytes'}`}, not the PUT's null version`,
  );
  const byV1 = await getVersion(c, bucket, 'k', v1.VersionId);
  ctx.expect('bytes' in byV1 && byV1.bytes.equals(v1Body), 'v1 by id after a Suspended PUT over it');

  // A Suspended DELETE: its `null` delete marker replaces the null object version and is the newest.
  const del = await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k' }));
  ctx.expect(
    del.DeleteMarker === true && del.VersionId === 'null',
    `a Suspended DELETE answered marker ${del.DeleteMarker} version ${del.VersionId}, not a null delete marker`,
  );
  listed = describeVersions(await allVersions(s3, bucket), names);
  ctx.expect(
    listed === 'k:marker null*, k:v1',
    `ListObjectVersions after a Suspended DELETE: [${listed}], not [k:marker null*, k:v1]`,
  );
  listed = describeVersions(await allVersions(s3, bucket, undefined, 1), names);
  ctx.expect(
    listed === 'k:marker null*, k:v1',
    `ListObjectVersions a version a page after a Suspended DELETE: [${listed}], not [k:marker null*, k:v1]`,
  );
  const gone = await getVersion(c, bucket, 'k');
  ctx.expect(
    'error' in gone && gone.status === 404,
    `GET under the Suspended DELETE's marker: ${'error' in gone ? `${gone.status} ${gone.error}` : `version ${gone.versionId}`}, not 404`,
  );
  const keys = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
  ctx.expect(
    (keys.KeyCount ?? 0) === 0,
    `ListObjectsV2 under the Suspended DELETE's marker lists [${(keys.Contents ?? []).map((o) => o.Key).join()}]`,
  );
}
