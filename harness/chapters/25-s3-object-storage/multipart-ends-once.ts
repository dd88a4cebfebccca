// SOS-C7: an upload ends once, whatever races to end it.
import { AbortMultipartUploadCommand, GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { complete, createUpload, type Parts, patterned, uploadPart } from './multipart-kit.ts';
import { bytesOf, sdkError } from './s3-client.ts';

/**
 * An upload ends once: a complete racing an abort, or another complete with another part list, on the same upload -
 * exactly one succeeds and the other is 404 NoSuchUpload, and the key holds what the winner said (the object, or
 * nothing after an abort). Several rounds, the two requests sent together in both orders.
 */
export async function endsOnce(ctx: CheckContext, c: S3Client, bucket: string): Promise<void> {
  for (let round = 0; round < 6; round++) {
    const key = `race-${round}`;
    const uploadId = await createUpload(ctx, c, bucket, key);
    const u = { bucket, key, uploadId };
    // Two small parts: either alone is a valid one-part list (a last part may be any size).
    const bodies = [patterned(100 + round, 60 + round), patterned(200 + round, 70 + round)];
    const parts: Parts = [];
    for (const [i, body] of bodies.entries())
      parts.push({ PartNumber: i + 1, ETag: await uploadPart(ctx, c, u, i + 1, body) });
    const racers: { what: string; go: () => Promise<unknown>; body: Buffer | null }[] =
      round < 4
        ? [
            { what: 'complete', go: () => complete(c, bucket, key, uploadId, [parts[0]!]), body: bodies[0]! },
            {
              what: 'abort',
              go: () => c.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })),
              body: null,
            },
          ]
        : [
            { what: 'complete of part 1', go: () => complete(c, bucket, key, uploadId, [parts[0]!]), body: bodies[0]! },
            { what: 'complete of part 2', go: () => complete(c, bucket, key, uploadId, [parts[1]!]), body: bodies[1]! },
          ];
    if (round % 2 === 1) racers.reverse();
    const settled = await Promise.all(
      racers.map((r) =>
        r.go().then(
          () => null,
          (e: unknown) => {
            // The harness's own findings (an answer off the spec) are not an S3 error to judge here.
            if ((e as { exchange?: unknown }).exchange) throw e;
            return e;
          },
        ),
      ),
    );
    const winners = racers.filter((_, i) => settled[i] === null);
    const story = `round ${round}: ${racers.map((r, i) => `${r.what} ${settled[i] === null ? 'succeeded' : 'failed'}`).join(', ')}`;
    ctx.expect(winners.length === 1, `${story}; an upload ends once, so exactly one of them must succeed`);
    // The loser is told the upload is gone; a complete whose parts the winner had already taken may say so as 400
    // InvalidPart. Never a success, never a 5xx.
    const li = settled.findIndex((x) => x !== null);
    const loser = settled[li] as { name?: string; $metadata?: { httpStatusCode?: number } };
    const lost = `${loser.$metadata?.httpStatusCode} ${loser.name}`;
    const allowed = racers[li]!.what === 'abort' ? ['404 NoSuchUpload'] : ['404 NoSuchUpload', '400 InvalidPart'];
    ctx.expect(
      allowed.includes(lost),
      `${story}; the ${racers[li]!.what} that lost answered ${lost}, not 404 NoSuchUpload`,
    );
    const body = winners[0]!.body;
    const got = await sdkError(c.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
    if (body === null)
      ctx.expect(got?.status === 404, `${story}; after the abort won, the key answers HEAD ${got?.status ?? 200}`);
    else {
      const bytes = await bytesOf((await c.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body);
      ctx.expect(bytes.equals(body), `${story}; the object is not the winning complete's part`);
    }
  }
}
