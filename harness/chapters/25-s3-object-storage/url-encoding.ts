// encoding-type=url as a client reads it. S3 percent-encodes the UTF-8 bytes of keys (and of the prefix, delimiter
// and markers it echoes), a space as `+`, leaving `/` as it is: a client form-decodes each field. The SDK for
// JavaScript v3 hands those fields over as answered (it decodes nothing), so what the SDK returns is what is graded.
// Both spellings of a space (`+`, `%20`) decode the same; a field left unencoded fails: every value graded here
// holds a byte that must be encoded (a space, `+`, `%`, `|`, a non-ASCII letter or a control character).
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { CheckContext } from '../../core/check-context.ts';
import { freshBucket, type S3 } from './s3-client.ts';

/** How a client reads an encoded field: `+` is a space, then percent-decoding; undefined when it is not decodable. */
export function formDecoded(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** What may stand in an encoded field: the unreserved characters, `/`, `+` (a space) and percent escapes. */
const ENCODED = /^(?:[A-Za-z0-9\-_.*~/+]|%[0-9A-Fa-f]{2})*$/;

/** Expects `answered` to be `want` URL-encoded: nothing left that needs encoding, and it decodes to `want`. */
export function expectEncoded(ctx: CheckContext, what: string, answered: string | undefined, want: string): void {
  ctx.expect(
    answered !== undefined && ENCODED.test(answered) && formDecoded(answered) === want,
    `with encoding-type=url, ${what} is ${JSON.stringify(answered)}: not ${JSON.stringify(want)} URL-encoded`,
  );
}

/** Keys whose every spelling needs encoding: a space, `+`, `%`, non-ASCII letters, a control character, `|`. */
export const ENCODED_PREFIX = 'enc ü/';
export const ENCODED_KEYS = ['a b+c', 'p%q', 'x|y z', 'é\u0001', 'ü|1', 'ü|2'].map((k) => ENCODED_PREFIX + k);

/**
 * SOS-C4's part: ListObjectsV2 with encoding-type=url encodes Prefix, Delimiter, each Key and common prefix, and
 * StartAfter.
 */
export async function listObjectsEncoded(ctx: CheckContext, s3: S3): Promise<void> {
  const c = s3.client;
  const bucket = await freshBucket(ctx, s3, 'c4e');
  for (const k of ENCODED_KEYS) await c.send(new PutObjectCommand({ Bucket: bucket, Key: k, Body: Buffer.from('e') }));
  const r = await c.send(
    new ListObjectsV2Command({ Bucket: bucket, Prefix: ENCODED_PREFIX, Delimiter: '|', EncodingType: 'url' }),
  );
  ctx.expect(r.EncodingType === 'url', `ListObjectsV2 with encoding-type=url answered EncodingType ${r.EncodingType}`);
  expectEncoded(ctx, 'ListObjectsV2 Prefix', r.Prefix, ENCODED_PREFIX);
  expectEncoded(ctx, 'ListObjectsV2 Delimiter', r.Delimiter, '|');
  const keys = (r.Contents ?? []).map((o) => o.Key ?? '');
  const want = [ENCODED_KEYS[0]!, ENCODED_KEYS[1]!, ENCODED_KEYS[3]!];
  ctx.expect(keys.length === want.length, `ListObjectsV2 encoded listing has ${keys.length} keys, not ${want.length}`);
  for (const [i, k] of want.entries()) expectEncoded(ctx, `ListObjectsV2 Key ${i + 1}`, keys[i], k);
  const prefixes = (r.CommonPrefixes ?? []).map((p) => p.Prefix ?? '');
  const wantPrefixes = [`${ENCODED_PREFIX}x|`, `${ENCODED_PREFIX}ü|`];
  ctx.expect(prefixes.length === 2, `ListObjectsV2 encoded listing has ${prefixes.length} common prefixes, not 2`);
  for (const [i, p] of wantPrefixes.entries())
    expectEncoded(ctx, `ListObjectsV2 CommonPrefix ${i + 1}`, prefixes[i], p);
  // StartAfter is echoed, encoded as the keys are (the SDK hands it over as answered).
  const after = await c.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: ENCODED_PREFIX,
      StartAfter: ENCODED_KEYS[0],
      EncodingType: 'url',
    }),
  );
  expectEncoded(ctx, 'ListObjectsV2 StartAfter', after.StartAfter, ENCODED_KEYS[0]!);
  const afterKeys = (after.Contents ?? []).map((o) => formDecoded(o.Key ?? '') ?? o.Key);
  ctx.expect(
    JSON.stringify(afterKeys) === JSON.stringify(ENCODED_KEYS.slice(1)),
    `ListObjectsV2 encoded, start-after ${JSON.stringify(ENCODED_KEYS[0])}: ${JSON.stringify(afterKeys)}, not ${JSON.stringify(ENCODED_KEYS.slice(1))}`,
  );
}
