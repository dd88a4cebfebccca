// SOS-I6: a GET or HEAD racing overwrites of its key answers one object entirely - the one acknowledged last before it
// was sent, or one written while it was in flight - never an error and never bytes of two objects. In a bucket never
// versioned, in a Suspended one (each PUT replaces the `null` version) and in an Enabled one whose writer deletes the
// version it replaced by id: in each, the bytes a reader was about to read become garbage while it reads. Every answer's
// x-amz-version-id must be the one its body's PUT answered (none, `null`, or that version's id): never another's.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import type { CheckContext } from '../../core/check-context.ts';
import { heldStepUnavailable, type Mode, readsHeldWhileOverwritten } from './read-races-held.ts';
import { bytesOf, freshBucket, s3Of, sdkError } from './s3-client.ts';
import { md5 } from './s3-expect.ts';
import { setVersioning } from './versioning-kit.ts';

const MODES: readonly Mode[] = ['enabled-prune', 'plain', 'suspended'];

/** `size` bytes from a seeded xorshift generator: no two bodies of a run share content or a period. */
export function seededBytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed | 0 || 0x9e3779b9;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function readsRacingOverwrites(ctx: CheckContext): Promise<void> {
  const s3 = s3Of(ctx);
  const c = s3.client;
  const buckets: Record<Mode, string> = {
    plain: await freshBucket(ctx, s3, 'i6'),
    suspended: await freshBucket(ctx, s3, 'i6s'),
    'enabled-prune': await freshBucket(ctx, s3, 'i6e'),
  };
  await setVersioning(c, buckets.suspended, 'Suspended');
  await setVersioning(c, buckets['enabled-prune'], 'Enabled');
  // First the window met on purpose where the target's PostgreSQL can be held at the wire (read-races-held.ts).
  const unavailable = heldStepUnavailable(ctx);
  if (unavailable) ctx.log(`reads held at the wire while overwritten: not run (${unavailable})`);
  ctx.evidence['readsHeldWhileOverwritten'] =
    unavailable ?? (await readsHeldWhileOverwritten(ctx, s3, buckets, (n) => seededBytes(1000 + 37 * n, 777 + n)));
  let run = 0;
  let reads = 0;
  await ctx.property(
    fc.record({
      keys: fc.integer({ min: 3, max: 6 }),
      writes: fc.integer({ min: 6, max: 10 }),
      sizes: fc.array(fc.integer({ min: 2, max: 96_000 }), { minLength: 9, maxLength: 9 }),
      seed: fc.integer(),
    }),
    async ({ keys, writes, sizes, seed }) => {
      run++;
      // The runs take the three buckets in turn, so every three runs race reads in each.
      const mode = MODES[(run - 1) % MODES.length]!;
      await Promise.all(
        Array.from({ length: keys }, (_, k) => {
          const key = `race-${run}-${k}/é`;
          return raceOneKey(ctx, c, { bucket: buckets[mode], mode, key, writes, sizes, seed: seed + k * 1000 });
        }),
      ).then((n) => {
        reads += n.reduce((a, b) => a + b, 0);
      });
    },
    // Each run races 18 to 60 overwrites against some 150 reads or more: a quarter of the runs a property gets, and
    // at least two in each bucket (a race missed in one run is seldom missed twice).
    Math.max(6, Math.ceil(ctx.numRuns / 4)),
  );
  ctx.evidence['reads'] = reads;
}

/** One writer overwriting a key while two readers GET (whole and ranged) and HEAD it; returns the reads made. */
async function raceOneKey(
  ctx: CheckContext,
  c: ReturnType<typeof s3Of>['client'],
  o: { bucket: string; mode: Mode; key: string; writes: number; sizes: number[]; seed: number },
): Promise<number> {
  const { bucket, key } = o;
  // Every third write repeats the body before it (a client PUTting the same bytes again): a new object with the same
  // ETag, whose bytes a read may still hold, so a read told apart from damaged bytes by its ETag is caught too.
  const bodies: Buffer[] = [];
  for (let i = 0; i <= o.writes; i++) {
    bodies.push(i % 3 === 0 && i > 0 ? bodies[i - 1]! : seededBytes(o.sizes[i % o.sizes.length]! + i, o.seed + i));
  }
  const first = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies[0] }));
  // The writer is sequential, so the bodies' order is the order the object changes in: a read sent after body a was
  // acknowledged and answered before body s+1 was sent must answer a body between a and s.
  let acked = 0;
  let sent = 0;
  let done = false;
  let prevVersion = first.VersionId;
  // The version id each body's PUT answered; a read's id is compared once the writer is done (a read can be answered
  // before the writer has seen its PUT's answer).
  const versionIds: (string | undefined)[] = [first.VersionId];
  // A read's body: each index whose body it is, between the ones acknowledged and sent when it was made.
  const answered: { where: string; bodies: number[]; versionId: string | undefined }[] = [];
  const writer = (async () => {
    try {
      for (let i = 1; i <= o.writes; i++) {
        sent = i;
        const r = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies[i] }));
        ctx.expect(r.ETag === md5(bodies[i]!), `PUT ${i} of ${key}: ETag ${r.ETag}, not ${md5(bodies[i]!)}`);
        acked = i;
        versionIds[i] = r.VersionId;
        // Enabled: the version just replaced is deleted by id, so its bytes are garbage while readers may hold it.
        if (o.mode === 'enabled-prune' && prevVersion) {
          await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: prevVersion }));
        }
        prevVersion = r.VersionId;
      }
    } finally {
      done = true;
    }
  })();
  let reads = 0;
  const reader = async (r: number) => {
    let n = 0;
    while (!done || n < 2) {
      const a = acked;
      const what = n % 3 === 2 ? 'HEAD' : n % 3 === 1 ? 'GET range' : 'GET';
      let etag: string | undefined;
      let got: Buffer | undefined;
      let length: number | undefined;
      let versionId: string | undefined;
      const err = await sdkError(
        (async () => {
          if (what === 'HEAD') {
            const h = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
            etag = h.ETag;
            length = h.ContentLength;
            versionId = h.VersionId;
          } else {
            const g = await c.send(
              new GetObjectCommand({
                Bucket: bucket,
                Key: key,
                ...(what === 'GET range' ? { Range: 'bytes=1-' } : {}),
              }),
            );
            etag = g.ETag;
            versionId = g.VersionId;
            got = await bytesOf(g.Body);
          }
        })(),
      );
      const s = sent;
      reads++;
      n++;
      const where = `${what} ${n} of reader ${r} on ${key} (${o.mode}; body ${a} acknowledged, ${s} sent)`;
      ctx.expect(
        !err,
        `${where} answered ${err?.status} ${err?.name}: a read racing an overwrite must answer an object`,
      );
      const same = bodies.flatMap((b, j) => (md5(b) === etag ? [j] : []));
      const inRange = same.filter((j) => j >= a && j <= s);
      const i = inRange[0] ?? same[0] ?? -1;
      ctx.expect(i >= a && i <= s, `${where}: ETag ${etag} is body ${i}'s, not one between ${a} and ${s}`);
      if (!err && i >= 0) answered.push({ where, bodies: inRange.length > 0 ? inRange : [i], versionId });
      const body = bodies[i]!;
      if (what === 'HEAD') ctx.expect(length === body.length, `${where}: Content-Length ${length}, not ${body.length}`);
      else {
        const want = what === 'GET range' ? body.subarray(1) : body;
        ctx.expect(got!.equals(want), `${where}: ${got!.length} bytes that are not body ${i}'s (${want.length})`);
      }
    }
  };
  await Promise.all([writer, reader(1), reader(2)]);
  for (const a of answered) {
    ctx.expect(
      a.bodies.some((b) => a.versionId === versionIds[b]),
      `${a.where}: body ${a.bodies.join(' or ')} answered with x-amz-version-id ${a.versionId}, not ` +
        `${a.bodies.map((b) => versionIds[b]).join(' or ')} (its PUT's)`,
    );
  }
  return reads;
}
