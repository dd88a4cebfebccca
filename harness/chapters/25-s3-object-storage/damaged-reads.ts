// SOS-F2's parts shared by one node and a cluster: a bit flipped inside an object's bytes wherever a data directory
// holds them as they are, and the reads of the damaged object judged (an error or the exact bytes, never the flipped
// ones; a range and HEAD agreeing).
import { readFileSync, writeFileSync } from 'node:fs';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { filesUnder } from './cluster-kit.ts';
import { bytesOf, s3Of, sdkError } from './s3-client.ts';

/** The object whose stored bytes are damaged: `marker` is its body, a pattern found nowhere else. */
export interface Damaged {
  bucket: string;
  key: string;
  marker: Buffer;
}

/** Flips one bit 1,000 bytes into the first file under `dir` holding the marker; where, or undefined if none does. */
export function flipBit(dir: string, marker: Buffer): { file: string; at: number } | undefined {
  for (const file of filesUnder(dir)) {
    const bytes = readFileSync(file);
    const at = bytes.indexOf(marker);
    if (at < 0) continue;
    bytes[at + 1000]! ^= 0x10;
    writeFileSync(file, bytes);
    return { file: file.slice(dir.length + 1), at: at + 1000 };
  }
  return undefined;
}

const isError = (e: { status?: number } | null) => e !== null && (e.status === 500 || e.status === 503);

/**
 * GET, a ranged GET over the flipped byte and HEAD of the damaged object: each an error (500, or 503 where no copy
 * answered) or the exact bytes, never the flipped ones; `mustServe`: the exact bytes only (a good copy is at hand).
 */
export async function judgeDamagedReads(ctx: CheckContext, o: Damaged, when: string, mustServe = false): Promise<void> {
  const c = s3Of(ctx).client;
  const allowed = mustServe ? 'its bytes' : 'an error or its bytes';
  let served: Buffer | undefined;
  const r = await sdkError(
    c.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key })).then(async (g) => {
      served = await bytesOf(g.Body);
    }),
  );
  if (served)
    ctx.expect(
      served.equals(o.marker),
      `${when}: GET served the flipped bytes (${served.length} bytes, not the ones PUT)`,
    );
  else
    ctx.expect(
      !mustServe && isError(r),
      `${when}: the damaged object answered ${r?.status} ${r?.name}, not ${allowed}`,
    );
  // A range over the flipped byte is no way around the checksum either: an error or exactly that slice.
  let slice: Buffer | undefined;
  const ranged = await sdkError(
    c.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key, Range: 'bytes=990-1009' })).then(async (g) => {
      slice = await bytesOf(g.Body);
    }),
  );
  if (slice)
    ctx.expect(
      slice.equals(o.marker.subarray(990, 1010)),
      `${when}: a ranged GET served the flipped byte inside its slice`,
    );
  else
    ctx.expect(
      !mustServe && isError(ranged),
      `${when}: a ranged GET of the damaged object answered ${ranged?.status} ${ranged?.name}, not ${allowed}`,
    );
  // HEAD must not vouch for damaged bytes either: the spec answers 500 (or 200 once repaired, then GET gave them).
  const head = await sdkError(c.send(new HeadObjectCommand({ Bucket: o.bucket, Key: o.key })));
  ctx.expect(
    served ? head === null : isError(head),
    `${when}: HEAD of the damaged object answered ${head ? `${head.status} ${head.name}` : '200'}; GET ${served ? 'served it' : 'refused it'}`,
  );
}
