// AWS Signature Version 4 verification (header form, service s3): rebuilds the canonical request from the request
// as received, derives the signing key from the secret, and compares signatures in constant time. The body's
// SHA-256 is checked against x-amz-content-sha256 by the caller once the body has arrived.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type AuthFailure =
  | { code: 'AccessDenied' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch' | 'RequestTimeTooSkewed'; status: 403 }
  | { code: 'InvalidRequest' | 'InvalidArgument'; status: 400 };

export interface SignedRequest {
  method: string;
  /** The request target as received: path (still percent-encoded) and query. */
  rawUrl: string;
  headers: Record<string, string | string[] | undefined>;
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;
/** S3 accepts requests signed up to 15 minutes from its own clock. */
const MAX_SKEW_MS = 15 * 60 * 1000;

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding, as SigV4 wants for query names and values (everything but A-Z a-z 0-9 - _ . ~). */
function strictEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs = query
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const name = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? '' : p.slice(eq + 1);
      const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, '%20'));
      return [strictEncode(dec(name)), strictEncode(dec(value))] as const;
    });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join('&');
}

function headerValue(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(',') : (v ?? '');
  return s.trim().replace(/\s+/g, ' ');
}

/**
 * Verifies the request's signature; returns the failure, or null when it is valid. `now` is the server's clock.
 * `checkSignature: false` is MUTANT signature-not-checked (a known access key is enough), `oneSidedSkew` MUTANT
 * skew-one-sided.
 */
export function verifySigV4(
  req: SignedRequest,
  creds: Credentials,
  now: number,
  checkSignature = true,
  oneSidedSkew = false,
): AuthFailure | null {
  const auth = headerValue(req.headers['authorization']);
  if (!auth) return { code: 'AccessDenied', status: 403 };
  const m = AUTH.exec(auth);
  if (!m) return { code: 'InvalidArgument', status: 400 };
  const [, keyId, date, region, service, signedHeaders, signature] = m as unknown as string[];
  if (keyId !== creds.accessKeyId) return { code: 'InvalidAccessKeyId', status: 403 };
  const amzDate = headerValue(req.headers['x-amz-date']);
  const dm = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dm || amzDate.slice(0, 8) !== date || service !== 's3') return { code: 'AccessDenied', status: 403 };
  const at = Date.UTC(+dm[1]!, +dm[2]! - 1, +dm[3]!, +dm[4]!, +dm[5]!, +dm[6]!);
  if ((oneSidedSkew ? now - at : Math.abs(now - at)) > MAX_SKEW_MS)
    return { code: 'RequestTimeTooSkewed', status: 403 };
  const names = signedHeaders!.split(';');
  if (!names.includes('host') || !names.includes('x-amz-content-sha256')) return { code: 'AccessDenied', status: 403 };
  if (!checkSignature) return null;

  const q = req.rawUrl.indexOf('?');
  const path = q < 0 ? req.rawUrl : req.rawUrl.slice(0, q);
  const query = q < 0 ? '' : req.rawUrl.slice(q + 1);
  const canonical = [
    req.method,
    path,
    canonicalQuery(query),
    `${names.map((n) => `${n}:${headerValue(req.headers[n])}`).join('\n')}\n`,
    signedHeaders,
    headerValue(req.headers['x-amz-content-sha256']),
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, date!), region!), service!), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign).digest();
  const given = Buffer.from(signature!, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? null
    : { code: 'SignatureDoesNotMatch', status: 403 };
}

/** The body's hex SHA-256, for x-amz-content-sha256. */
export function payloadHash(body: Buffer): string {
  return sha256(body);
}
