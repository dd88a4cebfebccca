// SOS-I6 on PostgreSQL, its window met every run: a GET's or HEAD's answers from PostgreSQL held at the wire one at a
// time (the harness's PostgreSQL-protocol proxy), and at the Nth an overwrite of its key committed (in the Enabled
// bucket, the version it replaced then deleted by id), for N = 1, 2, ... until the read makes no more. At the read
// of its row, the read holds a row whose bytes the overwrite has just dropped. The racing readers of read-races.ts
// meet that instant only when a row lookup straddles a commit, tens of microseconds: a loaded run can miss it.
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
import { upshot } from './held-answers.ts';
import { atHeldRead } from './metadata-held.ts';
import { bytesOf, type S3 } from './s3-client.ts';
import { md5 } from './s3-expect.ts';

export type Mode = 'plain' | 'suspended' | 'enabled-prune';
/** More held points than any reasonable GET reads outside a transaction. */
const MAX_STEPS = 8;

/** Why the held step cannot run on this target, or undefined when it can. */
export function heldStepUnavailable(ctx: CheckContext): string | undefined {
  if (!ctx.target.processControl || !ctx.target.useDependency) return 'needs a manifest target (process control)';
  if (!ctx.target.dependencies['database']) return 'needs the real PostgreSQL (SDGRADE_DATABASE_URL)';
  return undefined;
}

/** The held reads in each bucket; returns how many were held at a point where an overwrite then committed. */
export async function readsHeldWhileOverwritten(
  ctx: CheckContext,
  s3: S3,
  buckets: Record<Mode, string>,
  body: (n: number) => Buffer,
): Promise<number> {
  return withPgWireProxy(ctx, "a PostgreSQL-protocol proxy that holds a read's answers", async (proxy) => {
    const c = s3.client;
    let met = 0;
    let n = 0;
    for (const [mode, bucket] of Object.entries(buckets) as [Mode, string][]) {
      for (const what of ['GET', 'HEAD'] as const) {
        const key = `held-${what}/é`;
        const bodies = [body(n++)];
        const first = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bodies[0] }));
        const ids = [first.VersionId];
        for (let step = 0; step < MAX_STEPS; step++) {
          ctx.throwIfStopped();
          // Every third overwrite repeats the bytes before it (a new object, the same ETag), as read-races.ts does: for
          // the GET at the third held answer (the row's, on the reference), for the HEAD at the second, so the row's
          // answer is held once over the same bytes and once over new ones.
          const next = step % 3 === (what === 'GET' ? 2 : 1) ? bodies.at(-1)! : body(n++);
          const read = async () => {
            if (what === 'HEAD') {
              const h = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
              return { etag: h.ETag, length: h.ContentLength, versionId: h.VersionId };
            }
            const g = await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            const bytes = await bytesOf(g.Body);
            return { etag: g.ETag, length: bytes.length, versionId: g.VersionId, bytes };
          };
          const { held, meanwhile } = await atHeldRead(ctx, proxy, step, read, async () => {
            const r = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: next }));
            // Enabled: the version just replaced deleted by id, its bytes garbage while the read holds its row.
            if (mode === 'enabled-prune')
              await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: ids.at(-1) }));
            return r;
          });
          const where = `a ${what} of ${key} (${mode}) whose answer ${step + 1} from PostgreSQL was held while the key was overwritten`;
          ctx.expect(held.ok, `${where} answered ${upshot(held)}: a read racing an overwrite must answer an object`);
          const got = held.ok as { etag?: string; length?: number; versionId?: string; bytes?: Buffer };
          if (meanwhile) {
            ctx.expect(meanwhile.ok, `the overwrite sent while ${where.slice(2)} answered ${upshot(meanwhile)}`);
            bodies.push(next);
            ids.push((meanwhile.ok as { VersionId?: string }).VersionId);
          }
          // The object before the overwrite or the one it wrote, entirely, under that object's version id.
          const last = bodies.length - 1;
          const could = (meanwhile ? [last, last - 1] : [last]).filter((j) => md5(bodies[j]!) === got.etag);
          ctx.expect(
            could.length > 0,
            `${where}: ETag ${got.etag}, neither the object before the overwrite nor its own`,
          );
          const want = bodies[could[0]!]!;
          ctx.expect(got.length === want.length, `${where}: ${got.length} bytes, not ${want.length}`);
          if (got.bytes) ctx.expect(got.bytes.equals(want), `${where}: bytes that are not the object its ETag names`);
          ctx.expect(
            could.some((j) => got.versionId === ids[j]),
            `${where}: x-amz-version-id ${got.versionId}, not ${could.map((j) => ids[j]).join(' or ')} (its PUT's)`,
          );
          if (!meanwhile) break;
          met++;
        }
      }
    }
    return met;
  });
}
