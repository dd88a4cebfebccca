// SOS-F1's second kill: the service killed (kill -9) mid-PUT. Overwrites of existing keys and a PUT of a new key are
// in flight at measured points of their course (fractions of the time the quickest of the same PUTs took before, in this run: no
// fixed wall-clock numbers), and one PUT's body is cut off half sent. After the restart each key must answer its
// previous object or the new one, whole, never a mix, a truncated body or a 500, under the ETag of the bytes it
// answers, and be listed as GET answers it. With a compaction control the bytes nobody can read any more (the torn
// write's, or the replaced object's) must be gone from the data directory once a compaction has run: a PUT's bytes
// stored and named by no key are garbage, never kept forever.
import { request } from 'node:http';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { declaredDataNodes, foundUnder, waitCaughtUp } from './cluster-kit.ts';
import { compact, signedHeaders } from './compaction-control.ts';
import { bytesOf, sdkError } from './s3-client.ts';
import { md5 } from './s3-expect.ts';

const KiB = 1024;
/** Each in-flight PUT has run this share of the measured PUT time when the kill comes (spread over its course). */
const SHARES = [0.8, 0.6, 0.4, 0.2];

interface Torn {
  key: string;
  /** The object the key held before the kill (none: a new key). */
  old?: Buffer;
  body: Buffer;
  /** The body never reached the target whole: only the old object may come back. */
  cut?: boolean;
}

/** A body made of one marker repeated: its first 64 bytes are found on disk only where this body's bytes are. */
function marked(size: number, tag: string): Buffer {
  const marker = Buffer.from(`sdgrade-f1-torn-${tag}-${Math.random().toString(36).slice(2)}-`);
  return Buffer.alloc(size, marker);
}
const needle = (b: Buffer) => b.subarray(0, 64);

export async function killMidPut(
  ctx: CheckContext,
  c: S3Client,
  bucket: string,
  verifyAcked: (when: string) => Promise<void>,
): Promise<void> {
  const torn: Torn[] = SHARES.map((_, i) => ({
    key: `torn/${i}`,
    ...(i < SHARES.length - 1 ? { old: marked(256 * KiB, `old${i}`) } : {}),
    body: marked(256 * KiB, `new${i}`),
  }));
  const cut: Torn = { key: 'torn/cut', old: marked(256 * KiB, 'oldcut'), body: marked(1024 * KiB, 'cut'), cut: true };
  // The old objects, PUT at once: how long the quickest took is what the kill is placed by (the others waited on it).
  const took: number[] = [];
  await Promise.all(
    [...torn, cut]
      .filter((t) => t.old)
      .map(async (t) => {
        const since = performance.now();
        await c.send(new PutObjectCommand({ Bucket: bucket, Key: t.key, Body: t.old }));
        took.push(performance.now() - since);
      }),
  );
  const putMs = Math.min(...took);
  const cutting = sendHalf(ctx, bucket, cut);
  const start = performance.now();
  const inFlight: Promise<unknown>[] = [];
  for (const [i, t] of torn.entries()) {
    const at = start + (SHARES[0]! - SHARES[i]!) * putMs;
    await ctx.sleep(Math.max(0, at - performance.now()));
    inFlight.push(c.send(new PutObjectCommand({ Bucket: bucket, Key: t.key, Body: t.body })).catch(() => undefined));
  }
  await ctx.sleep(Math.max(0, start + SHARES[0]! * putMs - performance.now()));
  await ctx.target.kill();
  ctx.changed('killed (kill -9) mid-PUT and restarted the service');
  cutting.destroy();
  await Promise.all(inFlight);
  await ctx.target.start();
  ctx.evidence['midPut'] = { putMs: Math.round(putMs), shares: SHARES };

  const all = [...torn, cut];
  const served = new Map<string, Buffer | null | undefined>();
  const judge = async (when: string) => {
    for (const t of all) served.set(t.key, await judgeKey(ctx, c, bucket, t, when));
    const listed = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'torn/' }));
    for (const t of all) {
      const l = (listed.Contents ?? []).find((o) => o.Key === t.key);
      const s = served.get(t.key);
      ctx.expect(
        s === undefined || (s === null ? !l : l?.Size === s.length && l.ETag === md5(s)),
        `${when}: ${t.key} is listed as ${l ? `${l.Size} bytes, ${l.ETag}` : 'absent'} while GET answers ${s ? `${s.length} bytes` : 'NoSuchKey'}`,
      );
    }
  };
  await judge('after a kill mid-PUT');
  await verifyAcked('after a kill mid-PUT');
  ctx.evidence['midPutServed'] = Object.fromEntries(
    all.map((t) => {
      const s = served.get(t.key);
      return [t.key, s === undefined ? 'error' : s === null ? 'none' : s.equals(t.body) ? 'new' : 'old'];
    }),
  );
  const compactPath = ctx.setting('compactPath', '');
  // On a cluster the bytes are the data nodes' (the API service killed mid-PUT): each one's directory is looked in,
  // once the cluster owes no copy or delete (the deletes of entries a torn PUT left must have reached the nodes).
  const nodes = declaredDataNodes(ctx);
  const dirs = (nodes.length > 0 ? nodes : [undefined]).map((n) => ctx.target.dataDir?.(n));
  if (typeof compactPath !== 'string' || compactPath === '' || dirs.some((d) => !d)) {
    ctx.log('the torn writes are not looked for on disk: no compaction control or data directory');
    return;
  }
  if (nodes.length > 0) await waitCaughtUp(ctx, nodes);
  ctx.evidence['midPutCompaction'] = await compact(ctx, compactPath);
  // The bytes no key can answer any more: the body that lost, and the replaced object where the new one won.
  const unreadable = all.flatMap((t) => {
    const s = served.get(t.key);
    if (s === undefined) return [];
    return [t.body, t.old].filter((b): b is Buffer => b !== undefined && !(s !== null && b.equals(s)));
  });
  const perDir = dirs.map((d) => foundUnder(d!, unreadable.map(needle)));
  const found = unreadable.map((_, i) => perDir.some((f) => f[i]));
  ctx.expect(
    found.every((f) => !f),
    `after a kill mid-PUT and a compaction, ${found.filter(Boolean).length} of the ${unreadable.length} bodies no key ` +
      'answers any more (torn writes, objects they replaced) are still in the data directory: never reclaimed',
  );
  await judge('after the compaction');
}

/** GET and HEAD of a key a PUT was torn on: its old object or its new one, whole, under the ETag of those bytes. */
async function judgeKey(
  ctx: CheckContext,
  c: S3Client,
  bucket: string,
  t: Torn,
  when: string,
): Promise<Buffer | null | undefined> {
  let got: Buffer | undefined;
  const err = await sdkError(
    c.send(new GetObjectCommand({ Bucket: bucket, Key: t.key })).then(async (g) => {
      got = await bytesOf(g.Body);
    }),
  );
  if (!got) {
    ctx.expect(
      !t.old && err?.name === 'NoSuchKey',
      `${when}: GET ${t.key} answered ${err?.status} ${err?.name}, not ${t.old ? 'its previous object' : 'NoSuchKey'} or the object the torn PUT sent`,
    );
    return err?.name === 'NoSuchKey' ? null : undefined;
  }
  const whole = (t.old && got.equals(t.old)) || (!t.cut && got.equals(t.body));
  ctx.expect(
    Boolean(whole),
    `${when}: GET ${t.key} answered ${got.length} bytes that are neither its previous object (${t.old?.length ?? 'none'} bytes) nor ${t.cut ? 'anything (the new body was cut off half sent)' : `the new one (${t.body.length} bytes)`} whole`,
  );
  const head = await c.send(new HeadObjectCommand({ Bucket: bucket, Key: t.key }));
  ctx.expect(
    head.ETag === md5(got) && head.ContentLength === got.length,
    `${when}: HEAD ${t.key} says ${head.ContentLength} bytes, ${head.ETag}; GET answered ${got.length} bytes with MD5 ${md5(got)}`,
  );
  return whole ? got : undefined;
}

/** A PUT whose headers say the whole body and whose body stops half way (the connection kept open until the kill). */
function sendHalf(ctx: CheckContext, bucket: string, t: Torn): { destroy(): void } {
  const url = new URL(`/${bucket}/${t.key}`, ctx.target.baseUrl);
  const req = request(url, {
    method: 'PUT',
    headers: { ...signedHeaders(ctx, 'PUT', url, 'UNSIGNED-PAYLOAD'), 'content-length': String(t.body.length) },
  });
  req.on('error', () => undefined);
  req.write(t.body.subarray(0, t.body.length / 2));
  return { destroy: () => req.destroy() };
}
