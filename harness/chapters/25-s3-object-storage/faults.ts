// SOS-F1, F2: kill -9 of the service right after acknowledged writes (then mid-PUT: torn-puts.ts), and a bit flipped on disk inside an object
// (on a cluster of data nodes, in one node's copy: bit-flip-cluster.ts).
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { flipOnReplica } from './bit-flip-cluster.ts';
import { declaredDataNodes } from './cluster-kit.ts';
import { compact, compactPathOf } from './compaction-control.ts';
import { type Damaged, flipBit, judgeDamagedReads } from './damaged-reads.ts';
import { bytesOf, freshBucket, s3Of, sdkError } from './s3-client.ts';
import { killMidPut } from './torn-puts.ts';

export async function killService(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const s3 = s3Of(ctx);
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'f1');
  const acked = new Map<string, Buffer>();
  const put = async (key: string, body: Buffer) => {
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    acked.set(key, body);
  };
  for (let i = 0; i < 30; i++) await put(`before/${i}-ü`, Buffer.alloc(100 + i * 37, i));
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'before/3-ü' }));
  acked.delete('before/3-ü');
  await put('before/5-ü', Buffer.from('overwritten before the kill'));
  // The last acknowledged PUTs go in right before the kill: nothing in between lets a lazy write catch up.
  await Promise.all(Array.from({ length: 10 }, (_, i) => put(`last/${i}`, Buffer.alloc(5000, 200 + i))));
  // Then the newest object is deleted: where a store appends, its files now end in bytes nothing names, and the
  // writes after the restart must land (and be mapped) right after whatever the store keeps of them.
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'tail', Body: Buffer.alloc(6000, 7) }));
  await c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'tail' }));
  await ctx.target.kill();
  ctx.changed('killed (kill -9) and restarted the service');
  await ctx.target.start();
  const verify = async (when: string) => {
    for (const [key, body] of acked) {
      const r = await sdkError(c.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
      ctx.expect(r === null, `${when}: acknowledged ${key} answers ${r?.status} ${r?.name}`);
      const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
      ctx.expect(got.equals(body), `${when}: acknowledged ${key} came back as ${got.length} other bytes`);
    }
    for (const key of ['before/3-ü', 'tail']) {
      const gone = await sdkError(c.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
      ctx.expect(gone?.name === 'NoSuchKey', `${when}: the acknowledged delete of ${key} came undone`);
    }
    const listed = await c.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
    ctx.expect(
      JSON.stringify(keys) === JSON.stringify([...acked.keys()].sort()),
      `${when}: listing has ${keys.length} keys, ${acked.size} acknowledged`,
    );
  };
  await verify('after the restart');
  for (let i = 0; i < 5; i++) await put(`after/${i}`, Buffer.alloc(777, i));
  await verify('after new writes');
  // The second kill comes mid-PUT (torn-puts.ts), in a bucket of its own so the listing judged above stays exact.
  await killMidPut(ctx, c, await freshBucket(ctx, s3, 'f1t'), verify);
  ctx.evidence['acknowledged'] = acked.size;
}

export async function bitFlipDetected(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const s3 = s3Of(ctx);
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'f2');
  // A pattern found nowhere else: the check finds the object's bytes on disk by it, whatever the layout.
  const marker = Buffer.from(`sdgrade-f2-${Math.random().toString(36).slice(2)}-`.repeat(200));
  const others = new Map<string, Buffer>();
  for (let i = 0; i < 5; i++) {
    const b = Buffer.alloc(3000, 10 + i);
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: `other-${i}`, Body: b }));
    others.set(`other-${i}`, b);
  }
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'victim', Body: marker }));
  const dataNodes = declaredDataNodes(ctx);
  // On a cluster the damaged copy is one data node's, which other replicas can repair (bit-flip-cluster.ts).
  if (dataNodes.length >= 2) await flipOnReplica(ctx, { bucket, key: 'victim', marker }, dataNodes);
  else await flipOnTheNode(ctx, { bucket, key: 'victim', marker });
  for (const [key, body] of others) {
    const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
    ctx.expect(got.equals(body), `after the bit flip, ${key} is not served intact`);
  }
  await c.send(new PutObjectCommand({ Bucket: bucket, Key: 'after', Body: Buffer.from('after') }));
  // A target with a compaction control: the objects stored beside the damaged one replaced (their old bytes garbage
  // where the damaged bytes are), then a compaction. Compaction copies bytes as they are stored, under their
  // checksum: the damaged object stays an error (or is repaired), never served as the flipped bytes.
  const compactPath = ctx.setting('compactPath', '');
  if (typeof compactPath !== 'string' || compactPath === '') return;
  for (const [i, key] of [...others.keys()].entries()) {
    const b = Buffer.alloc(2000, 40 + i);
    await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: b }));
    others.set(key, b);
  }
  ctx.evidence['compaction'] = await compact(ctx, compactPathOf(ctx));
  let servedAfter: Buffer | undefined;
  const after = await sdkError(
    c.send(new GetObjectCommand({ Bucket: bucket, Key: 'victim' })).then(async (g) => {
      servedAfter = await bytesOf(g.Body);
    }),
  );
  if (servedAfter)
    ctx.expect(servedAfter.equals(marker), 'after a compaction, GET served the flipped bytes of the damaged object');
  else
    ctx.expect(
      after !== null && (after.status === 500 || after.status === 503),
      `after a compaction, the damaged object answered ${after?.status} ${after?.name}, not an error or its bytes`,
    );
  for (const [key, body] of others) {
    const got = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
    ctx.expect(got.equals(body), `after the compaction, ${key} is not served intact`);
  }
}

/** One node: killed, a bit flipped where its data directory holds the object's bytes, restarted; then read. */
async function flipOnTheNode(ctx: CheckContext, o: Damaged): Promise<void> {
  await ctx.target.kill();
  ctx.changed('killed (kill -9), flipped a bit in a data file and restarted the service');
  let flipped: { file: string; at: number } | undefined;
  try {
    const dataDir = ctx.target.dataDir?.();
    if (!dataDir) ctx.skip('flipping a bit needs the data directory of a manifest-started target');
    flipped = flipBit(dataDir, o.marker);
  } finally {
    await ctx.target.start();
  }
  // A target free to store bytes transformed (compressed, encrypted) leaves no plain copy to damage: nothing is
  // graded then, so a skip with the reason, never a pass.
  if (!flipped)
    ctx.skip(
      "the object's bytes are not stored as they are in any file of the data directory (compressed or encrypted?)",
    );
  ctx.evidence['flipped'] = flipped;
  await judgeDamagedReads(ctx, o, 'after the bit flip');
}
