// SOS-F5 (fault 5): PostgreSQL's commits and answers held at the wire. The target reaches its PostgreSQL through the
// harness's PostgreSQL-protocol proxy (harness/faults/pg-wire-proxy.ts), which can leave a transaction open after
// its writes ran (`holdCommit`) or hold the answer to a statement sent outside a transaction (`holdReads`), so a
// check can place a second request inside the first one's window: a protocol point, never a time. Three races
// no client can make happen by timing alone (each was a blind bug that slipped through SOS-C7 and SOS-C8):
// - an abort whose commit is held: an upload is unknown once its abort has answered, so a 204 given before the end
//   is committed shows as ListParts finding the upload; a complete sent meanwhile loses (or wins, alone), and what
//   it wrote before losing (a joined copy of the parts) is garbage a compaction reclaims (held-space.ts);
// - a complete whose reads are held one at a time, an abort ending the upload at each: the complete loses with
//   NoSuchUpload (or InvalidPart), never a 500, however far it got;
// - a PUT whose reads are held one at a time, another PUT of its key answered at each (a version that overtakes
//   it): the version listed first, IsLatest, is the one a GET answers, whatever the times the two took.
import {
  AbortMultipartUploadCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { timeLimit } from '../../core/time-scale.ts';
import type { PgWireProxy } from '../../faults/pg-wire-proxy.ts';
import { withPgWireProxy } from '../../faults/target-on-private-service.ts';
import { type Settled, settled, upshot } from './held-answers.ts';
import { lockWaitSeen, spaceProbe } from './held-space.ts';
import { complete, createUpload, minPartBytes, type Parts, patterned, uploadPart } from './multipart-kit.ts';
import { freshBucket, type S3, s3Of } from './s3-client.ts';
import { allVersions, describeVersions, getVersion, setVersioning } from './versioning-kit.ts';

/** How long the check waits for the next statement to be held, or for the request to answer. */
const NEXT_BOUND_MS = 10_000;
/** How long an abort whose commit is held is given to answer early (the reference never does). */
const EARLY_ANSWER_MS = 500;
/** How long a complete sent while the abort's commit is held is given to reach the upload's lock. */
const COMPLETE_REACH_MS = 3000;
const MiB = 1024 * 1024;
/** A request sent while another's answer is held: answered within this, or the held one is let go. */
const MEANWHILE_BOUND_MS = 5000;
/** More held points than any reasonable request reads outside a transaction. */
const MAX_STEPS = 8;
/** The first statement of an abort's end that writes: its transaction's commit is the one held. */
const WRITES = /^(DELETE|UPDATE|INSERT|WITH)\b/i;

export async function heldAtTheWire(ctx: CheckContext): Promise<void> {
  await withPgWireProxy(ctx, 'a PostgreSQL-protocol proxy that holds commits and answers', async (proxy) => {
    const s3 = s3Of(ctx);
    const bucket = await freshBucket(ctx, s3, 'f5');
    const held = {
      abortCommit: await abortCommitHeld(ctx, s3.client, bucket, proxy),
      completeReads: await completeReadsHeld(ctx, s3.client, bucket, proxy),
      putReads: await putReadsHeld(ctx, s3, proxy),
    };
    ctx.evidence.held = held;
    if (!held.abortCommit && held.completeReads === 0 && held.putReads === 0)
      ctx.skip(
        'the target sent PostgreSQL no statement the proxy could hold (no write in a transaction for an abort, no ' +
          'statement outside a transaction for a complete or a PUT)',
      );
  });
}

/** Waits until `proxy` holds something (`held()`) or the request has answered; true when something is held. */
async function heldOrAnswered(
  ctx: CheckContext,
  held: () => boolean,
  answered: () => boolean,
  boundMs = NEXT_BOUND_MS,
): Promise<boolean> {
  const since = performance.now();
  while (!answered() && !held() && performance.now() - since < timeLimit(boundMs)) await ctx.sleep(5);
  return held();
}

/**
 * An abort whose transaction has run its writes and waits to commit (held). Answering 204 then says the upload is
 * gone while any other request still finds it; so an early 204 is followed by ListParts, which must be NoSuchUpload.
 * A complete sent while the commit is held must not win over it unless the abort loses: exactly one succeeds.
 */
async function abortCommitHeld(ctx: CheckContext, c: S3Client, bucket: string, proxy: PgWireProxy): Promise<boolean> {
  const key = 'f5-abort';
  const probe = await spaceProbe(ctx);
  if (typeof probe === 'string') ctx.log(`the space a lost complete leaves is not measured: ${probe}`);
  const uploadId = await createUpload(ctx, c, bucket, key);
  // Parts of some size: a complete that joined them before losing made a copy worth measuring.
  const parts = [patterned(minPartBytes(ctx), 7), patterned(MiB, 8)];
  const list: Parts = [];
  for (const [i, p] of parts.entries())
    list.push({ PartNumber: i + 1, ETag: await uploadPart(ctx, c, { bucket, key, uploadId }, i + 1, p) });
  const body = Buffer.concat(parts);
  const abortSent = { Bucket: bucket, Key: key, UploadId: uploadId };
  proxy.holdCommit(WRITES);
  let answered = false;
  const abort = settled(c.send(new AbortMultipartUploadCommand(abortSent))).then((x) => {
    answered = true;
    return x;
  });
  let completing: Promise<Settled> | undefined;
  try {
    const holds = () => proxy.held > 0;
    // Answered with nothing held yet: an end left to run after the answer is held at its commit all the same.
    const held =
      (await heldOrAnswered(ctx, holds, () => answered)) ||
      (await heldOrAnswered(ctx, holds, () => false, EARLY_ANSWER_MS));
    if (!held) {
      proxy.releaseHolds();
      const a = await abort;
      ctx.expect(a.ok, `AbortMultipartUpload (nothing of it held) answered ${upshot(a)}`);
      return false;
    }
    // Held: the abort's writes ran, its commit waits. Given a moment, an abort that answers before its end is
    // committed does so now.
    await Promise.race([abort, ctx.sleep(timeLimit(EARLY_ANSWER_MS))]);
    if (answered) {
      const a = await abort;
      const parts = await settled(c.send(new ListPartsCommand(abortSent)));
      ctx.expect(
        upshot(parts) === '404 NoSuchUpload',
        `AbortMultipartUpload answered ${upshot(a)} while the transaction ending the upload was still open (its ` +
          `commit held at the wire); ListParts sent after that answer: ${upshot(parts)}, not 404 NoSuchUpload (an ` +
          'upload is unknown once its abort has answered)',
      );
    }
    let completed = false;
    completing = settled(complete(c, bucket, key, uploadId, list)).then((x) => {
      completed = true;
      return x;
    });
    // Until the complete answers or waits on a lock the held transaction keeps (its join done, where it joins
    // first): only then does the abort commit.
    const since = performance.now();
    const url = ctx.target.dependencies['database']!.url;
    while (!completed && performance.now() - since < timeLimit(COMPLETE_REACH_MS)) {
      if (await lockWaitSeen(url)) {
        ctx.evidence.completeWaitedOnLock = true;
        break;
      }
      await ctx.sleep(20);
    }
  } finally {
    proxy.releaseHolds();
  }
  const [a, done] = await Promise.all([abort, completing!]);
  const what = 'an abort whose commit was held, and a complete sent meanwhile';
  await judgeEnd(ctx, c, { bucket, key, body }, a, done, what);
  if (typeof probe !== 'string') await probe.judge(done.ok ? body.length : 0, what);
  return true;
}

/**
 * Fresh uploads, each completed with its reads held one at a time: step N lets N answers go, then at the next held
 * one aborts the upload (the abort's own statements pass), then lets everything go. Until the complete makes no
 * more reads than N. The abort has ended the upload when the complete reads on, so the complete must lose.
 */
async function completeReadsHeld(ctx: CheckContext, c: S3Client, bucket: string, proxy: PgWireProxy): Promise<number> {
  let aborted = 0;
  for (let step = 0; step < MAX_STEPS; step++) {
    ctx.throwIfStopped();
    const key = `f5-join-${step}`;
    const uploadId = await createUpload(ctx, c, bucket, key);
    const body = patterned(400 + step, 90 + step);
    const etag = await uploadPart(ctx, c, { bucket, key, uploadId }, 1, body);
    const { held: x, meanwhile: abort } = await atHeldRead(
      ctx,
      proxy,
      step,
      () => complete(c, bucket, key, uploadId, [{ PartNumber: 1, ETag: etag }]),
      () => c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
    );
    if (!abort) {
      // Fewer reads than `step`: every point has had its abort. This complete ran alone.
      ctx.expect(x.ok, `a complete whose reads were held and let go one at a time answered ${upshot(x)}`);
      return aborted;
    }
    aborted++;
    await judgeEnd(
      ctx,
      c,
      { bucket, key, body },
      abort,
      x,
      `a complete whose answer ${step + 1} was held while an abort ended the upload`,
    );
  }
  return aborted;
}

/**
 * In an Enabled bucket, PUTs of one key whose reads are held one at a time: step N lets N answers go, and at the
 * next held one another PUT of the key is sent and answered (so it takes its time after the held one, and may
 * commit first). After each step the version listed first must be IsLatest and the one a GET answers, and the
 * listing, whole or a version a page, must hold every version answered exactly once.
 */
async function putReadsHeld(ctx: CheckContext, s3: S3, proxy: PgWireProxy): Promise<number> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'f5v');
  await setVersioning(c, bucket, 'Enabled');
  const key = 'f5-v';
  const answered = new Map<string, string>(); // version id -> the PUT that answered it (first, heldN, sentN, last)
  const first = await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: patterned(50, 1) }));
  answered.set(first.VersionId ?? '', 'first');
  let overtaken = 0;
  for (let step = 0; step < MAX_STEPS; step++) {
    ctx.throwIfStopped();
    const body = patterned(60 + step, 10 + step);
    const { held: x, meanwhile: other } = await atHeldRead(
      ctx,
      proxy,
      step,
      () => c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body })),
      async () => {
        // A later millisecond than any the held PUT took before its read.
        await ctx.sleep(5);
        return c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: patterned(70 + step, 30 + step) }));
      },
    );
    ctx.expect(x.ok, `a PUT of ${key} whose reads were held answered ${upshot(x)}`);
    const id = (x.ok as { VersionId?: string } | undefined)?.VersionId ?? '';
    answered.set(id, other ? `held${step + 1}` : 'last');
    if (!other) return overtaken;
    ctx.expect(other.ok, `a PUT of ${key} sent while another's answer ${step + 1} was held answered ${upshot(other)}`);
    answered.set((other.ok as { VersionId?: string } | undefined)?.VersionId ?? '', `sent${step + 1}`);
    overtaken++;
    await newestIsCurrent(ctx, s3, bucket, key, answered, `after a PUT held at answer ${step + 1} and one sent then`);
  }
  return overtaken;
}

/**
 * One round of a request whose answers from PostgreSQL are held one at a time: `step` of them let go, and at the
 * next held one `meanwhile` sent (and answered, or every hold let go after a bound). `meanwhile` is undefined when
 * the request answered with `step` reads or fewer (it ran alone). Every hold is let go however the round ends.
 */
export async function atHeldRead(
  ctx: CheckContext,
  proxy: PgWireProxy,
  step: number,
  request: () => Promise<unknown>,
  meanwhileRequest: () => Promise<unknown>,
): Promise<{ held: Settled; meanwhile: Settled | undefined }> {
  let answered = false;
  proxy.holdReads(true);
  const held = settled(request()).then((x) => {
    answered = true;
    return x;
  });
  let other: Settled | undefined;
  try {
    for (let released = 0; ; released++) {
      if (
        !(await heldOrAnswered(
          ctx,
          () => proxy.heldReads > 0,
          () => answered,
        ))
      )
        break;
      if (released === step) {
        proxy.holdReads(false);
        other = await meanwhile(ctx, proxy, meanwhileRequest());
        break;
      }
      proxy.releaseRead();
    }
  } finally {
    proxy.releaseReads();
  }
  return { held: await held, meanwhile: other };
}

/** Sends a request while another's answer is held: its result, or (not answered in time) it after letting all go. */
async function meanwhile(ctx: CheckContext, proxy: PgWireProxy, call: Promise<unknown>): Promise<Settled> {
  const x = settled(call);
  const inTime = await Promise.race([x, ctx.sleep(timeLimit(MEANWHILE_BOUND_MS)).then(() => undefined)]);
  if (!inTime) proxy.releaseReads();
  return x;
}

/** The versions listed (whole, and a version a page) against what GET answers and what the PUTs answered. */
async function newestIsCurrent(
  ctx: CheckContext,
  s3: S3,
  bucket: string,
  key: string,
  answered: Map<string, string>,
  when: string,
): Promise<void> {
  const whole = await allVersions(s3, bucket, key);
  const paged = await allVersions(s3, bucket, key, 1);
  const shown = describeVersions(whole, answered);
  ctx.expect(
    describeVersions(paged, answered) === shown,
    `${when}, ListObjectVersions a version a page listed [${describeVersions(paged, answered)}], whole [${shown}]`,
  );
  const ids = whole.map((v) => v.versionId);
  ctx.expect(
    ids.length === answered.size && ids.every((id) => answered.has(id)) && new Set(ids).size === ids.length,
    `${when}, ListObjectVersions listed [${shown}], not the ${answered.size} versions the PUTs answered once each`,
  );
  const got = await getVersion(s3.client, bucket, key);
  const top = whole[0];
  ctx.expect(
    top?.isLatest && 'bytes' in got && got.versionId === top.versionId,
    `${when}, ListObjectVersions listed [${shown}] (newest first, the newest IsLatest) but a GET answered ` +
      `${'bytes' in got ? `version ${answered.get(got.versionId ?? '') ?? got.versionId}` : `${got.status} ${got.error}`}`,
  );
  if (top && 'bytes' in got) {
    const listedBytes = await getVersion(s3.client, bucket, key, top.versionId);
    ctx.expect(
      'bytes' in listedBytes && listedBytes.bytes.equals(got.bytes),
      `${when}, the version listed first does not read back as the bytes a GET answers`,
    );
  }
}

/**
 * An upload ended once: of the abort and the complete exactly one succeeded, the other said the upload is gone
 * (a complete whose part was already taken may say InvalidPart), never a 5xx; the key holds what the winner left.
 */
async function judgeEnd(
  ctx: CheckContext,
  c: S3Client,
  u: { bucket: string; key: string; body: Buffer },
  abort: Settled,
  done: Settled,
  what: string,
): Promise<void> {
  const story = `${what}: the abort answered ${upshot(abort)}, the complete ${upshot(done)}`;
  ctx.expect(Boolean(abort.ok) !== Boolean(done.ok), `${story}; an upload ends once, so exactly one must succeed`);
  if (!abort.ok) ctx.expect(upshot(abort) === '404 NoSuchUpload', `${story}; the abort that lost is not NoSuchUpload`);
  if (!done.ok)
    ctx.expect(
      ['404 NoSuchUpload', '400 InvalidPart'].includes(upshot(done)),
      `${story}; the complete that lost is not NoSuchUpload (or InvalidPart)`,
    );
  if (abort.ok) {
    const head = await settled(c.send(new HeadObjectCommand({ Bucket: u.bucket, Key: u.key })));
    ctx.expect(head.error?.status === 404, `${story}; then HEAD of the key: ${upshot(head)}, not 404`);
  } else if (done.ok) {
    const got = await getVersion(c, u.bucket, u.key);
    ctx.expect('bytes' in got && got.bytes.equals(u.body), `${story}; the object is not the completed part`);
  }
}
