// SOS-F6: a data node killed (kill -9) on a cluster of data nodes (setting dataNodes: the manifest's nodes that hold
// object data; the reference's manifest.cluster.json). Acknowledged objects stay readable byte for byte while it is
// down and after it is back; writes go on (or are refused 503, never acknowledged and then lost); once the node has
// caught up (setting replicationPath) it alone serves every object.
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { timeScale } from '../../core/time-scale.ts';
import { bytesOf, freshBucket, s3Of, sdkError } from './s3-client.ts';

/** A body no other key has: the key's SHA-256 repeated to `size` bytes. */
function bodyFor(key: string, size: number): Buffer {
  const seed = createHash('sha256').update(key).digest();
  return Buffer.alloc(size, seed);
}

/** Sizes from 1 KiB to ~300 KiB, a few larger than one socket read. */
const sizeOf = (i: number) => (i % 7 === 3 ? 300_000 : 1024 + ((i * 7919) % 60_000));

/** The data nodes the target declares, or a skip: one node has nothing to lose but itself (SOS-F1). */
function dataNodesOf(ctx: CheckContext): string[] {
  const declared = String(ctx.setting('dataNodes', ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (declared.length < 2)
    ctx.skip(
      'not applicable to a target of one node: a data node killed needs a cluster of data nodes (setting dataNodes names the manifest nodes that hold object data; the reference: manifest.cluster.json)',
    );
  for (const n of declared)
    if (!ctx.target.nodes.includes(n))
      throw new Error(`setting dataNodes names ${n}, not a node of the manifest (${ctx.target.nodes.join(', ')})`);
  return declared;
}

export async function dataNodeKilled(ctx: CheckContext): Promise<void> {
  ctx.require('process-control');
  const dataNodes = dataNodesOf(ctx);
  const victim = dataNodes[ctx.seed % dataNodes.length]!;
  const c = s3Of(ctx).client;
  const bucket = await freshBucket(ctx, s3Of(ctx), 'f6');
  const acked = new Map<string, Buffer>();
  const put = async (key: string, size: number) => {
    const body = bodyFor(key, size);
    const e = await sdkError(c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })));
    if (e === null) acked.set(key, body);
    return e;
  };
  const mustAck = async (key: string, size: number, when: string) => {
    const e = await put(key, size);
    ctx.expect(e === null, `${when}: PUT ${key} answered ${e?.status} ${e?.name}`);
  };
  for (let i = 0; i < 24; i++) await mustAck(`before/${i}`, sizeOf(i), 'with every data node up');

  // Writes go on, one after another, from before the kill until after it: each acknowledged or refused 503.
  let writing = true;
  const refused: string[] = [];
  const writer = (async () => {
    for (let i = 0; writing; i++) {
      const key = `during/${i}`;
      const e = await put(key, sizeOf(i));
      if (e === null) continue;
      ctx.expect(
        e.status === 503,
        `PUT ${key} while ${victim} was killed answered ${e.status} ${e.name}: a write is acknowledged or refused 503 ServiceUnavailable`,
      );
      refused.push(key);
    }
  })();
  // The last acknowledged PUTs go in right before the kill: nothing in between lets a lazy copy catch up.
  await Promise.all(
    Array.from({ length: 12 }, (_, i) => mustAck(`last/${i}`, sizeOf(i + 1), 'with every data node up')),
  );
  await ctx.target.kill(victim);
  ctx.changed(`killed (kill -9) data node ${victim}`);
  try {
    // Two data nodes of three are up: the spec's majority of a replica group, so writes are acknowledged.
    for (let i = 0; i < 12; i++) await mustAck(`after/${i}`, sizeOf(i + 2), `with ${victim} down`);
  } finally {
    writing = false;
    await writer;
  }
  const verify = async (when: string) => {
    for (const [key, body] of acked) {
      let got: Buffer | undefined;
      const e = await sdkError(
        c.send(new GetObjectCommand({ Bucket: bucket, Key: key })).then(async (g) => {
          got = await bytesOf(g.Body);
        }),
      );
      ctx.expect(e === null, `${when}: acknowledged ${key} answers ${e?.status} ${e?.name}`);
      ctx.expect(got?.equals(body), `${when}: acknowledged ${key} came back as ${got?.length} other bytes`);
    }
  };
  await verify(`with ${victim} down`);
  await ctx.target.start(victim);
  ctx.changed(`restarted data node ${victim}`);
  await verify(`after ${victim} restarted`);
  ctx.evidence['replication'] = { victim, acknowledged: acked.size, refused: refused.length };

  const path = String(ctx.setting('replicationPath', ''));
  if (!path) {
    ctx.evidence['caughtUp'] = 'not verified: the target declares no replicationPath';
    return;
  }
  // Caught up: the placement service has the node up and owes it no copy. Then it alone must serve every object.
  const url = new URL(path, ctx.target.baseUrl);
  const deadline = Date.now() + 60_000 * timeScale();
  let state: { nodes?: Record<string, string>; pendingCopies?: number } = {};
  for (;;) {
    state = (await (await fetch(url, { signal: ctx.signal })).json()) as typeof state;
    if (state.nodes?.[victim] === 'up' && state.pendingCopies === 0) break;
    ctx.expect(Date.now() < deadline, `${victim} never caught up after its restart: ${JSON.stringify(state)}`);
    await sleep(100);
  }
  const others = dataNodes.filter((n) => n !== victim);
  await Promise.all(others.map((n) => ctx.target.kill(n)));
  ctx.changed(`killed (kill -9) ${others.join(', ')}: ${victim} alone holds the data`);
  try {
    await verify(`with only ${victim} up`);
  } finally {
    await Promise.all(others.map((n) => ctx.target.start(n)));
    ctx.changed(`restarted ${others.join(', ')}`);
  }
}
