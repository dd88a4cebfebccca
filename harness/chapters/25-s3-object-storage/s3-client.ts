// The AWS SDK for JavaScript v3 (a real S3 client nobody here wrote) pointed at the target, with a request handler
// that sends each request over node:http and records it like ctx.http does: every response is validated against the
// spec (status, headers, media type) and every XML body, parsed, against its document schema. Two hooks let a
// check change a request before it is signed (a request the SDK cannot express) or after (a forged one).
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { XMLParser } from 'fast-xml-parser';
import { timeoutOr } from '../../core/abort-signals.ts';
import type { CheckContext } from '../../core/check-context.ts';
import type { Exchange } from '../../core/http-client.ts';

/** The credentials the grader signs with: the target's declared settings, else the reference's defaults. */
export function credentialsOf(ctx: CheckContext): { accessKeyId: string; secretAccessKey: string } {
  return {
    accessKeyId: ctx.setting('accessKeyId', 'SDGRADEACCESSKEY0001'),
    secretAccessKey: ctx.setting('secretAccessKey', 'sdgrade-reference-secret-not-for-production'),
  };
}

export interface SdkRequest {
  method: string;
  hostname: string;
  port?: number;
  path: string;
  query: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
}

export type Tamper = (r: SdkRequest) => void;

const XML_DOCS: Record<string, string> = {
  Error: 'ErrorDocument',
  ListBucketResult: 'ListBucketResultDocument',
  ListAllMyBucketsResult: 'ListAllMyBucketsResultDocument',
  InitiateMultipartUploadResult: 'InitiateMultipartUploadResultDocument',
  CompleteMultipartUploadResult: 'CompleteMultipartUploadResultDocument',
  ListPartsResult: 'ListPartsResultDocument',
  ListVersionsResult: 'ListVersionsResultDocument',
  VersioningConfiguration: 'VersioningConfigurationDocument',
  ListMultipartUploadsResult: 'ListMultipartUploadsResultDocument',
};

export const xmlParser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  // Bucket is a repeated element only in ListAllMyBucketsResult; elsewhere (the multipart answers) it is a name.
  isArray: (name, jpath) =>
    ['Contents', 'CommonPrefixes', 'Part'].includes(name) ||
    [
      'ListAllMyBucketsResult.Buckets.Bucket',
      'ListVersionsResult.Version',
      'ListVersionsResult.DeleteMarker',
      'ListMultipartUploadsResult.Upload',
    ].includes(String(jpath)),
});

/** S3's query encoding (RFC 3986), as the SDK builds it. */
function encode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function queryString(q: SdkRequest['query']): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === null) parts.push(encode(k));
    else for (const one of Array.isArray(v) ? v : [v]) parts.push(`${encode(k)}=${encode(one)}`);
  }
  return parts.join('&');
}

/** The spec's templates have one segment per parameter; a key's slashes are folded into its one segment. */
export function specPath(path: string): string {
  const segs = path.split('/');
  return segs.length <= 3 ? path : `/${segs[1]}/${segs.slice(2).join('%2F')}`;
}

function toBuffer(body: unknown): Buffer {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new Error('the harness sends only buffered bodies (a stream would be aws-chunked)');
}

export class RecordingHandler {
  /** Applied to the next requests after signing (a forged request); cleared by the caller. */
  afterSigning: Tamper | undefined;
  /**
   * Set: the next requests send their body but its last byte, then wait for this before sending that byte (requests
   * released together after a barrier, so that the target receives them whole at one moment); cleared by the caller.
   */
  holdLastByte: (() => Promise<void>) | undefined;
  readonly exchanges: Exchange[] = [];

  constructor(private readonly ctx: CheckContext) {}

  async handle(request: SdkRequest): Promise<{ response: unknown }> {
    this.ctx.throwIfStopped();
    this.afterSigning?.(request);
    const hold = this.holdLastByte;
    const qs = queryString(request.query ?? {});
    const path = request.path + (qs ? `?${qs}` : '');
    const body = toBuffer(request.body);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(request.headers)) if (k.toLowerCase() !== 'expect') headers[k] = v;
    headers['content-length'] = String(body.length);
    const started = performance.now();
    const x: Exchange = {
      method: request.method,
      url: `http://${request.hostname}:${request.port}${path}`,
      path,
      status: null,
      headers: {},
      bodyText: '',
      body: undefined,
      violations: [],
      durationMs: 0,
    };
    let raw: Buffer = Buffer.alloc(0);
    try {
      const res = await new Promise<{ status: number; headers: Record<string, string>; body: Buffer }>(
        (resolve, reject) => {
          const req = httpRequest(
            {
              host: request.hostname,
              port: request.port,
              method: request.method,
              path,
              headers,
              signal: timeoutOr(30_000, this.ctx.signal),
            },
            (r) => {
              const chunks: Buffer[] = [];
              r.on('data', (c: Buffer) => chunks.push(c));
              r.on('end', () => {
                const h: Record<string, string> = {};
                for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) h[k] = String(v);
                resolve({ status: r.statusCode ?? 0, headers: h, body: Buffer.concat(chunks) });
              });
              r.on('error', reject);
            },
          );
          req.on('error', reject);
          if (!hold || body.length < 2) req.end(body);
          // Written (or failed) before the wait, so a barrier counts this request whatever became of it.
          else req.write(body.subarray(0, -1), () => void hold().then(() => req.end(body.subarray(-1))));
        },
      );
      x.status = res.status;
      x.headers = res.headers;
      raw = res.body;
      const xml = (res.headers['content-type'] ?? '').includes('xml');
      x.bodyText = xml ? raw.toString('utf8') : raw.toString('latin1');
    } catch (e) {
      this.ctx.throwIfStopped();
      x.error = (e as Error).message;
    }
    x.durationMs = performance.now() - started;
    if (x.status !== null) {
      x.violations = this.ctx.validator.validate({
        method: x.method,
        path: specPath(request.path),
        validRequest: false,
        status: x.status,
        headers: x.headers,
        bodyText: x.method === 'HEAD' ? '' : x.bodyText,
      });
      if (x.method !== 'HEAD' && (x.headers['content-type'] ?? '').includes('xml')) {
        x.violations.push(...this.validateXml(x));
      }
    }
    this.exchanges.push(x);
    this.ctx.sink.record(x);
    if (x.status === null) throw Object.assign(new Error(`${x.method} ${x.url}: ${x.error}`), { exchange: x });
    return {
      response: { statusCode: x.status, reason: '', headers: x.headers, body: Readable.from([raw]) },
    };
  }

  /** Parses an XML body and checks it against the document schema of its root element. */
  private validateXml(x: Exchange): string[] {
    let doc: Record<string, unknown>;
    try {
      doc = xmlParser.parse(x.bodyText) as Record<string, unknown>;
    } catch (e) {
      return [`${x.status} body is not well-formed XML: ${(e as Error).message}`];
    }
    x.body = doc;
    const root = Object.keys(doc)[0] ?? '';
    const schema = XML_DOCS[root];
    if (!schema) return [`${x.status} XML body has an undocumented root element <${root}>`];
    const pointer = `#/components/schemas/${schema}`;
    return this.ctx.validator.validateValue({ $ref: pointer }, pointer, doc).map((e) => `${x.status} XML ${root}${e}`);
  }

  destroy(): void {}
}

export interface S3 {
  client: S3Client;
  handler: RecordingHandler;
}

/** An SDK client for the target (or one of its nodes), path-style, signing with the given or declared credentials. */
export function s3Of(
  ctx: CheckContext,
  o: {
    baseUrl?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
    /** Sign as if the clock were this far off (the SDK's systemClockOffset). */
    clockOffsetMs?: number;
  } = {},
): S3 {
  const handler = new RecordingHandler(ctx);
  const client = new S3Client({
    endpoint: o.baseUrl ?? ctx.target.baseUrl,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: o.credentials ?? credentialsOf(ctx),
    // A failure is the check's to see: the SDK's own retries would hide it.
    maxAttempts: 1,
    requestHandler: handler as never,
    ...(o.clockOffsetMs !== undefined ? { systemClockOffset: o.clockOffsetMs } : {}),
  });
  return { client, handler };
}

/** The SDK's error for a call that must fail: its name (S3's error code) and HTTP status. */
export async function sdkError(call: Promise<unknown>): Promise<{ name: string; status: number | undefined } | null> {
  try {
    await call;
    return null;
  } catch (e) {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; exchange?: unknown };
    if (err.exchange) throw e;
    return { name: err.name ?? 'Error', status: err.$metadata?.httpStatusCode };
  }
}

/** A bucket name no earlier check or run used. */
export function uniqueBucket(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function bytesOf(body: { transformToByteArray(): Promise<Uint8Array> } | undefined): Promise<Buffer> {
  return body ? Buffer.from(await body.transformToByteArray()) : Buffer.alloc(0);
}

/** A fresh bucket, created through the SDK. */
export async function freshBucket(_ctx: CheckContext, s3: S3, prefix: string): Promise<string> {
  const bucket = uniqueBucket(prefix);
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}
