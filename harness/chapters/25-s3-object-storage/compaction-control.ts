// The compaction control a target declares (setting `compactPath`, e.g. the reference's `/_ops/compact`): a POST,
// signed with SigV4 like every S3 request, that answers 200 once the compaction it ran has ended; `?batches=N` stops
// it after N batches, as a crash in the middle would. Not an S3 operation, so the SDK cannot send it: signed here.
import { createHash, createHmac } from 'node:crypto';
import type { CheckContext } from '../../core/check-context.ts';
import { credentialsOf } from './s3-client.ts';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();

/** The declared control's path, or a skip: compaction has no S3 operation to drive it. */
export function compactPathOf(ctx: CheckContext): string {
  const path = ctx.setting('compactPath', '');
  if (typeof path !== 'string' || path === '') {
    ctx.skip(
      'the target declares no compaction control (setting compactPath: the path of a signed POST that compacts)',
    );
  }
  if (!/^\/[A-Za-z0-9/_.-]*$/.test(path)) throw new Error(`setting compactPath must be a plain path, got ${path}`);
  return path;
}

/** Runs a compaction through the control (all of it, or `batches` batches) and returns its JSON answer. */
export async function compact(ctx: CheckContext, path: string, batches?: number): Promise<unknown> {
  const url = new URL(path + (batches === undefined ? '' : `?batches=${batches}`), ctx.target.baseUrl);
  const res = await fetch(url, {
    method: 'POST',
    signal: ctx.signal,
    headers: signedHeaders(ctx, 'POST', url, sha256('')),
  });
  const text = await res.text();
  if (res.status !== 200)
    throw new Error(
      `the compaction control ${url.pathname}${url.search} answered ${res.status}: ${text.slice(0, 300)}`,
    );
  return text ? JSON.parse(text) : null;
}

/**
 * SigV4 headers for a request the SDK cannot send (the control; a PUT whose body is cut short): `payloadHash` is the
 * body's SHA-256 or UNSIGNED-PAYLOAD. `url`'s path is sent as it is, so it must need no encoding.
 */
export function signedHeaders(
  ctx: CheckContext,
  method: string,
  url: URL,
  payloadHash: string,
): Record<string, string> {
  const { accessKeyId, secretAccessKey } = credentialsOf(ctx);
  const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const headers = { host: url.host, 'x-amz-content-sha256': payloadHash, 'x-amz-date': amzDate };
  const signed = Object.keys(headers).join(';');
  const canonical = [
    method,
    url.pathname,
    url.search.slice(1),
    ...Object.entries(headers).map(([k, v]) => `${k}:${v}`),
    '',
    signed,
    payloadHash,
  ].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  let key = hmac(`AWS4${secretAccessKey}`, day);
  for (const part of ['us-east-1', 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return {
    'x-amz-content-sha256': payloadHash,
    'x-amz-date': amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/${scope}, SignedHeaders=${signed}, Signature=${signature}`,
  };
}
